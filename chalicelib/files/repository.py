"""Persistence for audio files: the `AudioFile` item in DynamoDB, the audio itself in the media bucket.

Objects are keyed `<accountId>/files/<fileId>.<wav|mp3>` and written with server-side encryption (SSE-S3), whatever
the bucket's default. Every read names the account, so no code path can reach another tenant's file.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.core.settings import get_settings
from chalicelib.db.models import AudioFile

CONTENT_TYPES = {"WAV": "audio/wav", "MP3": "audio/mpeg"}


@lru_cache(maxsize=1)
def _s3() -> Any:
    return boto3.client("s3")


def _bucket() -> str:
    bucket = get_settings().bucket
    if not bucket:
        raise RuntimeError("no media bucket configured: set SWITCHBOARD_BUCKET")
    return bucket


def object_key(account_id: str, file_id: str, file_format: str) -> str:
    return f"{account_id}/files/{file_id}.{file_format.lower()}"


def put_object(key: str, data: bytes, file_format: str) -> None:
    _s3().put_object(
        Bucket=_bucket(), Key=key, Body=data, ContentType=CONTENT_TYPES[file_format], ServerSideEncryption="AES256"
    )


def read_object(key: str) -> bytes:
    body: bytes = _s3().get_object(Bucket=_bucket(), Key=key)["Body"].read()
    return body


def delete_object(key: str) -> None:
    _s3().delete_object(Bucket=_bucket(), Key=key)


def create(record: AudioFile) -> None:
    record.save(condition=AudioFile.file_id.does_not_exist())


def get(account_id: str, file_id: str) -> AudioFile | None:
    try:
        return AudioFile.get(account_id, file_id, consistent_read=True)
    except DoesNotExist:
        return None


def list_for(account_id: str) -> list[AudioFile]:
    return list(AudioFile.query(account_id))


def delete(record: AudioFile) -> bool:
    """Delete the item; False when it was already gone (a racing delete)."""
    try:
        record.delete(condition=AudioFile.file_id.exists())
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
