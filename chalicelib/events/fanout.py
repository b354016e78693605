"""Fan-out: outbox stream records → one delivery message per matching (subscription, event).

Records of one stream shard arrive in order; messages are sent in that order, so the FIFO queue sees each call's
events in sequence. All messages of a batch go out in one ordered run of batch sends. On a failure the first
record whose messages were not all sent is reported and Lambda retries from it; sends are idempotent
(deduplication ids), so records retried after a partial send are not duplicated.

A targeted event (an outbox row with `target` = "<channel>/<id>", e.g. a Call Link configuration's status webhook)
becomes exactly one message for that target, on the target's channel; delivery resolves the webhook by channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
    DynamoDBStreamEvent,
)

from chalicelib.core import clock
from chalicelib.core.observability import logger, metrics
from chalicelib.core.settings import get_settings
from chalicelib.db.models import Subscription
from chalicelib.events import queue
from chalicelib.events.messages import DeliveryMessage
from chalicelib.subscriptions import repository as subscriptions
from chalicelib.subscriptions.service import matching_subscriptions

CHANNEL = "VOICE_VIDEO"


def _message(image: dict[str, Any], channel: str, subscription_id: str, now_ms: int) -> DeliveryMessage:
    return DeliveryMessage(
        accountId=image["account_id"],
        channel=channel,
        subscriptionId=subscription_id,
        eventId=image["event_id"],
        eventType=image["type"],
        sequence=int(image["sequence"]),
        stream=str(image["stream_key"]).split("#", 1)[1],
        body=image["body"],
        firstEnqueuedAt=now_ms,
    )


def messages_for(image: dict[str, Any], candidates: Iterable[Subscription], now_ms: int) -> list[DeliveryMessage]:
    if image.get("target"):
        channel, _, target_id = str(image["target"]).partition("/")
        return [_message(image, channel, target_id, now_ms)]
    matched = matching_subscriptions(
        candidates,
        image["type"],
        image.get("calls_configuration_id"),
        image.get("application_id"),
        image.get("entity_id"),
    )
    return [_message(image, CHANNEL, subscription.subscription_id, now_ms) for subscription in matched]


def handle(event: dict[str, Any]) -> dict[str, Any]:
    records: list[DynamoDBRecord] = list(DynamoDBStreamEvent(event).records)
    cache: dict[str, list[Subscription]] = {}
    now_ms = int(clock.epoch() * 1000)
    pending: list[tuple[int, DeliveryMessage]] = []  # (record index, message), in stream order
    for index, record in enumerate(records):
        if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
            continue  # TTL deletions and the like
        image = record.dynamodb.new_image
        try:
            account_id = image["account_id"]
            if account_id not in cache and not image.get("target"):
                cache[account_id] = subscriptions.list_subscriptions(account_id, CHANNEL)
            candidates = cache.get(account_id, [])
            pending.extend((index, message) for message in messages_for(image, candidates, now_ms))
        except Exception:
            logger().exception("fan-out failed", extra={"event_id": image.get("event_id")})
            return _fail_from(records, index, pending)
    return _fail_from(records, len(records), pending)


def _fail_from(
    records: list[DynamoDBRecord], failed_index: int, pending: list[tuple[int, DeliveryMessage]]
) -> dict[str, Any]:
    """Send what the records before `failed_index` produced, in order; report the first record not fully sent."""
    sent = (
        queue.send_in_order(get_settings().delivery_queue_url, [message for _, message in pending]) if pending else []
    )
    first_unsent = next((index for (index, _), ok in zip(pending, sent, strict=True) if not ok), failed_index)
    metrics().add_metric(name="EventsFannedOut", unit="Count", value=sum(sent))
    if first_unsent >= len(records):
        return {"batchItemFailures": []}
    metrics().add_metric(name="FanOutFailures", unit="Count", value=1)
    failed = records[first_unsent].dynamodb
    assert failed is not None
    return {"batchItemFailures": [{"itemIdentifier": failed.sequence_number}]}
