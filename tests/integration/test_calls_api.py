"""The Calls API driving calls on the local stack: an application calls a WebRTC identity (the Python SDK rings and
answers), an SDK calls the application (which answers through the API), and both leave their events, routed by
the calls configuration, at the application's webhook."""

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


def tone_wav(seconds: float, frequency: float) -> bytes:
    """A 48 kHz mono WAV of a tone (what the application uploads and plays)."""
    import io
    import wave

    import numpy as np

    t = np.arange(int(seconds * 48000)) / 48000
    pcm = (10000 * np.sin(2 * np.pi * frequency * t)).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(48000)
        writer.writeframes(pcm.tobytes())
    return out.getvalue()


EVENTS = ["CALL_RECEIVED", "CALL_STARTED", "CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED", "CALL_FAILED"]


@pytest.fixture(scope="module")
def stack():
    running = start_stack()
    yield running
    running.stop()


def token(stack, identity: str) -> str:
    response = httpx.post(f"{stack.url}/webrtc/1/token", headers=stack.headers, json={"identity": identity})
    response.raise_for_status()
    return str(response.json()["token"])


def events_by_call(receiver: Receiver) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for request in sorted(receiver.accepted(), key=lambda r: r.event["sequence"]):
        found[request.event["callId"]].append(request.event["type"])
    return found


@pytest.mark.asyncio
async def test_an_application_places_and_answers_calls_through_the_api(stack):
    api = httpx.Client(base_url=stack.url, headers=stack.headers, timeout=15)
    receiver = Receiver().start()
    carol = None
    try:
        assert api.post("/calls/1/configurations", json={"id": "ivr-app", "name": "IVR"}).status_code == 201
        body = subscription(
            "ivr-events", f"{receiver.url}/events", EVENTS, criteria=[{"callsConfigurationId": "ivr-app"}]
        )
        assert api.post("/subscriptions/1/subscription/VOICE_VIDEO", json=body).status_code == 201
        carol = await RtcClient.connect(None, token(stack, "carol"))

        # the application calls carol
        created = api.post(
            "/calls/1/calls",
            json={
                "endpoint": {"type": "WEBRTC", "identity": "carol"},
                "callsConfigurationId": "ivr-app",
                "from": "IVR",
            },
        )
        assert created.status_code == 201, created.text
        outbound = created.json()
        assert (outbound["direction"], outbound["endpoint"]) == ("OUTBOUND", {"type": "WEBRTC", "identity": "carol"})
        incoming = await asyncio.wait_for(carol.incoming_calls.get(), 10)
        assert (incoming.id, incoming.calls_configuration_id) == (outbound["id"], "ivr-app")
        await incoming.accept(audio_source=ToneSource(1000))
        await incoming.established()
        assert api.get(f"/calls/1/calls/{outbound['id']}").json()["state"] == "ESTABLISHED"
        hung_up = api.post(f"/calls/1/calls/{outbound['id']}/hangup", json={})
        assert hung_up.status_code == 200 and hung_up.json()["state"] == "FINISHED"
        assert await incoming.ended() == "NORMAL_HANGUP"
        assert api.post(f"/calls/1/calls/{outbound['id']}/hangup").status_code == 409  # finished calls never change

        # carol calls the application, which rings and answers
        inbound = await carol.call_application("ivr-app", audio_source=ToneSource(2000))
        assert wait_for(lambda: "CALL_RECEIVED" in events_by_call(receiver).get(inbound.id, []), timeout=30)
        assert api.post(f"/calls/1/calls/{inbound.id}/send-ringing").json() == {"status": "COMPLETED"}
        await inbound.ringing()
        assert api.post(f"/calls/1/calls/{inbound.id}/answer", json={}).json() == {"status": "COMPLETED"}
        await inbound.established()
        await inbound.media_connected()
        await inbound.hangup()

        # an identity that is not connected: the call fails at once
        offline = api.post(
            "/calls/1/calls",
            json={"endpoint": {"type": "WEBRTC", "identity": "nobody"}, "callsConfigurationId": "ivr-app"},
        )
        assert offline.status_code == 201 and offline.json()["state"] == "FAILED"
        # endpoints that need a trunk or carrier, an unknown application, another account's call
        phone = api.post(
            "/calls/1/calls",
            json={"endpoint": {"type": "PHONE", "phoneNumber": "41793026727"}, "callsConfigurationId": "ivr-app"},
        )
        assert phone.status_code == 400 and "endpoint.type" in str(phone.json())
        unknown = api.post(
            "/calls/1/calls", json={"endpoint": {"type": "WEBRTC", "identity": "carol"}, "callsConfigurationId": "nope"}
        )
        assert unknown.status_code == 404
        assert api.post("/calls/1/calls/not-a-call/answer").status_code == 404

        expected = {
            outbound["id"]: ["CALL_STARTED", "CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED"],
            inbound.id: ["CALL_RECEIVED", "CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED"],
            offline.json()["id"]: ["CALL_STARTED", "CALL_FAILED"],
        }
        assert wait_for(lambda: all(events_by_call(receiver).get(c) == e for c, e in expected.items()), timeout=30), (
            events_by_call(receiver),
            stack.log(),
        )
    finally:
        if carol is not None:
            await carol.close()
        receiver.stop()
        api.close()


