"""Infobip's official Python client (`infobip-api-python-client` 6.0.0), unmodified and pointed at the local stack,
drives calls: it calls a WebRTC identity connected with the Python SDK, says text and hangs up, reads live calls and
the history; then it answers an SDK's call to the application, captures digits and plays an uploaded file. Its
strict response models (closed enums, strict types, required fields) accept every answer.

The SDK runs on the test's event loop, so each blocking client call runs in a thread (`asyncio.to_thread`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from infobip_api_client import ApiClient, CallsApi, Configuration
from infobip_api_client.exceptions import NotFoundException
from infobip_api_client.models import (
    Call,
    CallDirection,
    CallEndpointType,
    CallLog,
    CallLogPage,
    CallPage,
    CallRequest,
    CallsActionStatus,
    CallsAnswerRequest,
    CallsConfigurationCreateRequest,
    CallsDtmfCaptureRequest,
    CallsFilePlayContent,
    CallsHangupRequest,
    CallsLanguage,
    CallsPlayContentType,
    CallsPlayRequest,
    CallsSayRequest,
    CallsStopPlayRequest,
    CallState,
    CallsWebRtcEndpoint,
)

from switchboard_rtc import RtcClient, ToneSource
from tests.support.audio_files import make_wav
from tests.support.payloads import subscription
from tests.support.receiver import Receiver
from tests.support.stack import Stack, start_stack

T = TypeVar("T")
EVENTS = ["CALL_RECEIVED", "CALL_ESTABLISHED", "CALL_FINISHED", "SAY_FINISHED", "DTMF_CAPTURED", "PLAY_FINISHED"]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = start_stack()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def calls(stack: Stack) -> CallsApi:
    # The client refuses http:// unless the host names localhost or 127.0.0.1, which the local stack does.
    return CallsApi(ApiClient(Configuration(host=stack.url, api_key=str(stack.ready["apiKey"]))))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def token(stack: Stack, identity: str) -> str:
    response = httpx.post(f"{stack.url}/webrtc/1/token", headers=stack.headers, json={"identity": identity})
    response.raise_for_status()
    return str(response.json()["token"])


async def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A blocking client call, in a thread: the SDK on this loop keeps answering its signalling and media."""
    return await asyncio.to_thread(function, *args, **kwargs)


def keeps_every_field(model: Any, raw: Any) -> Any:
    """The model the client builds from a raw body drops no field of ours (its models drop unknown keys silently,
    so a misspelt field would otherwise pass unnoticed). Returns the model."""
    body = json.loads(raw.data)
    parsed = model.from_json(raw.data.decode())
    dumped = parsed.to_dict()
    assert _keys(body) == _keys(dumped), (model.__name__, body, dumped)
    return parsed


def _keys(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {f"{prefix}{key}" for key in value} | {
            path for key, item in value.items() for path in _keys(item, f"{prefix}{key}.")
        }
    if isinstance(value, list):
        return {path for item in value for path in _keys(item, f"{prefix}[].")}
    return set()


async def wait_event(receiver: Receiver, call_id: str, kind: str) -> dict[str, Any]:
    for _ in range(300):
        for request in receiver.accepted():
            if request.event["callId"] == call_id and request.event["type"] == kind:
                return request.event
        await asyncio.sleep(0.1)
    raise AssertionError((call_id, kind, [r.event["type"] for r in receiver.accepted()]))


async def subscribe(
    stack: Stack, calls: CallsApi, receiver: Receiver, configuration_id: str, events: list[str] = EVENTS
) -> None:
    created = await off_loop(
        calls.create_calls_configuration, CallsConfigurationCreateRequest(id=configuration_id, name=configuration_id)
    )
    assert created.id == configuration_id
    body = subscription(
        f"{configuration_id}-events",
        f"{receiver.url}/events",
        events,
        criteria=[{"callsConfigurationId": configuration_id}],
    )
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers) as api:
        assert (await api.post("/subscriptions/1/subscription/VOICE_VIDEO", json=body)).status_code == 201


