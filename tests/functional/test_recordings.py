"""Recordings through the HTTP API on moto: files stored the way the media node stores them (the same service and
repository calls), then listed, read, downloaded with `Range` (206 / 416), deleted with tombstones and composed;
another account sees none of it. Responses validate against Infobip's OpenAPI document."""

from __future__ import annotations

import io
import json
import wave
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from chalicelib.contract.control import StartRecordingRequest
from chalicelib.core import clock, ids
from chalicelib.recordings import repository, service
from chalicelib.recordings.wav import WavWriter
from tests.support.audio import band_energy, dominant_frequency
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator

DOC = "infobip-voice-openapi.json"
RECORDINGS = "/calls/1/recordings"


def tone_wav(path: Path, frequency: float, seconds: float) -> Path:
    samples = np.arange(int(48000 * seconds))
    pcm = (0.3 * 32767 * np.sin(2 * np.pi * frequency * samples / 48000)).astype(np.int16)
    writer = WavWriter(path)
    for start in range(0, len(pcm), 960):
        writer.write(pcm[start : start + 960])
    writer.close()
    return path


def record(
    account_id: str, scope: str, scope_id: str, tones: dict[str | None, float], folder: Path, **options: object
) -> list[str]:
    """Store one recording as the node does: started, stopped, each file uploaded and marked stored."""
    request = StartRecordingRequest.model_validate(
        {"accountId": account_id, "scope": scope, "scopeId": scope_id, "callsConfigurationId": "app-1", **options}
    )
    recording_id, start = ids.uuid_id(), clock.now()
    planned = [service.PlannedFile(ids.uuid_id(), call_id, start) for call_id in tones]
    service.recording_started(request, recording_id, planned, "node-test")
    end = start + timedelta(seconds=2)
    service.recording_stopped(account_id, recording_id, end)
    for file, frequency in zip(planned, tones.values(), strict=True):
        path = tone_wav(folder / f"{file.file_id}.wav", frequency, 2.0)
        key = repository.object_key(account_id, file.file_id, "WAV")
        repository.upload(path, key, "WAV")
        service.file_stored(
            account_id, file.file_id, object_key=key, size=path.stat().st_size, duration=2.0, end_time=end
        )
    return [file.file_id for file in planned]


def body_of(response):
    return json.loads(response.body)