IVR_EVENTS = [*EVENTS, "SAY_FINISHED", "PLAY_FINISHED", "DTMF_CAPTURED", "ERROR"]


@pytest.mark.asyncio
async def test_an_ivr_answers_says_captures_digits_plays_a_file_and_hangs_up(stack):
    """Inbound call → answer → say → capture the caller's DTMF → play an uploaded file → hangup, checked by the
    audio the caller hears and by the events the application receives."""
    api = httpx.Client(base_url=stack.url, headers=stack.headers, timeout=15)
    receiver = Receiver().start()
    dave = None

    def event(call_id: str, kind: str) -> dict | None:
        return next(
            (r.event for r in receiver.accepted() if r.event["callId"] == call_id and r.event["type"] == kind), None
        )

    async def wait_event(call_id: str, kind: str) -> dict:
        """Waits without blocking the loop: the caller's SDK runs on it and must keep sending its audio."""
        for _ in range(300):
            found = event(call_id, kind)
            if found is not None:
                return found
            await asyncio.sleep(0.1)
        raise AssertionError((kind, events_by_call(receiver), stack.log()))

    async def post(*args, **kwargs) -> httpx.Response:
        """API calls off the loop: the caller's SDK runs on it and must keep sending its audio evenly."""
        return await asyncio.to_thread(api.post, *args, **kwargs)

    try:
        assert (await post("/calls/1/configurations", json={"id": "ivr-flow", "name": "IVR flow"})).status_code == 201
        body = subscription(
            "ivr-flow-events", f"{receiver.url}/events", IVR_EVENTS, criteria=[{"callsConfigurationId": "ivr-flow"}]
        )
        assert (await post("/subscriptions/1/subscription/VOICE_VIDEO", json=body)).status_code == 201
        music = await post("/calls/1/files", files={"file": ("hold.wav", tone_wav(1.5, 1200.0), "audio/wav")})
        assert music.status_code == 200, music.text
        dave = await RtcClient.connect(None, token(stack, "dave"))
        dave_hears = AudioSink()

        call = await dave.call_application("ivr-flow", audio_source=ToneSource(0), audio_sink=dave_hears)
        await wait_event(call.id, "CALL_RECEIVED")
        assert (await post(f"/calls/1/calls/{call.id}/answer", json={})).status_code == 200
        await call.media_connected()

        said = await post(
            f"/calls/1/calls/{call.id}/say", json={"text": "Enter your code, then hash.", "language": "en"}
        )
        assert said.json() == {"status": "PENDING"}
        assert (await wait_event(call.id, "SAY_FINISHED"))["properties"]["playedCompletely"] is True

        capture = {"maxLength": 4, "timeout": 8000, "terminator": "#", "customData": {"step": "code"}}
        assert (await post(f"/calls/1/calls/{call.id}/capture/dtmf", json=capture)).status_code == 200
        call.send_dtmf("42#")
        captured = (await wait_event(call.id, "DTMF_CAPTURED"))["properties"]
        assert (captured["dtmf"], captured["timeout"], captured["customData"]) == ("42", False, {"step": "code"})

        dave_hears.clear()
        played = await post(
            f"/calls/1/calls/{call.id}/play", json={"content": {"type": "FILE", "fileId": music.json()["id"]}}
        )
        assert played.status_code == 200, played.text
        finished = (await wait_event(call.id, "PLAY_FINISHED"))["properties"]
        assert finished["playedCompletely"] is True and 1400 <= finished["duration"] <= 1600
        await asyncio.sleep(0.3)
        assert abs(dominant_frequency(dave_hears.samples[:48000]) - 1200) < 20  # the file's tone reached the caller

        bad = await post(f"/calls/1/calls/{call.id}/play", json={"content": {"type": "FILE", "fileId": "missing"}})
        assert bad.status_code == 400
        assert (await post(f"/calls/1/calls/{call.id}/hangup", json={})).json()["state"] == "FINISHED"
        assert await call.ended() == "NORMAL_HANGUP"
        assert (await post(f"/calls/1/calls/{call.id}/say", json={"text": "late", "language": "en"})).status_code == 409
        await wait_event(call.id, "CALL_FINISHED")
    finally:
        if dave is not None:
            await dave.close()
        receiver.stop()
        api.close()
