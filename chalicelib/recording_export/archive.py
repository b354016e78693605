"""The zip pushed for a recording file: `<name>.zip` holding `<name>.<ext>` (the media, byte for byte) and
`<name>.json` (its metadata), where `<name>` is the file's prefix or, without one, its id.

The media is copied in chunks into a spooled temporary file (memory up to `SPOOL_BYTES`, then the temporary
directory), so a large recording never sits in memory whole. Names are reduced to a safe character set so that no
prefix can name a path outside the destination directory.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO

from chalicelib.recording_export.errors import MediaUnavailable
from chalicelib.recording_export.recording_files import ExportableFile, MediaStream

CHUNK_BYTES = 1 << 20
SPOOL_BYTES = 16 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+|\.\.+")
_RUNS = re.compile(r"_+")


@dataclass(frozen=True)
class ArchiveNames:
    """`zip` is the name wanted; `unique_zip` the name used when another file's zip already has it (a prefix shared
    by several files: a conference's participants, repeated start/stop with one prefix). Without a prefix both are
    the file id's."""

    zip: str
    media: str
    metadata: str
    unique_zip: str


def _safe(name: str, limit: int) -> str:
    return _RUNS.sub("_", _UNSAFE.sub("_", name)).strip("._-")[:limit]


def archive_names(file: ExportableFile) -> ArchiveNames:
    base = _safe(file.file_prefix or "", 200) or _safe(file.file_id, 200)
    extension = _safe(file.extension.lstrip("."), 16) or "bin"
    file_id = _safe(file.file_id, 200)
    unique = f"{base}_{file_id}.zip" if base != file_id else f"{base}.zip"
    return ArchiveNames(zip=f"{base}.zip", media=f"{base}.{extension}", metadata=f"{base}.json", unique_zip=unique)


def build_archive(file: ExportableFile) -> IO[bytes]:
    """The zip as a readable file positioned at its start; the caller closes it."""
    names = archive_names(file)
    spool: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # returned open to the caller
    try:
        with zipfile.ZipFile(spool, "w") as archive:
            large = file.size is None or file.size >= 2**31
            with archive.open(names.media, "w", force_zip64=large) as entry:
                _copy_media(file, entry)
            metadata = json.dumps(dict(file.metadata), indent=2, sort_keys=True, default=str)
            archive.writestr(names.metadata, metadata, compress_type=zipfile.ZIP_DEFLATED)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _copy_media(file: ExportableFile, entry: IO[bytes]) -> None:
    try:
        media = file.open_media()
    except Exception as error:
        raise MediaUnavailable(f"the stored media could not be opened ({type(error).__name__})") from error
    try:
        while chunk := _read(media):
            entry.write(chunk)
    finally:
        media.close()


def _read(media: MediaStream) -> bytes:
    try:
        return media.read(CHUNK_BYTES)
    except Exception as error:
        raise MediaUnavailable(f"the stored media could not be read ({type(error).__name__})") from error
