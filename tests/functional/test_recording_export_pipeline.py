"""The SFTP export wired end to end on the embedded AWS: recordings stored the way the media node stores them (the
recordings service and repository), the outbox stream's real records handed to the app's `queue_recording_exports`
function, the export queue's real messages to its `export_recordings` function (as Lambda and the local pump do),
and a real SFTP server on loopback (asyncssh). What the exporter did is read back through the Calls recordings API,
the bucket and the server's directory.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import boto3
import pytest
from botocore.exceptions import ClientError
from chalice.local import LambdaContext

from chalicelib.core import ids
from chalicelib.core.settings import get_settings
from chalicelib.recordings import repository
from infra.local.pump import queue_message_to_lambda, settle, stream_record_to_lambda
from tests.functional.test_recording_export import SFTP_PATH, arrived, closed_port, configure, sftp_server
from tests.functional.test_recordings import record
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator

__all__ = ["sftp_server"]  # the loopback SFTP server fixture

DOC = "infobip-voice-openapi.json"
RECORDINGS = "/calls/1/recordings"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class Pipeline:
    """The two consumers, fed the way their event-source mappings feed them."""

    functions: dict[str, Handler]
    stream_arn: str
    iterators: dict[str, str]

    def __post_init__(self) -> None:
        self.streams = boto3.client("dynamodbstreams")
        self.sqs = boto3.client("sqs")
        self.queue_url = get_settings().recording_export_queue_url
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def outbox_records(self, account_id: str) -> list[dict[str, Any]]:
        """The account's outbox records written since the last call, as Lambda's stream trigger delivers them."""
        found = []
        for shard, iterator in list(self.iterators.items()):
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            self.iterators[shard] = response["NextShardIterator"]
            for raw in response["Records"]:
                if raw["dynamodb"].get("NewImage", {}).get("account_id", {}).get("S") == account_id:
                    found.append(stream_record_to_lambda(raw, self.stream_arn, "us-east-1"))
        return found

    def queue_exports(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return self.functions["queue_recording_exports"]({"Records": records}, _context("queue_recording_exports"))

    def queued(self, account_id: str) -> list[dict[str, Any]]:
        """The account's messages on the export queue (the queue is the session's: others' are left to time out)."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        return [message for message in received if json.loads(message["Body"]).get("accountId") == account_id]

    def export(self, received: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One `export_recordings` invocation per message (the mapping's batch size is 1), settled as Lambda does."""
        results = []
        for message in received:
            event = {"Records": [queue_message_to_lambda(message, self.queue_arn, "us-east-1")]}
            result = self.functions["export_recordings"](event, _context("export_recordings"))
            settle(self.sqs, self.queue_url, [message], result)
            results.append(result)
        return results


def _context(name: str) -> LambdaContext:
    return LambdaContext(function_name=name, memory_size=512, max_runtime_ms=900_000)


@pytest.fixture
def pipeline(chalice_app) -> Pipeline:
    streams = boto3.client("dynamodbstreams")
    table = get_settings().table_name("outbox")
    arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterators = {
        shard["ShardId"]: streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]
        for shard in shards
    }
    functions = {function.name: function.func for function in chalice_app.pure_lambda_functions}
    return Pipeline(functions, arn, iterators)


def get_json(client, account, path: str) -> dict[str, Any]:
    response = client.get(path, headers=account.headers)
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def object_exists(key: str) -> bool:
    try:
        boto3.client("s3").head_object(Bucket=get_settings().bucket, Key=key)
    except ClientError as error:
        assert error.response["Error"]["Code"] in ("404", "NoSuchKey")
        return False
    return True


def stored_bytes(key: str) -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=get_settings().bucket, Key=key)["Body"].read())


def record_call(account, tmp_path: Path, **options: Any) -> tuple[str, str, str, bytes]:
    """A stored call recording: (call id, file id, object key, the stored bytes)."""
    call_id = ids.uuid_id()
    (file_id,) = record(account.account_id, "CALL", call_id, {None: 1000.0}, tmp_path, **options)
    item = repository.get(account.account_id, file_id)
    assert item is not None and item.object_key
    return call_id, file_id, item.object_key, stored_bytes(item.object_key)


def the_file(client, account, call_id: str) -> dict[str, Any]:
    view = get_json(client, account, f"{RECORDINGS}/calls/{call_id}")
    response_validator(DOC, "GET", f"{RECORDINGS}/calls/{{callId}}", 200)(view)
    (file,) = view["files"]
    return dict(file)


# --- exports that succeed -------------------------------------------------------------------------------------


