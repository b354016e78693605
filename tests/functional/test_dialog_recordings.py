"""Dialog recordings through the HTTP API on moto: files stored the way the media node stores them (the same service
calls), then listed with filters and paging, read, composed (DIALOG_COMPOSITION_FINISHED) and deleted with
tombstones; starting and stopping is refused clearly (bad body 400, unknown 404, finished 409); another account
sees none of it. Responses and event payloads validate against Infobip's OpenAPI document. Recording itself is
tested on a real node in tests/media/test_dialog_recordings.py."""

from __future__ import annotations

import json

import pytest

from chalicelib.calls.service import get_call
from chalicelib.dialogs import service as dialogs
from chalicelib.dialogs.repository import DialogRecord
from chalicelib.recordings import service
from tests.functional.test_conferences import answered, body_of, outbox, send
from tests.functional.test_recordings import record, samples_of
from tests.support.audio import band_energy
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator, schema_validator

DOC = "infobip-voice-openapi.json"
RECORDINGS = "/calls/1/recordings"
DIALOGS = "/calls/1/dialogs"
ANN_TONE, BEN_TONE = 1000.0, 2000.0


@pytest.fixture
def dialog(account, configuration) -> DialogRecord:
    """An established dialog between two answered WebRTC calls (`ann` and `ben`)."""
    acc = account.account_id
    ann, ben = get_call(acc, answered(acc, "ann")), get_call(acc, answered(acc, "ben"))
    created = dialogs.create(acc, ann, ben, max_duration=600, node_id=None)
    dialogs.established(acc, created.dialog_id)
    return dialogs.get_dialog(acc, created.dialog_id)


def recorded(account, dialog: DialogRecord, tmp_path, **options: object) -> list[str]:
    tones: dict[str | None, float] = {dialog.parent_call_id: ANN_TONE, dialog.child_call_id: BEN_TONE}
    return record(
        account.account_id, "DIALOG", dialog.dialog_id, tones, tmp_path, callsConfigurationId="conf-app", **options
    )


def events(account, dialog_id: str, prefix: str = "DIALOG_") -> list[dict]:
    return [event for event in outbox(account.account_id, dialog_id) if event["type"].startswith(prefix)]


