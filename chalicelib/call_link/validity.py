"""When a call link may be used: its validity window as stored, and the page state it gives at a moment.

Pure rules, no I/O. A link is
- EXPIRED from `endTime` on, and once a one-time link has been used (a call started through it);
- INACTIVE before `startTime`, and outside its acceptable days and hours, read in the window's time zone (UTC
  unless `timeZone` says otherwise); hours may wrap midnight (22:00-06:00), and the end minute is included;
- ACTIVE otherwise.
Without a window a link is active from its creation for 24 hours; with a `startTime` but no `endTime`, for 24 hours
from its start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from chalicelib.call_link.schemas import ValidityWindow
from chalicelib.core.clock import infobip_format

LinkState = Literal["ACTIVE", "INACTIVE", "EXPIRED"]
DEFAULT_VALIDITY = timedelta(hours=24)
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    one_time: bool = False
    days: frozenset[str] | None = None
    hours: tuple[tuple[int, int], tuple[int, int]] | None = None  # ((hour, minute) from, (hour, minute) to)
    zone: str = "UTC"

    def state(self, now: datetime, used: bool = False) -> LinkState:
        if now >= self.end or (self.one_time and used):
            return "EXPIRED"
        if now < self.start:
            return "INACTIVE"
        local = now.astimezone(ZoneInfo(self.zone))
        if self.days is not None and DAYS[local.weekday()] not in self.days:
            return "INACTIVE"
        if self.hours is not None and not _within(self.hours, (local.hour, local.minute)):
            return "INACTIVE"
        return "ACTIVE"


def _within(hours: tuple[tuple[int, int], tuple[int, int]], minute: tuple[int, int]) -> bool:
    start, end = hours
    if start <= end:
        return start <= minute <= end
    return minute >= start or minute <= end  # wraps midnight


def window_of(request: ValidityWindow | None, created: datetime) -> Window:
    if request is None:
        return Window(created, created + DEFAULT_VALIDITY)
    start = request.startTime or created
    hours = None
    if request.acceptableHours is not None:
        begin, end = request.acceptableHours.start, request.acceptableHours.end
        hours = ((begin.hour, begin.minute), (end.hour, end.minute))
    return Window(
        start=start,
        end=request.endTime or start + DEFAULT_VALIDITY,
        one_time=request.oneTime,
        days=frozenset(request.acceptableDays) if request.acceptableDays else None,
        hours=hours,
        zone=request.timeZone or "UTC",
    )


def to_document(window: Window) -> dict[str, Any]:
    """Infobip's `ValidityWindow` as a response shows it (defaults filled in)."""
    document: dict[str, Any] = {
        "oneTime": window.one_time,
        "startTime": infobip_format(window.start),
        "endTime": infobip_format(window.end),
    }
    if window.hours is not None:
        (start_hour, start_minute), (end_hour, end_minute) = window.hours
        document["acceptableHours"] = {
            "start": {"hour": start_hour, "minute": start_minute},
            "end": {"hour": end_hour, "minute": end_minute},
        }
    if window.days is not None:
        document["acceptableDays"] = [day for day in DAYS if day in window.days]
    if window.zone != "UTC":
        document["timeZone"] = window.zone
    return document


def from_document(document: dict[str, Any]) -> Window:
    return window_of(ValidityWindow.model_validate(document), datetime.fromisoformat(document["startTime"]))
