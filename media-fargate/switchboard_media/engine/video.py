"""One participant's camera forwarded, still encoded, to any number of outgoing video streams (a room's video slots).

Nothing is decoded: each VP8 packet is re-stamped into every target stream (`OutgoingStream` keeps each target's
sequence numbers and timestamps continuous across a change of source). A target that starts showing this camera
mid-stream gets nothing until a keyframe begins (a keyframe is requested when it is added, and again while it
waits), so a receiver never has to decode from a delta frame; keyframe requests from the targets (PLI/FIR) reach the
camera's sender, at most one per `KEYFRAME_REQUEST_INTERVAL` however many targets ask.
"""

from __future__ import annotations

import asyncio

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from switchboard_media.engine.seams import InboundTap
from switchboard_media.engine.stream import OutgoingStream

KEYFRAME_REQUEST_INTERVAL = 0.5  # seconds


def starts_vp8_keyframe(payload: bytes) -> bool:
    """Whether an RTP payload (RFC 7741) is the first packet of a VP8 keyframe: the start of partition 0 whose VP8
    frame tag has the P bit clear."""
    if not payload:
        return False
    descriptor = payload[0]
    if not descriptor & 0x10 or descriptor & 0x07:  # S: start of a partition; PID: partition 0
        return False
    offset = 1
    if descriptor & 0x80:  # X: extension octet
        if len(payload) < 2:
            return False
        extension = payload[1]
        offset = 2
        if extension & 0x80:  # I: picture id, one or (M bit) two octets
            if len(payload) <= offset:
                return False
            offset += 2 if payload[offset] & 0x80 else 1
        if extension & 0x40:  # L: TL0PICIDX
            offset += 1
        if extension & 0x30:  # T or K: TID/Y/KEYIDX
            offset += 1
    return len(payload) > offset and not payload[offset] & 0x01


class _Showing:
    """One target's showing of the camera, from `add` to `remove`: its own source key, so the target's numbering is
    anchored afresh each time (a camera that comes back may restart its timestamps)."""

    __slots__ = ("waiting",)

    def __init__(self) -> None:
        self.waiting = True  # for a keyframe


class VideoFanout:
    """The packets of one inbound video stream, sent on in every target stream (its sink while it exists)."""

    def __init__(self, tap: InboundTap) -> None:
        self.tap = tap
        self._codec = tap.codec
        self._targets: dict[OutgoingStream, _Showing] = {}
        self._requested_at = -KEYFRAME_REQUEST_INTERVAL
        self._requests: set[asyncio.Future[None]] = set()
        tap.sink = self._forward

    def add(self, target: OutgoingStream) -> None:
        """Start sending on `target` (from the next keyframe)."""
        self._targets[target] = _Showing()
        target.port.on_keyframe_request = self.request_keyframe
        self.request_keyframe(now=True)

    def remove(self, target: OutgoingStream) -> None:
        if self._targets.pop(target, None) is not None and target.port.on_keyframe_request == self.request_keyframe:
            target.port.on_keyframe_request = None

    def close(self) -> None:
        for target in list(self._targets):
            self.remove(target)
        if self.tap.sink == self._forward:
            self.tap.sink = None

    def request_keyframe(self, now: bool = False) -> None:
        """Ask the camera's sender for a keyframe (unless one was asked for less than an interval ago)."""
        clock = asyncio.get_running_loop().time()
        if not now and clock - self._requested_at < KEYFRAME_REQUEST_INTERVAL:
            return
        self._requested_at = clock
        task = asyncio.ensure_future(self.tap.request_keyframe())
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def _forward(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        if codec is not self._codec:
            if self._codec is not None:
                return  # not the codec the targets negotiated: theirs to drop, not to decode
            self._codec = self.tap.codec  # negotiated after the fanout was made
            if codec is not self._codec:
                return
        keyframe: bool | None = None
        for target in list(self._targets):
            showing = self._targets.get(target)  # a target removed while an earlier one was sending gets nothing
            if showing is None:
                continue
            if showing.waiting:
                if keyframe is None:
                    keyframe = starts_vp8_keyframe(packet.payload)
                if not keyframe:
                    self.request_keyframe()
                    continue
                showing.waiting = False
            await target.forward(packet, showing)
