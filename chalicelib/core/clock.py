"""The one source of 'now'. Tests and the local runner can pin or shift it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

_offset_seconds = 0.0
_frozen_at: float | None = None


def epoch() -> float:
    return (_frozen_at if _frozen_at is not None else time.time()) + _offset_seconds


def now() -> datetime:
    return datetime.fromtimestamp(epoch(), tz=UTC)


def freeze() -> None:
    """Stop the clock where it is (tests only): from here on only `shift` moves it."""
    global _frozen_at
    _frozen_at = time.time()


def shift(seconds: float) -> None:
    """Move the clock (tests only)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds, _frozen_at
    _offset_seconds = 0.0
    _frozen_at = None


def infobip_format(value: datetime) -> str:
    """Infobip's datetime format: 2026-01-15T11:59:30.000+0000."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
