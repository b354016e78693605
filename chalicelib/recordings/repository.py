"""Persistence for recordings: `RecordingFile` items in DynamoDB, the media in the bucket.

Objects are keyed `recordings/<accountId>/<fileId>.<ext>` and written with server-side encryption (SSE-S3);
large files go up in parts (boto3's managed transfer: multipart above `MULTIPART_THRESHOLD`). Reads are ranged
(`read_range`), so no caller ever holds a whole recording in memory. Every item read names the account.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.core import objects
from chalicelib.db.models import RecordingFile

CONTENT_TYPES = {"WAV": "audio/wav", "MP4": "video/mp4", "MP3": "audio/mpeg"}
MULTIPART_THRESHOLD = 8 * 1024 * 1024
PART_BYTES = 8 * 1024 * 1024


def object_key(account_id: str, file_id: str, file_format: str) -> str:
    return f"recordings/{account_id}/{file_id}.{file_format.lower()}"


def upload(path: Path, key: str, file_format: str) -> None:
    """Store a local file (in parts when large), encrypted at rest."""
    config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_BYTES, use_threads=False)
    objects.s3().upload_file(
        str(path),
        objects.bucket(),
        key,
        ExtraArgs={"ContentType": CONTENT_TYPES[file_format], "ServerSideEncryption": "AES256"},
        Config=config,
    )


def object_size(key: str) -> int | None:
    try:
        return int(objects.s3().head_object(Bucket=objects.bucket(), Key=key)["ContentLength"])
    except objects.s3().exceptions.ClientError:
        return None


def read_range(key: str, start: int, end: int) -> bytes:
    """Bytes `start`..`end` (inclusive) of the object."""
    body: bytes = objects.s3().get_object(Bucket=objects.bucket(), Key=key, Range=f"bytes={start}-{end}")["Body"].read()
    return body


def download(key: str, path: Path) -> None:
    objects.s3().download_file(objects.bucket(), key, str(path))


def presigned_url(key: str, seconds: int = 300) -> str:
    url: str = objects.s3().generate_presigned_url(
        "get_object", Params={"Bucket": objects.bucket(), "Key": key}, ExpiresIn=seconds
    )
    return url


def delete_object(key: str) -> None:
    objects.s3().delete_object(Bucket=objects.bucket(), Key=key)


def save(item: RecordingFile, condition: Condition | None = None) -> None:
    item.save(condition=condition)


def get(account_id: str, file_id: str) -> RecordingFile | None:
    try:
        return RecordingFile.get(account_id, file_id, consistent_read=True)
    except DoesNotExist:
        return None


def of_account(account_id: str) -> Iterator[RecordingFile]:
    """Every file item of the account (tombstones too), in one query of its partition."""
    return RecordingFile.query(account_id, consistent_read=True)


def of_scope(account_id: str, scope_type: str, scope_id: str) -> list[RecordingFile]:
    condition = (RecordingFile.scope_type == scope_type) & (RecordingFile.scope_id == scope_id)
    return list(RecordingFile.query(account_id, filter_condition=condition, consistent_read=True))


def of_recording(account_id: str, recording_id: str) -> list[RecordingFile]:
    condition = RecordingFile.recording_id == recording_id
    return list(RecordingFile.query(account_id, filter_condition=condition, consistent_read=True))


# --- the SFTP export's side of a file (`chalicelib.recordings.export`) -------------------------------------------


def open_object(key: str) -> Any:
    """The object as a stream (botocore's StreamingBody): read in chunks, closed by the reader."""
    return objects.s3().get_object(Bucket=objects.bucket(), Key=key)["Body"]


_EXPORTABLE = (RecordingFile.status == "READY") & (RecordingFile.location == "HOSTED")


def claim_export(account_id: str, file_id: str) -> bool:
    """Mark a stored file that was never exported as UPLOADING (its export is queued); False for any other file."""
    condition = _EXPORTABLE & RecordingFile.object_key.exists() & RecordingFile.sftp_upload_status.does_not_exist()
    return _update(account_id, file_id, [RecordingFile.sftp_upload_status.set("UPLOADING")], condition)


def release_export_claim(account_id: str, file_id: str) -> None:
    """Undo `claim_export` when the export could not be queued after all (the stream retries the event)."""
    condition = (RecordingFile.sftp_upload_status == "UPLOADING") & RecordingFile.sftp_attempts.does_not_exist()
    _update(account_id, file_id, [RecordingFile.sftp_upload_status.remove()], condition)


def update_export(account_id: str, file_id: str, actions: Sequence[Action]) -> bool:
    """Apply the export's state to a file that is still READY (not deleted meanwhile); False otherwise."""
    return _update(account_id, file_id, actions, RecordingFile.status == "READY")


def _update(account_id: str, file_id: str, actions: Sequence[Action], condition: Condition) -> bool:
    try:
        item = RecordingFile(account_id, file_id)
        item.update(actions=list(actions), condition=RecordingFile.file_id.exists() & condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def unsettled_of_node(node_id: str, limit: int) -> list[RecordingFile]:
    """Up to `limit` files the node is still recording or storing (RECORDING, UPLOADING), of every account, from
    the `by-node` index (eventually consistent: the service reads a file again before changing it)."""
    found: list[RecordingFile] = []
    for status in ("RECORDING", "UPLOADING"):
        remaining = limit - len(found)
        if remaining <= 0:
            break
        found += RecordingFile.by_node.query(node_id, RecordingFile.status == status, limit=remaining)
    return found
