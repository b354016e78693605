"""1:1 calls through a real media node with real SDK clients: each side hears what the other sends (remote mute,
camera, screen share, as `infobip-rtc`'s WebrtcCall events), and an established call survives its signalling
connection dropping (the media never went through it) until the node's grace period runs out.

A network cut is a TCP proxy in front of one party's signalling websocket: cutting it aborts the connection, and
while it refuses new ones that party cannot reconnect. Its media goes straight to the node, untouched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from chalicelib.contract import signalling as sig
from switchboard_rtc import AudioSink, Call, ColorSource, RtcClient, RtcError, ToneSource, VideoSink
from tests.media.conftest import token
from tests.support.audio import dominant_frequency, rms
from tests.support.tcpproxy import CuttableProxy

pytestmark = pytest.mark.asyncio

CAMERA = (200, 128, 128)  # bright grey (Y, U, V)
SCREEN = (90, 200, 60)  # a colour no camera here sends


async def eventually(condition, what: str, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)


def names(call: Call) -> list[str]:
    """The call events announced so far (taken off the queue)."""
    seen = []
    while not call.call_events.empty():
        seen.append(call.call_events.get_nowait().name)
    return seen


async def answered(alice: RtcClient, bob: RtcClient, **options) -> tuple[Call, Call]:
    """alice calls bob, bob answers; both media sessions connected. `options`: alice_/bob_ prefixed media."""
    call = await alice.call_webrtc(
        "bob",
        audio_source=options.get("alice_source"),
        audio_sink=options.get("alice_sink"),
        video=options.get("video", False),
        video_source=options.get("alice_video"),
    )
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
    await incoming.accept(
        audio_source=options.get("bob_source"), audio_sink=options.get("bob_sink"), video_sink=options.get("bob_sees")
    )
    await asyncio.gather(call.established(), incoming.established())
    await asyncio.gather(call.media_connected(timeout=20), incoming.media_connected(timeout=20))
    return call, incoming


def tone_at(sink: AudioSink, frequency: float, seconds: float = 0.5) -> bool:
    heard = list(sink.samples[-int(48000 * seconds) :])
    return len(heard) >= 48000 * seconds and rms(heard) > 1000 and abs(dominant_frequency(heard) - frequency) < 20


@pytest_asyncio.fixture
async def cut_pair(node) -> AsyncIterator[tuple[RtcClient, RtcClient, CuttableProxy]]:
    """alice connected straight to the node, bob through a proxy whose connections the test can cut."""
    _, url = node
    parts = urlsplit(url)
    proxy = await CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 80).start()
    alice = await RtcClient.connect(url, token("alice"))
    bob = await RtcClient.connect(f"http://127.0.0.1:{proxy.port}", token("bob"))
    yield alice, bob, proxy
    await alice.close()
    await bob.close()
    await proxy.stop()


# --- what the other side sends --------------------------------------------------------------------------


async def test_the_other_side_hears_screen_share_camera_and_mute_as_remote_events(pair, records):
    alice, bob = pair
    bob_sees, bob_hears = VideoSink(), AudioSink()
    call, incoming = await answered(
        alice, bob, video=True, alice_video=ColorSource(CAMERA), alice_source=ToneSource(1000), bob_sees=bob_sees,
        bob_sink=bob_hears,
    )  # fmt: skip
    added = await incoming.next_event("remote-camera-video-added")
    assert added.track is incoming.remote_video and added.track is not None
    await eventually(lambda: bob_sees.mean_luma is not None and bob_sees.mean_luma > 150, "bob sees alice's camera")

    # alice shares her screen: it takes her camera's place on the video bob receives
    call.screen_share(ColorSource(SCREEN))
    assert call.has_screen_share()
    assert (await incoming.next_event()).name == "remote-camera-video-removed"
    shared = await incoming.next_event()
    assert shared.name == "remote-screen-share-added" and shared.track is incoming.remote_video
    assert incoming.remote_screen_share
    await eventually(
        lambda: bob_sees.mean_yuv is not None and abs(bob_sees.mean_yuv[1] - SCREEN[1]) < 20,
        f"bob decodes the shared screen's colour ({bob_sees.mean_yuv})",
    )

    # alice mutes: bob hears that she did, and silence
    call.mute(True)
    assert (await incoming.next_event()).name == "remote-muted"
    await asyncio.sleep(0.5)
    await eventually(lambda: rms(bob_hears.samples[-9600:]) < 100, "bob hears silence")
    call.mute(False)
    assert (await incoming.next_event()).name == "remote-unmuted"
    await eventually(lambda: tone_at(bob_hears, 1000), "bob hears alice's tone again")

    # she stops sharing: her camera is back; then she turns it off
    call.screen_share(None)
    assert (await incoming.next_event()).name == "remote-screen-share-removed"
    assert (await incoming.next_event()).name == "remote-camera-video-added"
    await eventually(
        lambda: bob_sees.mean_yuv is not None and abs(bob_sees.mean_yuv[1] - CAMERA[1]) < 20, "bob sees the camera"
    )
    call.camera_video(None)
    assert (await incoming.next_event()).name == "remote-camera-video-removed"
    assert not incoming.remote_camera and not incoming.remote_screen_share
    assert names(call) == ["remote-camera-video-added"]  # bob's camera; nothing about what alice did herself
    await call.hangup()
    assert await incoming.ended() == "NORMAL_HANGUP"


async def test_what_the_caller_changed_while_ringing_reaches_the_callee_once_answered(pair, records):
    alice, bob = pair
    call = await alice.call_webrtc("bob")
    await call.ringing()
    await alice.send(sig.MediaState(callId=call.id, muted=True))  # muted before bob answers
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
    await bob.send(sig.MediaState(callId=incoming.id, muted=True))  # a device still ringing: nothing to tell yet
    await incoming.accept()
    assert (await incoming.next_event("remote-muted")).name == "remote-muted"
    assert incoming.remote_muted
    await call.media_connected()
    assert bob.errors.empty() and not call.remote_muted and names(call) == []
    await call.hangup()


async def test_media_state_for_a_call_that_is_not_yours_is_refused(pair, node):
    alice, bob = pair
    _, url = node
    call = await alice.call_webrtc("bob")
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
    await incoming.accept()
    await call.established()
    carol = await RtcClient.connect(url, token("carol"))
    try:
        await carol.send(sig.MediaState(callId=call.id, muted=True))
        refused = await asyncio.wait_for(carol.errors.get(), 5)
        assert refused.code == "UNKNOWN_CALL"
        with pytest.raises(RtcError) as resumed:
            await _resume_as(carol, call.id)
        assert resumed.value.code == "UNKNOWN_CALL"  # nobody else can take over alice's call
        assert not call.is_ended and names(incoming) == []
    finally:
        await carol.close()
        await call.hangup()


async def _resume_as(client: RtcClient, call_id: str) -> None:
    await client.send(sig.ResumeCall(requestId="take-over", callId=call_id))
    error = await asyncio.wait_for(client.errors.get(), 5)
    assert error.requestId == "take-over"
    raise RtcError(error.code, error.text)


# --- a signalling drop ----------------------------------------------------------------------------------


async def test_a_call_survives_a_signalling_drop_and_is_controlled_again_after_the_reconnect(cut_pair, records):
    alice, bob, proxy = cut_pair
    alice_hears, bob_hears = AudioSink(), AudioSink()
    call, incoming = await answered(
        alice, bob, alice_source=ToneSource(1000), alice_sink=alice_hears, bob_source=ToneSource(2000),
        bob_sink=bob_hears,
    )  # fmt: skip
    await eventually(lambda: tone_at(bob_hears, 1000) and tone_at(alice_hears, 2000), "the tones cross the call")

    proxy.refusing = True  # bob's network is down for a while: he cannot reconnect yet
    proxy.cut()
    assert (await incoming.next_event()).name == "reconnecting"
    assert (await call.next_event()).name == "remote-disconnected"
    assert not call.remote_connected
    bob_heard, alice_heard = len(bob_hears.samples), len(alice_hears.samples)
    await asyncio.sleep(2.0)  # media goes on while the signalling is away
    assert len(bob_hears.samples) - bob_heard >= 48000 and len(alice_hears.samples) - alice_heard >= 48000
    assert tone_at(bob_hears, 1000, 1.0) and tone_at(alice_hears, 2000, 1.0)
    with pytest.raises(RtcError) as refused:
        await call.send_text("are you there?")
    assert refused.value.code == "PARTICIPANT_DISCONNECTED"

    proxy.refusing = False  # the network is back: bob's SDK reconnects and resumes the call
    assert (await incoming.next_event(timeout=20)).name == "reconnected"
    assert (await call.next_event()).name == "remote-reconnected"
    assert not call.is_ended and not incoming.is_ended
    assert all(not name.startswith("hangup") for name in records.of(call.id) + records.of(incoming.id))
    assert tone_at(bob_hears, 1000) and tone_at(alice_hears, 2000)

    # the control channel works again: mute, text both ways, then hangup
    incoming.mute(True)
    assert (await call.next_event()).name == "remote-muted"
    await eventually(lambda: rms(alice_hears.samples[-9600:]) < 100, "alice hears bob's silence")
    assert await incoming.send_text("back again") == "alice"
    assert (await asyncio.wait_for(call.messages.get(), 5)).text == "back again"
    assert await call.send_text("welcome back") == "bob"
    assert (await asyncio.wait_for(incoming.messages.get(), 5)).text == "welcome back"
    await incoming.hangup()
    assert await call.ended() == "NORMAL_HANGUP"
    assert await incoming.ended() == "NORMAL_HANGUP"
    assert records.of(call.id)[-1] == records.of(incoming.id)[-1] == "hangup:NORMAL_HANGUP"


async def test_a_party_away_beyond_the_grace_period_ends_the_call_with_network_error(cut_pair, records, node):
    media_node, _ = node
    media_node.settings.call_reconnect_grace_seconds = 1.0
    alice, bob, proxy = cut_pair
    call, incoming = await answered(alice, bob)

    proxy.refusing = True
    proxy.cut()
    assert (await call.next_event()).name == "remote-disconnected"
    assert await call.ended(timeout=10) == "NETWORK_ERROR"  # nobody came back within 1 s
    assert records.of(call.id)[-1] == records.of(incoming.id)[-1] == "hangup:NETWORK_ERROR"
    assert not incoming.is_ended  # bob does not know yet: his SDK is still trying

    proxy.refusing = False  # bob comes back too late: the node tells him how the call ended
    assert await incoming.ended(timeout=20) == "NETWORK_ERROR"
    assert "reconnected" not in names(incoming)


async def test_a_call_still_ringing_ends_when_the_caller_drops(cut_pair, records):
    alice, bob, proxy = cut_pair
    call = await bob.call_webrtc("alice")  # bob is behind the proxy
    ringing = await asyncio.wait_for(alice.incoming_calls.get(), 10)
    proxy.cut()
    assert await ringing.ended() == "NETWORK_ERROR"
    assert await call.ended(timeout=20) == "NETWORK_ERROR"
    assert records.of(call.id)[-1] == "hangup:NETWORK_ERROR"


async def test_a_hangup_while_reconnecting_reaches_the_node_once_the_call_is_resumed(cut_pair, records):
    alice, bob, proxy = cut_pair
    call, incoming = await answered(alice, bob)
    proxy.refusing = True
    proxy.cut()
    assert (await incoming.next_event()).name == "reconnecting"
    await incoming.hangup()  # bob cannot tell the node yet
    await asyncio.sleep(0.5)
    assert not call.is_ended
    proxy.refusing = False
    assert await call.ended(timeout=20) == "NORMAL_HANGUP"
    assert await incoming.ended() == "NORMAL_HANGUP"
    assert records.of(call.id)[-1] == "hangup:NORMAL_HANGUP"
