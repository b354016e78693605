"""A player: PCM as a graph source, with Infobip's play options, reporting what PLAY_FINISHED / SAY_FINISHED say.

Say is a player too: its PCM comes from a speech provider (`loop_count` applies, offset and timeout are play-only).

Semantics, where Infobip's documents leave a choice:
- `offset` (ms) is where the first loop starts; later loops play the whole content (so a stopped playback resumes
  from the reported `duration` with `offset=duration`);
- `timeout` (ms) bounds the whole playback, all loops together;
- `duration` is the audio handed to the call, in ms; `playedCompletely` is true when the last loop reached its end,
  false when the timeout cut it or `stop()` ended it;
- the last frame is padded with silence; `on_finished` runs once, on the tick that hands out the last frame (so a
  next action can start on the following tick without a gap) or inside `stop()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from switchboard_media.engine.codec import FRAME_SAMPLES, SAMPLE_RATE

log = logging.getLogger(__name__)

SAMPLES_PER_MS = SAMPLE_RATE // 1000

FinishedHandler = Callable[[int, bool], None]  # (duration in ms, played completely)


class Player:
    """Call it once per tick: the next 960-sample frame, or None once it has finished."""

    def __init__(
        self,
        pcm: np.ndarray,
        *,
        loop_count: int = 1,
        offset_ms: int = 0,
        timeout_ms: int | None = None,
        on_finished: FinishedHandler | None = None,
    ) -> None:
        if loop_count < 1:
            raise ValueError("loop_count is at least 1")
        if offset_ms < 0 or (timeout_ms is not None and timeout_ms < 0):
            raise ValueError("offset and timeout are not negative")
        self._pcm = pcm.astype(np.int16, copy=False).reshape(-1)
        length = len(self._pcm)
        self._offset = min(offset_ms * SAMPLES_PER_MS, length)
        self._first = length - self._offset  # samples in the first loop
        whole = self._first + (loop_count - 1) * length
        self._end = whole if timeout_ms is None else min(whole, timeout_ms * SAMPLES_PER_MS)
        self._complete_at_end = self._end == whole
        self._position = 0  # samples handed out
        self.on_finished = on_finished
        self.finished = False
        self.played_completely = False
        self.stop_reason: str | None = None

    @property
    def duration_ms(self) -> int:
        return self._position // SAMPLES_PER_MS

    def __call__(self) -> np.ndarray | None:
        if self.finished:
            return None
        if self._position >= self._end:
            self._finish(completely=self._complete_at_end)
            return None
        start, stop = self._position, min(self._position + FRAME_SAMPLES, self._end)
        frame = self._samples(start, stop)
        self._position = stop
        if stop < start + FRAME_SAMPLES:
            frame = np.concatenate([frame, np.zeros(start + FRAME_SAMPLES - stop, dtype=np.int16)])
        if self._position >= self._end:
            self._finish(completely=self._complete_at_end)
        return frame

    def stop(self, reason: str = "STOPPED") -> None:
        """End the playback now (stop-play, a DTMF `stopOn`, the call joining a conference, hangup); no-op once
        finished. The reason is kept for the caller's event."""
        if not self.finished:
            self.stop_reason = reason
            self._finish(completely=False)

    def _samples(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) of the playback timeline, as positions in the content."""
        length = len(self._pcm)
        if stop <= self._first:
            return self._pcm[self._offset + start : self._offset + stop]
        begin = (start - self._first) % length if start >= self._first else None
        if begin is not None and begin + (stop - start) <= length:
            return self._pcm[begin : begin + stop - start]
        timeline = np.arange(start, stop)
        positions = np.where(timeline < self._first, timeline + self._offset, (timeline - self._first) % length)
        return self._pcm[positions]

    def _finish(self, completely: bool) -> None:
        self.finished = True
        self.played_completely = completely
        if self.on_finished is not None:
            try:
                self.on_finished(self.duration_ms, completely)
            except Exception:
                log.exception("player finished handler failed")
