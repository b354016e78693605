"""One `.mp4` of an AUDIO_AND_VIDEO recording, fed on the event loop: the recorder's audio every tick (`write`, as a
WAV track is fed) and the frames of the cameras shown in it (one `CameraFeed` per slot; a participant without a
camera keeps a black slot).

Video frames are placed by when they arrived, on the recording's own clock: the audio written so far (ticks of
20 ms) plus the time since the last tick (at most one tick). Audio and video therefore share one timeline even if
the loop was slow and the graph's ticks re-anchored.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import numpy as np

from chalicelib.core import clock
from switchboard_media.engine.seams import InboundTap
from switchboard_media.recording.camera import CameraFeed
from switchboard_media.recording.mp4 import Mp4Writer

if TYPE_CHECKING:
    from switchboard_media.recording.recorder import RecordedFile

TICK_SECONDS = 0.02


class Mp4Track:
    def __init__(self, file: RecordedFile, cameras: list[InboundTap | None]) -> None:
        self.file = file
        self._loop = asyncio.get_running_loop()
        self.writer = Mp4Writer(file.path, len(cameras), on_broken=self._broken)
        self.ticks = 0
        self._tick_at = time.monotonic()
        self.feeds: dict[int, CameraFeed] = {}
        for slot, tap in enumerate(cameras):
            if tap is not None:
                self.feeds[slot] = CameraFeed(tap, lambda data, slot=slot: self._frame(slot, data))  # type: ignore[misc]

    def write(self, pcm: np.ndarray) -> None:
        self.writer.audio(pcm)
        self.ticks += 1
        self._tick_at = time.monotonic()

    def _frame(self, slot: int, data: bytes) -> bool:
        since_tick = min(max(time.monotonic() - self._tick_at, 0.0), TICK_SECONDS)
        return self.writer.video(slot, data, max(self.ticks - 1, 0) * TICK_SECONDS + since_tick)

    def _broken(self, slot: int) -> None:
        """(On the writer's thread.) A camera's frame could not be decoded."""
        self._loop.call_soon_threadsafe(self._lost, slot)

    def _lost(self, slot: int) -> None:
        feed = self.feeds.get(slot)
        if feed is not None:
            feed.lost()

    def close(self) -> RecordedFile:
        """Stop taking frames and have the file finished (`file.finished` is done once its trailer is written)."""
        for feed in self.feeds.values():
            feed.close()
        self.file.seconds = self.ticks * TICK_SECONDS
        self.file.end_time = self.file.end_time or clock.now()
        self.file.finished = self.writer.close(self.file.seconds)
        return self.file
