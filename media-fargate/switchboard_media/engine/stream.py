"""One outgoing RTP stream's numbering: sequence numbers and timestamps stay continuous whatever feeds the stream.

Forwarded packets keep their source's spacing (losses and reordering included) relative to an anchor taken when
the source changes; frames the engine encodes follow on. A receiver sees one stream that never jumps back and whose
timestamps follow the wall clock across every switch (pass-through ↔ decoded, one talker's video ↔ another's).
"""

from __future__ import annotations

import asyncio

from aiortc.rtp import RtpPacket
from aiortc.utils import random16, random32

from switchboard_media.engine.seams import OutboundPort

AUDIO_FRAME_SECONDS = 0.02
PAUSE_SECONDS = 0.12  # encoded frames further apart than this (longer than the tick's catch-up window) were a pause


class OutgoingStream:
    def __init__(self, port: OutboundPort) -> None:
        self.port = port
        self._seq = random16() % 32768  # lower half: no early wrap (SRTP index estimation)
        self._ts = random32()
        self._sent_at: float | None = None
        self._source: object = None
        self._seq_offset = 0
        self._ts_offset = 0

    @property
    def ready(self) -> bool:
        return self.port.codec is not None

    @property
    def clock_rate(self) -> int:
        return self.port.codec.clockRate if self.port.codec is not None else 48000

    def _continue_at(self, now: float, step: int | None = None) -> tuple[int, int]:
        """The next sequence number and a timestamp that follows the last one by the time that has passed (at least
        `step`, one audio frame by default)."""
        if step is None:
            step = round(self.clock_rate * AUDIO_FRAME_SECONDS) if self.port.kind == "audio" else 1
        if self._sent_at is None:
            return (self._seq + 1) & 0xFFFF, self._ts
        elapsed = round((now - self._sent_at) * self.clock_rate)
        if elapsed < 3 * step:
            elapsed = step
        return (self._seq + 1) & 0xFFFF, (self._ts + elapsed) & 0xFFFFFFFF

    async def forward(
        self, packet: RtpPacket, source: object, audio_level: int | None = None, voice: bool = False
    ) -> None:
        """Send `packet` from `source` (any key that identifies the stream it came from)."""
        now = asyncio.get_running_loop().time()
        if source is not self._source:
            seq, ts = self._continue_at(now)
            self._seq_offset = (seq - packet.sequence_number) & 0xFFFF
            self._ts_offset = (ts - packet.timestamp) & 0xFFFFFFFF
            self._source = source
        seq = (packet.sequence_number + self._seq_offset) & 0xFFFF
        ts = (packet.timestamp + self._ts_offset) & 0xFFFFFFFF
        self._seq, self._ts, self._sent_at = seq, ts, now
        await self.port.send(packet.payload, seq, ts, bool(packet.marker), audio_level, voice)

    async def send_frame(self, payload: bytes, samples: int, audio_level: int | None = None) -> None:
        """Send one frame the engine encoded (`samples` long, in the stream's clock).

        Frames follow each other by `samples` (a tick that ran late and caught up is still one frame each); after a
        pause, a first frame, or forwarded packets, the timestamp follows the wall clock and the marker bit starts
        the new talkspurt."""
        now = asyncio.get_running_loop().time()
        continuing = self._source is None and self._sent_at is not None and now - self._sent_at < PAUSE_SECONDS
        if continuing:
            self._seq, self._ts = (self._seq + 1) & 0xFFFF, (self._ts + samples) & 0xFFFFFFFF
        else:
            self._seq, self._ts = self._continue_at(now, samples)
        self._source = None
        self._sent_at = now
        await self.port.send(payload, self._seq, self._ts, not continuing, audio_level)
