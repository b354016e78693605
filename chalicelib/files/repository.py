"""Persistence for audio files: the `AudioFile` item in DynamoDB, the audio itself in the media bucket.

Objects are keyed `<accountId>/files/<fileId>.<wav|mp3>` and written with server-side encryption (SSE-S3), whatever
the bucket's default. Every read names the account, so no code path can reach another tenant's file.
"""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.core import objects
from chalicelib.db.models import AudioFile

CONTENT_TYPES = {"WAV": "audio/wav", "MP3": "audio/mpeg"}


def object_key(account_id: str, file_id: str, file_format: str) -> str:
    return f"{account_id}/files/{file_id}.{file_format.lower()}"


def put_object(key: str, data: bytes, file_format: str) -> None:
    objects.put(key, data, CONTENT_TYPES[file_format])


def read_object(key: str) -> bytes:
    return objects.read(key)


def delete_object(key: str) -> None:
    objects.delete(key)


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
