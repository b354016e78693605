"""A call's media stream on the local stack, through the Calls API: the application saves a media-stream
configuration with BASIC credentials, answers an SDK's call, plays it a file, then streams the call to a websocket
host on loopback with replaceMedia: the host gets the credentials and the caller's tone, the caller hears the host's
tone instead of the file until the application stops the stream, and the application receives MEDIA_STREAM_STARTED
and MEDIA_STREAM_FINISHED."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.integration.test_calls_api import EVENTS, events_by_call, token, tone_wav
from tests.support.audio import dominant_frequency
from tests.support.payloads import subscription
from tests.support.receiver import Receiver
from tests.support.stack import start_stack
from tests.support.stream_host import StreamHost

CALLER_TONE, HOST_TONE, FILE_TONE = 1000, 1500, 600
STREAM_EVENTS = [*EVENTS, "PLAY_FINISHED", "MEDIA_STREAM_STARTED", "MEDIA_STREAM_FINISHED", "MEDIA_STREAM_FAILED"]


@pytest.fixture(scope="module")
def stack():
    running = start_stack()
    yield running
    running.stop()


def heard(sink: AudioSink) -> float:
    return dominant_frequency(sink.samples[-24000:].tolist())


@pytest.mark.asyncio
async def test_an_application_streams_a_call_to_its_host_which_replaces_what_the_caller_hears(stack):
    api = httpx.Client(base_url=stack.url, headers=stack.headers, timeout=15)
    receiver = Receiver().start()
    host = await StreamHost(HOST_TONE).start()
    erin = None

    async def post(*args, **kwargs) -> httpx.Response:
        """API calls off the loop: the caller's SDK and the host run on it."""
        return await asyncio.to_thread(api.post, *args, **kwargs)

    async def wait_event(call_id: str, kind: str) -> dict:
        for _ in range(300):
            found = [r.event for r in receiver.accepted() if r.event["callId"] == call_id and r.event["type"] == kind]
            if found:
                return found[0]
            await asyncio.sleep(0.1)
        raise AssertionError((kind, events_by_call(receiver), stack.log()))

    try:
        assert (await post("/calls/1/configurations", json={"id": "streamer", "name": "Streamer"})).status_code == 201
        body = subscription(
            "streamer-events", f"{receiver.url}/events", STREAM_EVENTS, criteria=[{"callsConfigurationId": "streamer"}]
        )
        assert (await post("/subscriptions/1/subscription/VOICE_VIDEO", json=body)).status_code == 201
        config = {
            "type": "MEDIA_STREAMING",
            "name": "Host",
            "url": f"ws://{host.address}/stream",
            "securityConfig": {"type": "BASIC", "username": "streamer", "password": "s3cret-Host"},
        }
        created = await post("/calls/1/media-stream-configs", json=config)
        assert created.status_code == 201, created.text
        config_id = created.json()["id"]
        music = await post("/calls/1/files", files={"file": ("hold.wav", tone_wav(5.0, FILE_TONE), "audio/wav")})
        assert music.status_code == 200, music.text

        erin = await RtcClient.connect(None, token(stack, "erin"))
        erin_hears = AudioSink()
        call = await erin.call_application("streamer", audio_source=ToneSource(CALLER_TONE), audio_sink=erin_hears)
        await wait_event(call.id, "CALL_RECEIVED")
        assert (await post(f"/calls/1/calls/{call.id}/answer", json={})).status_code == 200
        await call.media_connected()
        play = {"content": {"type": "FILE", "fileId": music.json()["id"]}, "loopCount": 10}
        assert (await post(f"/calls/1/calls/{call.id}/play", json=play)).status_code == 200
        await asyncio.sleep(1.0)
        assert abs(heard(erin_hears) - FILE_TONE) < 20

        audio = {"mediaStreamConfigId": config_id, "replaceMedia": True}
        started = await post(
            f"/calls/1/calls/{call.id}/start-media-stream", json={"mediaStream": {"audioProperties": audio}}
        )
        assert started.json() == {"status": "PENDING"}, started.text
        assert (await wait_event(call.id, "MEDIA_STREAM_STARTED"))["properties"]["configId"] == config_id
        await asyncio.sleep(1.5)
        session = host.sessions[0]
        assert session.authorization == "Basic " + base64.b64encode(b"streamer:s3cret-Host").decode()
        assert session.first is not None and session.first["callId"] == call.id
        assert session.first["sampleRate"] == 48000 and session.first["packetizationTime"] == 20
        assert abs(dominant_frequency(session.samples()[-24000:].tolist()) - CALLER_TONE) < 20
        assert abs(heard(erin_hears) - HOST_TONE) < 20

        stopped = await post(f"/calls/1/calls/{call.id}/stop-media-stream")
        assert stopped.json() == {"status": "COMPLETED"}, stopped.text
        assert (await wait_event(call.id, "MEDIA_STREAM_FINISHED"))["properties"]["configId"] == config_id
        await asyncio.sleep(1.0)
        assert abs(heard(erin_hears) - FILE_TONE) < 20  # the call's own audio again

        assert (await post(f"/calls/1/calls/{call.id}/hangup", json={})).json()["state"] == "FINISHED"
        assert await call.ended() == "NORMAL_HANGUP"
        late = await post(
            f"/calls/1/calls/{call.id}/start-media-stream", json={"mediaStream": {"audioProperties": audio}}
        )
        assert late.status_code == 409
        assert "MEDIA_STREAM_FAILED" not in events_by_call(receiver)[call.id]
    finally:
        if erin is not None:
            await erin.close()
        await host.stop()
        receiver.stop()
        api.close()
