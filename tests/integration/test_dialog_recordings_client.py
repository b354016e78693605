"""Dialog recording on the running local stack, driven by Infobip's official Python client (unmodified): two answered
application calls are bridged with the create's `recording` option (one file per party), stopped, listed and
downloaded: each party's file holds its own tone; recorded again with composition through `start-recording`, the
recording ends with the dialog and the one file holds both tones. A new dialog created with `recording` starts
recording only once its child answers. The webhook gets the DIALOG_RECORDING_* events."""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Any

import numpy as np
import pytest
from infobip_api_client import CallsApi
from infobip_api_client.models import (
    CallEndpointType,
    CallsDialogCallRequest,
    CallsDialogRecordingComposition,
    CallsDialogRecordingPage,
    CallsDialogRecordingRequest,
    CallsDialogRecordingResponse,
    CallsDialogRequest,
    CallsDialogResponse,
    CallsDialogWithExistingCallRequest,
    CallsRecordingType,
    CallsWebRtcEndpoint,
)

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
from tests.integration.test_conferences_client import TONES, answered, wait_for
from tests.support.audio import band_energy, dominant_frequency
from tests.support.receiver import Receiver

CONFIGURATION = "dialog-rec"
EVENTS = [
    "CALL_RECEIVED",
    "CALL_ESTABLISHED",
    "DIALOG_ESTABLISHED",
    "DIALOG_FINISHED",
    "DIALOG_RECORDING_STARTED",
    "DIALOG_RECORDING_STOPPED",
    "DIALOG_RECORDING_READY",
    "DIALOG_RECORDING_FAILED",
]


def of_dialog(received: Receiver, dialog_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        r.event
        for r in received.accepted()
        if r.event.get("dialogId") == dialog_id and (kind is None or r.event["type"] == kind)
    ]


async def dialog_event(received: Receiver, dialog_id: str, kind: str, count: int = 1) -> list[dict[str, Any]]:
    for _ in range(600):  # a busy machine stores files slowly: up to a minute
        found = of_dialog(received, dialog_id, kind)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError((kind, [event["type"] for event in of_dialog(received, dialog_id)]))


