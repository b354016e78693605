"""One participant's incoming audio on the decoded path: packets put back in order, decoded as they arrive, and held
in a short playout queue that the graph's 20 ms tick takes from.

The queue is sized by measured jitter with a one-frame floor (stock aiortc holds ~60 ms per hop whatever the
network does): on loopback a frame waits at most one tick; on a jittery link the queue grows to cover the jitter
and shrinks again when frames pile up. A missing packet is waited for no longer than the jitter allows either.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import numpy as np
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from switchboard_media.engine.codec import AudioDecoder

FRAME_SECONDS = 0.02
MAX_HELD = 8  # out-of-order packets kept while waiting for a gap to fill
MAX_DEPTH = 10  # frames: 200 ms, the most jitter the queue ever covers


def _ahead(a: int, b: int) -> int:
    """How far sequence number `a` is after `b` (negative when before), modulo 2^16."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


class AudioInput:
    def __init__(self, codec: RTCRtpCodecParameters, on_frame: Callable[[np.ndarray], None] | None = None) -> None:
        """`on_frame` hears every decoded frame, in order, as it is decoded (before the playout queue may drop
        frames that piled up: a DTMF detector or a recorder must not lose what a late tick skips)."""
        self.codec = codec
        self._on_frame = on_frame
        self._decoder = AudioDecoder(codec)
        self._frames: deque[np.ndarray] = deque()
        self._next_seq: int | None = None
        self._held: dict[int, tuple[RtpPacket, float]] = {}
        self._last_arrival: float | None = None
        self._last_timestamp: int | None = None
        self.jitter = 0.0  # seconds, RFC 3550 interarrival jitter
        self.underruns = 0
        self.dropped = 0

    @property
    def depth(self) -> int:
        """Frames the queue may hold before the oldest are dropped."""
        return min(MAX_DEPTH, max(1, math.ceil(2 * self.jitter / FRAME_SECONDS)))

    @property
    def queued(self) -> int:
        return len(self._frames)

    def push(self, packet: RtpPacket, now: float) -> None:
        self._measure(packet, now)
        if self._next_seq is None:
            self._next_seq = packet.sequence_number
        ahead = _ahead(packet.sequence_number, self._next_seq)
        if ahead < 0:
            return  # late: its place has been played
        if ahead > 0:
            self._held[packet.sequence_number] = (packet, now)
            if len(self._held) > MAX_HELD:
                self._skip_gap()
            return
        self._decode(packet)
        self._release_held()

    def take(self, now: float) -> np.ndarray | None:
        """The next frame for this tick, or None (nothing arrived in time: the participant is silent this tick)."""
        if self._held:
            oldest = min(arrival for _, arrival in self._held.values())
            if now - oldest > max(FRAME_SECONDS, 2 * self.jitter):
                self._skip_gap()
        while len(self._frames) > self.depth + 1:
            self._frames.popleft()
            self.dropped += 1
        if not self._frames:
            self.underruns += 1
            return None
        return self._frames.popleft()

    def _measure(self, packet: RtpPacket, now: float) -> None:
        if self._last_arrival is not None and self._last_timestamp is not None:
            transit = (now - self._last_arrival) - (
                ((packet.timestamp - self._last_timestamp) & 0xFFFFFFFF) / self.codec.clockRate
            )
            if abs(transit) < 1.0:  # a timestamp jump is not jitter
                self.jitter += (abs(transit) - self.jitter) / 16
        self._last_arrival, self._last_timestamp = now, packet.timestamp

    def _decode(self, packet: RtpPacket) -> None:
        self._next_seq = (packet.sequence_number + 1) & 0xFFFF
        if packet.payload:
            frames = self._decoder.decode(packet.payload, packet.timestamp)
            self._frames.extend(frames)
            if self._on_frame is not None:
                for frame in frames:
                    self._on_frame(frame)

    def _release_held(self) -> None:
        while self._next_seq in self._held:
            packet, _ = self._held.pop(self._next_seq)
            self._decode(packet)

    def _skip_gap(self) -> None:
        """Give up on the missing packet(s): continue from the earliest one held."""
        assert self._next_seq is not None
        earliest = min(self._held, key=lambda seq: _ahead(seq, self._next_seq or 0))
        self._next_seq = earliest
        self._release_held()