def samples_of(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")


@pytest.fixture
def call_recording(account, tmp_path) -> tuple[str, str]:
    call_id = ids.uuid_id()
    (file_id,) = record(account.account_id, "CALL", call_id, {None: 1000.0}, tmp_path, customData={"crm": "42"})
    return call_id, file_id


def test_a_call_recording_is_listed_read_and_downloaded_in_infobips_shapes(client, account, call_recording):
    call_id, file_id = call_recording
    listed = client.get(f"{RECORDINGS}/calls", headers=account.headers)
    assert listed.status_code == 200, listed.body
    response_validator(DOC, "GET", f"{RECORDINGS}/calls", 200)(body_of(listed))
    page = body_of(listed)
    assert page["paging"]["totalResults"] == 1
    (found,) = page["results"]
    assert found["callId"] == call_id and found["status"] == "SUCCESSFUL"
    (file,) = found["files"]
    assert file["id"] == file_id and file["name"] == f"{file_id}.wav" and file["fileFormat"] == "WAV"
    assert file["location"] == "HOSTED" and file["duration"] == 2 and file["customData"] == {"crm": "42"}

    one = client.get(f"{RECORDINGS}/calls/{call_id}", headers=account.headers)
    response_validator(DOC, "GET", f"{RECORDINGS}/calls/{{callId}}", 200)(body_of(one))
    assert body_of(one)["files"] == found["files"]
    filtered = client.get(f"{RECORDINGS}/calls?callId=nope", headers=account.headers)
    assert body_of(filtered)["results"] == []

    whole = client.get(f"{RECORDINGS}/files/{file_id}", headers=account.headers)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "application/octet-stream"
    assert len(whole.body) == file["size"]
    assert abs(dominant_frequency(samples_of(whole.body)[:48000].tolist()) - 1000) < 20


def test_a_range_returns_exactly_the_asked_bytes_and_a_bad_range_is_416(client, account, call_recording):
    _, file_id = call_recording
    url = f"{RECORDINGS}/files/{file_id}"
    whole = client.get(url, headers=account.headers).body
    size = len(whole)
    for asked, first, last in (
        ("bytes=0-43", 0, 43),
        ("bytes=100-", 100, size - 1),
        ("bytes=-10", size - 10, size - 1),
    ):
        part = client.get(url, headers={**account.headers, "Range": asked})
        assert part.status_code == 206, (asked, part.body)
        assert part.body == whole[first : last + 1]
        assert part.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    for bad in (f"bytes={size}-", "bytes=9-3", "bytes=a-b", "items=0-1"):
        refused = client.get(url, headers={**account.headers, "Range": bad})
        assert_envelope(refused, 416, "REQUESTED_RANGE_NOT_SATISFIABLE")


def test_deleting_a_file_keeps_a_tombstone_and_the_file_is_gone(client, account, call_recording):
    call_id, file_id = call_recording
    deleted = client.delete(f"{RECORDINGS}/files/{file_id}", headers=account.headers)
    assert deleted.status_code == 200, deleted.body
    response_validator(DOC, "DELETE", f"{RECORDINGS}/files/{{fileId}}", 200)(body_of(deleted))
    assert body_of(deleted)["id"] == file_id
    assert_envelope(client.get(f"{RECORDINGS}/files/{file_id}", headers=account.headers), 404, "NOT_FOUND")
    assert_envelope(client.get(f"{RECORDINGS}/calls/{call_id}", headers=account.headers), 404, "NOT_FOUND")
    (tombstone,) = service.tombstones(account.account_id, "CALL", call_id)
    assert tombstone.file_id == file_id and tombstone.deleted_by and tombstone.deleted_at is not None
    assert tombstone.deleted_reason == "file deleted"
    assert repository.object_size(tombstone.object_key) is None  # the object is gone from S3


def test_deleting_a_calls_recordings_answers_what_was_deleted(client, account, tmp_path):
    call_id = ids.uuid_id()
    record(account.account_id, "CALL", call_id, {None: 500.0}, tmp_path)
    record(account.account_id, "CALL", call_id, {None: 700.0}, tmp_path)
    deleted = client.delete(f"{RECORDINGS}/calls/{call_id}", headers=account.headers)
    assert deleted.status_code == 200, deleted.body
    response_validator(DOC, "DELETE", f"{RECORDINGS}/calls/{{callId}}", 200)(body_of(deleted))
    assert len(body_of(deleted)["files"]) == 2
    assert len(service.tombstones(account.account_id, "CALL", call_id)) == 2
    assert body_of(client.get(f"{RECORDINGS}/calls", headers=account.headers))["results"] == []


def test_a_conference_recording_lists_participants_and_composes_them(client, account, tmp_path):
    conference_id = ids.uuid_id()
    ann, ben = ids.uuid_id(), ids.uuid_id()
    record(account.account_id, "CONFERENCE", conference_id, {ann: 600.0, ben: 1000.0}, tmp_path, composition=False)
    got = client.get(f"{RECORDINGS}/conferences/{conference_id}", headers=account.headers)
    assert got.status_code == 200, got.body
    response_validator(DOC, "GET", f"{RECORDINGS}/conferences/{{conferenceId}}", 200)(body_of(got))
    view = body_of(got)
    assert {r["callId"] for r in view["callRecordings"]} == {ann, ben} and view["composedFiles"] == []
    listed = client.get(f"{RECORDINGS}/conferences?callId={ann}", headers=account.headers)
    response_validator(DOC, "GET", f"{RECORDINGS}/conferences", 200)(body_of(listed))
    assert [r["conferenceId"] for r in body_of(listed)["results"]] == [conference_id]

    composed = client.post(f"{RECORDINGS}/conferences/{conference_id}/compose", headers=account.headers, body="{}")
    assert composed.status_code == 200 and body_of(composed) == {"status": "COMPLETED"}, composed.body
    view = body_of(client.get(f"{RECORDINGS}/conferences/{conference_id}", headers=account.headers))
    (file,) = view["composedFiles"]
    assert view["callRecordings"] == []  # deleteCallRecordings defaults to true: tombstones remain
    assert len(service.tombstones(account.account_id, "CONFERENCE", conference_id)) == 2
    mix = samples_of(client.get(f"{RECORDINGS}/files/{file['id']}", headers=account.headers).body)
    assert abs(len(mix) / 48000 - 2.0) < 0.05
    assert band_energy(mix[24000:72000].tolist(), 600) > 1e5 and band_energy(mix[24000:72000].tolist(), 1000) > 1e5


def test_another_account_cannot_list_read_download_or_delete(client, account, other_account, call_recording):
    call_id, file_id = call_recording
    others = other_account.headers
    assert body_of(client.get(f"{RECORDINGS}/calls", headers=others))["results"] == []
    assert_envelope(client.get(f"{RECORDINGS}/calls/{call_id}", headers=others), 404, "NOT_FOUND")
    assert_envelope(client.get(f"{RECORDINGS}/files/{file_id}", headers=others), 404, "NOT_FOUND")
    assert_envelope(
        client.get(f"{RECORDINGS}/files/{file_id}", headers={**others, "Range": "bytes=0-1"}), 404, "NOT_FOUND"
    )
    assert_envelope(client.delete(f"{RECORDINGS}/files/{file_id}", headers=others), 404, "NOT_FOUND")
    assert_envelope(client.delete(f"{RECORDINGS}/calls/{call_id}", headers=others), 404, "NOT_FOUND")
    assert client.get(f"{RECORDINGS}/files/{file_id}", headers=account.headers).status_code == 200


def test_bad_requests_are_clear_4xx(client, account):
    assert_envelope(
        client.post("/calls/1/calls/nope/start-recording", headers=account.headers, body="{}"), 404, "NOT_FOUND"
    )
    bad = client.post(
        "/calls/1/calls/nope/start-recording",
        headers={**account.headers, "Content-Type": "application/json"},
        body=json.dumps({"recording": {"recordingType": "AUDIO_ONLY"}}),
    )
    assert_envelope(bad, 400, "BAD_REQUEST")
    assert_envelope(client.get(f"{RECORDINGS}/calls?size=500", headers=account.headers), 400, "BAD_REQUEST")
    assert_envelope(
        client.get(f"{RECORDINGS}/calls?startTimeAfter=yesterday", headers=account.headers), 400, "BAD_REQUEST"
    )
    assert_envelope(client.post(f"{RECORDINGS}/conferences/nope/compose", headers=account.headers), 404, "NOT_FOUND")
    assert_envelope(client.get(f"{RECORDINGS}/files/{'x' * 200}", headers=account.headers), 404, "NOT_FOUND")


def test_recording_options_on_call_create_and_answer_are_checked(client, account):
    headers = {**account.headers, "Content-Type": "application/json"}
    create = {
        "endpoint": {"type": "WEBRTC", "identity": "bob-1"},
        "callsConfigurationId": "app-1",
        "recording": {"recordingType": "AUDIO", "filePrefix": "no spaces allowed"},
    }
    refused = assert_envelope(
        client.post("/calls/1/calls", headers=headers, body=json.dumps(create)), 400, "BAD_REQUEST"
    )
    assert "recording.filePrefix" in refused["validationErrors"]
    answer = {"recording": {"recordingType": "VIDEO"}}
    refused = assert_envelope(
        client.post("/calls/1/calls/some-call/answer", headers=headers, body=json.dumps(answer)), 400, "BAD_REQUEST"
    )
    assert "recording.recordingType" in refused["validationErrors"]
