"""A media node killed mid-call (SIGKILL: no drain, no goodbye) on the local stack: the local runner's schedule
runs the dead-node reaper, which ends both legs of the call with CALL_FAILED (SERVICE_UNAVAILABLE) and marks the
call's recording FAILED with a reason (CALL_RECORDING_FAILED), all seen at a webhook receiver and through the API.

This tests the reaper's path rather than the restarted node's: the stack's node keeps its recordings in a directory
of its own process, so a killed node has no successor that could `recover()` them (that path is covered on a real
node in tests/media/test_recordings.py); what a lost Fargate task leaves is exactly this case."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.support.audio import dominant_frequency
from tests.support.payloads import subscription
from tests.support.receiver import Receiver, wait_for
from tests.support.stack import start_stack

EVENTS = [
    "CALL_RECEIVED",
    "CALL_STARTED",
    "CALL_RINGING",
    "CALL_ESTABLISHED",
    "CALL_FINISHED",
    "CALL_FAILED",
    "CALL_RECORDING_STARTED",
    "CALL_RECORDING_FAILED",
    "CALL_RECORDING_READY",
]


@pytest.fixture(scope="module")
def stack():
    # The reaper every second; a node silent for 20 s (two missed heartbeats) is dead: the kill is noticed quickly,
    # and a live node on a loaded machine still has 10 s of slack.
    running = start_stack(SWITCHBOARD_LOCAL_SCHEDULE_SECONDS="1", SWITCHBOARD_REAPER_DEAD_AFTER_SECONDS="20")
    yield running
    running.stop()


async def eventually(condition: Callable[[], bool], timeout: float) -> bool:
    """`wait_for` off the event loop, so the clients' media keeps flowing while the test waits."""
    return await asyncio.to_thread(wait_for, condition, timeout)


def webrtc_token(stack, identity: str) -> str:
    # recording a 1:1 WebRTC call on demand needs a token that allows it (and the account's setting, below)
    body = {"identity": identity, "capabilities": {"recording": "ON_DEMAND"}}
    response = httpx.post(f"{stack.url}/webrtc/1/token", headers=stack.headers, json=body)
    response.raise_for_status()
    return str(response.json()["token"])


@pytest.mark.asyncio
async def test_a_killed_nodes_call_fails_for_both_legs_and_its_recording_is_marked_failed(stack):
    receiver = Receiver().start()
    alice = bob = None
    try:
        body = subscription("node-loss", f"{receiver.url}/events", EVENTS)
        response = httpx.post(f"{stack.url}/subscriptions/1/subscription/VOICE_VIDEO", json=body, headers=stack.headers)
        assert response.status_code == 201, response.text
        setting = {"webrtcRecording": {"enabled": True, "mediaType": "AUDIO"}}
        response = httpx.put(f"{stack.url}/accounts/1/recording-settings", json=setting, headers=stack.headers)
        assert response.status_code == 200, response.text
        alice = await RtcClient.connect(None, webrtc_token(stack, "alice"))
        bob = await RtcClient.connect(None, webrtc_token(stack, "bob"))
        bob_hears = AudioSink()
        call = await alice.call_webrtc("bob", audio_source=ToneSource(1000))
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
        await incoming.accept(audio_sink=bob_hears)
        await asyncio.gather(call.media_connected(), incoming.media_connected())
        legs = (call.id, incoming.id)

        def of(leg: str) -> list[dict[str, Any]]:
            return [
                r.event
                for r in sorted(receiver.accepted(), key=lambda r: r.event["sequence"])
                if r.event.get("callId") == leg
            ]

        started = httpx.post(
            f"{stack.url}/calls/1/calls/{call.id}/start-recording",
            headers=stack.headers,
            json={"recording": {"recordingType": "AUDIO"}},
        )
        assert started.status_code == 200, started.text
        assert await eventually(lambda: any(e["type"] == "CALL_RECORDING_STARTED" for e in of(call.id)), timeout=30), (
            [e["type"] for e in of(call.id)],
            stack.log(),
        )
        await asyncio.sleep(1.5)  # something is recorded, and the call carries the tone
        assert abs(dominant_frequency(bob_hears.samples[-24000:]) - 1000) < 20

        os.kill(int(stack.ready["mediaPid"]), signal.SIGKILL)
        node = stack.ready["mediaNodeId"]

        def ended() -> dict[str, list[dict[str, Any]]]:
            found: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for leg in legs:
                found[leg] = [e for e in of(leg) if e["type"] in ("CALL_FINISHED", "CALL_FAILED")]
            return found

        assert await eventually(lambda: all(ended()[leg] for leg in legs), timeout=120), (
            [of(leg) for leg in legs],
            stack.log(),
        )
        for leg in legs:
            (failed,) = ended()[leg]
            log = failed["properties"]["callLog"]
            assert failed["type"] == "CALL_FAILED"
            assert (log["state"], log["errorCode"]["name"], log["hangupSource"]) == (
                "FAILED",
                "SERVICE_UNAVAILABLE",
                "PLATFORM",
            )
            history = httpx.get(f"{stack.url}/calls/1/calls/{leg}/history", headers=stack.headers)
            assert history.status_code == 200 and history.json()["state"] == "FAILED"

        assert await eventually(lambda: any(e["type"] == "CALL_RECORDING_FAILED" for e in of(call.id)), timeout=60), (
            [e["type"] for e in of(call.id)],
            stack.log(),
        )
        (recording_failed,) = [e for e in of(call.id) if e["type"] == "CALL_RECORDING_FAILED"]
        reason = recording_failed["properties"]["reason"]
        assert reason.startswith(f"the media node {node} stopped") and "before the recording was stored" in reason
        recording = httpx.get(f"{stack.url}/calls/1/recordings/calls/{call.id}", headers=stack.headers)
        assert recording.status_code == 200, recording.text
        assert (recording.json()["status"], recording.json()["files"]) == ("FAILED", [])
        # nothing more: no second ending, no recording that claims to be ready
        await asyncio.sleep(3)
        assert [len(ended()[leg]) for leg in legs] == [1, 1]
        assert not any(e["type"] == "CALL_RECORDING_READY" for e in of(call.id))
    finally:
        for client in (alice, bob):
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.close(), 10)
        receiver.stop()