def samples_of(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")


def steady(samples: np.ndarray) -> list[int]:
    middle = len(samples) // 2
    return samples[middle - 12000 : middle + 12000].tolist()


@pytest.mark.asyncio
async def test_a_dialog_recorded_through_the_client_per_party_then_composed(stack, calls: CallsApi, receiver):  # noqa: F811
    await subscribe(stack, calls, receiver, CONFIGURATION, EVENTS)
    clients, sdk, _ = await answered(stack, calls, receiver, CONFIGURATION, ["ben", "dan"])
    try:
        recording = CallsDialogRecordingRequest(
            recordingType=CallsRecordingType.AUDIO,
            dialogComposition=CallsDialogRecordingComposition(enabled=False),
            customData={"case": "77"},
        )
        raw = await off_loop(
            calls.create_dialog_with_existing_calls_without_preload_content,
            sdk["ben"].id,
            sdk["dan"].id,
            CallsDialogWithExistingCallRequest(recording=recording),
        )
        dialog_id = keeps_every_field(CallsDialogResponse, raw).id
        (started,) = await dialog_event(receiver, dialog_id, "DIALOG_RECORDING_STARTED")
        assert started["properties"]["composition"] is False and started["properties"]["customData"] == {"case": "77"}
        await asyncio.sleep(2.5)
        await off_loop(calls.dialog_stop_recording, dialog_id)
        await dialog_event(receiver, dialog_id, "DIALOG_RECORDING_READY")

        raw = await off_loop(calls.get_dialog_recordings_without_preload_content, dialog_id)
        view = keeps_every_field(CallsDialogRecordingResponse, raw)
        assert view.dialog_id == dialog_id and view.composed_files == []
        by_party = {party.call_id: party for party in view.call_recordings}
        assert set(by_party) == {sdk["ben"].id, sdk["dan"].id}
        for name in ("ben", "dan"):
            (file,) = by_party[sdk[name].id].files
            assert file.custom_data == {"case": "77"}
            data = bytes(await off_loop(calls.download_recording_file, file.id))
            assert len(data) == file.size
            assert abs(dominant_frequency(steady(samples_of(data))) - TONES[name]) < 20, name

        start = CallsDialogRecordingRequest(
            recordingType=CallsRecordingType.AUDIO, dialogComposition=CallsDialogRecordingComposition(enabled=True)
        )
        await off_loop(calls.dialog_start_recording, dialog_id, start)
        await dialog_event(receiver, dialog_id, "DIALOG_RECORDING_STARTED", 2)
        await asyncio.sleep(2.5)
        await off_loop(calls.hangup_dialog, dialog_id)  # the recording ends with the dialog
        await dialog_event(receiver, dialog_id, "DIALOG_FINISHED")
        await dialog_event(receiver, dialog_id, "DIALOG_RECORDING_READY", 2)

        raw = await off_loop(calls.get_dialogs_recordings_without_preload_content, dialog_id=dialog_id)
        page = keeps_every_field(CallsDialogRecordingPage, raw)
        (listed,) = page.results
        (composed,) = listed.composed_files
        mix = steady(samples_of(bytes(await off_loop(calls.download_recording_file, composed.id))))
        assert band_energy(mix, TONES["ben"]) > 1e5 and band_energy(mix, TONES["dan"]) > 1e5
        assert not of_dialog(receiver, dialog_id, "DIALOG_RECORDING_FAILED")
    finally:
        for client in clients.values():
            await client.close()


@pytest.mark.asyncio
async def test_a_new_dialogs_recording_starts_when_the_child_answers_and_ends_with_it(stack, calls: CallsApi, receiver):  # noqa: F811
    await subscribe(stack, calls, receiver, f"{CONFIGURATION}-new", EVENTS)
    ann = await RtcClient.connect(None, token(stack, "ann"))
    cat = await RtcClient.connect(None, token(stack, "cat"))
    try:
        parent = await ann.call_application(
            f"{CONFIGURATION}-new", audio_source=ToneSource(TONES["ann"]), audio_sink=AudioSink()
        )
        await wait_for(receiver, "CALL_RECEIVED", call_id=parent.id)
        raw = await off_loop(
            calls.create_dialog_without_preload_content,
            CallsDialogRequest(
                parentCallId=parent.id,
                childCallRequest=CallsDialogCallRequest(
                    endpoint=CallsWebRtcEndpoint(identity="cat", type=CallEndpointType.WEBRTC), connectTimeout=30
                ),
                recording=CallsDialogRecordingRequest(
                    recordingType=CallsRecordingType.AUDIO,
                    dialogComposition=CallsDialogRecordingComposition(enabled=True),
                ),
            ),
        )
        dialog_id = keeps_every_field(CallsDialogResponse, raw).id
        incoming = await asyncio.wait_for(cat.incoming_calls.get(), 10)
        await asyncio.sleep(1.0)  # ringing: nothing is recorded before the dialog is established
        assert not of_dialog(receiver, dialog_id, "DIALOG_RECORDING_STARTED")
        await incoming.accept(audio_source=ToneSource(TONES["cat"]), audio_sink=AudioSink())
        await dialog_event(receiver, dialog_id, "DIALOG_ESTABLISHED")
        await dialog_event(receiver, dialog_id, "DIALOG_RECORDING_STARTED")
        await asyncio.sleep(2.5)
        await incoming.hangup()  # the dialog ends, and its recording with it
        await dialog_event(receiver, dialog_id, "DIALOG_FINISHED")
        (ready,) = await dialog_event(receiver, dialog_id, "DIALOG_RECORDING_READY")
        (composed,) = ready["properties"]["recording"]["composedFiles"]
        mix = steady(samples_of(bytes(await off_loop(calls.download_recording_file, composed["id"]))))
        assert band_energy(mix, TONES["ann"]) > 1e5 and band_energy(mix, TONES["cat"]) > 1e5
    finally:
        await ann.close()
        await cat.close()
