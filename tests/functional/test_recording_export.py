"""The SFTP export worker against a real SFTP server on loopback (asyncssh's server: a temporary ed25519 host key, a
password user, a temporary directory as its root), fed through a real SQS queue and reading media from the media
bucket (both moto).

The recordings domain's side of the seam (`RecordingFiles`) is played by `BucketRecordingFiles` below: its media
lives in the real bucket, its records in memory, so the tests can see what the exporter reported.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import socket
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.core.settings import get_settings, reset_settings_cache
from chalicelib.recording_export import exporter
from chalicelib.recording_export.recording_files import ExportableFile, ExportReport
from chalicelib.recording_export.retry import RetryPolicy
from infra.local.pump import queue_message_to_lambda, settle
from tests.support.payloads import JSON, dumps

SFTP_PATH = "/recordings"
SFTP_USER = "archivist"
SFTP_PASSWORD = "Sftp-pa55-9e1d"


# --- a real SFTP server on loopback -------------------------------------------------------------------


class SftpServer:
    """asyncssh's SSH + SFTP server in its own thread and event loop, chrooted to `root`."""

    def __init__(self, root: Path):
        self.root = root
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.logins: list[tuple[str, bool]] = []  # (user name, accepted) per password attempt
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    def start(self) -> SftpServer:
        self.thread.start()
        self.acceptor = asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(10)
        self.port = self.acceptor.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.acceptor.close()
        asyncio.run_coroutine_threadsafe(self.acceptor.wait_closed(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _listen(self) -> asyncssh.SSHAcceptor:
        logins = self.logins

        class PasswordServer(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                accepted = username == SFTP_USER and password == SFTP_PASSWORD
                logins.append((username, accepted))
                return accepted

        root = os.fsencode(self.root)
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[self.host_key],
            server_factory=PasswordServer,
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=root),
        )

    def fingerprint_line(self, tmp_path: Path) -> str:
        """The host key's fingerprint exactly as `ssh-keygen -lf` prints it (a whole line)."""
        public = tmp_path / "host_key.pub"
        self.host_key.write_public_key(str(public))
        return subprocess.run(["ssh-keygen", "-lf", str(public)], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpServer]:
    root = tmp_path / "sftp-root"
    (root / SFTP_PATH.strip("/")).mkdir(parents=True)
    server = SftpServer(root).start()
    yield server
    server.stop()


# --- the recordings domain's side of the seam -----------------------------------------------------------


@dataclass
class StoredFile:
    key: str
    extension: str
    prefix: str | None
    metadata: dict[str, Any]
    size: int
    location: str = "HOSTED"
    reports: list[ExportReport] = field(default_factory=list)


class BucketRecordingFiles:
    """`RecordingFiles` over the media bucket: what the recordings domain will implement with its records."""

    def __init__(self) -> None:
        self.s3 = boto3.client("s3")
        self.bucket = get_settings().bucket
        self.files: dict[tuple[str, str], StoredFile] = {}

    def store(self, account_id: str, media: bytes, extension: str = "wav", prefix: str | None = None) -> str:
        file_id = secrets.token_hex(12)
        key = f"{account_id}/recordings/{file_id}.{extension}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=media)
        metadata = {"fileId": file_id, "callId": "call-1", "customData": {"agent": "7"}, "duration": 3}
        self.files[(account_id, file_id)] = StoredFile(key, extension, prefix, metadata, len(media))
        return file_id

    def object_exists(self, account_id: str, file_id: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self.files[(account_id, file_id)].key)
        except ClientError as error:
            assert error.response["Error"]["Code"] in ("404", "NoSuchKey")
            return False
        return True

    def exportable(self, account_id: str, file_id: str) -> ExportableFile | None:
        stored = self.files.get((account_id, file_id))
        if stored is None or stored.location != "HOSTED":
            return None
        return ExportableFile(
            file_id=file_id,
            account_id=account_id,
            extension=stored.extension,
            open_media=lambda: self.s3.get_object(Bucket=self.bucket, Key=stored.key)["Body"],
            metadata=stored.metadata,
            file_prefix=stored.prefix,
            size=stored.size,
        )

    def report(self, account_id: str, file_id: str, report: ExportReport) -> None:
        stored = self.files[(account_id, file_id)]
        stored.reports.append(report)
        if report.status == "UPLOADED":
            stored.location = "SFTP"

    def delete_media(self, account_id: str, file_id: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self.files[(account_id, file_id)].key)


@pytest.fixture
def files(embedded_aws: str) -> BucketRecordingFiles:
    return BucketRecordingFiles()


@dataclass
class ExportQueue:
    url: str
    arn: str

    def __post_init__(self) -> None:
        self.sqs = boto3.client("sqs")

    def send(self, account_id: str, file_id: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps({"accountId": account_id, "fileId": file_id}))

    def send_raw(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def receive(self) -> list[dict[str, Any]]:
        return self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )

    def run(self, files: BucketRecordingFiles, policy: RetryPolicy | None = None) -> dict[str, Any]:
        """One Lambda invocation over what the queue holds now, settled the way Lambda settles it."""
        received = self.receive()
        assert received, "the queue held no message"
        event = {"Records": [queue_message_to_lambda(m, self.arn, "us-east-1") for m in received]}
        result = exporter.handle(event, files, self.url, *([policy] if policy else []))
        settle(self.sqs, self.url, received, result)
        return result


@pytest.fixture
def export_queue(embedded_aws: str) -> ExportQueue:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"test-recording-exports-{secrets.token_hex(4)}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return ExportQueue(url, arn)


def configure(client, account, server: SftpServer, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    body = {
        "host": "127.0.0.1",
        "port": server.port,
        "path": SFTP_PATH,
        "username": SFTP_USER,
        "password": SFTP_PASSWORD,
        "hostKeyFingerprint": server.fingerprint_line(tmp_path),
        **overrides,
    }
    response = client.put("/accounts/1/recording-export/sftp", headers={**account.headers, **JSON}, body=dumps(body))
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def arrived(server: SftpServer) -> list[str]:
    return sorted(path.name for path in (server.root / SFTP_PATH.strip("/")).iterdir())


def media_bytes(size: int) -> bytes:
    return os.urandom(size)


# --- exports that succeed -----------------------------------------------------------------------------


def test_a_recording_arrives_as_a_zip_of_media_and_metadata_and_leaves_s3(
    client, account, sftp_server, tmp_path, files, export_queue
):
    configure(client, account, sftp_server, tmp_path)
    media = media_bytes(3 * 1024 * 1024 + 123)  # several read and write chunks
    file_id = files.store(account.account_id, media)
    export_queue.send(account.account_id, file_id)

    assert export_queue.run(files) == {"batchItemFailures": []}

    assert arrived(sftp_server) == [f"{file_id}.zip"]  # and no partial file left behind
    with zipfile.ZipFile(sftp_server.root / SFTP_PATH.strip("/") / f"{file_id}.zip") as archive:
        assert sorted(archive.namelist()) == [f"{file_id}.json", f"{file_id}.wav"]
        assert archive.read(f"{file_id}.wav") == media
        assert json.loads(archive.read(f"{file_id}.json")) == files.files[(account.account_id, file_id)].metadata
        assert archive.testzip() is None

    stored = files.files[(account.account_id, file_id)]
    assert [(r.status, r.attempts) for r in stored.reports] == [("UPLOADING", 1), ("UPLOADED", 1)]
    assert stored.reports[-1].remote_path == f"{SFTP_PATH}/{file_id}.zip"
    assert stored.location == "SFTP"
    assert not files.object_exists(account.account_id, file_id)
    assert export_queue.receive() == []  # consumed
    assert sftp_server.logins == [(SFTP_USER, True)]


def test_a_file_prefix_names_the_zip_and_the_files_in_it(client, account, sftp_server, tmp_path, files, export_queue):
    configure(client, account, sftp_server, tmp_path)
    media = media_bytes(40_000)
    file_id = files.store(account.account_id, media, extension="mp4", prefix="conf-42_agent-7")
    export_queue.send(account.account_id, file_id)
    export_queue.run(files)

    assert arrived(sftp_server) == ["conf-42_agent-7.zip"]
    with zipfile.ZipFile(sftp_server.root / SFTP_PATH.strip("/") / "conf-42_agent-7.zip") as archive:
        assert sorted(archive.namelist()) == ["conf-42_agent-7.json", "conf-42_agent-7.mp4"]
        assert archive.read("conf-42_agent-7.mp4") == media


def test_files_sharing_a_prefix_never_overwrite_each_others_zip(
    client, account, sftp_server, tmp_path, files, export_queue
):
    """A conference's participants (or repeated start/stop) share one prefix: the first zip takes the prefix's name,
    the others add their file id, and nothing on the server is replaced."""
    configure(client, account, sftp_server, tmp_path)
    first, second = media_bytes(20_000), media_bytes(30_000)
    first_id = files.store(account.account_id, first, prefix="conf-42")
    export_queue.send(account.account_id, first_id)
    export_queue.run(files)
    second_id = files.store(account.account_id, second, prefix="conf-42")
    export_queue.send(account.account_id, second_id)
    export_queue.run(files)

    assert arrived(sftp_server) == sorted(["conf-42.zip", f"conf-42_{second_id}.zip"])
    directory = sftp_server.root / SFTP_PATH.strip("/")
    with zipfile.ZipFile(directory / "conf-42.zip") as archive:
        assert archive.read("conf-42.wav") == first
    with zipfile.ZipFile(directory / f"conf-42_{second_id}.zip") as archive:
        assert archive.read("conf-42.wav") == second
    reports = files.files[(account.account_id, second_id)].reports
    assert reports[-1].remote_path == f"{SFTP_PATH}/conf-42_{second_id}.zip"


def test_a_prefix_cannot_name_a_path_outside_the_directory(client, account, sftp_server, tmp_path, files, export_queue):
    configure(client, account, sftp_server, tmp_path)
    file_id = files.store(account.account_id, b"RIFF-audio", prefix="../../outside/x y")
    export_queue.send(account.account_id, file_id)
    export_queue.run(files)
    assert arrived(sftp_server) == ["outside_x_y.zip"]
    assert sorted(p.name for p in sftp_server.root.iterdir()) == [SFTP_PATH.strip("/")]


def test_an_exported_file_is_not_sent_twice(client, account, sftp_server, tmp_path, files, export_queue):
    configure(client, account, sftp_server, tmp_path)
    file_id = files.store(account.account_id, b"once")
    export_queue.send(account.account_id, file_id)
    export_queue.send(account.account_id, file_id)  # a duplicate delivery
    export_queue.run(files)
    statuses = [r.status for r in files.files[(account.account_id, file_id)].reports]
    assert statuses == ["UPLOADING", "UPLOADED"]
    assert len(sftp_server.logins) == 1


# --- exports that fail --------------------------------------------------------------------------------


def test_a_wrong_host_key_fails_before_any_credential_is_sent(
    client, account, sftp_server, tmp_path, files, export_queue
):
    impostor = asyncssh.generate_private_key("ssh-ed25519").get_fingerprint("sha256")
    configure(client, account, sftp_server, tmp_path, hostKeyFingerprint=impostor)
    file_id = files.store(account.account_id, b"secret audio")
    export_queue.send(account.account_id, file_id)

    assert export_queue.run(files) == {"batchItemFailures": []}  # not retried: the configuration must change

    failure = files.files[(account.account_id, file_id)].reports[-1]
    assert (failure.status, failure.reason, failure.retry_in_seconds) == ("FAILED", "HOST_KEY_MISMATCH", None)
    assert impostor in failure.detail and sftp_server.host_key.get_fingerprint("sha256") in failure.detail
    assert sftp_server.logins == []  # the password never reached the server
    assert arrived(sftp_server) == []
    assert files.object_exists(account.account_id, file_id)
    assert files.files[(account.account_id, file_id)].location == "HOSTED"


def test_a_wrong_password_fails_visibly_and_sends_nothing(client, account, sftp_server, tmp_path, files, export_queue):
    configure(client, account, sftp_server, tmp_path, password="not-the-password")
    file_id = files.store(account.account_id, b"audio")
    export_queue.send(account.account_id, file_id)
    export_queue.run(files)

    failure = files.files[(account.account_id, file_id)].reports[-1]
    assert (failure.status, failure.reason, failure.retry_in_seconds) == ("FAILED", "AUTHENTICATION_FAILED", None)
    assert SFTP_USER in failure.detail and "not-the-password" not in failure.detail
    assert sftp_server.logins and all(not accepted for _, accepted in sftp_server.logins)
    assert arrived(sftp_server) == []
    assert files.object_exists(account.account_id, file_id)


def test_a_missing_directory_is_reported_by_name(client, account, sftp_server, tmp_path, files, export_queue):
    configure(client, account, sftp_server, tmp_path, path="/no/such/dir")
    file_id = files.store(account.account_id, b"audio")
    export_queue.send(account.account_id, file_id)
    export_queue.run(files)

    failure = files.files[(account.account_id, file_id)].reports[-1]
    assert (failure.status, failure.reason) == ("FAILED", "PATH_NOT_FOUND")
    assert "/no/such/dir" in failure.detail
    assert files.object_exists(account.account_id, file_id)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_server_is_retried_with_backoff_until_attempts_run_out(
    client, account, sftp_server, tmp_path, files, export_queue
):
    configure(client, account, sftp_server, tmp_path, port=closed_port())
    file_id = files.store(account.account_id, b"audio")
    export_queue.send(account.account_id, file_id)
    policy = RetryPolicy(max_attempts=2, base_seconds=1, max_delay_seconds=1)

    first = export_queue.run(files, policy)
    assert len(first["batchItemFailures"]) == 1  # handed back to SQS
    failure = files.files[(account.account_id, file_id)].reports[-1]
    assert (failure.status, failure.reason, failure.attempts, failure.retry_in_seconds) == (
        "FAILED",
        "UNREACHABLE",
        1,
        1,
    )
    assert "127.0.0.1" in failure.detail
    assert export_queue.receive() == []  # hidden for the backoff

    again = wait_for_message(export_queue)
    event = {"Records": [queue_message_to_lambda(m, export_queue.arn, "us-east-1") for m in again]}
    last = exporter.handle(event, files, export_queue.url, policy)
    settle(export_queue.sqs, export_queue.url, again, last)
    assert last == {"batchItemFailures": []}  # out of attempts: consumed
    final = files.files[(account.account_id, file_id)].reports[-1]
    assert (final.status, final.reason, final.attempts, final.retry_in_seconds) == ("FAILED", "UNREACHABLE", 2, None)
    assert files.object_exists(account.account_id, file_id)


def wait_for_message(queue: ExportQueue, seconds: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        received = queue.receive()
        if received:
            return received
        time.sleep(0.2)
    raise AssertionError("the retried message never came back")


@pytest.fixture
def loopback_refused() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "false")
        reset_settings_cache()
        yield
    reset_settings_cache()


def test_a_destination_the_policy_now_refuses_is_never_dialled(
    client, account, sftp_server, tmp_path, files, export_queue, request
):
    configure(client, account, sftp_server, tmp_path)
    file_id = files.store(account.account_id, b"audio")
    export_queue.send(account.account_id, file_id)
    request.getfixturevalue("loopback_refused")  # the operator tightened the policy after configuration
    export_queue.run(files)

    failure = files.files[(account.account_id, file_id)].reports[-1]
    assert (failure.status, failure.reason) == ("FAILED", "DESTINATION_REFUSED")
    assert sftp_server.logins == []
    assert files.object_exists(account.account_id, file_id)


# --- files that are skipped ---------------------------------------------------------------------------


def test_without_an_enabled_destination_nothing_is_exported(
    client, account, sftp_server, tmp_path, files, export_queue
):
    file_id = files.store(account.account_id, b"audio")
    export_queue.send(account.account_id, file_id)
    assert export_queue.run(files) == {"batchItemFailures": []}
    assert files.files[(account.account_id, file_id)].reports == []

    configure(client, account, sftp_server, tmp_path, enabled=False)
    export_queue.send(account.account_id, file_id)
    export_queue.run(files)
    assert files.files[(account.account_id, file_id)].reports == []
    assert files.object_exists(account.account_id, file_id)
    assert sftp_server.logins == []


def test_another_accounts_destination_is_never_used(
    client, account, other_account, sftp_server, tmp_path, files, export_queue
):
    configure(client, account, sftp_server, tmp_path)
    file_id = files.store(other_account.account_id, b"theirs")
    export_queue.send(other_account.account_id, file_id)
    export_queue.run(files)
    assert files.files[(other_account.account_id, file_id)].reports == []
    assert arrived(sftp_server) == [] and sftp_server.logins == []


def test_a_message_that_is_not_an_export_request_is_dropped(files, export_queue):
    export_queue.send_raw("not json")
    export_queue.send_raw(json.dumps({"accountId": "a"}))
    assert export_queue.run(files) == {"batchItemFailures": []}
    assert export_queue.receive() == []


def test_an_archive_is_built_without_holding_the_media_in_one_read():
    reads: list[int] = []

    class CountingStream(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            reads.append(size if size is not None else -1)
            return super().read(size)

    from chalicelib.recording_export.archive import CHUNK_BYTES, build_archive

    media = os.urandom(CHUNK_BYTES * 2 + 5)
    file = ExportableFile("f1", "a1", "wav", open_media=lambda: CountingStream(media), metadata={"k": "v"})
    with build_archive(file) as built, zipfile.ZipFile(built) as archive:
        assert archive.read("f1.wav") == media
    assert reads and all(size == CHUNK_BYTES for size in reads)


def test_the_retry_schedule_doubles_from_a_minute_up_to_an_hour_for_eight_attempts():
    from chalicelib.recording_export.retry import retry_delay

    assert [retry_delay(attempt) for attempt in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, None]
    assert retry_delay(3, RetryPolicy(max_attempts=3)) is None
    with pytest.raises(ValueError):
        retry_delay(0)
