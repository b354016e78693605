"""Pluggable audio: a tone source (a known signal to send) and a sink that keeps what arrives (to inspect it)."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
from array import array

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from switchboard_rtc.pacing import Pacer

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)


class ToneSource(MediaStreamTrack):
    """A sine tone at `frequency` Hz, 20 ms stereo frames paced in real time. `frequency=0` sends silence."""

    kind = "audio"

    def __init__(self, frequency: float, amplitude: float = 0.3) -> None:
        super().__init__()
        self.frequency = frequency
        self.amplitude = amplitude
        self._samples = 0
        self._pacer = Pacer()

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pacer.until(self._samples / SAMPLE_RATE)
        step = 2 * math.pi * self.frequency / SAMPLE_RATE
        level = int(self.amplitude * 32767)
        pcm = array("h")
        for n in range(self._samples, self._samples + FRAME_SAMPLES):
            value = int(level * math.sin(step * n))
            pcm.extend((value, value))
        frame = AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
        frame.planes[0].update(pcm.tobytes())
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._samples
        frame.time_base = TIME_BASE
        self._samples += FRAME_SAMPLES
        return frame


class MutableAudio(MediaStreamTrack):
    """Wraps an audio source; while muted it sends silence in the same rhythm (the far end hears nothing).

    It is also what keeps the application's source alive across media sessions: aiortc stops a sender's track when
    its session ends, so the SDK hands aiortc this wrapper (one per session) and never the source itself.
    """

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.muted = False

    async def recv(self) -> AudioFrame:
        frame = await self.source.recv()
        assert isinstance(frame, AudioFrame)
        if self.muted:
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
        return frame


class AudioSink:
    """Keeps the mono 48 kHz samples of what arrives on a track (the first channel of each frame)."""

    def __init__(self) -> None:
        self.samples = array("h")
        self.sample_rate = SAMPLE_RATE
        self._task: asyncio.Task[None] | None = None

    def consume(self, track: MediaStreamTrack) -> None:
        self._task = asyncio.ensure_future(self._run(track))

    async def _run(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame) and frame.format.name in ("s16", "s16p")
                planar = frame.format.is_planar
                channels = 1 if planar else len(frame.layout.channels)
                pcm = array("h")
                pcm.frombytes(bytes(frame.planes[0])[: frame.samples * channels * 2])
                self.samples.extend(pcm[::channels])

    def clear(self) -> None:
        del self.samples[:]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
