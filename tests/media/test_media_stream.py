"""Media streams on a real node: an SDK party calls an application, the application (here the test, through the
signed internal API) streams the call to a websocket host the test runs on loopback, and the audio is checked by its
content: the party's tone arrives at the host in 1920-byte PCM frames, and with replaceMedia the party hears the
host's tone instead of what the call plays it, until the stream stops. Refused and unreachable hosts fail the
stream; the call's end finishes it."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from aiohttp import web

from chalicelib.contract import control as contract
from chalicelib.core.settings import reset_settings_cache
from chalicelib.media_nodes.control import MediaNodeError
from switchboard_media.actions.media_stream import FRAME_BYTES, IncomingAudio, OutgoingFrames, first_message
from switchboard_rtc import AudioSink, ToneSource
from tests.media.test_application_calls import control, next_event
from tests.support.audio import dominant_frequency
from tests.support.audio_files import make_wav
from tests.support.stream_host import StreamHost

CALLER_TONE, HOST_TONE, PLAYED_TONE = 1000, 1500, 440
SAMPLE_RATE = 48000
AUTHORIZATION = "Basic " + base64.b64encode(b"streamer:s3cret").decode()


@pytest.fixture
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The node's outbound policy as in local mode (loopback allowed, private networks not)."""
    monkeypatch.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "true")
    monkeypatch.setenv("SWITCHBOARD_ALLOW_PRIVATE_URLS", "false")
    reset_settings_cache()
    yield monkeypatch
    reset_settings_cache()


@pytest_asyncio.fixture
async def host(loopback_allowed) -> AsyncIterator[tuple[StreamHost, str]]:
    """The websocket host, which also serves `/tone.wav`: what the call plays the party before and after the
    replacement."""
    server = StreamHost(HOST_TONE)
    wav = make_wav(3.0, SAMPLE_RATE)

    async def tone(_: web.Request) -> web.Response:
        return web.Response(body=wav, content_type="audio/wav")

    server.app.router.add_get("/tone.wav", tone)
    await server.start()
    yield server, server.address
    await server.stop()


def stream_request(url: str, *, replace: bool = False, **options: object) -> contract.StartMediaStreamRequest:
    return contract.StartMediaStreamRequest.model_validate(
        {"mediaStreamConfigId": "config-1", "url": url, "replaceMedia": replace, **options}
    )


async def start(node_url: str, call_id: str, request: contract.StartMediaStreamRequest) -> None:
    await asyncio.to_thread(control(node_url).action, call_id, "start-media-stream", request)


async def answered_call(node, pair, sink: AudioSink | None = None):
    _, url = node
    alice, _ = pair
    call = await alice.call_application("ivr", audio_source=ToneSource(CALLER_TONE), audio_sink=sink)
    await asyncio.to_thread(control(url).action, call.id, "answer")
    await call.media_connected()
    return call


def heard_frequency(sink: AudioSink, seconds: float = 0.5) -> float:
    return dominant_frequency(sink.samples[-int(seconds * SAMPLE_RATE) :].tolist())


