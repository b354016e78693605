"""AUDIO_AND_VIDEO recordings: one `.mp4` with an H.264 video stream (libx264) and an AAC audio stream, written by
a thread of its own so the event loop never waits on a codec.

The loop hands the writer, in order, one audio frame per graph tick (`audio`) and each camera's encoded VP8 frames
as they arrive (`video`, stamped on the recording's clock); the thread decodes, composes, encodes and muxes. The
one FIFO keeps both in the order they happened; the queue is bounded and video is bounded more tightly: a frame
that does not fit is dropped and counted (`dropped_video`), and its camera's decoder then waits for a keyframe.

The picture is a canvas holding a grid of slots, one per participant (a single slot in a participant's own file):
`grid(n)` is ceil(sqrt(n)) columns and as many rows as needed (2 slots side by side, 3 or 4 in two rows, up to 15
in a 4x4 grid), each camera's frame scaled to fit its slot (aspect kept, black around). The canvas's size is fixed
when the file opens (an H.264 stream keeps its size): `SLOT`-sized cells for the slots it starts with, at most
`MAX_GRID` cells across and down. Slots added later (`layout`: a participant joined a conference) fit in the grid
while it has room, else the grid is laid out again in the same picture with smaller cells (the pictures shown are
re-placed). A slot vacated (`vacate`: its participant left) turns black and is the next joiner's.
A slot keeps its last picture while its camera sends nothing (camera off, a stalled sender), black before its
first frame: the canvas is re-encoded at least every `HOLD_SECONDS` (a keyframe each time), so the video runs as
long as the audio and a player shows the frozen last picture, not a gap. New pictures are encoded at most `MAX_FPS`
times a second.

The file is a fragmented MP4 (`empty_moov`, a fragment per keyframe, at least one a second) flushed as each
fragment is cut: what is on disk after a crash is a playable file up to its last fragment, and `repair` remuxes
such a file into a whole one.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
import queue
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

log = logging.getLogger(__name__)

SLOT = (480, 360)  # width, height of one participant's picture (while the grid has the cells it started with)
MAX_GRID = 3  # the canvas is at most this many slots across and down (more slots: smaller cells)
MAX_FPS = 30
HOLD_SECONDS = 1.0  # re-encode the canvas (as a keyframe) at least this often
MAX_PENDING_VIDEO = 30  # encoded camera frames waiting for the thread
MAX_PENDING = 1500  # everything waiting (audio is 50 items a second)
SAMPLE_RATE = 48000
BLACK = (16, 128, 128)  # Y, U, V
CONTAINER_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}
X264_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "forced-idr": "1"}
MILLISECONDS = Fraction(1, 1000)


def grid(slots: int) -> tuple[int, int]:
    """Columns and rows of the grid holding `slots` pictures: ceil(sqrt(n)) columns, as many rows as needed."""
    slots = max(1, slots)
    columns = math.ceil(math.sqrt(slots))
    return columns, math.ceil(slots / columns)


class Canvas:
    """A grid of slots as yuv420p planes, its size fixed when made. `place` scales a decoded frame into its slot
    (and keeps it, to place again when the grid is laid out anew), `layout` makes room for more slots, `clear`
    blackens one."""

    def __init__(self, slots: int) -> None:
        columns, rows = grid(slots)
        self.width, self.height = SLOT[0] * min(columns, MAX_GRID), SLOT[1] * min(rows, MAX_GRID)
        self.y = np.full((self.height, self.width), BLACK[0], np.uint8)
        self.u = np.full((self.height // 2, self.width // 2), BLACK[1], np.uint8)
        self.v = np.full((self.height // 2, self.width // 2), BLACK[2], np.uint8)
        self.pictures: dict[int, av.VideoFrame] = {}
        self.columns, self.rows, self.cell = 1, 1, SLOT
        self._arrange(slots)

    @property
    def capacity(self) -> int:
        return self.columns * self.rows

    def layout(self, slots: int) -> bool:
        """Make room for `slots` slots (never fewer than there are); whether the grid changed."""
        if slots <= self.capacity:
            return False
        self._arrange(slots)
        return True

    def _arrange(self, slots: int) -> None:
        self.columns, self.rows = grid(slots)
        self.cell = (self.width // self.columns & ~1, self.height // self.rows & ~1)
        for plane, value in zip((self.y, self.u, self.v), BLACK, strict=True):
            plane[:] = value
        for slot, frame in self.pictures.items():
            self._draw(slot, frame)

    def place(self, slot: int, frame: av.VideoFrame) -> None:
        self.layout(slot + 1)
        self.pictures[slot] = frame
        self._draw(slot, frame)

    def clear(self, slot: int) -> None:
        if self.pictures.pop(slot, None) is not None and slot < self.capacity:
            self._fill(slot)

    def _origin(self, slot: int) -> tuple[int, int]:
        return slot % self.columns * self.cell[0], slot // self.columns * self.cell[1]

    def _fill(self, slot: int) -> None:
        (left, top), (width, height) = self._origin(slot), self.cell
        self.y[top : top + height, left : left + width] = BLACK[0]
        self.u[top // 2 : (top + height) // 2, left // 2 : (left + width) // 2] = BLACK[1]
        self.v[top // 2 : (top + height) // 2, left // 2 : (left + width) // 2] = BLACK[2]

    def _draw(self, slot: int, frame: av.VideoFrame) -> None:
        (origin_x, origin_y), (width, height) = self._origin(slot), self.cell
        scale = min(width / frame.width, height / frame.height)
        fit_w, fit_h = max(2, int(frame.width * scale) & ~1), max(2, int(frame.height * scale) & ~1)
        picture = frame.reformat(width=fit_w, height=fit_h, format="yuv420p").to_ndarray()
        left, top = origin_x + (width - fit_w) // 2 & ~1, origin_y + (height - fit_h) // 2 & ~1
        quarter = fit_h // 2 * (fit_w // 2)
        chroma = picture[fit_h:].reshape(-1)
        self.y[top : top + fit_h, left : left + fit_w] = picture[:fit_h]
        self.u[top // 2 : (top + fit_h) // 2, left // 2 : (left + fit_w) // 2] = chroma[:quarter].reshape(
            fit_h // 2, fit_w // 2
        )
        self.v[top // 2 : (top + fit_h) // 2, left // 2 : (left + fit_w) // 2] = chroma[quarter:].reshape(
            fit_h // 2, fit_w // 2
        )

    def frame(self) -> av.VideoFrame:
        planes = np.concatenate([self.y.reshape(-1), self.u.reshape(-1), self.v.reshape(-1)])
        return av.VideoFrame.from_ndarray(planes.reshape(self.height * 3 // 2, self.width), format="yuv420p")


class Mp4Writer:
    """One `.mp4` being written. `audio`, `video` and `close` are called on the event loop and never block;
    `on_broken(slot)` is called (from the thread) when a camera's decoder lost its place and needs a keyframe."""

    def __init__(self, path: Path, slots: int, on_broken: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.slots = max(1, slots)
        self.dropped_video = 0
        self.dropped_audio = 0
        self.encoded_video = 0
        self._on_broken = on_broken
        self._queue: queue.Queue[tuple[Any, ...]] = queue.Queue(MAX_PENDING)
        self._video_room = threading.BoundedSemaphore(MAX_PENDING_VIDEO)
        self._ticks = 0
        self._closing = False
        self._end = threading.Event()  # set by `close`: finish once the queue is drained
        self._end_seconds = 0.0
        self.finished: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name=f"mp4-{path.stem[:8]}", daemon=True)
        self._thread.start()

    # --- on the event loop --------------------------------------------------------------------------------------

    def audio(self, pcm: np.ndarray) -> None:
        """One tick's audio (960 samples at 48 kHz); its place in the file is its tick number."""
        tick, self._ticks = self._ticks, self._ticks + 1
        try:
            self._queue.put_nowait(("audio", tick, pcm.copy()))
        except queue.Full:
            self.dropped_audio += 1

    def video(self, slot: int, data: bytes, seconds: float) -> bool:
        """One encoded VP8 frame of `slot`'s camera, `seconds` into the recording; False when it was dropped."""
        if self._closing or not self._video_room.acquire(blocking=False):
            self.dropped_video += 1
            return False
        try:
            self._queue.put_nowait(("video", slot, data, seconds))
        except queue.Full:
            self._video_room.release()
            self.dropped_video += 1
            return False
        return True

    def layout(self, slots: int) -> None:
        """The picture is to hold `slots` slots from now on (a participant joined)."""
        self._control(("layout", slots))

    def vacate(self, slot: int) -> None:
        """`slot`'s participant left: the slot turns black, and its next camera starts afresh."""
        self._control(("vacate", slot))

    def _control(self, item: tuple[Any, ...]) -> None:
        if self._closing:
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:  # the thread is far behind: the grid grows when the slot's first frame comes
            log.warning("%s: %s was not passed on (the writer is behind)", self.path.name, item[0])

    def close(self, seconds: float) -> concurrent.futures.Future[None]:
        """Finish the file `seconds` long (the trailer is written by the thread); done when it is on disk."""
        if not self._closing:
            self._closing, self._end_seconds = True, seconds
            self._end.set()
        return self.finished

    # --- on the writer's thread ---------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            _Encoding(self).run()
        except BaseException as error:
            log.exception("recording %s could not be written", self.path.name)
            self.finished.set_exception(error)
        else:
            self.finished.set_result(None)

    def _next(self) -> tuple[Any, ...]:
        """The next item; ("end", seconds) once closed and everything before it is taken."""
        while True:
            try:
                item = self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._end.is_set() and self._queue.empty():
                    return ("end", self._end_seconds)
                continue
            if item[0] == "video":
                self._video_room.release()
            return item

    def _broken(self, slot: int) -> None:
        if self._on_broken is not None:
            self._on_broken(slot)


