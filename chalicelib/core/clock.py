"""The one source of 'now'. Tests and the local runner can pin or shift it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

_offset_seconds = 0.0


def now() -> datetime:
    return datetime.fromtimestamp(time.time() + _offset_seconds, tz=UTC)


def epoch() -> float:
    return time.time() + _offset_seconds


def shift(seconds: float) -> None:
    """Move the clock (tests only)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds
    _offset_seconds = 0.0


def infobip_format(value: datetime) -> str:
    """Infobip's datetime format: 2026-01-15T11:59:30.000+0000."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
