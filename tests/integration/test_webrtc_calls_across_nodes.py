"""A 1:1 WebRTC call between identities on two media node processes of the local stack: the stack's node (A) and a
second one (B) started on another port with the stack's embedded AWS, both in the same registry. alice is on A, bob
on B. The call is anchored on A (both legs' records and media); B only carries bob's signalling. Tones are measured
at the far ends, and the legs' events arrive at a webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from infra.local.media import start_media_node
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.support.audio import dominant_frequency, rms
from tests.support.payloads import subscription
from tests.support.receiver import Receiver, wait_for
from tests.support.stack import ROOT, start_stack

EVENTS = ["CALL_RECEIVED", "CALL_STARTED", "CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED", "CALL_FAILED"]


@pytest.fixture(scope="module")
def stack():
    running = start_stack()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def node_b(stack):
    node = start_media_node(ROOT, 0, environment=stack.aws_environment())
    yield node
    node.stop()


@pytest.fixture(scope="module")
def receiver(stack):
    running = Receiver().start()
    body = subscription("across-nodes", f"{running.url}/events", EVENTS)
    response = httpx.post(f"{stack.url}/subscriptions/1/subscription/VOICE_VIDEO", json=body, headers=stack.headers)
    assert response.status_code == 201, response.text
    yield running
    running.stop()


async def eventually(condition: Callable[[], bool], timeout: float) -> bool:
    """`wait_for` off the event loop, so the clients' media keeps flowing while the test waits."""
    return await asyncio.to_thread(wait_for, condition, timeout)


async def connect(stack, node_url: str, identity: str) -> RtcClient:
    response = httpx.post(
        f"{stack.url}/webrtc/1/token",
        headers=stack.headers,
        json={"identity": identity, "displayName": f"{identity.title()} Example"},
    )
    response.raise_for_status()
    return await RtcClient.connect(node_url, str(response.json()["token"]))


def events_of(receiver: Receiver, leg: str) -> list[dict[str, Any]]:
    ordered = sorted(receiver.accepted(), key=lambda r: r.event["sequence"])
    return [r.event for r in ordered if r.event.get("callId") == leg]


async def close(*clients: RtcClient | None) -> None:
    for client in clients:
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 10)


@pytest.mark.asyncio
async def test_a_call_across_nodes_carries_tones_mute_and_text_and_finishes_both_legs(stack, node_b, receiver):
    alice = bob = None
    try:
        alice = await connect(stack, stack.ready["mediaUrl"], "alice")
        bob = await connect(stack, node_b.url, "bob")
        alice_hears, bob_hears = AudioSink(), AudioSink()
        call = await alice.call_webrtc("bob", audio_source=ToneSource(1000), audio_sink=alice_hears)
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 20)
        assert (incoming.peer, incoming.peer_display_name) == ("alice", "Alice Example")
        await incoming.accept(audio_source=ToneSource(2000), audio_sink=bob_hears)
        await asyncio.gather(call.media_connected(timeout=30), incoming.media_connected(timeout=30))
        await asyncio.sleep(2)
        assert abs(dominant_frequency(bob_hears.samples[-48000:]) - 1000) < 20
        assert abs(dominant_frequency(alice_hears.samples[-48000:]) - 2000) < 20

        call.mute(True)
        await incoming.next_event("remote-muted", timeout=20)
        await asyncio.sleep(1.0)
        assert rms(bob_hears.samples[-9600:]) < 100
        call.mute(False)
        await incoming.next_event("remote-unmuted", timeout=20)
        incoming.mute(True)
        await call.next_event("remote-muted", timeout=20)

        assert await call.send_text("hello bob", timeout=20) == "bob"
        received = await asyncio.wait_for(incoming.messages.get(), 20)
        assert (received.from_, received.text) == ("alice", "hello bob")
        assert await incoming.send_text("hi alice", timeout=20) == "alice"
        assert (await asyncio.wait_for(call.messages.get(), 20)).text == "hi alice"

        await incoming.hangup()
        assert await call.ended(timeout=20) == "NORMAL_HANGUP"
        legs = (call.id, incoming.id)

        def finished() -> bool:
            return all(any(e["type"] == "CALL_FINISHED" for e in events_of(receiver, leg)) for leg in legs)

        assert await eventually(finished, timeout=60), ([events_of(receiver, leg) for leg in legs], stack.log())
        tail = ["CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED"]
        assert [e["type"] for e in events_of(receiver, call.id)] == ["CALL_RECEIVED", *tail]
        assert [e["type"] for e in events_of(receiver, incoming.id)] == ["CALL_STARTED", *tail]
        for leg in legs:
            history = httpx.get(f"{stack.url}/calls/1/calls/{leg}/history", headers=stack.headers)
            assert history.status_code == 200 and history.json()["state"] == "FINISHED", history.text
    finally:
        await close(alice, bob)


@pytest.mark.asyncio
async def test_declining_on_the_other_node_rejects_the_call(stack, node_b, receiver):
    alice = bob = None
    try:
        alice = await connect(stack, stack.ready["mediaUrl"], "alice")
        bob = await connect(stack, node_b.url, "bob")
        call = await alice.call_webrtc("bob")
        await (await asyncio.wait_for(bob.incoming_calls.get(), 20)).decline()
        assert await call.ended(timeout=20) == "REJECTED"
    finally:
        await close(alice, bob)


@pytest.mark.asyncio
async def test_a_killed_callee_node_ends_the_call_with_network_error(stack, node_b, receiver):
    """Last in the file: it kills node B."""
    alice = bob = None
    try:
        alice = await connect(stack, stack.ready["mediaUrl"], "alice")
        bob = await connect(stack, node_b.url, "bob")
        call = await alice.call_webrtc("bob", audio_source=ToneSource(1000))
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 20)
        await incoming.accept()
        await asyncio.gather(call.media_connected(timeout=30), incoming.media_connected(timeout=30))
        node_b.process.kill()  # SIGKILL: no drain, no goodbye
        assert await call.ended(timeout=60) == "NETWORK_ERROR"

        def failed() -> list[str]:
            return [
                e["properties"]["callLog"]["errorCode"]["name"]
                for leg in (call.id, incoming.id)
                for e in events_of(receiver, leg)
                if e["type"] == "CALL_FAILED"
            ]

        assert await eventually(lambda: len(failed()) == 2, timeout=60), stack.log()
        assert failed() == ["NETWORK_ERROR", "NETWORK_ERROR"]
    finally:
        await close(alice, bob)
