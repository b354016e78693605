"""Dead-letter archiving: every message on the dead-letter queue becomes a replayable row for its subscription.

Messages arrive here two ways: moved by the delivery handler when their retry window ends (with a `reason`
attribute), or by the queue's redrive policy when the delivery handler could never process them at all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent
from pydantic import ValidationError

from chalicelib.core import clock
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings
from chalicelib.db.models import DeadLetter
from chalicelib.deliveries import repository
from chalicelib.events.messages import DeliveryMessage


def handle(event: dict[str, Any]) -> dict[str, Any]:
    failures = []
    retention = timedelta(days=get_settings().dead_letter_retention_days)
    for record in SQSEvent(event).records:
        try:
            message = DeliveryMessage.model_validate_json(record.body)
        except ValidationError:
            logger().error("unreadable dead letter discarded", extra={"body": record.body[:500]})
            continue
        reason_attribute = record.message_attributes["reason"]  # indexing: `.get` returns the raw dict
        reason = (reason_attribute.string_value if reason_attribute else None) or "delivery kept failing"
        now = clock.now()
        try:
            repository.save_dead_letter(
                DeadLetter(
                    message.log_key,
                    f"{message.firstEnqueuedAt:013d}#{message.sequence:010d}#{message.eventId}",
                    account_id=message.accountId,
                    event_id=message.eventId,
                    event_type=message.eventType,
                    message=record.body,
                    reason=reason,
                    dead_lettered_at=now,
                    expires_at=now + retention,
                )
            )
        except Exception:
            logger().exception("could not archive a dead letter", extra={"event_id": message.eventId})
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}
