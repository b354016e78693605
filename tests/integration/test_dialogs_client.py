"""Dialogs driven by Infobip's official Python client on the local stack, with Python-SDK parties checked by what
they hear and by the events at the application's webhook: an inbound call bridged with a new call (ringing and a
ringback tone while the child rings, the parent answered with the child, hung up through the API), and two answered
calls bridged, where the child hanging up ends the dialog and takes the parent with it."""

from __future__ import annotations

import asyncio

import pytest
from infobip_api_client.models import (
    CallEndpointType,
    CallsDialogBroadcastWebrtcTextRequest,
    CallsDialogCallRequest,
    CallsDialogLogPage,
    CallsDialogLogResponse,
    CallsDialogPage,
    CallsDialogPropagationOptions,
    CallsDialogRequest,
    CallsDialogResponse,
    CallsDialogWithExistingCallRequest,
    CallsWebRtcEndpoint,
    RingbackGeneration,
)

from switchboard_media.dialogs import RINGBACK_HZ
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.integration.test_calls_client import (  # noqa: F401 (fixtures)
    calls,
    keeps_every_field,
    off_loop,
    receiver,
    stack,
    subscribe,
    token,
)
from tests.integration.test_conferences_client import TONES, _assert, answered, eventually, hears, seen, wait_for
from tests.support.receiver import Receiver

EVENTS = [
    "CALL_RECEIVED",
    "CALL_ESTABLISHED",
    "CALL_FINISHED",
    "CALL_RINGING",
    "CALL_PRE_ESTABLISHED",
    "DIALOG_CREATED",
    "DIALOG_ESTABLISHED",
    "DIALOG_FINISHED",
    "DIALOG_FAILED",
]


def dialog_events(received: Receiver, dialog_id: str) -> list[str]:
    return [r.event["type"] for r in received.accepted() if r.event.get("dialogId") == dialog_id]


@pytest.mark.asyncio
async def test_an_inbound_call_bridged_with_a_new_call_hears_ringback_then_talks(stack, calls, receiver):  # noqa: F811
    """The parent rings with the child and hears a ringback tone, is answered with it, and the API hangs up."""
    await subscribe(stack, calls, receiver, "dialog-api", EVENTS)
    ann = await RtcClient.connect(None, token(stack, "ann"))
    ben = await RtcClient.connect(None, token(stack, "ben"))
    try:
        ann_sink = AudioSink()
        ann_call = await ann.call_application("dialog-api", audio_source=ToneSource(TONES["ann"]), audio_sink=ann_sink)
        await wait_for(receiver, "CALL_RECEIVED", call_id=ann_call.id)
        raw = await off_loop(
            calls.create_dialog_without_preload_content,
            CallsDialogRequest(
                parentCallId=ann_call.id,
                childCallRequest=CallsDialogCallRequest(
                    endpoint=CallsWebRtcEndpoint(identity="ben", type=CallEndpointType.WEBRTC), connectTimeout=30
                ),
                propagationOptions=CallsDialogPropagationOptions(
                    childCallRinging=True, ringbackGeneration=RingbackGeneration(enabled=True)
                ),
            ),
        )
        created = keeps_every_field(CallsDialogResponse, raw)
        assert created.parent_call.id == ann_call.id and created.child_call.endpoint.identity == "ben"
        (event,) = await wait_for(receiver, "DIALOG_CREATED")
        assert event["dialogId"] == created.id

        incoming = await asyncio.wait_for(ben.incoming_calls.get(), 10)
        await ann_call.ringing()  # the child's ringing, propagated to the caller
        await ann_call.media_connected()  # and early media: the ringback tone
        await eventually(lambda: _assert(hears(ann_sink, RINGBACK_HZ) > 1e5))

        ben_sink = AudioSink()
        await incoming.accept(audio_source=ToneSource(TONES["ben"]), audio_sink=ben_sink)
        await ann_call.established()  # answered with the child
        await wait_for(receiver, "DIALOG_ESTABLISHED")
        await wait_for(receiver, "CALL_ESTABLISHED", call_id=ann_call.id)

        def they_talk() -> None:
            assert hears(ann_sink, TONES["ben"]) > 20 * max(hears(ann_sink, RINGBACK_HZ), 1.0)
            assert hears(ben_sink, TONES["ann"]) > 1e5

        await eventually(they_talk)
        live = keeps_every_field(CallsDialogPage, await off_loop(calls.get_dialogs_without_preload_content))
        assert [(d.id, d.state.value) for d in live.results] == [(created.id, "ESTABLISHED")]
        broadcast = CallsDialogBroadcastWebrtcTextRequest(text="The agent is with you now.")
        await off_loop(calls.dialog_broadcast_webrtc_text, created.id, broadcast)
        for party in (ann_call, incoming):  # both are WebRTC calls: the SDK's broadcast-text-received
            assert (await asyncio.wait_for(party.broadcasts.get(), 5)).text == "The agent is with you now."

        hung_up = await off_loop(calls.hangup_dialog, created.id)
        assert hung_up.id == created.id
        assert await ann_call.ended() == "NORMAL_HANGUP"
        assert await incoming.ended() == "NORMAL_HANGUP"
        (finished,) = await wait_for(receiver, "DIALOG_FINISHED")
        assert finished["properties"]["hangupSource"] == "API"
        assert dialog_events(receiver, created.id) == ["DIALOG_CREATED", "DIALOG_ESTABLISHED", "DIALOG_FINISHED"]
        history = keeps_every_field(
            CallsDialogLogPage,
            await off_loop(calls.get_dialogs_history_without_preload_content, parent_call_id=ann_call.id),
        )
        assert [d.dialog_id for d in history.results] == [created.id]
        log = keeps_every_field(
            CallsDialogLogResponse, await off_loop(calls.get_dialog_history_without_preload_content, created.id)
        )
        assert (log.state.value, log.child_call_id) == ("FINISHED", created.child_call.id)
    finally:
        await ann.close()
        await ben.close()


@pytest.mark.asyncio
async def test_two_answered_calls_bridged_and_the_child_hanging_up_takes_the_parent(stack, calls, receiver):  # noqa: F811
    await subscribe(stack, calls, receiver, "dialog-pair", EVENTS)
    clients, sdk, sinks = await answered(stack, calls, receiver, "dialog-pair", ["cat", "dan"])
    try:
        raw = await off_loop(
            calls.create_dialog_with_existing_calls_without_preload_content,
            sdk["cat"].id,
            sdk["dan"].id,
            CallsDialogWithExistingCallRequest(),
        )
        created = keeps_every_field(CallsDialogResponse, raw)
        await wait_for(receiver, "DIALOG_ESTABLISHED")

        def they_talk() -> None:
            assert hears(sinks["cat"], TONES["dan"]) > 1e5 and hears(sinks["dan"], TONES["cat"]) > 1e5

        await eventually(they_talk)
        await sdk["dan"].hangup()
        assert await sdk["cat"].ended() == "NORMAL_HANGUP"
        (finished,) = await wait_for(receiver, "DIALOG_FINISHED")
        assert finished["dialogId"] == created.id
        assert finished["properties"]["hangupSource"] == "CHILD_ENDPOINT"
        assert len(seen(receiver, "CALL_FINISHED")) >= 2
    finally:
        for client in clients.values():
            await client.close()