def test_a_dialog_recording_is_listed_filtered_paged_and_read_in_infobips_shapes(client, account, dialog, tmp_path):
    ann_file, ben_file = recorded(account, dialog, tmp_path, composition=False, customData={"crm": "9"})
    listed = body_of(client.get(f"{RECORDINGS}/dialogs", headers=account.headers))
    response_validator(DOC, "GET", f"{RECORDINGS}/dialogs", 200)(listed)
    assert listed["paging"] == {"page": 0, "size": 20, "totalPages": 1, "totalResults": 1}
    (found,) = listed["results"]
    assert found["dialogId"] == dialog.dialog_id and found["callsConfigurationId"] == "conf-app"
    assert found["composedFiles"] == []
    parties = {party["callId"]: party for party in found["callRecordings"]}
    assert set(parties) == {dialog.parent_call_id, dialog.child_call_id}
    assert parties[dialog.parent_call_id]["endpoint"] == {"type": "WEBRTC", "identity": "ann"}
    (file,) = parties[dialog.parent_call_id]["files"]
    assert (file["id"], file["name"], file["fileFormat"]) == (ann_file, f"{ann_file}.wav", "WAV")
    assert file["duration"] == 2 and file["customData"] == {"crm": "9"} and file["location"] == "HOSTED"
    assert [f["id"] for f in parties[dialog.child_call_id]["files"]] == [ben_file]

    one = body_of(client.get(f"{RECORDINGS}/dialogs/{dialog.dialog_id}", headers=account.headers))
    response_validator(DOC, "GET", f"{RECORDINGS}/dialogs/{{dialogId}}", 200)(one)
    assert one == found

    # a second dialog, recorded composed, to filter and page between
    acc = account.account_id
    other = dialogs.create(
        acc, get_call(acc, answered(acc, "cat")), get_call(acc, answered(acc, "dan")), max_duration=60, node_id=None
    )
    record(acc, "DIALOG", other.dialog_id, {None: 500.0}, tmp_path, callsConfigurationId="conf-app", composition=True)

    def ids(query: str) -> list[str]:
        page = body_of(client.get(f"{RECORDINGS}/dialogs?{query}", headers=account.headers))
        response_validator(DOC, "GET", f"{RECORDINGS}/dialogs", 200)(page)
        return [result["dialogId"] for result in page["results"]]

    assert sorted(ids("")) == sorted([dialog.dialog_id, other.dialog_id])
    assert ids(f"dialogId={other.dialog_id}") == [other.dialog_id]
    assert ids(f"callId={dialog.child_call_id}") == [dialog.dialog_id]
    assert ids("callEndpointType=WEBRTC&callEndpointIdentifier=ben") == [dialog.dialog_id]
    assert ids("callEndpointType=PHONE") == []
    assert ids("composition=true") == [other.dialog_id]
    assert ids("composition=false") == [dialog.dialog_id]
    assert ids("callsConfigurationId=elsewhere") == []
    assert ids("startTimeAfter=2100-01-01T00:00:00.000+0000") == []
    assert sorted(ids("endTimeBefore=2100-01-01T00:00:00.000+0000")) == sorted([dialog.dialog_id, other.dialog_id])
    first, second = ids("size=1&page=0"), ids("size=1&page=1")
    assert len(first) == len(second) == 1 and set(first + second) == {dialog.dialog_id, other.dialog_id}
    paged = body_of(client.get(f"{RECORDINGS}/dialogs?size=1&page=1", headers=account.headers))
    assert paged["paging"] == {"page": 1, "size": 1, "totalPages": 2, "totalResults": 2}
    assert ids("size=1&page=2") == []


def test_the_recording_events_carry_infobips_payloads(account, dialog, tmp_path):
    recorded(account, dialog, tmp_path, composition=False, customData={"crm": "9"}, filePrefix="dlg")
    started, stopped, ready = events(account, dialog.dialog_id, "DIALOG_RECORDING_")
    assert [started["type"], stopped["type"], ready["type"]] == [
        "DIALOG_RECORDING_STARTED",
        "DIALOG_RECORDING_STOPPED",
        "DIALOG_RECORDING_READY",
    ]
    assert all(event["dialogId"] == dialog.dialog_id and not event.get("callId") for event in (started, ready))
    schema_validator(DOC, "RecordingStartedProperties")(started["properties"])
    assert started["properties"] == {
        "recordingType": "AUDIO",
        "composition": False,
        "filePrefix": "dlg",
        "customData": {"crm": "9"},
    }
    schema_validator(DOC, "DialogRecordingStoppedProperties")(stopped["properties"])
    schema_validator(DOC, "DialogRecordingReadyProperties")(ready["properties"])
    view = ready["properties"]["recording"]
    assert view["dialogId"] == dialog.dialog_id and "platform" not in view
    assert {party["callId"] for party in view["callRecordings"]} == {dialog.parent_call_id, dialog.child_call_id}


