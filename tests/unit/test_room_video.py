"""Room video's pieces on their own: finding where a VP8 keyframe starts (on the packets aiortc's encoder makes),
forwarding one camera to several slots from a keyframe on, dealing cameras to slots, and the leg that answers an
offer with video slots (all on one bundled transport)."""

from __future__ import annotations

import asyncio
import fractions
import os
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket
from av import VideoFrame

from switchboard_media.engine import video as video_module
from switchboard_media.engine.leg import Leg
from switchboard_media.engine.seams import InboundTap
from switchboard_media.engine.video import VideoFanout, starts_vp8_keyframe
from switchboard_media.room_video import RoomVideo

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)


def encoded(frames: int, width: int = 640, height: int = 480) -> list[list[bytes]]:
    """RTP payloads of `frames` noisy frames from aiortc's VP8 encoder, the first a keyframe."""
    encoder = Vp8Encoder()
    out = []
    for n in range(frames):
        frame = VideoFrame(width=width, height=height, format="yuv420p")
        for plane in frame.planes:
            plane.update(os.urandom(plane.buffer_size))
        frame.pts, frame.time_base = n * 6000, fractions.Fraction(1, 90000)
        payloads, _ = encoder.encode(frame, force_keyframe=n == 0)
        out.append(payloads)
    return out


def test_a_keyframe_starts_at_its_first_packet_only():
    keyframe, *deltas = encoded(4)
    assert len(keyframe) > 1  # big enough to span packets
    assert starts_vp8_keyframe(keyframe[0])
    assert not any(starts_vp8_keyframe(payload) for payload in keyframe[1:])
    assert not any(starts_vp8_keyframe(payload) for frame in deltas for payload in frame)


@pytest.mark.parametrize(
    ("descriptor", "key"),
    [
        (b"\x10", True),  # no extension
        (b"\x90\x80\x12", True),  # one-octet picture id
        (b"\x90\xe0\x81\x02\x07\x40", True),  # two-octet picture id, TL0PICIDX, TID
        (b"\x90\x10\x20", True),  # KEYIDX only
        (b"\x11", False),  # partition 1
        (b"\x00", False),  # not a partition start
    ],
)
def test_the_payload_descriptor_is_skipped_whatever_it_holds(descriptor: bytes, key: bool):
    assert starts_vp8_keyframe(descriptor + b"\x30\x13\x00\x9d\x01\x2a") is key
    assert not starts_vp8_keyframe(descriptor + b"\x31\x0b\x00")  # an inter frame
    assert not starts_vp8_keyframe(descriptor)  # truncated


class FakeTap:
    def __init__(self) -> None:
        self.codec = VP8
        self.sink: Any = None
        self.keyframe_requests = 0

    async def request_keyframe(self) -> None:
        self.keyframe_requests += 1


class FakeStream:
    """An OutgoingStream's surface: its port (for keyframe requests) and what was forwarded, from which source."""

    def __init__(self) -> None:
        self.port = SimpleNamespace(on_keyframe_request=None)
        self.sent: list[tuple[int, object]] = []

    async def forward(self, packet: RtpPacket, source: object) -> None:
        self.sent.append((packet.sequence_number, source))


def rtp(frames: list[list[bytes]]) -> list[RtpPacket]:
    payloads = [payload for frame in frames for payload in frame]
    return [RtpPacket(payload_type=96, sequence_number=n, payload=p) for n, p in enumerate(payloads)]


