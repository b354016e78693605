"""A 1:1 WebRTC call end to end on the local stack: tokens from the API, two Python-SDK clients through the media
node, tones measured at the far ends, and the calls' events at a webhook receiver."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import httpx
import pytest

from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.support.audio import dominant_frequency
from tests.support.payloads import subscription
from tests.support.receiver import Receiver, wait_for
from tests.support.stack import start_stack

EVENTS = ["CALL_RECEIVED", "CALL_STARTED", "CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED", "CALL_FAILED"]


@pytest.fixture(scope="module")
def stack():
    running = start_stack()
    yield running
    running.stop()


def webrtc_token(stack, identity: str) -> str:
    response = httpx.post(
        f"{stack.url}/webrtc/1/token",
        headers=stack.headers,
        json={"identity": identity, "displayName": f"{identity.title()} Example"},
    )
    response.raise_for_status()
    return str(response.json()["token"])


@pytest.mark.asyncio
async def test_a_call_carries_tones_both_ways_and_reports_both_legs(stack):
    receiver = Receiver().start()
    alice = bob = None
    try:
        body = subscription("webrtc-calls", f"{receiver.url}/events", EVENTS)
        assert (
            httpx.post(
                f"{stack.url}/subscriptions/1/subscription/VOICE_VIDEO", json=body, headers=stack.headers
            ).status_code
            == 201
        )
        # no node URL: the token names the live media node (its `location` claim)
        alice = await RtcClient.connect(None, webrtc_token(stack, "alice"))
        bob = await RtcClient.connect(None, webrtc_token(stack, "bob"))
        alice_hears, bob_hears = AudioSink(), AudioSink()

        call = await alice.call_webrtc("bob", audio_source=ToneSource(1000), audio_sink=alice_hears)
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
        assert incoming.peer_display_name == "Alice Example"
        await incoming.accept(audio_source=ToneSource(2000), audio_sink=bob_hears)
        await asyncio.gather(call.media_connected(), incoming.media_connected())
        await asyncio.sleep(1.5)
        assert abs(dominant_frequency(bob_hears.samples[-48000:]) - 1000) < 20
        assert abs(dominant_frequency(alice_hears.samples[-48000:]) - 2000) < 20

        await call.hangup()
        assert await incoming.ended() == "NORMAL_HANGUP"

        def events_by_call() -> dict[str, list[str]]:
            found: dict[str, list[str]] = defaultdict(list)
            for request in sorted(receiver.accepted(), key=lambda r: r.event["sequence"]):
                found[request.event["callId"]].append(request.event["type"])
            return found

        assert wait_for(
            lambda: all("CALL_FINISHED" in events_by_call().get(leg, []) for leg in (call.id, incoming.id)), timeout=30
        ), (events_by_call(), stack.log())
        # the caller's leg reached the platform (INBOUND: CALL_RECEIVED); the callee's was placed by it (CALL_STARTED)
        expected_tail = ["CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED"]
        assert events_by_call()[call.id] == ["CALL_RECEIVED", *expected_tail]
        assert events_by_call()[incoming.id] == ["CALL_STARTED", *expected_tail]
        finished = [r.event for r in receiver.accepted() if r.event["type"] == "CALL_FINISHED"]
        assert {e["properties"]["callLog"]["errorCode"]["name"] for e in finished} == {"NORMAL_HANGUP"}
    finally:
        for client in (alice, bob):
            if client is not None:
                await client.close()
        receiver.stop()
