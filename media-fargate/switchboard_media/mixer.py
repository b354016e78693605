"""The room mixer: every 20 ms, one frame from each participant, and for each participant the sum of everyone else's
(mix-minus, so nobody hears themselves), computed at once with numpy; plus voice activity per participant.

Inputs are short queues fed by each participant's decoded audio (at most `MAX_QUEUED` frames: a participant whose
clock runs fast loses its oldest frames, one that runs slow contributes silence for a tick). The tick runs on
absolute time, so the mix keeps real time whatever the load of one tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
from collections import deque
from collections.abc import Callable

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
CHANNELS = 2
VALUES = FRAME_SAMPLES * CHANNELS
TICK = FRAME_SAMPLES / SAMPLE_RATE
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
MAX_QUEUED = 5
TALKING_RMS, QUIET_RMS = 600.0, 300.0
TALKING_TICKS, QUIET_TICKS = 3, 25  # 60 ms of voice to start talking, 500 ms of quiet to stop


class MixOutput(MediaStreamTrack):
    """One participant's outgoing audio: the mixes the mixer pushes, in order."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[np.ndarray] = asyncio.Queue(MAX_QUEUED)
        self._samples = 0

    def push(self, pcm: np.ndarray) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # the sender fell behind: drop the oldest mix, keep real time
        self._queue.put_nowait(pcm)

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pcm = await self._queue.get()
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._samples
        frame.time_base = TIME_BASE
        self._samples += FRAME_SAMPLES
        return frame


class _Voice:
    def __init__(self) -> None:
        self.talking = False
        self._loud = self._quiet = 0

    def update(self, rms: float) -> bool | None:
        """Returns the new state when it changes."""
        if rms >= TALKING_RMS:
            self._loud, self._quiet = self._loud + 1, 0
        elif rms < QUIET_RMS:
            self._quiet, self._loud = self._quiet + 1, 0
        if not self.talking and self._loud >= TALKING_TICKS:
            self.talking = True
            return True
        if self.talking and self._quiet >= QUIET_TICKS:
            self.talking = False
            return False
        return None


class Mixer:
    def __init__(self, on_talking: Callable[[str, bool], None]) -> None:
        self._inputs: dict[str, deque[np.ndarray]] = {}
        self._outputs: dict[str, MixOutput] = {}
        self._voices: dict[str, _Voice] = {}
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._on_talking = on_talking
        self._task: asyncio.Task[None] | None = None

    def add(self, participant: str, output: MixOutput) -> None:
        self._inputs[participant] = deque(maxlen=MAX_QUEUED)
        self._outputs[participant] = output
        self._voices[participant] = _Voice()
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def feed(self, participant: str, track: MediaStreamTrack) -> None:
        previous = self._readers.pop(participant, None)
        if previous is not None:
            previous.cancel()  # a rejoined participant's old track
        self._readers[participant] = asyncio.ensure_future(self._read(participant, track))

    async def remove(self, participant: str) -> None:
        reader = self._readers.pop(participant, None)
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._inputs.pop(participant, None)
        self._outputs.pop(participant, None)
        self._voices.pop(participant, None)

    async def stop(self) -> None:
        for participant in list(self._inputs):
            await self.remove(participant)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self, participant: str, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                pcm = np.frombuffer(bytes(frame.planes[0]), dtype=np.int16)[:VALUES]
                queue = self._inputs.get(participant)
                if queue is None:
                    return
                if len(pcm) == VALUES:
                    queue.append(pcm)

    def mix_once(self) -> None:
        """One tick: take a frame from each participant and push each its mix-minus."""
        participants = list(self._outputs)
        if not participants:
            return
        frames = np.zeros((len(participants), VALUES), dtype=np.int32)
        for row, participant in enumerate(participants):
            queue = self._inputs[participant]
            if queue:
                frames[row] = queue.popleft()
        total = frames.sum(axis=0)
        mixes = np.clip(total[np.newaxis, :] - frames, -32768, 32767).astype(np.int16)
        for row, participant in enumerate(participants):
            self._outputs[participant].push(mixes[row])
        levels = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
        for row, participant in enumerate(participants):
            changed = self._voices[participant].update(float(levels[row]))
            if changed is not None:
                self._on_talking(participant, changed)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            try:
                self.mix_once()
            except Exception:
                log.exception("mixing failed for one tick")
            next_tick += TICK
            delay = next_tick - loop.time()
            if delay < -10 * TICK:  # far behind (the loop was blocked): re-anchor instead of bursting
                next_tick = loop.time()
                delay = 0
            await asyncio.sleep(max(delay, 0))
