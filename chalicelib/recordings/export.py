"""The recordings domain's side of the SFTP export (`chalicelib.recording_export.recording_files.RecordingFiles`):
which files can be pushed, what their zip's JSON says, and what an export does to a file's record.

- A file is exportable while it is READY, stored here (location HOSTED) and has its object.
- The export's state is kept on the file's item and shown by the Calls recordings API: `sftpUploadStatus`
  (UPLOADING while queued or under way, UPLOADED, FAILED) and, while FAILED, `sftpUploadFailure` (reason, sentence,
  attempts, next attempt).
- UPLOADED makes the file's location SFTP: it is still listed, but no longer downloadable or composable, and its
  object is deleted right after (`delete_media`).
- A file deleted while its export runs stays deleted: every update is conditional on the file still being READY.

`handle` is the export queue's consumer (the worker of `chalicelib.recording_export.exporter` over these files).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.core import clock
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings
from chalicelib.db.models import RecordingFile
from chalicelib.recording_export import exporter
from chalicelib.recording_export.recording_files import ExportableFile, ExportReport
from chalicelib.recordings import repository, service

# Infobip's view of the file says where it is and how its export goes; the zip's copy is taken before the upload,
# so those fields would only be stale there.
_EXPORT_FIELDS = ("location", "sftpUploadStatus", "sftpUploadFailure")


def metadata(item: RecordingFile) -> dict[str, Any]:
    """The zip's JSON: the file as Infobip lists it, plus the recording it belongs to and the call, conference or
    dialog it was made on."""
    file = {key: value for key, value in service.to_file(item).wire().items() if key not in _EXPORT_FIELDS}
    scope_key = {"CALL": "callId", "CONFERENCE": "conferenceId", "DIALOG": "dialogId"}[item.scope_type]
    described: dict[str, Any] = {
        "file": file,
        "recordingId": item.recording_id,
        "scope": item.scope_type,
        scope_key: item.scope_id,
        "callId": item.call_id if item.scope_type != "CALL" else item.scope_id,
        "composed": bool(item.composed),
        "recordingType": item.recording_type,
        "filePrefix": item.file_prefix,
        "callsConfigurationId": item.calls_configuration_id,
        "platform": {"applicationId": item.application_id, "entityId": item.entity_id},
        "customData": service.custom_data(item),
        "interrupted": bool(item.interrupted),
        "reason": item.reason,
    }
    return {key: value for key, value in described.items() if value is not None}


class RecordingExports:
    """`RecordingFiles` over the recording-files table and the media bucket."""

    def exportable(self, account_id: str, file_id: str) -> ExportableFile | None:
        item = repository.get(account_id, file_id)
        if item is None or item.status != "READY" or item.location != "HOSTED" or not item.object_key:
            return None
        key = item.object_key
        return ExportableFile(
            file_id=item.file_id,
            account_id=account_id,
            extension=item.file_format.lower(),
            open_media=lambda: repository.open_object(key),
            metadata=metadata(item),
            file_prefix=item.file_prefix,
            size=int(item.size) if item.size is not None else None,
        )

    def report(self, account_id: str, file_id: str, report: ExportReport) -> None:
        actions = [
            RecordingFile.sftp_upload_status.set(report.status),
            RecordingFile.sftp_attempts.set(report.attempts),
        ]
        if report.status == "FAILED":
            retry_at = clock.now() + timedelta(seconds=report.retry_in_seconds) if report.retry_in_seconds else None
            actions += [
                RecordingFile.sftp_error_reason.set(report.reason or "EXPORT_FAILED"),
                RecordingFile.sftp_error.set(report.detail or "the export failed"),
                RecordingFile.sftp_next_attempt_at.set(retry_at)
                if retry_at
                else RecordingFile.sftp_next_attempt_at.remove(),
            ]
        else:
            actions.append(RecordingFile.sftp_next_attempt_at.remove())
        if report.status == "UPLOADED":
            actions += [
                RecordingFile.location.set("SFTP"),
                RecordingFile.sftp_remote_path.set(report.remote_path or ""),
                RecordingFile.sftp_error_reason.remove(),
                RecordingFile.sftp_error.remove(),
            ]
        if not repository.update_export(account_id, file_id, actions):
            logger().info("recording file deleted during its export", extra={"fileId": file_id})

    def delete_media(self, account_id: str, file_id: str) -> None:
        item = repository.get(account_id, file_id)
        if item is None or item.location != "SFTP" or not item.object_key:
            return  # deleted meanwhile (its tombstone removed the object) or not exported
        repository.delete_object(item.object_key)
        repository.update_export(account_id, file_id, [RecordingFile.object_key.remove()])


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """The export queue's consumer."""
    return exporter.handle(event, RecordingExports(), get_settings().recording_export_queue_url or None)
