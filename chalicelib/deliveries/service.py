"""Reading the delivery log and dead letters of a subscription, and replaying dead letters.

Replay puts each dead letter back on the delivery queue in its original order with a fresh retry window, then
removes it; a letter the queue does not accept stays, so a replay can be repeated without loss.
"""

from __future__ import annotations

import json

from chalicelib.core import clock
from chalicelib.core.settings import get_settings
from chalicelib.deliveries import repository
from chalicelib.deliveries.schemas import (
    DeadLetterPage,
    DeadLetterView,
    DeliveryAttemptView,
    DeliveryLog,
    ReplayResult,
)
from chalicelib.events import queue
from chalicelib.events.messages import DeliveryMessage, delivery_log_key
from chalicelib.subscriptions.service import require_subscription


def delivery_log(account_id: str, channel: str, subscription_id: str, limit: int) -> DeliveryLog:
    require_subscription(account_id, channel, subscription_id)
    attempts = repository.recent_attempts(delivery_log_key(account_id, channel, subscription_id), limit)
    return DeliveryLog(
        results=[
            DeliveryAttemptView(
                eventId=a.event_id,
                eventType=a.event_type,
                sequence=int(a.sequence),
                attempt=int(a.attempt),
                outcome=a.outcome,
                statusCode=int(a.status_code) if a.status_code is not None else None,
                latencyMs=int(a.latency_ms) if a.latency_ms is not None else None,
                error=a.error,
                attemptedAt=a.attempted_at,
            )
            for a in attempts
        ]
    )


def dead_letters(account_id: str, channel: str, subscription_id: str) -> DeadLetterPage:
    require_subscription(account_id, channel, subscription_id)
    letters = repository.dead_letters(delivery_log_key(account_id, channel, subscription_id))
    results = []
    for letter in letters:
        message = DeliveryMessage.model_validate_json(letter.message)
        results.append(
            DeadLetterView(
                eventId=letter.event_id,
                eventType=letter.event_type,
                sequence=message.sequence,
                reason=letter.reason,
                deadLetteredAt=letter.dead_lettered_at,
                event=json.loads(message.body),
            )
        )
    return DeadLetterPage(results=results)


def replay(account_id: str, channel: str, subscription_id: str) -> ReplayResult:
    require_subscription(account_id, channel, subscription_id)
    letters = repository.dead_letters(delivery_log_key(account_id, channel, subscription_id))
    now_ms = int(clock.epoch() * 1000)
    messages = []
    for letter in letters:
        message = DeliveryMessage.model_validate_json(letter.message)
        messages.append(message.model_copy(update={"firstEnqueuedAt": now_ms, "replay": message.replay + 1}))
    sent = queue.send_in_order(get_settings().delivery_queue_url, messages)
    replayed = 0
    for letter, ok in zip(letters, sent, strict=True):
        if ok:
            repository.delete_dead_letter(letter)
            replayed += 1
    return ReplayResult(replayed=replayed, remaining=len(letters) - replayed)