def test_a_finished_call_recording_is_zipped_to_sftp_and_leaves_s3(client, account, sftp_server, tmp_path, pipeline):
    configure(client, account, sftp_server, tmp_path)
    call_id, file_id, key, media = record_call(account, tmp_path, customData={"crm": "42"})

    records = pipeline.outbox_records(account.account_id)
    assert "CALL_RECORDING_READY" in [r["dynamodb"]["NewImage"]["type"]["S"] for r in records]
    assert pipeline.queue_exports(records) == {"batchItemFailures": []}
    queued = pipeline.queued(account.account_id)
    assert [json.loads(m["Body"]) for m in queued] == [{"accountId": account.account_id, "fileId": file_id}]
    waiting = the_file(client, account, call_id)
    assert (waiting["location"], waiting["sftpUploadStatus"]) == ("HOSTED", "UPLOADING")  # queued

    assert pipeline.export(queued) == [{"batchItemFailures": []}]

    assert arrived(sftp_server) == [f"{file_id}.zip"]
    with zipfile.ZipFile(sftp_server.root / SFTP_PATH.strip("/") / f"{file_id}.zip") as archive:
        assert sorted(archive.namelist()) == [f"{file_id}.json", f"{file_id}.wav"]
        assert archive.read(f"{file_id}.wav") == media
        described = json.loads(archive.read(f"{file_id}.json"))
    item = repository.get(account.account_id, file_id)
    assert item is not None
    assert described["file"]["id"] == file_id and described["file"]["name"] == f"{file_id}.wav"
    assert (described["file"]["size"], described["file"]["duration"]) == (len(media), 2)
    assert (described["scope"], described["callId"], described["recordingId"]) == ("CALL", call_id, item.recording_id)
    assert described["customData"] == {"crm": "42"} and described["callsConfigurationId"] == "app-1"

    assert not object_exists(key)
    exported = the_file(client, account, call_id)  # still listed, and says where it went
    assert (exported["location"], exported["sftpUploadStatus"]) == ("SFTP", "UPLOADED")
    assert "sftpUploadFailure" not in exported and exported["customData"] == {"crm": "42"}
    listed = get_json(client, account, f"{RECORDINGS}/calls?callId={call_id}")
    assert [f["id"] for f in listed["results"][0]["files"]] == [file_id]
    refused = assert_envelope(client.get(f"{RECORDINGS}/files/{file_id}", headers=account.headers), 409, "CONFLICT")
    assert "SFTP" in refused["text"]
    assert_envelope(
        client.get(f"{RECORDINGS}/files/{file_id}", headers={**account.headers, "Range": "bytes=0-9"}), 409, "CONFLICT"
    )
    assert sftp_server.logins == [("archivist", True)]


def test_a_file_prefix_names_the_zip(client, account, sftp_server, tmp_path, pipeline):
    configure(client, account, sftp_server, tmp_path)
    _, file_id, _, media = record_call(account, tmp_path, filePrefix="agent-7_call")
    pipeline.queue_exports(pipeline.outbox_records(account.account_id))
    pipeline.export(pipeline.queued(account.account_id))
    assert arrived(sftp_server) == ["agent-7_call.zip"]
    with zipfile.ZipFile(sftp_server.root / SFTP_PATH.strip("/") / "agent-7_call.zip") as archive:
        assert sorted(archive.namelist()) == ["agent-7_call.json", "agent-7_call.wav"]
        assert archive.read("agent-7_call.wav") == media
        assert json.loads(archive.read("agent-7_call.json"))["file"]["id"] == file_id


def test_an_exported_conference_is_listed_but_cannot_be_composed(client, account, sftp_server, tmp_path, pipeline):
    configure(client, account, sftp_server, tmp_path)
    conference_id, ann, ben = ids.uuid_id(), ids.uuid_id(), ids.uuid_id()
    files = record(account.account_id, "CONFERENCE", conference_id, {ann: 600.0, ben: 1000.0}, tmp_path)
    pipeline.queue_exports(pipeline.outbox_records(account.account_id))
    pipeline.export(pipeline.queued(account.account_id))
    assert arrived(sftp_server) == sorted(f"{file_id}.zip" for file_id in files)
    with zipfile.ZipFile(sftp_server.root / SFTP_PATH.strip("/") / f"{files[0]}.zip") as archive:
        described = json.loads(archive.read(f"{files[0]}.json"))
    assert (described["scope"], described["conferenceId"], described["callId"]) == ("CONFERENCE", conference_id, ann)

    view = get_json(client, account, f"{RECORDINGS}/conferences/{conference_id}")
    response_validator(DOC, "GET", f"{RECORDINGS}/conferences/{{conferenceId}}", 200)(view)
    states = {(f["location"], f["sftpUploadStatus"]) for r in view["callRecordings"] for f in r["files"]}
    assert states == {("SFTP", "UPLOADED")} and len(view["callRecordings"]) == 2
    composed = client.post(f"{RECORDINGS}/conferences/{conference_id}/compose", headers=account.headers, body="{}")
    assert "SFTP" in assert_envelope(composed, 409, "CONFLICT")["text"]


