"""Audio files on the running local stack: Infobip's official Python client (`infobip-api-python-client` 6.0.0),
unmodified, uploads, lists, reads and deletes them and its strict models accept every answer; a plain HTTP client's
multipart upload arrives byte for byte through the local front door, and bad uploads are 4xx in the envelope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from infobip_api_client import ApiClient, CallsApi, Configuration
from infobip_api_client.exceptions import ApiException, BadRequestException, NotFoundException
from infobip_api_client.models import CallsFileFormat

from chalicelib.files import MAX_FILE_BYTES
from tests.support.audio_files import make_mp3, make_wav
from tests.support.envelope import assert_envelope
from tests.support.stack import Stack, start_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = start_stack()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def calls(stack: Stack) -> CallsApi:
    # The client refuses http:// unless the host names localhost or 127.0.0.1, which the local stack does.
    return CallsApi(ApiClient(Configuration(host=stack.url, api_key=str(stack.ready["apiKey"]))))


def test_files_through_infobips_client(calls: CallsApi, tmp_path: Path):
    wav = make_wav(seconds=3.0)
    path = tmp_path / "greeting.wav"
    path.write_bytes(wav)
    uploaded = calls.upload_calls_audio_file(file=str(path))  # the client sends the file's own name
    assert (uploaded.name, uploaded.file_format, uploaded.size, uploaded.duration) == (
        "greeting.wav",
        CallsFileFormat.WAV,
        len(wav),
        3,
    )
    assert uploaded.id and uploaded.creation_time and uploaded.expiration_time
    assert timedelta(days=90) <= uploaded.expiration_time - uploaded.creation_time < timedelta(days=90, seconds=1)

    mp3 = calls.upload_calls_audio_file(file=make_mp3(seconds=2.0))  # bytes: the client names the part "file"
    assert (mp3.name, mp3.file_format, mp3.duration) == ("file", CallsFileFormat.MP3, 2)

    got = calls.get_calls_file(uploaded.id)
    assert got == uploaded

    page = calls.get_calls_files(page=0, size=1)
    assert page.paging is not None and (page.paging.size, page.paging.total_results) == (1, 2)
    assert page.results is not None and [file.id for file in page.results] == [uploaded.id]
    second = calls.get_calls_files(page=1, size=1)
    assert second.results is not None and [file.id for file in second.results] == [mp3.id]

    for file in (uploaded, mp3):
        assert calls.delete_calls_file(str(file.id)) == file
        with pytest.raises(NotFoundException):
            calls.get_calls_file(str(file.id))
    with pytest.raises(NotFoundException):
        calls.delete_calls_file(str(uploaded.id))


def test_the_client_sees_a_bad_upload_as_a_bad_request(calls: CallsApi):
    with pytest.raises(BadRequestException) as refused:
        calls.upload_calls_audio_file(file=b"plain text, not audio\n" * 50)
    assert refused.value.data is not None
    assert "neither a WAV" in refused.value.data.request_error.service_exception.text


def test_a_plain_http_multipart_upload_arrives_byte_for_byte(stack: Stack):
    wav = make_wav(seconds=1.0)
    with httpx.Client(base_url=stack.url, headers=stack.headers) as client:
        uploaded = client.post("/calls/1/files", files={"file": ("hold music.wav", wav, "audio/wav")})
        assert uploaded.status_code == 200, uploaded.text
        file = uploaded.json()
        assert (file["name"], file["size"], file["fileFormat"]) == ("hold music.wav", len(wav), "WAV")

        wrong_type = client.post("/calls/1/files", content=wav, headers={"Content-Type": "audio/wav"})
        assert_envelope(wrong_type, 415, "UNSUPPORTED_MEDIA_TYPE")
        too_large = client.post("/calls/1/files", files={"file": ("big.wav", b"\0" * (MAX_FILE_BYTES + 1))})
        assert_envelope(too_large, 413, "PAYLOAD_TOO_LARGE")
        truncated = client.post("/calls/1/files", files={"file": ("cut.wav", wav[:-100], "audio/wav")})
        assert "truncated" in assert_envelope(truncated, 400, "BAD_REQUEST")["text"]

        assert client.delete(f"/calls/1/files/{file['id']}").status_code == 200


def test_other_errors_reach_the_client_in_the_envelope(stack: Stack):
    other = CallsApi(ApiClient(Configuration(host=stack.url, api_key="sbk_not_a_key")))
    with pytest.raises(ApiException) as unauthorized:
        other.get_calls_files()
    assert unauthorized.value.status == 401
