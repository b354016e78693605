"""Recordings on the running local stack, driven by Infobip's official Python client (`infobip-api-python-client`
6.0.0, unmodified): it places a call to a Python-SDK party playing a 1 kHz tone, records it with start/stop
recording, lists the recording and downloads the file the media node stored: the same bytes as the object in (the
embedded) S3, holding the tone; a `Range` (the client's own `range` parameter) returns exactly the asked bytes, and an
unsatisfiable one is a 416.

Then the account gets an SFTP destination (a real asyncssh server on loopback) and a second recorded call travels
the whole pipeline the stack runs: the node's READY event on the outbox stream, the export queue, the export worker.
The zip arrives, the object leaves S3, and the client lists the file as SFTP / UPLOADED and can no longer download it.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import wave
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError
from infobip_api_client import CallsApi
from infobip_api_client.exceptions import ApiException, ConflictException, NotFoundException
from infobip_api_client.models import (
    CallEndpointType,
    CallRecording,
    CallRecordingPage,
    CallRequest,
    CallsConfigurationCreateRequest,
    CallsHangupRequest,
    CallsRecordingFileLocation,
    CallsRecordingRequest,
    CallsRecordingStartRequest,
    CallsRecordingType,
    CallsSftpUploadStatus,
    CallsWebRtcEndpoint,
)

from switchboard_rtc import RtcClient, ToneSource
from tests.functional.test_recording_export import SFTP_PASSWORD, SFTP_PATH, SFTP_USER, SftpServer
from tests.integration.test_calls_client import calls, keeps_every_field, off_loop, stack, token  # noqa: F401
from tests.support.audio import dominant_frequency
from tests.support.stack import Stack

TONE_HZ = 1000
CONFIGURATION = "rec-client"


def s3(running: Stack) -> Any:
    environment = running.aws_environment()
    return boto3.client(
        "s3",
        endpoint_url=environment["AWS_ENDPOINT_URL"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )


def stored_key(running: Stack, file_id: str) -> str:
    return f"recordings/{running.ready['accountId']}/{file_id}.wav"


def stored_object(running: Stack, file_id: str) -> bytes | None:
    try:
        response = s3(running).get_object(
            Bucket=f"{running.ready['tablePrefix']}media", Key=stored_key(running, file_id)
        )
    except ClientError as error:
        assert error.response["Error"]["Code"] in ("404", "NoSuchKey"), error
        return None
    return bytes(response["Body"].read())


async def recorded_call(stack: Stack, calls: CallsApi, identity: str, seconds: float = 2.0) -> str:  # noqa: F811
    """A call from the client to an SDK party sending a tone, recorded for about `seconds`; returns its id once the
    recording's file is listed (stored)."""
    client = await RtcClient.connect(None, token(stack, identity))
    try:
        request = CallRequest(
            endpoint=CallsWebRtcEndpoint(identity=identity, type=CallEndpointType.WEBRTC),
            callsConfigurationId=CONFIGURATION,
        )
        request.var_from = "Recorder"
        created = await off_loop(calls.create_call, request)
        assert created.id is not None
        incoming = await asyncio.wait_for(client.incoming_calls.get(), 10)
        await incoming.accept(audio_source=ToneSource(TONE_HZ))
        await incoming.media_connected()
        await asyncio.sleep(0.5)
        start = CallsRecordingStartRequest(
            recording=CallsRecordingRequest(recordingType=CallsRecordingType.AUDIO, customData={"ticket": "T-9"})
        )
        await off_loop(calls.call_start_recording, created.id, start)
        await asyncio.sleep(seconds)
        await off_loop(calls.call_stop_recording, created.id)
        await wait_until_listed(calls, created.id)
        await off_loop(calls.hangup_call, created.id, CallsHangupRequest())
        await incoming.ended()
        return str(created.id)
    finally:
        await client.close()


async def wait_until_listed(calls: CallsApi, call_id: str, timeout: float = 60.0) -> CallRecording:  # noqa: F811
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            recording = await off_loop(calls.get_call_recordings, call_id)
        except NotFoundException:
            recording = None
        if recording is not None and recording.files:
            return recording
        await asyncio.sleep(0.3)
    raise AssertionError(f"the recording of {call_id} was never listed")


async def eventually_exported(calls: CallsApi, call_id: str, timeout: float = 60.0) -> Any:  # noqa: F811
    deadline = time.monotonic() + timeout
    file = None
    while time.monotonic() < deadline:
        (file,) = (await off_loop(calls.get_call_recordings, call_id)).files or []
        if file.sftp_upload_status in (CallsSftpUploadStatus.UPLOADED, CallsSftpUploadStatus.FAILED):
            return file
        await asyncio.sleep(0.3)
    raise AssertionError(f"the export never finished: {file}")


