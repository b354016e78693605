"""Persistence for delivery attempts and dead letters."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.db.models import DeadLetter, DeliveryAttempt


def record_attempts(attempts: Iterable[DeliveryAttempt]) -> None:
    with DeliveryAttempt.batch_write() as batch:
        for attempt in attempts:
            batch.save(attempt)


def recent_attempts(log_key: str, limit: int) -> list[DeliveryAttempt]:
    return list(DeliveryAttempt.query(log_key, scan_index_forward=False, limit=limit))


def save_dead_letter(letter: DeadLetter) -> None:
    letter.save()


def dead_letters(log_key: str) -> list[DeadLetter]:
    return list(DeadLetter.query(log_key))


def delete_dead_letter(letter: DeadLetter) -> None:
    letter.delete()
