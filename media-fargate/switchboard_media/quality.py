"""Network quality of a leg: a MOS estimate from what RTCP tells us (loss, jitter, round-trip time), mapped to
Infobip's NetworkQuality levels (BAD=1 … EXCELLENT=5). Below MOS 4 (FAIR and worse) the client should warn.

The estimate is the simplified ITU-T G.107 E-model used by WebRTC monitoring tools: effective latency = RTT/2 +
2*jitter + 10 ms; R = 93.2 - delay impairment - 2.5*loss%; MOS = 1 + 0.035R + 7e-6*R(R-60)(100-R).

aiortc's stats differ from the W3C definitions in two ways, handled here only: jitter is in RTP timestamp units (not
seconds), and `fractionLost` is RFC 3550's 8-bit fixed-point value (0..255). tests/media checks that a clean
loopback call reads EXCELLENT, which fails if either changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiortc import RTCPeerConnection

LEVELS = ((4.2, "EXCELLENT"), (4.0, "GOOD"), (3.6, "FAIR"), (3.1, "POOR"))


@dataclass(frozen=True)
class LinkStats:
    loss_fraction: float  # 0..1, the worse direction
    jitter_ms: float
    rtt_ms: float


def mos(stats: LinkStats) -> float:
    latency = stats.rtt_ms / 2 + 2 * stats.jitter_ms + 10
    r = 93.2 - (latency / 40 if latency < 160 else (latency - 120) / 10)
    r -= 2.5 * 100 * min(max(stats.loss_fraction, 0.0), 1.0)
    r = min(max(r, 0.0), 100.0)
    return round(1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r), 2)


def level(score: float) -> str:
    return next((name for threshold, name in LEVELS if score >= threshold), "BAD")


def audio_clock_rate(sdp: str) -> int:
    """The clock rate of the first codec of the m=audio section (the negotiated one in an answer)."""
    section = sdp.split("m=audio", 1)[1].split("\nm=", 1)[0] if "m=audio" in sdp else ""
    payloads = section.split("\n", 1)[0].split()[2:]  # after "m=audio": port, protocol, then payload types
    for line in section.splitlines():
        if payloads and line.startswith(f"a=rtpmap:{payloads[0]} "):
            return int(line.split("/")[1])
    return 48000


async def link_stats(pc: RTCPeerConnection) -> LinkStats | None:
    """Loss and jitter both ways and the RTT, from the leg's own stats; None before any RTCP has arrived."""
    local = pc.localDescription
    units_per_ms = audio_clock_rate(local.sdp if local is not None else "") / 1000
    report = await pc.getStats()
    loss, jitter, rtt, seen = 0.0, 0.0, 0.0, False
    for stat in report.values():
        if stat.type == "inbound-rtp" and stat.kind == "audio":
            received, lost = stat.packetsReceived or 0, max(stat.packetsLost or 0, 0)
            if received + lost:
                loss = max(loss, lost / (received + lost))
            jitter = max(jitter, (stat.jitter or 0) / units_per_ms)
            seen = True
        elif stat.type == "remote-inbound-rtp" and stat.kind == "audio":
            loss = max(loss, (stat.fractionLost or 0) / 256)
            jitter = max(jitter, (stat.jitter or 0) / units_per_ms)
            rtt = max(rtt, (stat.roundTripTime or 0) * 1000)
            seen = True
    return LinkStats(loss, jitter, rtt) if seen else None


Report = Callable[[str, float], Awaitable[None]]  # (level, mos) -> notify


class QualityMonitor:
    """Samples a leg every `interval` seconds and reports when its level changes."""

    def __init__(self, sample: Callable[[], Awaitable[LinkStats | None]], report: Report, interval: float) -> None:
        self._sample, self._report, self._interval = sample, report, interval
        self.level: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> None:
        stats = await self._sample()
        if stats is None:
            return
        score = mos(stats)
        current = level(score)
        if current != self.level:
            self.level = current
            await self._report(current, score)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.check()

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
