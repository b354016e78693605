"""The export worker: push a finished recording file to the account's SFTP destination, then drop it from S3.

`export_file` is the transfer itself (zip, upload, verdict). `export_one` is one attempt for one queued file,
reporting through `RecordingFiles`: UPLOADING when it starts; on success UPLOADED and then the stored media is
deleted (in that order, so a record never points at media that is gone); on failure FAILED with the reason and,
while the failure is retryable and attempts remain, when the next attempt comes. `handle` is the SQS consumer: the
message's receive count is the attempt number, and a message to retry is hidden for the backoff and reported as a
batch-item failure, so SQS hands it back then.

A file is skipped (its message consumed, its record untouched) when the account has no enabled destination or the
file is no longer exportable: the recording stays where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from chalicelib.core.observability import logger
from chalicelib.events import queue
from chalicelib.recording_export import service, sftp
from chalicelib.recording_export.archive import archive_names, build_archive
from chalicelib.recording_export.errors import ExportFailed
from chalicelib.recording_export.recording_files import ExportableFile, ExportReport, RecordingFiles
from chalicelib.recording_export.retry import DEFAULT_POLICY, RetryPolicy, retry_delay
from chalicelib.recording_export.schemas import ExportMessage
from chalicelib.recording_export.service import SftpConnection


@dataclass(frozen=True)
class ExportResult:
    """`ok` with the remote path, or the failure's `reason` code, sentence and whether retrying can help."""

    ok: bool
    remote_path: str | None = None
    reason: str | None = None
    detail: str | None = None
    retryable: bool = False


def export_file(file: ExportableFile, connection: SftpConnection) -> ExportResult:
    """Zip `file` (media + metadata JSON) and upload it to `connection`'s directory."""
    try:
        with build_archive(file) as archive:
            names = archive_names(file)
            remote_path = sftp.upload(connection, archive, names.zip, names.unique_zip)
    except ExportFailed as failure:
        return ExportResult(ok=False, reason=failure.reason, detail=failure.text, retryable=failure.retryable)
    return ExportResult(ok=True, remote_path=remote_path)


@dataclass(frozen=True)
class Attempt:
    """What one attempt did: `report` is None when the file was skipped."""

    report: ExportReport | None

    @property
    def retry_in_seconds(self) -> int | None:
        return self.report.retry_in_seconds if self.report else None


def export_one(
    account_id: str, file_id: str, attempt: int, files: RecordingFiles, policy: RetryPolicy = DEFAULT_POLICY
) -> Attempt:
    connection = service.connection_for(account_id)
    file = files.exportable(account_id, file_id) if connection else None
    if connection is None or file is None:
        return Attempt(None)
    files.report(account_id, file_id, ExportReport("UPLOADING", attempts=attempt))
    result = export_file(file, connection)
    if not result.ok:
        retry_in = retry_delay(attempt, policy) if result.retryable else None
        report = ExportReport("FAILED", attempt, reason=result.reason, detail=result.detail, retry_in_seconds=retry_in)
        files.report(account_id, file_id, report)
        return Attempt(report)
    report = ExportReport("UPLOADED", attempt, remote_path=result.remote_path)
    files.report(account_id, file_id, report)
    files.delete_media(account_id, file_id)
    return Attempt(report)


def _process(record: SQSRecord, files: RecordingFiles, policy: RetryPolicy) -> int | None:
    try:
        message = ExportMessage.model_validate_json(record.body)
    except ValidationError:
        logger().error("export message is not {accountId, fileId}; dropped", extra={"messageId": record.message_id})
        return None
    attempt = int(record.attributes.approximate_receive_count or 1)
    outcome = export_one(message.accountId, message.fileId, attempt, files, policy)
    if outcome.report is not None:
        logger().info(
            "recording export attempt",
            extra={"fileId": message.fileId, "status": outcome.report.status, "reason": outcome.report.reason},
        )
    return outcome.retry_in_seconds


def handle(
    event: dict[str, Any], files: RecordingFiles, queue_url: str | None = None, policy: RetryPolicy = DEFAULT_POLICY
) -> dict[str, Any]:
    """The SQS consumer. `queue_url` (the export queue) lets a retried message wait out its backoff."""
    failures = []
    for record in SQSEvent(event).records:
        try:
            retry_in = _process(record, files, policy)
        except Exception:
            logger().exception("recording export crashed; SQS will hand the message back")
            failures.append({"itemIdentifier": record.message_id})
            continue
        if retry_in is None:
            continue
        if queue_url:
            queue.delay(queue_url, record.receipt_handle, retry_in)
        failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}
