"""Delivery: queue messages → signed POSTs to the subscription's webhook.

Per message: 2xx is delivered; anything else (status, timeout, refused URL) is retried with exponential backoff
by hiding the message for the backoff (the FIFO group waits behind it, so a call's events stay in order) until
the retry window (24 h by default) has passed since the event was first queued; then the message is moved to
the dead-letter queue. Messages behind a failed one in the same batch are returned to the queue untried.
Failures are reported per message, so one bad delivery never drops or re-sends its neighbours. Groups in one
batch are delivered concurrently; messages within a group strictly in order. A subscription's webhook settings are
cached for a few seconds per container, so a profile change reaches deliveries within that time. A message on
another channel than the subscriptions' (a targeted event, e.g. `CALL_LINK`: a Call Link configuration's status
webhook) has its target resolved by that channel's resolver; everything else is the same.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from chalicelib.call_link import status as call_link_status
from chalicelib.core import clock, ids
from chalicelib.core.observability import logger, metrics
from chalicelib.core.outbound import webhook_client
from chalicelib.core.settings import Settings, get_settings
from chalicelib.db.models import DeliveryAttempt
from chalicelib.deliveries import repository as log
from chalicelib.events import queue, signing
from chalicelib.events.messages import DeliveryMessage
from chalicelib.subscriptions.service import WebhookTarget, webhook_target

# Targeted events' channels and where their webhook is found (subscriptions' channels are the default).
_TARGET_RESOLVERS: dict[str, Callable[[str, str], WebhookTarget | None]] = {
    call_link_status.CHANNEL: call_link_status.delivery_target
}

_MAX_PARALLEL_GROUPS = 8
_TARGET_TTL_SECONDS = 5.0
_targets: dict[tuple[str, str, str], tuple[float, WebhookTarget | None]] = {}
_targets_lock = threading.Lock()


@dataclass
class Outcome:
    retry_after: int | None  # seconds to hide the message, or None when it is finished with
    attempt: DeliveryAttempt | None


def backoff_seconds(age_seconds: float, settings: Settings) -> int:
    """Wait about as long as the event has been waiting, between the base and the cap (±20 % jitter).

    For an event that keeps failing this doubles the interval each time (attempts at ~0, b, 2b, 4b, ...). It is
    keyed on age, not on SQS's receive count, because messages handed back untried behind a failed one are
    received again without an attempt.
    """
    delay = min(max(age_seconds, settings.delivery_backoff_base_seconds), settings.delivery_backoff_max_seconds)
    return max(1, int(delay * random.uniform(0.8, 1.2)))


def message_age(message: DeliveryMessage) -> float:
    return clock.epoch() - message.firstEnqueuedAt / 1000


def build_request(target: WebhookTarget, message: DeliveryMessage, timestamp: int) -> tuple[dict[str, str], bytes]:
    body = message.body.encode()
    headers = {
        **target.headers,
        "Content-Type": target.content_type,
        signing.EVENT_ID_HEADER: message.eventId,
        signing.SEQUENCE_HEADER: str(message.sequence),
        signing.TIMESTAMP_HEADER: str(timestamp),
    }
    credentials = target.credentials
    if target.security_type == "BASIC":
        token = base64.b64encode(f"{credentials['username']}:{credentials['password']}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    elif target.security_type == "HMAC":
        headers[signing.SIGNATURE_HEADER] = signing.sign(
            credentials["secretKey"], timestamp, body, credentials.get("algorithm", "HMAC_SHA_256")
        )
    return headers, body


def _post(target: WebhookTarget, message: DeliveryMessage, settings: Settings) -> tuple[int | None, str | None]:
    connect = (target.connect_timeout_ms or settings.webhook_connect_timeout_ms) / 1000
    read = (target.read_timeout_ms or settings.webhook_read_timeout_ms) / 1000
    headers, body = build_request(target, message, int(clock.epoch()))
    try:
        response = webhook_client().post(
            target.url,
            content=body,
            headers=headers,
            timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect),
        )
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def _attempt(
    message: DeliveryMessage,
    number: int,
    outcome: str,
    status: int | None,
    latency_ms: int | None,
    error: str | None,
    settings: Settings,
) -> DeliveryAttempt:
    now = clock.now()
    return DeliveryAttempt(
        message.log_key,
        f"{int(now.timestamp() * 1000):013d}#{ids.base62(6)}",
        account_id=message.accountId,
        event_id=message.eventId,
        event_type=message.eventType,
        sequence=message.sequence,
        attempt=number,
        outcome=outcome,
        status_code=status,
        latency_ms=latency_ms,
        error=error,
        attempted_at=now,
        expires_at=now + timedelta(days=settings.delivery_log_retention_days),
    )


def cached_target(account_id: str, channel: str, subscription_id: str) -> WebhookTarget | None:
    """The subscription's webhook, re-read at most every few seconds per container (three reads otherwise)."""
    key = (account_id, channel, subscription_id)
    now = time.monotonic()
    with _targets_lock:
        cached = _targets.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    resolver = _TARGET_RESOLVERS.get(channel)
    target = resolver(account_id, subscription_id) if resolver else webhook_target(account_id, channel, subscription_id)
    with _targets_lock:
        if len(_targets) > 10_000:
            _targets.clear()
        _targets[key] = (now + _TARGET_TTL_SECONDS, target)
    return target


