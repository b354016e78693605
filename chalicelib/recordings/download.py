"""Serving a recording's bytes: `Range` (one byte range) from ranged S3 reads, never the whole object in memory.

A Lambda response carries at most 6 MB (less once base64-encoded), so one response never holds more than
`MAX_BODY_BYTES`:
- a whole file up to that size is answered 200 with its bytes;
- a larger whole file is answered 302 to a short-lived presigned S3 URL (the client downloads it from S3 directly,
  ranges included);
- a range is answered 206 with exactly the asked bytes when they fit, and otherwise with the first
  `MAX_BODY_BYTES` of them (its `Content-Range` says which: a client reads on from there, as HTTP allows);
- an unsatisfiable or malformed range is 416 with `Content-Range: bytes */<size>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chalicelib.core.errors import RangeNotSatisfiable
from chalicelib.recordings import repository, service

MAX_BODY_BYTES = 4 * 1024 * 1024
PRESIGNED_SECONDS = 300
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_TYPES = {"WAV": "audio/wav", "MP4": "video/mp4", "MP3": "audio/mpeg"}


class UnsatisfiableRange(RangeNotSatisfiable):
    def __init__(self, size: int) -> None:
        super().__init__(f"The range is not satisfiable: the file has {size} bytes.")
        self.size = size


@dataclass(frozen=True)
class Download:
    status: int
    body: bytes = b""
    headers: dict[str, str | list[str]] = field(default_factory=dict)


def byte_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) inclusive of one `bytes=` range; UnsatisfiableRange otherwise (several ranges included)."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None or size == 0:
        raise UnsatisfiableRange(size)
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text or int(last_text) == 0:
            raise UnsatisfiableRange(size)
        return max(0, size - int(last_text)), size - 1  # the last N bytes
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        raise UnsatisfiableRange(size)
    return first, last


def download(account_id: str, file_id: str, range_header: str | None) -> Download:
    item = service.downloadable(account_id, file_id)
    key = item.object_key
    assert key is not None
    size = repository.object_size(key)
    if size is None:
        raise service.RecordingFileUnavailable(f"Recording file {file_id!r} has no stored media to download.")
    common: dict[str, str | list[str]] = {
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{item.name}"',
    }
    if range_header:
        first, last = byte_range(range_header, size)
        last = min(last, first + MAX_BODY_BYTES - 1)
        body = repository.read_range(key, first, last)
        return Download(206, body, {**common, "Content-Range": f"bytes {first}-{last}/{size}"})
    if size > MAX_BODY_BYTES:
        return Download(302, headers={"Location": repository.presigned_url(key, PRESIGNED_SECONDS)})
    body = repository.read_range(key, 0, size - 1) if size else b""
    return Download(200, body, common)
