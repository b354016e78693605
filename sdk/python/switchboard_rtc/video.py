"""Pluggable video: a source of solid-colour frames (a known picture to send) and a sink that counts and samples what
arrives."""

from __future__ import annotations

import asyncio
import contextlib
import fractions

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from switchboard_rtc.pacing import Pacer

VIDEO_CLOCK = 90000


class ColorSource(MediaStreamTrack):
    """Frames of one colour (Y, U, V) at `fps`, `width` x `height`."""

    kind = "video"

    def __init__(
        self, yuv: tuple[int, int, int] = (128, 64, 192), width: int = 320, height: int = 240, fps: int = 15
    ) -> None:
        super().__init__()
        self.yuv, self.width, self.height, self.fps = yuv, width, height, fps
        self._count = 0
        self._pacer = Pacer()

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pacer.until(self._count / self.fps)
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        for plane, value in zip(frame.planes, self.yuv, strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = self._count * VIDEO_CLOCK // self.fps
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self._count += 1
        return frame


class VideoSink:
    """Counts decoded frames and keeps the last one's size, mean luma and colour (mean Y, U, V of its middle rows:
    a solid picture's colour)."""

    def __init__(self) -> None:
        self.frames = 0
        self.size: tuple[int, int] | None = None
        self.mean_luma: float | None = None
        self.mean_yuv: tuple[float, float, float] | None = None
        self._task: asyncio.Task[None] | None = None

    def consume(self, track: MediaStreamTrack) -> None:
        self._task = asyncio.ensure_future(self._run(track))

    async def _run(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, VideoFrame)
                self.take(frame)

    def take(self, frame: VideoFrame) -> None:
        self.frames += 1
        self.size = (frame.width, frame.height)
        luma = bytes(frame.planes[0])
        self.mean_luma = sum(luma[:: max(1, len(luma) // 1024)]) / len(luma[:: max(1, len(luma) // 1024)])
        if frame.format.name == "yuv420p":
            self.mean_yuv = _middle_row_mean(frame, 0), _middle_row_mean(frame, 1), _middle_row_mean(frame, 2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _middle_row_mean(frame: VideoFrame, index: int) -> float:
    plane = frame.planes[index]
    start = plane.height // 2 * plane.line_size
    row = bytes(plane)[start : start + plane.width]
    return sum(row) / max(1, len(row))