def test_a_retried_stream_batch_queues_each_file_once(client, account, sftp_server, tmp_path, pipeline):
    configure(client, account, sftp_server, tmp_path)
    record_call(account, tmp_path)
    records = pipeline.outbox_records(account.account_id)
    pipeline.queue_exports(records)
    pipeline.queue_exports(records)  # the stream hands a batch back after a failure
    queued = pipeline.queued(account.account_id)
    assert len(queued) == 1
    pipeline.export(queued)
    assert len(arrived(sftp_server)) == 1


# --- exports that fail or do not happen -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason", "said"),
    [
        (
            {"hostKeyFingerprint": asyncssh.generate_private_key("ssh-ed25519").get_fingerprint("sha256")},
            "HOST_KEY_MISMATCH",
            "host key",
        ),
        ({"password": "not-the-password"}, "AUTHENTICATION_FAILED", "archivist"),
    ],
    ids=["wrong-host-key", "wrong-password"],
)
def test_a_wrong_host_key_or_password_leaves_the_recording_in_s3_with_the_failure_shown(
    client, account, sftp_server, tmp_path, pipeline, overrides, reason, said
):
    configure(client, account, sftp_server, tmp_path, **overrides)
    call_id, file_id, key, media = record_call(account, tmp_path)
    pipeline.queue_exports(pipeline.outbox_records(account.account_id))
    assert pipeline.export(pipeline.queued(account.account_id)) == [
        {"batchItemFailures": []}
    ]  # not retried: the account must act

    assert arrived(sftp_server) == []
    assert object_exists(key)
    file = the_file(client, account, call_id)
    assert (file["location"], file["sftpUploadStatus"]) == ("HOSTED", "FAILED")
    failure = file["sftpUploadFailure"]
    assert (failure["reason"], failure["attempts"]) == (reason, 1)
    assert "nextAttemptTime" not in failure and said in failure["message"]
    assert "not-the-password" not in json.dumps(file)
    downloaded = client.get(f"{RECORDINGS}/files/{file_id}", headers=account.headers)
    assert downloaded.status_code == 200 and downloaded.body == media  # still stored here


def test_an_unreachable_server_shows_when_the_export_is_tried_again(client, account, sftp_server, tmp_path, pipeline):
    configure(client, account, sftp_server, tmp_path, port=closed_port())
    call_id, _, key, _ = record_call(account, tmp_path)
    pipeline.queue_exports(pipeline.outbox_records(account.account_id))
    (result,) = pipeline.export(pipeline.queued(account.account_id))
    assert len(result["batchItemFailures"]) == 1  # handed back to SQS, hidden for the backoff

    failure = the_file(client, account, call_id)["sftpUploadFailure"]
    assert (failure["reason"], failure["attempts"]) == ("UNREACHABLE", 1)
    assert failure["nextAttemptTime"] > the_file(client, account, call_id)["endTime"]
    assert object_exists(key)
    # Off, so that the hidden message is dropped, not retried, when a later test's worker sees it again.
    configure(client, account, sftp_server, tmp_path, enabled=False)


def test_without_an_enabled_destination_nothing_is_queued(
    client, account, other_account, sftp_server, tmp_path, pipeline
):
    configure(client, other_account, sftp_server, tmp_path)  # another account exports; this one does not
    call_id, _, key, _ = record_call(account, tmp_path)
    assert pipeline.queue_exports(pipeline.outbox_records(account.account_id)) == {"batchItemFailures": []}
    assert pipeline.queued(account.account_id) == []
    file = the_file(client, account, call_id)
    assert file["location"] == "HOSTED" and "sftpUploadStatus" not in file
    assert object_exists(key)

    configure(client, account, sftp_server, tmp_path, enabled=False)
    record_call(account, tmp_path)
    pipeline.queue_exports(pipeline.outbox_records(account.account_id))
    assert pipeline.queued(account.account_id) == [] and sftp_server.logins == []
