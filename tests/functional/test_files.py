"""Audio files through the HTTP API on moto: WAV and MP3 uploads judged by their content, stored encrypted under the
account's prefix, listed with Infobip's paging, read and deleted; every bad upload is a clear 4xx in the envelope;
another account's file is unknown. Responses validate against Infobip's OpenAPI document."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.core import clock
from chalicelib.core.settings import get_settings
from chalicelib.files import MAX_FILE_BYTES, AudioFileNotFound, open_file
from tests.support.audio_files import form, make_mp3, make_wav
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator

DOC = "infobip-voice-openapi.json"
FILES = "/calls/1/files"
FILE = "/calls/1/files/{fileId}"
INFOBIP_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


def upload(client, account, data: bytes, filename: str = "prompt.wav", content_type: str = "audio/wav"):
    body, form_type = form(data, filename, content_type)
    return client.post(FILES, headers={**account.headers, "Content-Type": form_type}, body=body)


def body_of(response):
    return json.loads(response.body)


def s3_object(key: str) -> dict:
    return dict(boto3.client("s3").head_object(Bucket=get_settings().bucket, Key=key))


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_a_wav_is_uploaded_read_listed_and_deleted_in_infobips_shapes(client, account):
    wav = make_wav(seconds=3.0)
    created = upload(client, account, wav, "welcome.wav")
    assert created.status_code == 200, created.body
    response_validator(DOC, "POST", FILES, 200)(body_of(created))
    file = body_of(created)
    assert {key: file[key] for key in ("name", "fileFormat", "size", "duration")} == {
        "name": "welcome.wav",
        "fileFormat": "WAV",
        "size": len(wav),
        "duration": 3,
    }
    assert INFOBIP_DATETIME.match(file["creationTime"]) and INFOBIP_DATETIME.match(file["expirationTime"])
    lifetime = _parse(file["expirationTime"]) - _parse(file["creationTime"])
    assert timedelta(days=90) <= lifetime < timedelta(days=90, seconds=1)  # never less than Infobip's 90 days

    stored = s3_object(f"{account.account_id}/files/{file['id']}.wav")
    assert stored["ServerSideEncryption"] == "AES256"
    assert stored["ContentLength"] == len(wav)

    got = client.get(f"{FILES}/{file['id']}", headers=account.headers)
    response_validator(DOC, "GET", FILE, 200)(body_of(got))
    assert body_of(got) == file

    listed = client.get(FILES, headers=account.headers)
    response_validator(DOC, "GET", FILES, 200)(body_of(listed))
    assert body_of(listed) == {"results": [file], "paging": {"page": 0, "size": 20, "totalPages": 1, "totalResults": 1}}

    deleted = client.delete(f"{FILES}/{file['id']}", headers=account.headers)
    response_validator(DOC, "DELETE", FILE, 200)(body_of(deleted))
    assert body_of(deleted) == file
    assert_envelope(client.get(f"{FILES}/{file['id']}", headers=account.headers), 404, "NOT_FOUND")
    assert_envelope(client.delete(f"{FILES}/{file['id']}", headers=account.headers), 404, "NOT_FOUND")
    assert body_of(client.get(FILES, headers=account.headers))["results"] == []
    with pytest.raises(ClientError) as gone:
        s3_object(f"{account.account_id}/files/{file['id']}.wav")
    assert gone.value.response["Error"]["Code"] == "404"


def test_the_format_comes_from_the_content_not_the_name_or_content_type(client, account):
    mp3 = make_mp3(seconds=2.0)
    created = upload(client, account, mp3, "looks-like.wav", "audio/wav")
    assert created.status_code == 200, created.body
    file = body_of(created)
    assert (file["fileFormat"], file["duration"], file["name"]) == ("MP3", 2, "looks-like.wav")
    assert s3_object(f"{account.account_id}/files/{file['id']}.mp3")["ContentType"] == "audio/mpeg"


def test_open_file_gives_a_player_the_exact_bytes_and_format(client, account, other_account):
    mp3 = make_mp3(seconds=1.0)
    file = body_of(upload(client, account, mp3, "hold.mp3", "audio/mpeg"))
    assert open_file(account.account_id, file["id"]) == (mp3, "MP3")
    with pytest.raises(AudioFileNotFound):
        open_file(other_account.account_id, file["id"])
    with pytest.raises(AudioFileNotFound):
        open_file(account.account_id, "no-such-file")


def test_a_path_in_the_file_name_is_dropped_and_a_missing_name_becomes_the_id(client, account):
    named = body_of(upload(client, account, make_wav(seconds=1.0), "C:\\Users\\me\\prompts\\intro.wav"))
    assert named["name"] == "intro.wav"
    body = b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\n' + make_wav(seconds=1.0) + b"\r\n--x--\r\n"
    response = client.post(
        FILES, headers={**account.headers, "Content-Type": "multipart/form-data; boundary=x"}, body=body
    )
    assert response.status_code == 200, response.body
    assert body_of(response)["name"] == f"{body_of(response)['id']}.wav"


def test_files_are_listed_oldest_first_in_pages(client, account):
    ids = []
    for seconds in (1.0, 2.0, 3.0):
        ids.append(body_of(upload(client, account, make_wav(seconds=seconds), f"{seconds}.wav"))["id"])
        clock.shift(1)
    first = client.get(f"{FILES}?page=0&size=2", headers=account.headers)
    second = client.get(f"{FILES}?page=1&size=2", headers=account.headers)
    response_validator(DOC, "GET", FILES, 200)(body_of(second))
    assert [f["id"] for f in body_of(first)["results"]] == ids[:2]
    assert [f["id"] for f in body_of(second)["results"]] == ids[2:]
    assert body_of(second)["paging"] == {"page": 1, "size": 2, "totalPages": 2, "totalResults": 3}
    assert_envelope(client.get(f"{FILES}?size=101", headers=account.headers), 400, "BAD_REQUEST")
    assert_envelope(client.get(f"{FILES}?page=-1", headers=account.headers), 400, "BAD_REQUEST")


def test_a_file_unused_for_90_days_is_gone(client, account):
    file = body_of(upload(client, account, make_wav(seconds=1.0)))
    clock.shift(timedelta(days=90, seconds=1).total_seconds())
    assert_envelope(client.get(f"{FILES}/{file['id']}", headers=account.headers), 404, "NOT_FOUND")
    assert body_of(client.get(FILES, headers=account.headers))["results"] == []


def test_another_accounts_file_is_unknown(client, account, other_account):
    file = body_of(upload(client, account, make_wav(seconds=1.0)))
    for method in (client.get, client.delete):
        error = assert_envelope(method(f"{FILES}/{file['id']}", headers=other_account.headers), 404, "NOT_FOUND")
        assert file["id"] in error["text"]
    assert body_of(client.get(FILES, headers=other_account.headers))["results"] == []
    assert client.get(f"{FILES}/{file['id']}", headers=account.headers).status_code == 200


def test_unknown_and_absurd_ids_are_404(client, account):
    for file_id in ("no-such-file", "x" * 2000):
        assert_envelope(client.get(f"{FILES}/{file_id}", headers=account.headers), 404, "NOT_FOUND")
        assert_envelope(client.delete(f"{FILES}/{file_id}", headers=account.headers), 404, "NOT_FOUND")


def test_credentials_are_required(client, account):
    body, form_type = form(make_wav(seconds=1.0))
    assert_envelope(client.post(FILES, headers={"Content-Type": form_type}, body=body), 401, "UNAUTHORIZED")
    assert_envelope(client.get(FILES), 401, "UNAUTHORIZED")


# --- bad uploads: a clear 4xx in the envelope, and nothing stored ----------------------------------------------------


@pytest.fixture
def nothing_stored(client, account) -> Iterator[None]:
    yield
    assert body_of(client.get(FILES, headers=account.headers))["paging"]["totalResults"] == 0


@pytest.mark.usefixtures("nothing_stored")
def test_a_body_that_is_not_a_form_is_415(client, account):
    json_body = client.post(FILES, headers={**account.headers, "Content-Type": "application/json"}, body="{}")
    assert "multipart/form-data" in assert_envelope(json_body, 415, "UNSUPPORTED_MEDIA_TYPE")["text"]
    raw_wav = client.post(FILES, headers={**account.headers, "Content-Type": "audio/wav"}, body=make_wav(1.0))
    assert_envelope(raw_wav, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_envelope(client.post(FILES, headers=account.headers, body=b"x"), 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.usefixtures("nothing_stored")
def test_a_form_without_a_file_part_is_400_naming_the_field(client, account):
    body, form_type = form(make_wav(seconds=1.0), field="audio")
    error = assert_envelope(
        client.post(FILES, headers={**account.headers, "Content-Type": form_type}, body=body), 400, "BAD_REQUEST"
    )
    assert error["validationErrors"] == {"file": ["a part named 'file' is required"]}


@pytest.mark.usefixtures("nothing_stored")
def test_a_form_without_boundary_or_cut_off_is_400(client, account):
    no_boundary = client.post(FILES, headers={**account.headers, "Content-Type": "multipart/form-data"}, body=b"x")
    assert "boundary" in assert_envelope(no_boundary, 400, "BAD_REQUEST")["text"]
    body, form_type = form(make_wav(seconds=1.0))
    cut = client.post(FILES, headers={**account.headers, "Content-Type": form_type}, body=body[: len(body) // 2])
    assert "closing boundary" in assert_envelope(cut, 400, "BAD_REQUEST")["text"]


@pytest.mark.usefixtures("nothing_stored")
def test_a_text_file_named_wav_is_400(client, account):
    response = upload(client, account, b"This is not audio.\n" * 100, "notes.wav", "audio/wav")
    error = assert_envelope(response, 400, "BAD_REQUEST")
    assert "neither a WAV" in error["text"] and list(error["validationErrors"]) == ["file"]


@pytest.mark.usefixtures("nothing_stored")
def test_a_truncated_wav_is_400(client, account):
    wav = make_wav(seconds=2.0)
    error = assert_envelope(upload(client, account, wav[: len(wav) - 1000]), 400, "BAD_REQUEST")
    assert "truncated" in error["text"]


@pytest.mark.usefixtures("nothing_stored")
def test_an_mp3_that_does_not_decode_is_400(client, account):
    mp3 = make_mp3(seconds=3.0)
    broken = mp3[:2000] + bytes(range(256)) * 16 + mp3[6096:]
    error = assert_envelope(upload(client, account, broken, "broken.mp3", "audio/mpeg"), 400, "BAD_REQUEST")
    assert "does not decode" in error["text"]


@pytest.mark.usefixtures("nothing_stored")
def test_an_empty_file_is_400(client, account):
    assert "empty" in assert_envelope(upload(client, account, b""), 400, "BAD_REQUEST")["text"]


@pytest.mark.usefixtures("nothing_stored")
def test_a_file_over_the_limit_is_413(client, account):
    wav = make_wav(seconds=1.0)
    oversized = wav + b"\x00" * (MAX_FILE_BYTES + 1 - len(wav))
    error = assert_envelope(upload(client, account, oversized), 413, "PAYLOAD_TOO_LARGE")
    assert str(MAX_FILE_BYTES) in error["text"]
    huge_body = b"x" * (MAX_FILE_BYTES * 2)
    huge = client.post(
        FILES, headers={**account.headers, "Content-Type": "multipart/form-data; boundary=x"}, body=huge_body
    )
    assert_envelope(huge, 413, "PAYLOAD_TOO_LARGE")


def test_a_file_at_the_limit_is_accepted(client, account):
    frames = (MAX_FILE_BYTES - 44) // 2  # a 44-byte header, then 16-bit mono samples
    wav = make_wav(seconds=frames / 8000, sample_rate=8000)
    assert len(wav) == MAX_FILE_BYTES
    response = upload(client, account, wav)
    assert response.status_code == 200, response.body
    assert (body_of(response)["size"], body_of(response)["duration"]) == (MAX_FILE_BYTES, round(frames / 8000))