def test_composing_a_dialogs_files_makes_one_file_with_both_and_leaves_tombstones(client, account, dialog, tmp_path):
    recorded(account, dialog, tmp_path, composition=False)
    path = f"{RECORDINGS}/dialogs/{dialog.dialog_id}/compose"
    composed = client.post(path, headers=account.headers, body="{}")
    assert composed.status_code == 200 and body_of(composed) == {"status": "COMPLETED"}, composed.body

    view = body_of(client.get(f"{RECORDINGS}/dialogs/{dialog.dialog_id}", headers=account.headers))
    response_validator(DOC, "GET", f"{RECORDINGS}/dialogs/{{dialogId}}", 200)(view)
    (file,) = view["composedFiles"]
    assert view["callRecordings"] == []  # deleteCallRecordings defaults to true
    mix = samples_of(client.get(f"{RECORDINGS}/files/{file['id']}", headers=account.headers).body)
    assert abs(len(mix) / 48000 - 2.0) < 0.05
    steady = mix[24000:72000].tolist()
    assert band_energy(steady, ANN_TONE) > 1e5 and band_energy(steady, BEN_TONE) > 1e5
    tombstones = service.tombstones(account.account_id, "DIALOG", dialog.dialog_id)
    assert len(tombstones) == 2 and all(t.deleted_reason == f"composed into {file['id']}" for t in tombstones)

    (finished,) = events(account, dialog.dialog_id, "DIALOG_COMPOSITION_")
    assert finished["type"] == "DIALOG_COMPOSITION_FINISHED" and finished["dialogId"] == dialog.dialog_id
    schema_validator(DOC, "DialogCompositionFinishedProperties")(finished["properties"])
    assert [f["id"] for f in finished["properties"]["recording"]["composedFiles"]] == [file["id"]]
    # nothing left to compose: the composed file is not a participant's
    assert_envelope(client.post(path, headers=account.headers, body="{}"), 409, "CONFLICT")


def test_composing_keeps_the_participants_files_when_asked(client, account, dialog, tmp_path):
    recorded(account, dialog, tmp_path, composition=False)
    path = f"{RECORDINGS}/dialogs/{dialog.dialog_id}/compose"
    body = json.dumps({"deleteCallRecordings": False})
    response = client.post(path, headers={**account.headers, "Content-Type": "application/json"}, body=body)
    assert response.status_code == 200, response.body
    view = body_of(client.get(f"{RECORDINGS}/dialogs/{dialog.dialog_id}", headers=account.headers))
    assert len(view["composedFiles"]) == 1 and len(view["callRecordings"]) == 2
    assert service.tombstones(account.account_id, "DIALOG", dialog.dialog_id) == []


def test_deleting_a_dialogs_recordings_answers_them_and_keeps_tombstones(client, account, dialog, tmp_path):
    files = recorded(account, dialog, tmp_path, composition=False)
    deleted = client.delete(f"{RECORDINGS}/dialogs/{dialog.dialog_id}", headers=account.headers)
    assert deleted.status_code == 200, deleted.body
    response_validator(DOC, "DELETE", f"{RECORDINGS}/dialogs/{{dialogId}}", 200)(body_of(deleted))
    answered_view = body_of(deleted)
    assert answered_view["dialogId"] == dialog.dialog_id and len(answered_view["callRecordings"]) == 2

    tombstones = service.tombstones(account.account_id, "DIALOG", dialog.dialog_id)
    assert sorted(t.file_id for t in tombstones) == sorted(files)
    assert all(t.deleted_by and t.deleted_at and t.deleted_reason == "dialog recordings deleted" for t in tombstones)
    for file_id in files:
        assert_envelope(client.get(f"{RECORDINGS}/files/{file_id}", headers=account.headers), 404, "NOT_FOUND")
    assert_envelope(client.get(f"{RECORDINGS}/dialogs/{dialog.dialog_id}", headers=account.headers), 404, "NOT_FOUND")
    assert body_of(client.get(f"{RECORDINGS}/dialogs", headers=account.headers))["results"] == []
    assert events(account, dialog.dialog_id)[-1]["type"] == "DIALOG_RECORDING_DELETED"
    again = client.delete(f"{RECORDINGS}/dialogs/{dialog.dialog_id}", headers=account.headers)
    assert_envelope(again, 404, "NOT_FOUND")


