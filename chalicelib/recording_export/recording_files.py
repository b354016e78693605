"""The seam between the exporter and the recordings domain, which implements `RecordingFiles` and builds
`ExportableFile`s. Nothing here knows where recordings are stored: the file opens its own media stream, and the
recordings domain decides what "delete the media" and "report the status" mean for its records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ExportStatus = Literal["UPLOADING", "UPLOADED", "FAILED"]


class MediaStream(Protocol):
    """A readable byte stream (a file object, botocore's `StreamingBody`, ...); the exporter closes it."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ExportableFile:
    """A finished recording file to push.

    `extension` is the media's (`wav`, `mp4`); `metadata` is written as the zip's JSON file exactly as given (it must
    be JSON-serialisable); `open_media` opens the stored media from its start. The zip and the files in it are named
    after `file_prefix` when there is one, else after `file_id`.
    """

    file_id: str
    account_id: str
    extension: str
    open_media: Callable[[], MediaStream]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    file_prefix: str | None = None
    size: int | None = None  # bytes, when known


@dataclass(frozen=True)
class ExportReport:
    """An export's state, for the recording file's record: UPLOADING when an attempt starts, UPLOADED when the zip is
    on the server, FAILED with `reason` (an `errors` code) and `detail` after a failed attempt. `retry_in_seconds`
    says when the next attempt comes (None: no further attempt)."""

    status: ExportStatus
    attempts: int
    remote_path: str | None = None
    reason: str | None = None
    detail: str | None = None
    retry_in_seconds: int | None = None


class RecordingFiles(Protocol):
    """What the exporter needs from the recordings domain."""

    def exportable(self, account_id: str, file_id: str) -> ExportableFile | None:
        """The file if it exists and its media is still stored (None: deleted or already exported)."""
        ...

    def report(self, account_id: str, file_id: str, report: ExportReport) -> None:
        """Record the export's state on the file (UPLOADED also means its location is now SFTP)."""
        ...

    def delete_media(self, account_id: str, file_id: str) -> None:
        """Remove the stored media (the S3 object) after a successful export."""
        ...
