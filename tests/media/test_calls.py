"""1:1 calls through a real media node with real SDK clients: signalling, and audio checked by its content.

Every test runs twice: with audio passed through the node untouched, and decoded, mixed and re-encoded."""

from __future__ import annotations

import asyncio

import pytest

from switchboard_rtc import AudioSink, CallEnded, RtcClient, RtcError, ToneSource
from tests.media.conftest import token
from tests.support.audio import dominant_frequency, rms

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=["pass-through", "decoded"])
def audio_path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def clients(url: str, *identities: str) -> list[RtcClient]:
    return [await RtcClient.connect(url, token(identity, name=f"{identity} display")) for identity in identities]


async def test_tones_cross_a_call_both_ways(pair, records, node, audio_path):
    alice, bob = pair
    alice_hears, bob_hears = AudioSink(), AudioSink()
    call = await alice.call_webrtc("bob", audio_source=ToneSource(1000), audio_sink=alice_hears)
    await call.ringing()
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    assert (incoming.peer, incoming.peer_display_name) == ("alice", "alice display")
    await incoming.accept(audio_source=ToneSource(2000), audio_sink=bob_hears)
    await asyncio.gather(call.established(), incoming.established())
    await asyncio.gather(call.media_connected(), incoming.media_connected())
    await asyncio.sleep(1.5)
    assert node[0].calls.bridge_of(call.id).mode == audio_path
    bob_heard, alice_heard = list(bob_hears.samples[-48000:]), list(alice_hears.samples[-48000:])
    assert len(bob_heard) >= 24000 and len(alice_heard) >= 24000
    assert abs(dominant_frequency(bob_heard) - 1000) < 20
    assert abs(dominant_frequency(alice_heard) - 2000) < 20
    await call.hangup()
    assert await incoming.ended() == "NORMAL_HANGUP"
    assert await call.ended() == "NORMAL_HANGUP"
    assert records.of(call.id) == ["start", "ringing", "establish", "hangup:NORMAL_HANGUP"]
    assert records.of(incoming.id) == ["start", "ringing", "establish", "hangup:NORMAL_HANGUP"]


async def test_every_device_rings_and_the_others_hear_answered_elsewhere(node, records):
    _, url = node
    alice, bob_phone, bob_laptop = await clients(url, "alice", "bob", "bob")
    try:
        call = await alice.call_webrtc("bob")
        on_phone = await asyncio.wait_for(bob_phone.incoming_calls.get(), 5)
        on_laptop = await asyncio.wait_for(bob_laptop.incoming_calls.get(), 5)
        assert on_phone.id == on_laptop.id
        await on_laptop.accept()
        await call.established()
        assert await on_phone.ended() == "ANSWERED_ELSEWHERE"
        await on_laptop.hangup()
        assert await call.ended() == "NORMAL_HANGUP"
    finally:
        for client in (alice, bob_phone, bob_laptop):
            await client.close()


async def test_decline_cancel_no_answer_and_offline(pair, records):
    alice, bob = pair
    call = await alice.call_webrtc("bob")
    await (await asyncio.wait_for(bob.incoming_calls.get(), 5)).decline()
    assert await call.ended() == "REJECTED"

    call = await alice.call_webrtc("bob")
    ringing_at_bob = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await call.hangup()
    assert await ringing_at_bob.ended() == "CANCELLED"
    assert await call.ended() == "CANCELLED"

    call = await alice.call_webrtc("bob")
    assert await call.ended(timeout=8) == "NO_ANSWER"  # the node's ring timeout is 3 s here
    assert records.of(call.id)[-1] == "hangup:NO_ANSWER"

    call = await alice.call_webrtc("carol")
    assert await call.ended() == "DESTINATION_NOT_FOUND"
    with pytest.raises(CallEnded):
        await call.established()


async def test_hanging_up_by_disconnecting(pair, records):
    alice, bob = pair
    call = await alice.call_webrtc("bob")
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept()
    await call.established()
    await bob.close()
    assert await call.ended() == "NORMAL_HANGUP"


