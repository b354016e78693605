"""What arrives on the wire at a client: each RTP packet's arrival time, sequence number and timestamp, recorded on
the way into aiortc's receiver (which still decodes as usual). The attribute it wraps is one the engine's seams
check (tests/unit/test_aiortc_seams.py)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

from aiortc import RTCPeerConnection


@dataclass(frozen=True)
class Arrival:
    at: float
    sequence_number: int
    timestamp: int


class RtpProbe:
    def __init__(self, pc: RTCPeerConnection, kind: str = "audio") -> None:
        self.arrivals: list[Arrival] = []
        receiver = next(t.receiver for t in pc.getTransceivers() if t.kind == kind)
        original = receiver._handle_rtp_packet

        async def record(packet, arrival_time_ms):
            self.arrivals.append(Arrival(asyncio.get_running_loop().time(), packet.sequence_number, packet.timestamp))
            await original(packet, arrival_time_ms)

        receiver._handle_rtp_packet = record  # type: ignore[method-assign]

    def between(self, start: float, end: float) -> list[Arrival]:
        return [arrival for arrival in self.arrivals if start <= arrival.at <= end]


def largest_gap(arrivals: list[Arrival], clock_rate: int = 48000) -> float:
    """The longest stretch (seconds) without audio: by arrival time, by timestamp step, or by lost packets."""
    gap = 0.0
    for before, after in itertools.pairwise(arrivals):
        lost = ((after.sequence_number - before.sequence_number) & 0xFFFF) - 1
        step = ((after.timestamp - before.timestamp) & 0xFFFFFFFF) / clock_rate
        gap = max(gap, after.at - before.at, step, 0.02 * (lost + 1))
    return gap
