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
        self._override: list[bytes] = []  # interleaved stereo s16 frames that replace the source's (DTMF tones)

    def send_dtmf(self, digits: str, duration_ms: int = 120, gap_ms: int = 80) -> None:
        """Send `digits` as in-band DTMF tones (they replace the source's audio while they play)."""
        self._override += dtmf_frames(digits, duration_ms, gap_ms)

    async def recv(self) -> AudioFrame:
        frame = await self.source.recv()
        assert isinstance(frame, AudioFrame)
        if self._override:
            stereo = self._override.pop(0)
            frame.planes[0].update(stereo[: frame.planes[0].buffer_size])
        elif self.muted:
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
        return frame


DTMF_FREQUENCIES = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip


def dtmf_frames(digits: str, duration_ms: int, gap_ms: int) -> list[bytes]:
    """20 ms stereo s16 frames: each digit's two tones (about -10 dBov), then silence."""
    frames: list[bytes] = []
    for digit in digits.upper():
        low, high = DTMF_FREQUENCIES[digit]
        samples = array("h")
        for n in range(SAMPLE_RATE * duration_ms // 1000):
            t = n / SAMPLE_RATE
            value = int(7000 * (math.sin(2 * math.pi * low * t) + math.sin(2 * math.pi * high * t)))
            samples.extend((value, value))
        samples.extend([0] * (2 * SAMPLE_RATE * gap_ms // 1000))
        samples.extend([0] * (-len(samples) % (2 * FRAME_SAMPLES)))
        raw = samples.tobytes()
        frames += [raw[i : i + 4 * FRAME_SAMPLES] for i in range(0, len(raw), 4 * FRAME_SAMPLES)]
    return frames


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