# --- the stream end to end -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_replacing_stream_gets_the_callers_audio_and_the_party_hears_the_host_until_it_stops(
    node, pair, records, host
):
    _, url = node
    server, address = host
    alice_hears = AudioSink()
    call = await answered_call(node, pair, alice_hears)
    play = contract.PlayRequest(
        content=contract.PlayContent(type="URL", fileUrl=f"http://{address}/tone.wav"), loopCount=20
    )
    await asyncio.to_thread(control(url).play, call.id, play)
    await asyncio.sleep(1.0)
    assert abs(heard_frequency(alice_hears) - PLAYED_TONE) < 20  # the call's own audio: what it plays

    await start(
        url,
        call.id,
        stream_request(f"ws://{address}/stream", replace=True, authorization=AUTHORIZATION, customData={"order": "42"}),
    )
    started = await next_event(records, call.id, "MEDIA_STREAM_STARTED")
    assert started["configId"] == "config-1" and started["streamId"]
    await asyncio.sleep(1.5)

    session = server.sessions[0]
    assert session.first == {
        "callId": call.id,
        "sampleRate": 48000,
        "packetizationTime": 20,
        "customData": {"order": "42"},
    }
    assert session.authorization == AUTHORIZATION
    assert session.sizes and all(size % FRAME_BYTES == 0 for size in session.sizes)
    assert len(session.pcm) > 1.0 * SAMPLE_RATE * 2  # about 1.5 s of the call's audio, in real time
    assert abs(dominant_frequency(session.samples()[-SAMPLE_RATE // 2 :].tolist()) - CALLER_TONE) < 20
    assert abs(heard_frequency(alice_hears) - HOST_TONE) < 20  # the host's audio replaced the played tone

    await asyncio.to_thread(control(url).action, call.id, "stop-media-stream")
    finished = await next_event(records, call.id, "MEDIA_STREAM_FINISHED")
    assert finished["streamId"] == started["streamId"] and finished["configId"] == "config-1"
    await asyncio.wait_for(session.closed.wait(), 5)
    await asyncio.sleep(1.0)
    assert abs(heard_frequency(alice_hears) - PLAYED_TONE) < 20  # the original path again
    assert not [kind for _, kind, _ in records.events if kind == "MEDIA_STREAM_FAILED"]
    await call.hangup()


@pytest.mark.asyncio
async def test_without_replacement_the_party_keeps_hearing_the_call_and_hangup_finishes_the_stream(
    node, pair, records, host
):
    _, url = node
    server, address = host
    alice_hears = AudioSink()
    call = await answered_call(node, pair, alice_hears)
    play = contract.PlayRequest(
        content=contract.PlayContent(type="URL", fileUrl=f"http://{address}/tone.wav"), loopCount=20
    )
    await asyncio.to_thread(control(url).play, call.id, play)
    await start(url, call.id, stream_request(f"ws://{address}/stream"))
    started = await next_event(records, call.id, "MEDIA_STREAM_STARTED")
    await asyncio.sleep(1.2)
    session = server.sessions[0]
    assert session.first == {"callId": call.id, "sampleRate": 48000, "packetizationTime": 20, "customData": {}}
    assert session.authorization is None
    assert abs(dominant_frequency(session.samples()[-SAMPLE_RATE // 2 :].tolist()) - CALLER_TONE) < 20
    assert abs(heard_frequency(alice_hears) - PLAYED_TONE) < 20  # the host's audio is not heard

    with pytest.raises(MediaNodeError) as busy:  # one stream per call
        await start(url, call.id, stream_request(f"ws://{address}/stream"))
    assert busy.value.status == 409

    await call.hangup()
    assert await call.ended() == "NORMAL_HANGUP"
    finished = await next_event(records, call.id, "MEDIA_STREAM_FINISHED")
    assert finished["streamId"] == started["streamId"] and finished["reason"] == "the call ended"
    await asyncio.wait_for(session.closed.wait(), 5)


# --- streams that fail ----------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.asyncio
async def test_refused_unreachable_and_dropping_hosts_fail_the_stream(node, pair, records, host, loopback_allowed):
    _, url = node
    server, address = host
    call = await answered_call(node, pair)
    port = address.rsplit(":", 1)[1]

    await start(url, call.id, stream_request(f"ws://10.1.2.3:{port}/stream", replace=True))  # a private address
    failed = await next_event(records, call.id, "MEDIA_STREAM_FAILED")
    assert "not allowed" in str(failed["reason"]) and "10.1.2.3" in str(failed["reason"])

    await start(url, call.id, stream_request(f"ws://127.0.0.1:{_closed_port()}/stream", replace=True))
    failed = await next_event(records, call.id, "MEDIA_STREAM_FAILED")
    assert "connection failed" in str(failed["reason"])

    await start(url, call.id, stream_request(f"ws://{address}/drop"))  # accepted, then dropped by the host
    await next_event(records, call.id, "MEDIA_STREAM_STARTED")
    failed = await next_event(records, call.id, "MEDIA_STREAM_FAILED")
    assert "1011" in str(failed["reason"])

    reached = len(server.sessions)
    loopback_allowed.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "false")  # a deployment's policy
    reset_settings_cache()
    for refused in (f"ws://{address}/stream", f"ws://localhost:{port}/stream"):  # a literal, and a resolved name
        await start(url, call.id, stream_request(refused))
        failed = await next_event(records, call.id, "MEDIA_STREAM_FAILED")
        assert "not allowed" in str(failed["reason"])
    assert len(server.sessions) == reached  # nothing reached the host
    assert not [kind for _, kind, _ in records.events if kind == "MEDIA_STREAM_STARTED"]
    await call.hangup()


# --- the pieces without a network -----------------------------------------------------------------------------


def test_the_first_message_names_the_call_and_the_pcm_format():
    assert json.loads(first_message("call-1", {"a": "b"})) == {
        "callId": "call-1",
        "sampleRate": 48000,
        "packetizationTime": 20,
        "customData": {"a": "b"},
    }


@pytest.mark.asyncio
async def test_a_slow_host_loses_the_oldest_frames_and_the_rest_go_out_joined():
    outgoing = OutgoingFrames(limit=3)
    for index in range(5):
        outgoing.put(bytes([index]) * FRAME_BYTES)
    assert outgoing.dropped == 2 and outgoing.ready.is_set()
    data = outgoing.drain()
    assert len(data) == 3 * FRAME_BYTES and data[0] == 2 and data[-1] == 4
    assert outgoing.drain() == b"" and not outgoing.ready.is_set()


def test_the_hosts_audio_is_cut_into_frames_and_bounded():
    incoming = IncomingAudio(limit=3 * FRAME_BYTES)
    assert incoming.take() is None
    incoming.feed(b"\x01\x00" * 480)  # half a frame
    assert incoming.take() is None
    incoming.feed(b"\x01\x00" * 480 + b"\x02\x00" * 960)  # the rest of it, and a whole one
    first, second = incoming.take(), incoming.take()
    assert first is not None and second is not None and len(first) == 960
    assert (first == 1).all() and (second == 2).all() and incoming.take() is None
    incoming.feed(b"".join(bytes([n, 0]) * 960 for n in range(5)))  # five frames into room for three
    assert incoming.dropped == 2
    taken = [incoming.take() for _ in range(3)]
    assert [int(frame[0]) for frame in taken if frame is not None] == [2, 3, 4]
