"""The recordings domain's errors (mapped to Infobip's envelope by `chalicelib.core.errors`)."""

from __future__ import annotations

from chalicelib.core.errors import Conflict, NotFound


class RecordingNotFound(NotFound):
    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(f"No recording of {what} {identifier!r} was found.")


class RecordingFileNotFound(NotFound):
    def __init__(self, file_id: str) -> None:
        super().__init__(f"Recording file {file_id!r} was not found.")


class RecordingFileUnavailable(Conflict):
    """The file is listed but has no downloadable media (still recording, failed, or exported over SFTP)."""