@pytest.mark.asyncio
async def test_the_client_calls_an_sdk_says_text_hangs_up_and_reads_calls_and_history(
    stack: Stack, calls: CallsApi, receiver: Receiver
):
    await subscribe(stack, calls, receiver, "client-ivr")
    erin = await RtcClient.connect(None, token(stack, "erin"))
    try:
        request = CallRequest(
            endpoint=CallsWebRtcEndpoint(identity="erin", type=CallEndpointType.WEBRTC),
            callsConfigurationId="client-ivr",
            customData={"order": "42"},
        )
        request.var_from = "IVR"  # `from` is a keyword; the model's own field name (mypy sees only the aliases)
        created = await off_loop(calls.create_call, request)
        assert isinstance(created, Call) and isinstance(created.endpoint, CallsWebRtcEndpoint)
        assert (created.direction, created.calls_configuration_id, created.custom_data) == (
            CallDirection.OUTBOUND,
            "client-ivr",
            {"order": "42"},
        )
        incoming = await asyncio.wait_for(erin.incoming_calls.get(), 10)
        assert incoming.id == created.id
        await incoming.accept(audio_source=ToneSource(0))
        await incoming.established()

        got = await off_loop(calls.get_call, created.id)
        assert isinstance(got.endpoint, CallsWebRtcEndpoint) and got.endpoint.identity == "erin"
        assert (got.state, got.var_from) == (CallState.ESTABLISHED, "IVR")
        assert got.start_time is not None and got.answer_time is not None and got.end_time is None

        live = await off_loop(calls.get_calls, calls_configuration_id="client-ivr", type=CallEndpointType.WEBRTC)
        assert [call.id for call in live.results or []] == [created.id]
        assert live.paging is not None and live.paging.total_results == 1
        keeps_every_field(CallPage, await off_loop(calls.get_calls_without_preload_content))
        with pytest.raises(NotFoundException):  # a live call has no history yet
            await off_loop(calls.get_call_history, created.id)

        await incoming.media_connected()
        said = await off_loop(
            calls.call_say_text, created.id, CallsSayRequest(text="Hello Erin.", language=CallsLanguage.EN)
        )
        assert said.status == CallsActionStatus.PENDING
        assert (await wait_event(receiver, created.id, "SAY_FINISHED"))["properties"]["playedCompletely"] is True

        hung_up = await off_loop(calls.hangup_call, created.id, CallsHangupRequest())
        assert isinstance(hung_up, Call) and hung_up.state == CallState.FINISHED and hung_up.end_time is not None
        assert await incoming.ended() == "NORMAL_HANGUP"

        log = await off_loop(calls.get_call_history, created.id)
        raw_log = await off_loop(calls.get_call_history_without_preload_content, created.id)
        keeps_every_field(CallLog, raw_log)
        keeps_every_field(Call, await off_loop(calls.get_call_without_preload_content, created.id))
        raw_history = await off_loop(
            calls.get_calls_history_without_preload_content, calls_configuration_id="client-ivr"
        )
        keeps_every_field(CallLogPage, raw_history)
        assert isinstance(log, CallLog) and isinstance(log.endpoint, CallsWebRtcEndpoint)
        assert (log.call_id, log.state, log.calls_configuration_ids) == (created.id, CallState.FINISHED, ["client-ivr"])
        assert log.error_code is not None and log.error_code.name == "NORMAL_HANGUP" and log.duration is not None

        assert (await off_loop(calls.get_calls, calls_configuration_id="client-ivr")).results == []
        after = got.start_time - timedelta(seconds=1)  # the client sends it as %Y-%m-%dT%H:%M:%S.%f%z
        history = await off_loop(
            calls.get_calls_history,
            calls_configuration_id="client-ivr",
            direction=CallDirection.OUTBOUND,
            status=CallState.FINISHED,
            start_time_after=after,
            page=0,
            size=10,
        )
        assert [entry.call_id for entry in history.results or []] == [created.id]
        assert history.paging is not None and (history.paging.page, history.paging.size) == (0, 10)
        later = await off_loop(calls.get_calls_history, start_time_after=got.start_time + timedelta(seconds=1))
        assert created.id not in [entry.call_id for entry in later.results or []]
    finally:
        await erin.close()


@pytest.mark.asyncio
async def test_the_client_answers_an_sdks_call_captures_digits_and_plays_a_file(
    stack: Stack, calls: CallsApi, receiver: Receiver, tmp_path: Path
):
    await subscribe(stack, calls, receiver, "client-flow")
    wav = tmp_path / "hold.wav"
    wav.write_bytes(make_wav(seconds=5.0))
    uploaded = await off_loop(calls.upload_calls_audio_file, file=str(wav))
    assert uploaded.id is not None
    frank = await RtcClient.connect(None, token(stack, "frank"))
    try:
        call = await frank.call_application("client-flow", audio_source=ToneSource(0))
        await wait_event(receiver, call.id, "CALL_RECEIVED")
        received = await off_loop(calls.get_call, call.id)
        assert (received.direction, received.state) == (CallDirection.INBOUND, CallState.CALLING)

        answered = await off_loop(calls.answer_call, call.id, CallsAnswerRequest())
        assert answered.status == CallsActionStatus.COMPLETED
        await call.established()
        await call.media_connected()

        capture = CallsDtmfCaptureRequest(maxLength=4, timeout=8000, terminator="#", customData={"step": "pin"})
        assert (await off_loop(calls.call_capture_dtmf, call.id, capture)).status == CallsActionStatus.PENDING
        call.send_dtmf("12#")
        captured = (await wait_event(receiver, call.id, "DTMF_CAPTURED"))["properties"]
        assert captured["dtmf"] == "12"

        content = CallsFilePlayContent(fileId=uploaded.id, type=CallsPlayContentType.FILE)
        played = await off_loop(calls.call_play_file, call.id, CallsPlayRequest(content=content))
        assert played.status == CallsActionStatus.PENDING
        await asyncio.sleep(0.5)
        stopped = await off_loop(calls.call_stop_playing_file, call.id, CallsStopPlayRequest())
        assert stopped.status == CallsActionStatus.COMPLETED
        finished = (await wait_event(receiver, call.id, "PLAY_FINISHED"))["properties"]
        assert finished["playedCompletely"] is False

        hung_up = await off_loop(calls.hangup_call, call.id, CallsHangupRequest())
        assert hung_up.state == CallState.FINISHED
        assert await call.ended() == "NORMAL_HANGUP"
        history = await off_loop(calls.get_calls_history, calls_configuration_id="client-flow")
        assert [(log.call_id, log.direction) for log in history.results or []] == [(call.id, CallDirection.INBOUND)]
    finally:
        await frank.close()
