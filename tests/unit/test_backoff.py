"""Retry backoff follows the event's age, so it doubles for a failing event and is bounded both ways."""

from __future__ import annotations

import itertools

from chalicelib.core.settings import Settings
from chalicelib.events.delivery import backoff_seconds

SETTINGS = Settings(delivery_backoff_base_seconds=5, delivery_backoff_max_seconds=900)


def test_young_events_wait_the_base():
    assert all(4 <= backoff_seconds(0.1, SETTINGS) <= 6 for _ in range(50))


def test_the_wait_tracks_the_age_so_repeated_failures_double_it():
    age, waits = 0.0, []
    for _ in range(6):
        wait = backoff_seconds(age, SETTINGS)
        waits.append(wait)
        age += wait
    assert all(later >= earlier * 1.3 for earlier, later in itertools.pairwise(waits[1:]))


def test_the_wait_is_capped():
    assert all(backoff_seconds(86_000, SETTINGS) <= 1080 for _ in range(50))