def test_starting_and_stopping_a_dialogs_recording_is_refused_clearly(client, account, dialog):
    start, stop = f"{DIALOGS}/{dialog.dialog_id}/start-recording", f"{DIALOGS}/{dialog.dialog_id}/stop-recording"
    for body, field in (
        ({}, "recordingType"),
        ({"recordingType": "VIDEO"}, "recordingType"),
        ({"recordingType": "AUDIO", "filePrefix": "no spaces"}, "filePrefix"),
        ({"recordingType": "AUDIO", "dialogComposition": {"enabled": "maybe"}}, "dialogComposition.enabled"),
        ({"recordingType": "AUDIO", "customData": {"k": {"nested": 1}}}, "customData.k"),
    ):
        refused = assert_envelope(send(client, "POST", start, account.headers, body), 400, "BAD_REQUEST")
        assert field in refused["validationErrors"], (body, refused)
    audio = {"recordingType": "AUDIO", "dialogComposition": {"enabled": True}}
    # the dialog is live but its media node is gone: 503, never a 500
    assert_envelope(send(client, "POST", start, account.headers, audio), 503, "SERVICE_UNAVAILABLE")
    assert_envelope(client.post(stop, headers=account.headers), 503, "SERVICE_UNAVAILABLE")

    unknown = f"{DIALOGS}/no-such-dialog/start-recording"
    assert_envelope(send(client, "POST", unknown, account.headers, audio), 404, "NOT_FOUND")
    assert_envelope(client.post(f"{DIALOGS}/no-such-dialog/stop-recording", headers=account.headers), 404, "NOT_FOUND")

    dialogs.ended(account.account_id, dialog.dialog_id, "NORMAL_HANGUP", "API")
    assert_envelope(send(client, "POST", start, account.headers, audio), 409, "CONFLICT")
    assert_envelope(client.post(stop, headers=account.headers), 409, "CONFLICT")


def test_bad_reads_are_clear_4xx(client, account):
    for query in ("size=500", "page=-1", "startTimeAfter=yesterday", "composition=perhaps", "callEndpointType=FAX"):
        assert_envelope(client.get(f"{RECORDINGS}/dialogs?{query}", headers=account.headers), 400, "BAD_REQUEST")
    for method, path in (
        ("GET", f"{RECORDINGS}/dialogs/nope"),
        ("DELETE", f"{RECORDINGS}/dialogs/nope"),
        ("POST", f"{RECORDINGS}/dialogs/nope/compose"),
    ):
        assert_envelope(client.request(method, path, headers=account.headers), 404, "NOT_FOUND")


def test_another_account_cannot_list_read_compose_delete_or_record(client, account, other_account, dialog, tmp_path):
    files = recorded(account, dialog, tmp_path, composition=False)
    others = other_account.headers
    assert body_of(client.get(f"{RECORDINGS}/dialogs", headers=others))["results"] == []
    assert body_of(client.get(f"{RECORDINGS}/dialogs?dialogId={dialog.dialog_id}", headers=others))["results"] == []
    for method, path in (
        ("GET", f"{RECORDINGS}/dialogs/{dialog.dialog_id}"),
        ("DELETE", f"{RECORDINGS}/dialogs/{dialog.dialog_id}"),
        ("POST", f"{RECORDINGS}/dialogs/{dialog.dialog_id}/compose"),
        ("POST", f"{DIALOGS}/{dialog.dialog_id}/stop-recording"),
        ("GET", f"{RECORDINGS}/files/{files[0]}"),
        ("DELETE", f"{RECORDINGS}/files/{files[0]}"),
    ):
        assert_envelope(client.request(method, path, headers=others), 404, "NOT_FOUND")
    start = send(client, "POST", f"{DIALOGS}/{dialog.dialog_id}/start-recording", others, {"recordingType": "AUDIO"})
    assert_envelope(start, 404, "NOT_FOUND")
    # all still there for the owner
    view = body_of(client.get(f"{RECORDINGS}/dialogs/{dialog.dialog_id}", headers=account.headers))
    assert len(view["callRecordings"]) == 2
    assert service.tombstones(account.account_id, "DIALOG", dialog.dialog_id) == []
