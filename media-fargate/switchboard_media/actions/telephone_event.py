"""RFC 4733 telephone-event payloads (DTMF as RTP events): the wire format and what a sender puts on the wire.

A payload block is four bytes (§2.3): event code, End bit, a reserved bit, volume (6 bits, -dBm0) and duration
(16 bits, in the RTP clock of the negotiated telephone-event, 8000 or 48000). Every packet of one event carries the
event's start as its RTP timestamp; the marker bit is set on the first; the End packet is sent three times (§2.5.1.4).
Packing several events into one packet (§2.5.1.5) is not used by browsers: a receiver here reads the first block.

`TelephoneEventSender` sends key presses the way a browser does: each event packet takes the place of one outgoing
audio packet (same SSRC, same sequence numbering, the audio's clock), so the far end sees one continuous stream.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from dataclasses import dataclass

EVENT_DIGITS = "0123456789*#ABCD"  # events 0..15 (§3.2); 16 (flash) and above are not DTMF digits
MAX_DURATION = 0xFFFF
_BLOCK = struct.Struct("!BBH")


@dataclass(frozen=True)
class TelephoneEvent:
    event: int  # 0..255; 0..15 are the DTMF digits
    end: bool
    volume: int  # 0..63: the tone's power, -dBm0
    duration: int  # 0..65535, RTP clock units since the event's timestamp

    @property
    def digit(self) -> str | None:
        return EVENT_DIGITS[self.event] if self.event < len(EVENT_DIGITS) else None

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        if len(payload) < _BLOCK.size:
            raise ValueError(f"a telephone-event payload has at least 4 bytes, got {len(payload)}")
        event, flags, duration = _BLOCK.unpack_from(payload)
        return cls(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)

    def serialize(self) -> bytes:
        if not (0 <= self.event <= 0xFF and 0 <= self.volume <= 0x3F and 0 <= self.duration <= MAX_DURATION):
            raise ValueError(f"telephone-event field out of range: {self}")
        return _BLOCK.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


@dataclass(frozen=True)
class TelephoneEventPacket:
    payload: bytes
    timestamp: int  # RTP timestamp: the event's start, the same for every packet of the event
    marker: bool  # the first packet only
    send_at_ms: int  # when to send it, from the event's start


def digit_event(digit: str) -> int:
    index = EVENT_DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise ValueError(f"not a DTMF digit: {digit!r} (0-9, *, #, A-D)")
    return index


def telephone_event_packets(
    digit: str,
    *,
    duration_ms: int = 100,
    volume: int = 10,
    clock_rate: int = 8000,
    timestamp: int = 0,
    interval_ms: int = 20,
) -> list[TelephoneEventPacket]:
    """The packets of one key press: a start packet (marker), an update every `interval_ms` carrying the duration so
    far, and the End packet three times, `interval_ms` apart. The caller sends each at `send_at_ms` on the
    negotiated telephone-event payload type and advances its next event's timestamp past this one."""
    event = digit_event(digit)
    total = duration_ms * clock_rate // 1000
    if not 0 < total <= MAX_DURATION:
        raise ValueError(f"a {duration_ms} ms event does not fit one telephone-event at {clock_rate} Hz")
    step = interval_ms * clock_rate // 1000
    timestamp &= 0xFFFFFFFF
    packets: list[TelephoneEventPacket] = []
    elapsed, at_ms = step, 0
    while elapsed < total:
        block = TelephoneEvent(event, end=False, volume=volume, duration=elapsed)
        packets.append(TelephoneEventPacket(block.serialize(), timestamp, marker=not packets, send_at_ms=at_ms))
        elapsed, at_ms = elapsed + step, at_ms + interval_ms
    final = TelephoneEvent(event, end=True, volume=volume, duration=total).serialize()
    for repeat in range(3):
        send_at_ms = at_ms + repeat * interval_ms
        packets.append(TelephoneEventPacket(final, timestamp, marker=not packets, send_at_ms=send_at_ms))
    return packets


class TelephoneEventSender:
    """Key presses as RFC 4733 events in place of a stream's audio packets (an `OutboundPort.events` overlay).

    Called with the timestamp of every audio packet about to go out (one per `frame_ms`): while a press is due, it
    returns the event packet to send instead (payload, timestamp, marker); an event's timestamp is the audio
    timestamp of the slot it starts in. Presses are `duration_ms` long and `gap_ms` of audio apart, as the in-band
    tones are."""

    def __init__(
        self, clock_rate: int, *, duration_ms: int = 100, gap_ms: int = 60, frame_ms: int = 20, volume: int = 10
    ) -> None:
        self.clock_rate = clock_rate
        self._duration_ms, self._frame_ms, self._volume = duration_ms, frame_ms, volume
        self._gap_slots = math.ceil(gap_ms / frame_ms)
        self._slots: deque[TelephoneEventPacket | None] = deque()  # None: a slot of audio
        self._start = 0

    @property
    def pending(self) -> bool:
        return bool(self._slots)

    def add(self, digits: str) -> None:
        """Queue `digits` after what is still being sent (ValueError, and nothing queued, on a non-digit)."""
        presses = [
            telephone_event_packets(
                digit,
                duration_ms=self._duration_ms,
                volume=self._volume,
                clock_rate=self.clock_rate,
                interval_ms=self._frame_ms,
            )
            for digit in digits
        ]
        for packets in presses:
            self._slots.extend(packets)
            self._slots.extend([None] * self._gap_slots)

    def __call__(self, timestamp: int) -> tuple[bytes, int, bool] | None:
        if not self._slots:
            return None
        slot = self._slots.popleft()
        if slot is None:
            return None
        if slot.marker:
            self._start = timestamp
        return slot.payload, self._start, slot.marker
