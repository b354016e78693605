"""Why an export failed. One hierarchy; each failure carries a stable `reason` code (kept on the recording file's
record) and a sentence for people. Retryable failures are tried again with backoff (`retry`); the others need the
account to change its configuration, so retrying cannot help.

    ExportFailed                      reason                  retryable
    ├── DestinationRefused            DESTINATION_REFUSED     no    the host fails the outbound policy now
    ├── Unreachable                   UNREACHABLE             yes   no TCP/SSH session could be set up
    ├── HostKeyMismatch               HOST_KEY_MISMATCH       no    the server's key is not the configured one
    ├── AuthenticationFailed          AUTHENTICATION_FAILED   no    the server refused the user name or password
    ├── RemotePathMissing             PATH_NOT_FOUND          no    the configured directory does not exist
    ├── MediaUnavailable              MEDIA_UNAVAILABLE       yes   the stored media could not be read
    └── TransferFailed                TRANSFER_FAILED         yes   the session broke during the upload

The configuration API's own errors are the platform's (`chalicelib.core.errors`): 400 for bad input, 404 when an
account has no destination.
"""

from __future__ import annotations

from chalicelib.core.errors import NotFound


class ExportFailed(Exception):
    reason = "EXPORT_FAILED"
    retryable = False

    def __init__(self, text: str):
        self.text = text
        super().__init__(text)


class DestinationRefused(ExportFailed):
    reason = "DESTINATION_REFUSED"


class Unreachable(ExportFailed):
    reason, retryable = "UNREACHABLE", True


class HostKeyMismatch(ExportFailed):
    reason = "HOST_KEY_MISMATCH"


class AuthenticationFailed(ExportFailed):
    reason = "AUTHENTICATION_FAILED"


class RemotePathMissing(ExportFailed):
    reason = "PATH_NOT_FOUND"


class MediaUnavailable(ExportFailed):
    reason, retryable = "MEDIA_UNAVAILABLE", True


class TransferFailed(ExportFailed):
    reason, retryable = "TRANSFER_FAILED", True


class DestinationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No SFTP export destination is configured.")
