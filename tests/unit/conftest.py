"""Unit tests: no I/O beyond loopback sockets the test opens itself. Settings come from a clean environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.core.settings import reset_settings_cache


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Outbound policy with nothing allowed; tests flip the switches they need."""
    monkeypatch.setenv("SWITCHBOARD_ALLOW_PRIVATE_URLS", "false")
    monkeypatch.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "false")
    reset_settings_cache()
    yield monkeypatch
    reset_settings_cache()