def tone_of(wav_bytes: bytes) -> float:
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    middle = len(samples) // 2
    return dominant_frequency(samples[middle - 12000 : middle + 12000].tolist())


@pytest.fixture(scope="module")
def configuration(calls: CallsApi) -> str:  # noqa: F811
    calls.create_calls_configuration(CallsConfigurationCreateRequest(id=CONFIGURATION, name=CONFIGURATION))
    return CONFIGURATION


@pytest.fixture
def sftp(tmp_path: Path) -> Iterator[SftpServer]:
    root = tmp_path / "sftp-root"
    (root / SFTP_PATH.strip("/")).mkdir(parents=True)
    server = SftpServer(root).start()
    yield server
    server.stop()


@pytest.mark.asyncio
async def test_the_client_lists_a_recording_and_downloads_the_stored_bytes_and_ranges(
    stack: Stack,  # noqa: F811
    calls: CallsApi,  # noqa: F811
    configuration: str,
):
    call_id = await recorded_call(stack, calls, "rita")

    listed = keeps_every_field(
        CallRecordingPage, await off_loop(calls.get_calls_recordings_without_preload_content, call_id=call_id)
    )
    (recording,) = listed.results
    one = keeps_every_field(CallRecording, await off_loop(calls.get_call_recordings_without_preload_content, call_id))
    assert recording == one and recording.call_id == call_id
    assert recording.calls_configuration_id == configuration
    (file,) = recording.files
    assert (file.location, file.custom_data, file.name) == (
        CallsRecordingFileLocation.HOSTED,
        {"ticket": "T-9"},
        f"{file.id}.wav",
    )

    stored = stored_object(stack, file.id)
    assert stored is not None and len(stored) == file.size
    downloaded = await off_loop(calls.download_recording_file, file.id)
    assert bytes(downloaded) == stored
    assert abs(tone_of(stored) - TONE_HZ) < 20  # what the SDK party sent

    size = len(stored)
    for asked, first, last in (
        ("bytes=0-43", 0, 43),
        ("bytes=1000-4999", 1000, 4999),
        ("bytes=-700", size - 700, size - 1),
    ):
        part = await off_loop(calls.download_recording_file, file.id, range=asked)
        assert bytes(part) == stored[first : last + 1], asked
    with pytest.raises(ApiException) as refused:
        await off_loop(calls.download_recording_file, file.id, range=f"bytes={size}-")
    assert refused.value.status == 416

    # The status line and Content-Range the client does not show, seen with the same API key over plain HTTP.
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers) as api:
        plain = await api.get(f"/calls/1/recordings/files/{file.id}", headers={"Range": "bytes=10-19"})
    assert (plain.status_code, plain.headers["Content-Range"], plain.content) == (
        206,
        f"bytes 10-19/{size}",
        stored[10:20],
    )


@pytest.mark.asyncio
async def test_a_recording_on_the_stack_is_exported_over_sftp_and_leaves_s3(
    stack: Stack,  # noqa: F811
    calls: CallsApi,  # noqa: F811
    configuration: str,
    sftp: SftpServer,
    tmp_path: Path,
):
    destination = {
        "host": "127.0.0.1",
        "port": sftp.port,
        "path": SFTP_PATH,
        "username": SFTP_USER,
        "password": SFTP_PASSWORD,
        "hostKeyFingerprint": sftp.fingerprint_line(tmp_path),
    }
    async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers) as api:
        configured = await api.put("/accounts/1/recording-export/sftp", json=destination)
    assert configured.status_code == 200, configured.text
    try:
        call_id = await recorded_call(stack, calls, "sven")
        file = await eventually_exported(calls, call_id)
        assert (file.location, file.sftp_upload_status) == (
            CallsRecordingFileLocation.SFTP,
            CallsSftpUploadStatus.UPLOADED,
        )

        zipped = sftp.root / SFTP_PATH.strip("/") / f"{file.id}.zip"
        assert [path.name for path in zipped.parent.iterdir()] == [zipped.name]
        with zipfile.ZipFile(zipped) as archive:
            media = archive.read(f"{file.id}.wav")
            described = json.loads(archive.read(f"{file.id}.json"))
        assert len(media) == file.size and abs(tone_of(media) - TONE_HZ) < 20
        assert (described["callId"], described["customData"]) == (call_id, {"ticket": "T-9"})
        assert stored_object(stack, file.id) is None  # gone from S3
        with pytest.raises(ConflictException):
            await off_loop(calls.download_recording_file, file.id)
    finally:
        async with httpx.AsyncClient(base_url=stack.url, headers=stack.headers) as api:
            await api.delete("/accounts/1/recording-export/sftp")
