"""Noticing finished recording files and queueing their SFTP export: a reader of the outbox stream that turns every
`*_RECORDING_READY` and `*_COMPOSITION_FINISHED` event into one `ExportMessage` per stored file it names, on the
export queue, when the account has an enabled SFTP destination.

Why the outbox and not the producers or a stream of its own: a file becomes READY in more than one place (the media
node's upload through `service.file_stored`, an on-demand composition, and whatever records next, such as dialogs),
and each already publishes its event with the READY state (in the same transaction, or right after the composed
file's item is saved), naming the files in Infobip's recording view. Reading those events keeps every producer
unaware of exports, and the stream retries a batch until the messages are sent, so a finished file is never left
unqueued by a request that failed half-way. A stream on the recording-files table would see every RECORDING and
UPLOADING write as well, and be one more stream to deploy.

A file named twice (a composition's event lists the scope's earlier files too; a retried batch repeats events) is
queued once: it is claimed first (`repository.claim_export`: READY, stored here, never exported → UPLOADING).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecordEventName,
    DynamoDBStreamEvent,
)

from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings
from chalicelib.events import queue
from chalicelib.recording_export import service as destinations
from chalicelib.recording_export.schemas import ExportMessage
from chalicelib.recordings import repository

FINISHED_SUFFIXES = ("_RECORDING_READY", "_COMPOSITION_FINISHED")


def finished_files(envelope: dict[str, Any]) -> Iterator[str]:
    """The ids of the stored (HOSTED) files in a finished-recording event's `properties.recording`."""
    recording = (envelope.get("properties") or {}).get("recording") or {}
    files = list(recording.get("files") or []) + list(recording.get("composedFiles") or [])
    for participant in recording.get("callRecordings") or []:
        files += participant.get("files") or []
    for file in files:
        if file.get("id") and file.get("location", "HOSTED") == "HOSTED":
            yield str(file["id"])


def queue_export(account_id: str, file_id: str) -> bool:
    """Claim the file and put its export on the queue; False when it was not a file to export (or was queued)."""
    queue_url = get_settings().recording_export_queue_url
    if not queue_url:
        raise RuntimeError("no recording export queue configured: set SWITCHBOARD_RECORDING_EXPORT_QUEUE_URL")
    if not repository.claim_export(account_id, file_id):
        return False
    try:
        queue.sqs().send_message(
            QueueUrl=queue_url, MessageBody=ExportMessage(accountId=account_id, fileId=file_id).model_dump_json()
        )
    except Exception:
        repository.release_export_claim(account_id, file_id)
        raise
    return True


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """The outbox stream consumer. A record that fails is reported, and the stream hands it back with those after it
    (files already queued are not queued again)."""
    enabled: dict[str, bool] = {}
    for record in DynamoDBStreamEvent(event).records:
        if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
            continue
        image = record.dynamodb.new_image
        if image.get("target") or not str(image.get("type", "")).endswith(FINISHED_SUFFIXES):
            continue
        try:
            account_id = str(image["account_id"])
            if account_id not in enabled:
                enabled[account_id] = destinations.exports_enabled(account_id)
            if not enabled[account_id]:
                continue
            queued = [
                file_id for file_id in finished_files(json.loads(image["body"])) if queue_export(account_id, file_id)
            ]
        except Exception:
            logger().exception("queueing recording exports failed", extra={"eventId": image.get("event_id")})
            return {"batchItemFailures": [{"itemIdentifier": record.dynamodb.sequence_number}]}
        if queued:
            logger().info("recording exports queued", extra={"eventId": image.get("event_id"), "fileIds": queued})
    return {"batchItemFailures": []}
