"""AUDIO_AND_VIDEO recordings through the HTTP API on moto: an `.mp4` written by the node's MP4 writer and stored as
the node stores it is listed as `fileFormat` MP4 named `fileId.mp4`, downloads byte for byte (and by `Range`) and
decodes with both streams; a conference's AUDIO_AND_VIDEO recording is checked like an AUDIO one."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import av
import numpy as np

from chalicelib.contract.control import StartRecordingRequest
from chalicelib.core import clock, ids
from chalicelib.recordings import repository, service
from switchboard_media.recording.mp4 import Mp4Writer
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator

DOC = "infobip-voice-openapi.json"
RECORDINGS = "/calls/1/recordings"


def written_mp4(path: Path, frequency: float, seconds: float) -> Path:
    """An MP4 as the node writes one: a tick of audio every 20 ms (a tone), no camera (a black picture)."""
    writer = Mp4Writer(path, slots=1)
    ticks = round(seconds / 0.02)
    for tick in range(ticks):
        samples = np.arange(tick * 960, (tick + 1) * 960)
        writer.audio((0.3 * 32767 * np.sin(2 * np.pi * frequency * samples / 48000)).astype(np.int16))
    writer.close(seconds).result(timeout=30)
    return path


def stored_video_recording(account_id: str, call_id: str, folder: Path) -> tuple[str, bytes]:
    request = StartRecordingRequest(
        accountId=account_id, scope="CALL", scopeId=call_id, recordingType="AUDIO_AND_VIDEO", callsConfigurationId="c"
    )
    recording_id, start = ids.uuid_id(), clock.now()
    planned = service.PlannedFile(ids.uuid_id(), None, start)
    service.recording_started(request, recording_id, [planned], "node-test")
    end = start + timedelta(seconds=2)
    service.recording_stopped(account_id, recording_id, end)
    path = written_mp4(folder / f"{planned.file_id}.mp4", 1000.0, 2.0)
    key = repository.object_key(account_id, planned.file_id, "MP4")
    repository.upload(path, key, "MP4")
    service.file_stored(
        account_id, planned.file_id, object_key=key, size=path.stat().st_size, duration=2.0, end_time=end
    )
    return planned.file_id, path.read_bytes()


def test_a_video_recording_is_listed_as_mp4_and_downloads_whole_and_by_range(client, account, tmp_path):
    call_id = ids.uuid_id()
    file_id, written = stored_video_recording(account.account_id, call_id, tmp_path)
    one = client.get(f"{RECORDINGS}/calls/{call_id}", headers=account.headers)
    assert one.status_code == 200, one.body
    response_validator(DOC, "GET", f"{RECORDINGS}/calls/{{callId}}", 200)(json.loads(one.body))
    (file,) = json.loads(one.body)["files"]
    assert (file["id"], file["name"], file["fileFormat"], file["duration"]) == (file_id, f"{file_id}.mp4", "MP4", 2)

    whole = client.get(f"{RECORDINGS}/files/{file_id}", headers=account.headers)
    assert whole.status_code == 200 and len(whole.body) == file["size"]
    assert whole.headers["Content-Disposition"] == f'attachment; filename="{file_id}.mp4"'
    assert whole.body == written
    with av.open(io.BytesIO(whole.body), mode="r") as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
        assert container.duration is not None and abs(container.duration / 1_000_000 - 2.0) < 0.1
    part = client.get(f"{RECORDINGS}/files/{file_id}", headers={**account.headers, "Range": "bytes=4-11"})
    assert part.status_code == 206 and part.body == written[4:12] and part.body.startswith(b"ftyp")


def test_recording_a_conference_with_video_is_checked_like_audio(client, account):
    """AUDIO_AND_VIDEO is no longer refused for conferences: the request goes as far as an AUDIO one (an unknown
    conference is a 404 either way), and a recording type that is neither is a 400 naming the field."""
    headers = {**account.headers, "Content-Type": "application/json"}
    for recording_type in ("AUDIO", "AUDIO_AND_VIDEO"):
        unknown = client.post(
            f"/calls/1/conferences/{ids.uuid_id()}/start-recording",
            headers=headers,
            body=json.dumps({"recordingType": recording_type}),
        )
        assert_envelope(unknown, 404, "NOT_FOUND")
    refused = client.post(
        f"/calls/1/conferences/{ids.uuid_id()}/start-recording",
        headers=headers,
        body=json.dumps({"recordingType": "VIDEO"}),
    )
    assert "recordingType" in assert_envelope(refused, 400, "BAD_REQUEST")["validationErrors"]