@pytest.mark.asyncio
async def test_a_slot_added_mid_stream_starts_at_the_next_keyframe_and_asks_for_one(monkeypatch):
    monkeypatch.setattr(video_module, "KEYFRAME_REQUEST_INTERVAL", 0.05)
    tap, first, late = FakeTap(), FakeStream(), FakeStream()
    fanout = VideoFanout(cast(InboundTap, tap))
    add = cast(Callable[[FakeStream], None], fanout.add)
    remove = cast(Callable[[FakeStream], None], fanout.remove)
    key, delta, key2 = encoded(1), encoded(2)[1:], encoded(1)
    add(first)
    for packet in rtp([*key, *delta]):
        await tap.sink(packet, VP8)
    add(late)
    await asyncio.sleep(0)
    assert tap.keyframe_requests == 2  # one per slot added
    later = [RtpPacket(payload_type=96, sequence_number=100 + n, payload=p.payload) for n, p in enumerate(rtp(delta))]
    for packet in later:
        await tap.sink(packet, VP8)
    assert late.sent == []  # a delta frame would not decode there
    for packet in [RtpPacket(payload_type=96, sequence_number=200 + n, payload=p) for n, p in enumerate(key2[0])]:
        await tap.sink(packet, VP8)
    assert [seq for seq, _ in late.sent] == list(range(200, 200 + len(key2[0])))
    assert len(first.sent) == len(rtp([*key, *delta])) + len(later) + len(key2[0])

    await asyncio.sleep(0.05)
    late.port.on_keyframe_request()  # the receiver lost a picture (PLI): it reaches the camera ...
    first.port.on_keyframe_request()  # ... once, however many slots ask at the same time
    await asyncio.sleep(0)
    assert tap.keyframe_requests == 3

    remove(late)
    add(late)
    for packet in [RtpPacket(payload_type=96, sequence_number=300 + n, payload=p) for n, p in enumerate(key2[0])]:
        await tap.sink(packet, VP8)
    sources = {source for _, source in late.sent}
    assert len(sources) == 2  # each showing is a new source: the slot's numbering is anchored afresh
    fanout.close()
    assert tap.sink is None and late.port.on_keyframe_request is None


def seat_media(slots: int) -> Any:
    return SimpleNamespace(
        video_in=FakeTap(), screen_in=None, video_slots={str(2 + n): FakeStream() for n in range(slots)}
    )


@pytest.mark.asyncio
async def test_cameras_are_dealt_to_slots_stably_and_freed_slots_are_reused():
    video = RoomVideo()
    for leg_id in ("ann", "ben", "cat"):
        video.connect(leg_id, seat_media(1))

    def showing(changed: dict[str, Any]) -> dict[str, list[str | None]]:
        return {viewer: [slot.showing for slot in slots] for viewer, slots in changed.items()}

    assert showing(video.assign(["ann", "ben", "cat"])) == {"ann": ["ben"], "ben": ["ann"], "cat": ["ann"]}
    assert video.assign(["ann", "ben", "cat"]) == {}  # nothing changed: nobody is told
    assert showing(video.assign(["ben", "cat"])) == {"ben": ["cat"], "cat": ["ben"]}  # ann's camera off
    assert showing(video.assign(["ann", "ben", "cat"])) == {}  # back on: the slots stay as they are
    video.disconnect("cat")  # cat leaves
    assert showing(video.assign(["ann", "ben"])) == {"ben": ["ann"]}  # ann still sees ben; ben gets ann


@pytest.mark.asyncio
async def test_a_leg_answers_video_slots_on_one_bundled_transport():
    client = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    client.addTransceiver("audio", direction="sendrecv")
    client.addTransceiver("video", direction="sendrecv")
    for _ in range(3):
        client.addTransceiver("video", direction="recvonly")
    await client.setLocalDescription(await client.createOffer())
    leg = Leg("leg-slots", [], video_slots=2)
    try:
        answer = await leg.answer(client.localDescription.sdp)
        assert list(leg.video_slots) == ["2", "3"]  # the third receive-only section is beyond the leg's slots
        transports = {t.sender.transport for t in leg.pc.getTransceivers()}
        assert len(transports) == 1  # every section rides the bundle (aiortc's default policy drops slots)
        assert answer.count("a=sendonly") == 2
    finally:
        await leg.close()
        await client.close()
