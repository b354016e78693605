"""One `.mp4` of an AUDIO_AND_VIDEO recording, fed on the event loop: the recorder's audio every tick (`write`, as a
WAV track is fed) and the frames of the cameras shown in it (one `CameraFeed` per slot; a participant without a
camera keeps a black slot).

A composed file follows who is there (`show`, every tick): a participant who leaves has its camera's feed closed and
its slot vacated (black: a leaver's picture is removed, not frozen), one who joins takes the lowest free slot, or a
new one (the writer lays the grid out again when it is full); a participant whose camera changed (its media was
replaced) keeps its slot with the new camera's feed.

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
    def __init__(self, file: RecordedFile, cameras: dict[str, InboundTap | None]) -> None:
        """`cameras`: the participants shown, in slot order, each with its camera (None: a black slot)."""
        self.file = file
        self._loop = asyncio.get_running_loop()
        self.writer = Mp4Writer(file.path, len(cameras), on_broken=self._broken)
        self.ticks = 0
        self._tick_at = time.monotonic()
        self.feeds: dict[int, CameraFeed] = {}
        self.slots: dict[str, int] = {}  # participant -> its slot
        self._shown: dict[str, InboundTap | None] = {}
        self._slot_count = max(1, len(cameras))
        self.show(cameras)

    def show(self, cameras: dict[str, InboundTap | None]) -> None:
        """The participants to show now (see the module's docstring)."""
        if cameras == self._shown:
            return
        for key in self._shown.keys() - cameras.keys():
            slot = self.slots.pop(key)
            self._close_feed(slot)
            self.writer.vacate(slot)
        for key, tap in cameras.items():
            if key not in self.slots:
                self.slots[key] = self._free_slot()
            elif self._shown[key] is tap:
                continue
            slot = self.slots[key]
            self._close_feed(slot)
            if tap is not None:
                self.feeds[slot] = CameraFeed(tap, lambda data, slot=slot: self._frame(slot, data))  # type: ignore[misc]
        self._shown = dict(cameras)

    def _free_slot(self) -> int:
        taken = set(self.slots.values())
        slot = next(index for index in range(len(taken) + 1) if index not in taken)
        if slot >= self._slot_count:
            self._slot_count = slot + 1
            self.writer.layout(self._slot_count)
        return slot

    def _close_feed(self, slot: int) -> None:
        feed = self.feeds.pop(slot, None)
        if feed is not None:
            feed.close()

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
