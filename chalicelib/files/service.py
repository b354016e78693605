"""Audio file rules (Infobip's Files API, reference §2.12).

- An upload is WAV (PCM) or MP3, judged by its content and decoded in full before it is stored (`audio.inspect`);
  its duration comes from the decoded samples. At most `MAX_FILE_BYTES`: once base64-encoded by API Gateway, a
  larger body would not fit Lambda's 6 MB invocation payload.
- The audio is stored first, then the item: a file is listed only once its audio exists, and a failed item write
  removes the object again.
- A file expires 90 days after upload (Infobip removes files unused that long); an expired file is unknown even
  before DynamoDB's TTL deletes it.
- Every read and delete names the account: another account's file id is a 404, like an unknown one.
- `open_file` is how a player gets a file's audio.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from chalicelib.core import clock, ids
from chalicelib.core.clock import infobip_format
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.db.models import AudioFile
from chalicelib.files import audio, repository
from chalicelib.files.audio import AudioFormat
from chalicelib.files.errors import AudioFileNotFound, AudioFileTooLarge, InvalidAudioFile
from chalicelib.files.schemas import File, FilePage

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_REQUEST_BYTES = MAX_FILE_BYTES + 64 * 1024  # room for the form's boundaries and part headers
RETENTION = timedelta(days=90)
MAX_NAME_LENGTH = 255


def display_name(filename: str | None, file_id: str, audio_format: AudioFormat) -> str:
    """The uploaded file's own name without any directory part or control characters; the id when it has none."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in base if unicodedata.category(char)[0] != "C").strip()
    return name[:MAX_NAME_LENGTH] or f"{file_id}.{audio_format.lower()}"


def _whole_second_after(moment: datetime) -> datetime:
    """TTL attributes keep whole seconds: round up, so a file never expires before its 90 days."""
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def _format(record: AudioFile) -> AudioFormat:
    return "MP3" if record.file_format == "MP3" else "WAV"


def to_infobip(record: AudioFile) -> File:
    return File(
        id=record.file_id,
        name=record.name,
        fileFormat=_format(record),
        size=int(record.size),
        creationTime=infobip_format(record.created_at),
        expirationTime=infobip_format(record.expires_at),
        duration=int(record.duration),
    )


def upload_file(account_id: str, filename: str | None, data: bytes) -> File:
    if len(data) > MAX_FILE_BYTES:
        raise AudioFileTooLarge(MAX_FILE_BYTES)
    if not data:
        raise InvalidAudioFile("it is empty")
    info = audio.inspect(data)
    file_id, created = ids.uuid_id(), clock.now()
    record = AudioFile(
        account_id,
        file_id,
        name=display_name(filename, file_id, info.format),
        file_format=info.format,
        size=len(data),
        duration=info.duration,
        object_key=repository.object_key(account_id, file_id, info.format),
        created_at=created,
        expires_at=_whole_second_after(created + RETENTION),
    )
    repository.put_object(record.object_key, data, info.format)
    try:
        repository.create(record)
    except Exception:
        repository.delete_object(record.object_key)
        raise
    return to_infobip(record)


def _live_file(account_id: str, file_id: str) -> AudioFile:
    record = repository.get(account_id, file_id) if 0 < len(file_id) <= 128 else None
    if record is None or record.expires_at <= clock.now():
        raise AudioFileNotFound(file_id)
    return record


def list_files(account_id: str, page: int, size: int) -> FilePage:
    now = clock.now()
    records = sorted(
        (record for record in repository.list_for(account_id) if record.expires_at > now),
        key=lambda record: (record.created_at, record.file_id),
    )
    items, paging = page_of(records, page, size)
    return FilePage(results=[to_infobip(record) for record in items], paging=PageInfo(**paging))


def get_file(account_id: str, file_id: str) -> File:
    return to_infobip(_live_file(account_id, file_id))


def delete_file(account_id: str, file_id: str) -> File:
    record = _live_file(account_id, file_id)
    if not repository.delete(record):
        raise AudioFileNotFound(file_id)
    repository.delete_object(record.object_key)
    return to_infobip(record)


def open_file(account_id: str, file_id: str) -> tuple[bytes, AudioFormat]:
    """A file's audio and its format, for playback; AudioFileNotFound (404) when the account has no such file."""
    record = _live_file(account_id, file_id)
    return repository.read_object(record.object_key), _format(record)