class _Encoding:
    """The writer thread's state: the container, its encoders, the cameras' decoders and the canvas."""

    def __init__(self, writer: Mp4Writer) -> None:
        self.writer = writer
        self.canvas = Canvas(writer.slots)
        self.container = av.open(str(writer.path), "w", format="mp4", options=CONTAINER_OPTIONS)
        video = self.container.add_stream("libx264", rate=MAX_FPS, options=X264_OPTIONS)
        video.width, video.height, video.pix_fmt = self.canvas.width, self.canvas.height, "yuv420p"
        video.codec_context.time_base = MILLISECONDS
        video.codec_context.gop_size = 10 * MAX_FPS  # keyframes are forced every HOLD_SECONDS or sooner
        video.codec_context.thread_count = 1
        audio = self.container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        audio.codec_context.bit_rate = 64000
        self.video, self.audio = video, audio
        self.decoders: dict[int, Any] = {}
        self.last_pts = -1  # milliseconds
        self.last_key_pts = -10_000
        self.dirty = False

    def run(self) -> None:
        try:
            while True:
                item = self.writer._next()
                if item[0] == "audio":
                    self._audio(item[1], item[2])
                elif item[0] == "video":
                    self._camera(item[1], item[2], item[3])
                elif item[0] == "layout":
                    self.dirty = self.canvas.layout(item[1]) or self.dirty
                elif item[0] == "vacate":
                    self.decoders.pop(item[1], None)
                    self.canvas.clear(item[1])
                    self.dirty = True
                else:
                    self._emit(item[1], force=True)
                    break
            for stream in (self.video, self.audio):
                for packet in stream.encode():
                    self.container.mux(packet)
        finally:
            self.container.close()

    def _audio(self, tick: int, pcm: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, tick * len(pcm), Fraction(1, SAMPLE_RATE)
        for packet in self.audio.encode(frame):
            self.container.mux(packet)
        seconds = tick * len(pcm) / SAMPLE_RATE
        since = seconds - self.last_pts / 1000
        if self.last_pts < 0 or since >= HOLD_SECONDS or (self.dirty and since >= 1 / MAX_FPS):
            self._emit(seconds)

    def _camera(self, slot: int, data: bytes, seconds: float) -> None:
        decoder = self.decoders.get(slot)
        if decoder is None:
            decoder = self.decoders[slot] = av.CodecContext.create("vp8", "r")
        try:
            frames = decoder.decode(av.Packet(data))
        except av.FFmpegError as error:
            log.debug("a camera frame of %s could not be decoded: %s", self.writer.path.name, error)
            self.writer._broken(slot)
            return
        for frame in frames:
            self.canvas.place(slot, frame)
            self.dirty = True
        if self.dirty and seconds - self.last_pts / 1000 >= 1 / MAX_FPS:
            self._emit(seconds)

    def _emit(self, seconds: float, force: bool = False) -> None:
        pts = max(round(seconds * 1000), self.last_pts + 1)
        if not force and not self.dirty and pts - self.last_key_pts < HOLD_SECONDS * 1000:
            return
        frame = self.canvas.frame()
        frame.pts, frame.time_base = pts, MILLISECONDS
        if pts - self.last_key_pts >= HOLD_SECONDS * 1000:
            frame.pict_type = av.video.frame.PictureType.I
            self.last_key_pts = pts
        for packet in self.video.encode(frame):
            self.container.mux(packet)
        self.last_pts, self.dirty = pts, False
        self.writer.encoded_video += 1


def repair(path: Path) -> float:
    """Remux what can be read of an MP4 cut short (a crash: no trailer, maybe half a fragment) into a whole file in
    place; its length in seconds. ValueError when nothing of it can be read."""
    repaired = path.with_name(f"{path.stem}.repaired.mp4")
    try:
        source = av.open(str(path))
    except av.FFmpegError as error:
        raise ValueError(f"no media could be read from the file: {error}") from error
    end = 0.0
    with source, av.open(str(repaired), "w", format="mp4") as target:
        streams = {s.index: target.add_stream_from_template(s) for s in source.streams if s.type in ("audio", "video")}
        try:
            for packet in source.demux(*[source.streams[index] for index in streams]):
                if packet.dts is None or packet.pts is None:
                    continue  # the demuxer's end-of-stream marker
                assert packet.time_base is not None
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                packet.stream = streams[packet.stream.index]
                target.mux(packet)
        except (av.FFmpegError, ValueError) as error:
            log.info("%s is readable up to %.2f s: %s", path.name, end, error)
    if end <= 0:
        repaired.unlink(missing_ok=True)
        raise ValueError("no media could be read from the file")
    os.replace(repaired, path)
    return end
