"""The Calls API driving calls on the local stack: an application calls a WebRTC identity (the Python SDK rings and
answers), an SDK calls the application (which answers through the API), and both leave their events, routed by
the calls configuration, at the application's webhook."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import httpx
import pytest

from switchboard_rtc import RtcClient, ToneSource
from tests.support.payloads import subscription
from tests.support.receiver import Receiver, wait_for
from tests.support.stack import start_stack

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
