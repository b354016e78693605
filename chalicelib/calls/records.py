"""`CallRecord`: one call leg as the domain and its callers (routes, the media node) see it. A plain frozen value;
a change is a new record (`dataclasses.replace`) written by the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.calls.schemas import CallDirection, CallEndpoint, CallState, HangupSource
from chalicelib.calls.states import is_terminal


@dataclass(frozen=True)
class CallMedia:
    audio: bool = True
    video: bool = False  # camera video


@dataclass(frozen=True)
class CallRecord:
    account_id: str
    call_id: str
    endpoint: CallEndpoint  # the caller of an INBOUND leg, the callee of an OUTBOUND one
    from_: str | None  # caller id (a WebRTC identity, a phone number ...)
    to: str | None  # callee id
    direction: CallDirection
    state: CallState
    start_time: datetime
    media: CallMedia = field(default_factory=CallMedia)
    ring_time: datetime | None = None  # first RINGING or PRE_ESTABLISHED
    answer_time: datetime | None = None
    end_time: datetime | None = None
    error_code: str | None = None  # an `error_codes` name, set when the leg ends
    hangup_source: HangupSource | None = None
    calls_configuration_id: str | None = None
    application_id: str | None = None
    entity_id: str | None = None
    custom_data: dict[str, str] | None = None
    peer_call_id: str | None = None  # the other leg of a 1:1 call
    parent_call_id: str | None = None  # set on the leg placed for another (the callee's leg names the caller's)
    node_id: str | None = None  # the media node handling the leg
    conference_id: str | None = None  # the conference the leg is in now
    conference_ids: tuple[str, ...] = ()  # every conference it joined
    dialog_id: str | None = None  # the dialog it is or was in

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.state)

    @property
    def duration(self) -> int | None:
        """Seconds from answer to end (0 for a leg never answered); None while the leg is live."""
        if self.end_time is None:
            return None
        if self.answer_time is None:
            return 0
        return max(0, round((self.end_time - self.answer_time).total_seconds()))

    @property
    def ring_duration(self) -> int | None:
        """Seconds from the first ring to answer or end; None if it never rang or still rings."""
        if self.ring_time is None:
            return None
        stop = self.answer_time or self.end_time
        if stop is None:
            return None
        return max(0, round((stop - self.ring_time).total_seconds()))
