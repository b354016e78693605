"""A recording's copy of one camera: the VP8 packets an `InboundTap` receives, put back together into whole
encoded frames (aiortc's depayloader and jitter buffer), handed on as they complete. Nothing is decoded here
(the MP4 writer's thread decodes), and the forwarding of the packets to the other party is untouched: the feed is
one of the tap's observers.

A feed starts at a keyframe (it asks for one when it starts) and starts over at the next one whenever a frame is
lost on the way (dropped because the writer is behind, or not decodable), asking the sender for it at most every
`KEYFRAME_REQUEST_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc.codecs import depayload
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from switchboard_media.engine.seams import InboundTap

log = logging.getLogger(__name__)
KEYFRAME_REQUEST_SECONDS = 0.5
FrameSink = Callable[[bytes], bool]  # an encoded frame; False when it could not be taken (then a keyframe is due)


def is_vp8_keyframe(frame: bytes) -> bool:
    """Whether a whole encoded VP8 frame is a keyframe (RFC 6386 §9.1: the frame tag's P bit is clear)."""
    return bool(frame) and not frame[0] & 0x01


class CameraFeed:
    def __init__(self, tap: InboundTap, sink: FrameSink) -> None:
        self.tap = tap
        self._sink = sink
        self._buffer = JitterBuffer(capacity=512, is_video=True)
        self._waiting = True  # for a keyframe
        self._requested_at = float("-inf")
        self._requests: set[asyncio.Future[None]] = set()
        self.frames = 0
        tap.observers.append(self._observe)
        self._request_keyframe()

    def close(self) -> None:
        if self._observe in self.tap.observers:
            self.tap.observers.remove(self._observe)

    def lost(self) -> None:
        """The frames after the last one handed on cannot be decoded: start again at a keyframe."""
        self._waiting = True
        self._request_keyframe()

    def _observe(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        if codec.mimeType.lower() != "video/vp8":
            return
        copy = RtpPacket(sequence_number=packet.sequence_number, timestamp=packet.timestamp)
        try:
            copy._data = depayload(codec, packet.payload) if packet.payload else b""  # type: ignore[attr-defined]
        except ValueError:
            return
        lost, frame = self._buffer.add(copy)
        if lost:
            self.lost()
        if frame is None:
            return
        if self._waiting:
            if not is_vp8_keyframe(frame.data):
                self._request_keyframe()
                return
            self._waiting = False
        if self._sink(frame.data):
            self.frames += 1
        else:
            self.lost()

    def _request_keyframe(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._requested_at < KEYFRAME_REQUEST_SECONDS:
            return
        self._requested_at = loop.time()
        task = asyncio.ensure_future(self.tap.request_keyframe())
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)