def deliver(message: DeliveryMessage, receive_count: int, settings: Settings) -> Outcome:
    target = cached_target(message.accountId, message.channel, message.subscriptionId)
    if target is None:
        return Outcome(None, _attempt(message, receive_count, "DROPPED", None, None, "subscription removed", settings))
    started = time.monotonic()
    status, error = _post(target, message, settings)
    latency = int((time.monotonic() - started) * 1000)
    if error is None:
        metrics().add_metric(name="WebhooksDelivered", unit="Count", value=1)
        return Outcome(None, _attempt(message, receive_count, "DELIVERED", status, latency, None, settings))
    metrics().add_metric(name="WebhookFailures", unit="Count", value=1)
    age_seconds = message_age(message)
    if age_seconds >= settings.delivery_retry_window_seconds:
        sent = queue.send_in_order(settings.dead_letter_queue_url, [message], {"reason": error})
        if not sent[0]:
            return Outcome(backoff_seconds(age_seconds, settings), None)
        metrics().add_metric(name="WebhooksDeadLettered", unit="Count", value=1)
        return Outcome(None, _attempt(message, receive_count, "DEAD_LETTERED", status, latency, error, settings))
    retry = backoff_seconds(age_seconds, settings)
    return Outcome(retry, _attempt(message, receive_count, "FAILED", status, latency, error, settings))


def _process_group(records: list[SQSRecord], settings: Settings) -> tuple[list[str], list[DeliveryAttempt]]:
    failures: list[str] = []
    attempts: list[DeliveryAttempt] = []
    held = False
    for record in records:
        if held:
            # Behind a failed message: hand it straight back. The failed message, hidden for its backoff, keeps
            # the FIFO group locked, and this one follows it in order. (Hiding these too would gain nothing, and
            # moto releases a group's hidden messages last-first when they reappear together.)
            queue.delay(settings.delivery_queue_url, record.receipt_handle, 0)
            failures.append(record.message_id)
            continue
        try:
            message = DeliveryMessage.model_validate_json(record.body)
        except ValidationError:
            logger().error("undeliverable message dropped", extra={"message_id": record.message_id})
            continue
        try:
            outcome = deliver(message, int(record.attributes.approximate_receive_count or 1), settings)
        except Exception:
            logger().exception("delivery crashed", extra={"event_id": message.eventId})
            outcome = Outcome(backoff_seconds(message_age(message), settings), None)
        if outcome.attempt is not None:
            attempts.append(outcome.attempt)
        if outcome.retry_after is not None:
            held = True
            queue.delay(settings.delivery_queue_url, record.receipt_handle, outcome.retry_after)
            failures.append(record.message_id)
    return failures, attempts


def handle(event: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    groups: OrderedDict[str, list[SQSRecord]] = OrderedDict()
    for record in SQSEvent(event).records:
        groups.setdefault(record.attributes.message_group_id or record.message_id, []).append(record)
    failures: list[str] = []
    attempts: list[DeliveryAttempt] = []
    with ThreadPoolExecutor(max_workers=min(_MAX_PARALLEL_GROUPS, max(len(groups), 1))) as pool:
        for group_failures, group_attempts in pool.map(lambda r: _process_group(r, settings), groups.values()):
            failures.extend(group_failures)
            attempts.extend(group_attempts)
    try:
        log.record_attempts(attempts)
    except Exception:  # the log is for people; never let it turn a delivered event into a re-send
        logger().exception("could not write the delivery log")
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}