async def test_audio_stops_reaching_the_far_end_when_the_source_is_silent(pair, records):
    alice, bob = pair
    bob_hears = AudioSink()
    tone = ToneSource(1000)
    call = await alice.call_webrtc("bob", audio_source=tone)
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept(audio_sink=bob_hears)
    await incoming.media_connected()
    await asyncio.sleep(1.0)
    assert rms(bob_hears.samples[-9600:]) > 1000
    tone.frequency = 0
    await asyncio.sleep(1.0)
    assert rms(bob_hears.samples[-9600:]) < 100
    await call.hangup()


async def test_video_flows_both_ways_and_camera_off_stops_it(pair, records):
    from switchboard_rtc import ColorSource, VideoSink

    alice, bob = pair
    alice_sees, bob_sees = VideoSink(), VideoSink()
    call = await alice.call_webrtc("bob", video=True, video_source=ColorSource((200, 128, 128)), video_sink=alice_sees)
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    assert incoming.video
    await incoming.accept(video_source=ColorSource((40, 128, 128)), video_sink=bob_sees)
    await asyncio.gather(call.media_connected(), incoming.media_connected())
    await asyncio.sleep(2.5)
    assert bob_sees.frames > 10 and alice_sees.frames > 10
    assert bob_sees.size == (320, 240)
    assert bob_sees.mean_luma is not None and bob_sees.mean_luma > 150  # alice's bright picture
    assert alice_sees.mean_luma is not None and alice_sees.mean_luma < 90  # bob's dark picture

    call.camera_video(None)
    await asyncio.sleep(1.0)
    before = bob_sees.frames
    await asyncio.sleep(1.5)
    assert bob_sees.frames - before <= 1  # nothing new arrives with the camera off
    assert alice_sees.frames > 20  # bob's camera is still on

    call.camera_video(ColorSource((200, 128, 128)))
    await asyncio.sleep(2.0)
    assert bob_sees.frames - before > 5  # and it comes back
    await call.hangup()


async def test_mute_stops_the_audio_reaching_the_far_end(pair, records):
    alice, bob = pair
    bob_hears = AudioSink()
    call = await alice.call_webrtc("bob", audio_source=ToneSource(1000))
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept(audio_sink=bob_hears)
    await incoming.media_connected()
    await asyncio.sleep(1.0)
    assert rms(bob_hears.samples[-9600:]) > 1000
    call.mute(True)
    assert call.muted()
    await asyncio.sleep(1.0)
    assert rms(bob_hears.samples[-9600:]) < 100
    call.mute(False)
    await asyncio.sleep(1.0)
    assert abs(dominant_frequency(bob_hears.samples[-24000:]) - 1000) < 20
    await call.hangup()


async def test_both_sides_hear_their_network_quality_and_the_others(pair, records):
    alice, bob = pair
    call = await alice.call_webrtc("bob", audio_source=ToneSource(440))
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept(audio_source=ToneSource(880))
    await asyncio.gather(call.media_connected(), incoming.media_connected())
    seen: set[tuple[str, str]] = set()
    while len(seen) < 2:  # the node samples every 2 s; loopback is excellent both ways
        seen.add(await asyncio.wait_for(call.quality_changes.get(), 10))
    assert seen == {("local", "EXCELLENT"), ("remote", "EXCELLENT")}
    await asyncio.sleep(0.5)
    assert (incoming.network_quality, incoming.remote_network_quality) == ("EXCELLENT", "EXCELLENT")
    await call.hangup()


async def test_text_crosses_the_call_and_the_sender_learns_it_was_delivered(pair, records):
    alice, bob = pair
    call = await alice.call_webrtc("bob")
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept()
    await asyncio.gather(call.established(), incoming.established())

    assert await call.send_text("hello bob") == "bob"
    received = await asyncio.wait_for(incoming.messages.get(), 5)
    assert (received.from_, received.text, received.direct) == ("alice", "hello bob", False)

    assert await incoming.send_text("hi alice 👋", to="alice") == "alice"
    reply = await asyncio.wait_for(call.messages.get(), 5)
    assert (reply.from_, reply.text, reply.direct) == ("bob", "hi alice 👋", True)

    with pytest.raises(RtcError) as refused:
        await call.send_text("to nobody", to="carol")
    assert refused.value.code == "UNKNOWN_PARTICIPANT"
    await call.hangup()
