"""Dialog recording on a real node: a parent and a child application call bridged in a dialog, recorded through the
signed internal API, the files stored in (moto's) S3 and checked by content: without composition each party's
file holds its own tone (1 kHz / 2 kHz), with composition the one file holds both; the lengths match the time
recorded. A recording asked for before the child answers starts when the dialog is established and ends with it."""

from __future__ import annotations

import asyncio
import json

import pytest

from chalicelib.contract import control as contract
from chalicelib.db.models import OutboxEvent
from chalicelib.media_nodes.control import MediaNodeError
from chalicelib.recordings.operations import RecordingClient
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.media.conftest import ACCOUNT, CONTROL_KEY, token
from tests.media.test_conferences import control, until
from tests.media.test_dialogs import calling, dialog
from tests.media.test_recordings import Recorded, middle, recording, settled_files, stored_audio, timed
from tests.support.audio import band_energy, dominant_frequency

pytestmark = pytest.mark.asyncio
PARENT_TONE, CHILD_TONE = 1000.0, 2000.0


def event_types(dialog_id: str) -> list[str]:
    return [json.loads(item.body)["type"] for item in OutboxEvent.query(f"{ACCOUNT}#{dialog_id}")]


def assert_own_tone(item, tone: float, recorded: Recorded) -> None:
    samples = stored_audio(item)
    assert abs(dominant_frequency(middle(samples)) - tone) < 20, (item.call_id, tone)
    other = CHILD_TONE if tone == PARENT_TONE else PARENT_TONE
    assert band_energy(middle(samples), tone) > 20 * max(band_energy(middle(samples), other), 1.0)
    assert recorded.holds(len(samples) / 48000), (len(samples), recorded)


def assert_both_tones(item, recorded: Recorded) -> None:
    samples = stored_audio(item)
    mix = middle(samples)
    assert band_energy(mix, PARENT_TONE) > 1e5 and band_energy(mix, CHILD_TONE) > 1e5
    assert band_energy(mix, PARENT_TONE) > 20 * band_energy(mix, 1500)
    assert recorded.holds(len(samples) / 48000), (len(samples), recorded)


async def test_a_dialog_recorded_per_participant_and_composed_holds_each_tone(embedded_aws, node, records):
    media_node, url = node
    ann, parent, _ = await calling(url, "ann", PARENT_TONE, answer=True)
    ben, child, _ = await calling(url, "ben", CHILD_TONE, answer=True)
    try:
        await dialog(url, "rec-d-1", "open", parentCallId=parent.id, childCallId=child.id, connectNow=True)
        await asyncio.sleep(1.0)

        recorded = await timed(url, "DIALOG", "rec-d-1", 3.0, composition=False, customData={"crm": "7"})
        files = await settled_files("DIALOG", "rec-d-1", 2)
        by_party = {item.call_id: item for item in files}
        assert set(by_party) == {parent.id, child.id} and all(item.status == "READY" for item in files)
        for call_id, tone in ((parent.id, PARENT_TONE), (child.id, CHILD_TONE)):
            item = by_party[call_id]
            assert not item.composed and item.custom_data.as_dict() == {"crm": "7"}
            assert_own_tone(item, tone, recorded)
            assert recorded.holds(item.duration, 1.0)  # whole seconds on the record

        recorded = await timed(url, "DIALOG", "rec-d-1", 2.0, composition=True)
        files = await settled_files("DIALOG", "rec-d-1", 3)
        (composed,) = [item for item in files if item.composed]
        assert composed.call_id is None and composed.composition
        assert_both_tones(composed, recorded)

        await until(lambda: event_types("rec-d-1").count("DIALOG_RECORDING_READY") == 2, timeout=15)
        one_recording = ["DIALOG_RECORDING_STARTED", "DIALOG_RECORDING_STOPPED", "DIALOG_RECORDING_READY"]
        assert event_types("rec-d-1") == one_recording * 2
        await dialog(url, "rec-d-1", "hangup")
        assert await parent.ended() == "NORMAL_HANGUP"
    finally:
        await ann.close()
        await ben.close()
    assert media_node.recordings.active("DIALOG", "rec-d-1") is None


async def test_a_recording_asked_before_the_child_answers_starts_when_established_and_ends_with_the_dialog(
    embedded_aws, node, records
):
    media_node, url = node
    loop = asyncio.get_running_loop()
    ann, parent, _ = await calling(url, "ann", PARENT_TONE, answer=True)
    ben = await RtcClient.connect(url, token("ben"))
    try:
        await dialog(url, "rec-d-2", "open", parentCallId=parent.id, childCallId="rec-child-2")
        await recording(url, "start", "DIALOG", "rec-d-2", composition=True)
        with pytest.raises(MediaNodeError) as error:  # one recording at a time, pending ones included
            await recording(url, "start", "DIALOG", "rec-d-2", composition=False)
        assert error.value.status == 409
        await asyncio.to_thread(control(url).dial, "rec-child-2", ACCOUNT, "ben", "app", connect_timeout=20)
        incoming = await asyncio.wait_for(ben.incoming_calls.get(), 5)
        await asyncio.sleep(1.0)  # ringing: nothing is recorded yet
        assert media_node.recordings.active("DIALOG", "rec-d-2") is None

        answering = loop.time()
        await incoming.accept(audio_source=ToneSource(CHILD_TONE), audio_sink=AudioSink())
        await until(lambda: media_node.recordings.active("DIALOG", "rec-d-2") is not None, timeout=15)
        started = loop.time()
        await asyncio.sleep(3.0)
        hanging_up = loop.time()
        await incoming.hangup()  # the child ends the dialog (and, childCallHangup, the parent)
        assert await parent.ended() == "NORMAL_HANGUP"
        await until(lambda: media_node.recordings.active("DIALOG", "rec-d-2") is None, timeout=10)
        recorded = Recorded(hanging_up - started, loop.time() - answering)

        (composed,) = await settled_files("DIALOG", "rec-d-2", 1)
        assert composed.composed and composed.status == "READY" and not composed.interrupted
        assert_both_tones(composed, recorded)
        await until(lambda: "DIALOG_RECORDING_READY" in event_types("rec-d-2"), timeout=15)
    finally:
        await ann.close()
        await ben.close()


async def test_recording_an_unknown_or_idle_dialog_is_refused(embedded_aws, node, records):
    _, url = node
    ann, parent, _ = await calling(url, "ann", PARENT_TONE, answer=True)
    try:
        for action, dialog_id, status in (("start", "no-such-dialog", 404), ("stop", "no-such-dialog", 409)):
            with pytest.raises(MediaNodeError) as error:
                await recording(url, action, "DIALOG", dialog_id)
            assert error.value.status == status, (action, dialog_id)
        await dialog(url, "rec-d-3", "open", parentCallId=parent.id, childCallId="rec-child-3")
        with pytest.raises(MediaNodeError) as error:  # open but not recording
            await recording(url, "stop", "DIALOG", "rec-d-3")
        assert error.value.status == 409
        body = {"accountId": "someone-else", "scope": "DIALOG", "scopeId": "rec-d-3"}
        with pytest.raises(MediaNodeError) as error:  # another account's dialog is unknown
            request = contract.StartRecordingRequest.model_validate(body)
            await asyncio.to_thread(RecordingClient(url, key=CONTROL_KEY).recording, "start", request)
        assert error.value.status == 404
    finally:
        await ann.close()
