"""Conferences driven by Infobip's official Python client on the local stack, with Python-SDK participants checked
by what they hear and by the events at the application's webhook: four answered calls in a conference (mute,
removal, say, hangup), two calls connected to talk, and a call connected with a new call the client places."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from infobip_api_client import CallsApi
from infobip_api_client.exceptions import ApiException
from infobip_api_client.models import (
    CallsActionCallRequest,
    CallsActionConferenceRequest,
    CallsAddExistingCallRequest,
    CallsAnswerRequest,
    CallsConference,
    CallsConferenceAndCall,
    CallsConferenceBroadcastWebrtcTextRequest,
    CallsConferenceLog,
    CallsConferencePage,
    CallsConferenceRequest,
    CallsConferenceSayRequest,
    CallsConnectRequest,
    CallsConnectWithNewCallRequest,
    CallsLanguage,
    CallsUpdateCallRequest,
    CallsWebRtcEndpoint,
)

from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.integration.test_calls_client import (  # noqa: F401 (fixtures)
    calls,
    keeps_every_field,
    off_loop,
    stack,
    subscribe,
    token,
)
from tests.support.audio import band_energy
from tests.support.receiver import Receiver

EVENTS = [
    "CALL_RECEIVED",
    "CALL_ESTABLISHED",
    "CALL_FINISHED",
    "CONFERENCE_CREATED",
    "CONFERENCE_FINISHED",
    "PARTICIPANT_JOINING",
    "PARTICIPANT_JOINED",
    "PARTICIPANT_REMOVED",
    "PARTICIPANT_MEDIA_CHANGED",
    "SAY_FINISHED",
]
TONES = {"ann": 600.0, "ben": 1000.0, "cat": 1400.0, "dan": 1800.0}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def seen(receiver: Receiver, kind: str, *, call_id: str | None = None, conference_id: str | None = None) -> list:
    return [
        r.event
        for r in receiver.accepted()
        if r.event["type"] == kind
        and (call_id is None or r.event.get("callId") == call_id)
        and (conference_id is None or r.event.get("conferenceId") == conference_id)
    ]


async def wait_for(receiver: Receiver, kind: str, count: int = 1, **where: Any) -> list:
    for _ in range(300):
        found = seen(receiver, kind, **where)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError((kind, where, [r.event["type"] for r in receiver.accepted()]))


async def answered(stack, calls: CallsApi, receiver: Receiver, configuration: str, names) -> tuple:  # noqa: F811
    clients = {name: await RtcClient.connect(None, token(stack, name)) for name in names}
    sinks = {name: AudioSink() for name in names}
    sdk_calls = {}
    for name in names:
        call = await clients[name].call_application(
            configuration, audio_source=ToneSource(TONES[name]), audio_sink=sinks[name]
        )
        await wait_for(receiver, "CALL_RECEIVED", call_id=call.id)
        await off_loop(calls.answer_call, call.id, CallsAnswerRequest())
        await call.media_connected()
        sdk_calls[name] = call
    return clients, sdk_calls, sinks


def hears(sink: AudioSink, frequency: float) -> float:
    """The energy at `frequency` in the last 0.6 s the sink received (none before its first 0.1 s)."""
    heard = sink.samples[-28800:]
    return band_energy(heard, frequency) if len(heard) >= 4800 else 0.0


def _assert(condition: bool) -> None:
    assert condition


async def eventually(check, timeout: float = 8.0) -> None:
    """`check` (assertions on what was heard) holds within `timeout`: mixes settle at their own pace on a busy
    machine, so the audio is checked until it is right rather than once after a fixed wait."""
    for _ in range(int(timeout / 0.25)):
        try:
            check()
            return
        except AssertionError:
            await asyncio.sleep(0.25)
    check()


@pytest.mark.asyncio
async def test_a_four_party_conference_with_mute_removal_say_and_hangup(stack, calls, receiver):  # noqa: F811
    await subscribe(stack, calls, receiver, "conf-api", EVENTS)
    clients, sdk, sinks = await answered(stack, calls, receiver, "conf-api", TONES)
    try:
        raw = await off_loop(
            calls.create_conference_without_preload_content,
            CallsConferenceRequest(name="weekly", callsConfigurationId="conf-api"),
        )
        conference = keeps_every_field(CallsConference, raw)
        for name in TONES:
            added = await off_loop(
                calls.add_existing_conference_call, conference.id, sdk[name].id, CallsAddExistingCallRequest()
            )
            assert sdk[name].id in [p.call_id for p in added.participants]
        await wait_for(receiver, "PARTICIPANT_JOINED", 4, conference_id=conference.id)
        page = await off_loop(calls.get_conferences_without_preload_content, name="weekly")
        listed = keeps_every_field(CallsConferencePage, page)
        assert [c.id for c in listed.results] == [conference.id]
        assert {p.state.value for p in listed.results[0].participants} == {"JOINED"}

        def ann_hears_the_others_not_herself() -> None:
            for other, frequency in TONES.items():
                if other != "ann":
                    assert hears(sinks["ann"], frequency) > 20 * max(hears(sinks["ann"], TONES["ann"]), 1.0), other

        await eventually(ann_hears_the_others_not_herself)

        await off_loop(calls.update_conference_call, conference.id, sdk["ann"].id, CallsUpdateCallRequest(muted=True))
        (changed,) = await wait_for(receiver, "PARTICIPANT_MEDIA_CHANGED", call_id=sdk["ann"].id)
        assert changed["properties"]["audio"]["muted"] is True
        await eventually(lambda: _assert(hears(sinks["ben"], TONES["ann"]) < hears(sinks["ben"], TONES["cat"]) / 20))

        await off_loop(calls.remove_conference_call, conference.id, sdk["dan"].id)
        (removed,) = await wait_for(receiver, "PARTICIPANT_REMOVED", call_id=sdk["dan"].id)
        assert removed["conferenceId"] == conference.id
        await eventually(lambda: _assert(hears(sinks["cat"], TONES["dan"]) < hears(sinks["cat"], TONES["ben"]) / 20))
        assert (await off_loop(calls.get_call, sdk["dan"].id)).state.value == "ESTABLISHED"  # still up

        text = CallsConferenceBroadcastWebrtcTextRequest(text="Five minutes left.")
        await off_loop(calls.conference_broadcast_webrtc_text, conference.id, text)
        for name in ("ann", "ben", "cat"):  # the participants now; dan was removed
            assert (await asyncio.wait_for(sdk[name].broadcasts.get(), 5)).text == "Five minutes left."
        assert sdk["dan"].broadcasts.empty()

        say = CallsConferenceSayRequest(text="The meeting is ending now.", language=CallsLanguage.EN)
        assert (await off_loop(calls.conference_say_text, conference.id, say)).status.value == "PENDING"
        await wait_for(receiver, "SAY_FINISHED", conference_id=conference.id)

        ended = await off_loop(calls.hangup_conference, conference.id)
        assert ended.id == conference.id
        for name in ("ann", "ben", "cat"):
            assert await sdk[name].ended() == "NORMAL_HANGUP"
        await wait_for(receiver, "CONFERENCE_FINISHED", conference_id=conference.id)
        raw_log = await off_loop(calls.get_conference_history_without_preload_content, conference.id)
        log = keeps_every_field(CallsConferenceLog, raw_log)
        assert {s.call_id for s in log.sessions} == {call.id for call in sdk.values()}
        with pytest.raises(ApiException) as refused:  # never reopened
            await off_loop(
                calls.add_existing_conference_call, conference.id, sdk["dan"].id, CallsAddExistingCallRequest()
            )
        assert refused.value.status == 409
        await sdk["dan"].hangup()
    finally:
        for client in clients.values():
            await client.close()


@pytest.mark.asyncio
async def test_connecting_two_calls_and_connecting_a_call_with_a_new_one(stack, calls, receiver):  # noqa: F811
    await subscribe(stack, calls, receiver, "connect-api", EVENTS)
    clients, sdk, sinks = await answered(stack, calls, receiver, "connect-api", ["ann", "ben"])
    cat = await RtcClient.connect(None, token(stack, "cat"))
    try:
        connected = await off_loop(
            calls.connect_calls,
            CallsConnectRequest(
                callIds=[sdk["ann"].id, sdk["ben"].id], conferenceRequest=CallsActionConferenceRequest(name="pair")
            ),
        )
        assert connected.name == "pair" and len(connected.participants) == 2
        await wait_for(receiver, "PARTICIPANT_JOINED", 2, conference_id=connected.id)
        await eventually(
            lambda: _assert(hears(sinks["ann"], TONES["ben"]) > 1e5 and hears(sinks["ben"], TONES["ann"]) > 1e5)
        )
        await sdk["ben"].hangup()
        await sdk["ann"].hangup()
        await wait_for(receiver, "CONFERENCE_FINISHED", conference_id=connected.id)

        more, more_sdk, more_sinks = await answered(stack, calls, receiver, "connect-api", ["dan"])
        clients.update(more)
        request = CallsConnectWithNewCallRequest(
            callRequest=CallsActionCallRequest(
                endpoint=CallsWebRtcEndpoint(identity="cat"), fromDisplayName="Agent desk"
            )
        )
        raw = await off_loop(calls.connect_with_new_call_without_preload_content, more_sdk["dan"].id, request)
        both = keeps_every_field(CallsConferenceAndCall, raw)
        incoming = await asyncio.wait_for(cat.incoming_calls.get(), 10)
        assert incoming.id == both.call.id
        cat_hears = AudioSink()
        await incoming.accept(audio_source=ToneSource(TONES["cat"]), audio_sink=cat_hears)
        await wait_for(receiver, "PARTICIPANT_JOINED", 2, conference_id=both.conference.id)
        await eventually(
            lambda: _assert(hears(cat_hears, TONES["dan"]) > 1e5 and hears(more_sinks["dan"], TONES["cat"]) > 1e5)
        )
        await off_loop(calls.hangup_conference, both.conference.id)
        assert await incoming.ended() == "NORMAL_HANGUP"
    finally:
        await cat.close()
        for client in clients.values():
            await client.close()
