"""The SQS side of the pipeline: ordered batch sends and visibility changes."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import boto3

from chalicelib.events.messages import DeliveryMessage

MAX_VISIBILITY_SECONDS = 12 * 3600


@lru_cache(maxsize=1)
def sqs() -> Any:
    return boto3.client("sqs")


def send_in_order(
    queue_url: str, messages: Sequence[DeliveryMessage], attributes: dict[str, str] | None = None
) -> list[bool]:
    """Send in order, ten at a time; returns per-message success. Stops at the first failure so that nothing
    after a failed message of the same group can overtake it."""
    sent = [False] * len(messages)
    message_attributes = {
        name: {"DataType": "String", "StringValue": value} for name, value in (attributes or {}).items()
    }
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        entries: list[dict[str, Any]] = [
            {
                "Id": str(index),
                "MessageBody": message.model_dump_json(),
                "MessageGroupId": message.group_id,
                "MessageDeduplicationId": message.deduplication_id,
                **({"MessageAttributes": message_attributes} if message_attributes else {}),
            }
            for index, message in enumerate(chunk)
        ]
        response = sqs().send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = {int(entry["Id"]) for entry in response.get("Failed", [])}
        for index in range(len(chunk)):
            if index in failed:
                return sent
            sent[start + index] = True
    return sent


def delay(queue_url: str, receipt_handle: str, seconds: int) -> None:
    sqs().change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=min(max(seconds, 0), MAX_VISIBILITY_SECONDS)
    )
