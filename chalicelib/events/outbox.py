"""Transactional outbox: a domain change and its events are written in one DynamoDB transaction.

Each event gets the next number of its stream (a call, conference, dialog or the account). The counters are
updated in the same transaction with a condition on the value we read, so two writers racing on one call
cannot hand out the same number; the loser re-reads and retries. A failure of the caller's own conditions is
re-raised as the caller's error.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core import clock, ids
from chalicelib.core.settings import get_settings
from chalicelib.db.base import transaction
from chalicelib.db.models import EventSequence, OutboxEvent
from chalicelib.events.envelope import EventEnvelope, NewEvent, encode

DomainWrites = Callable[[TransactWrite], None]

_MAX_ATTEMPTS = 8
_SEQUENCE_RETENTION = timedelta(days=90)


@dataclass(frozen=True)
class Published:
    envelope: EventEnvelope
    stream_key: str
    body: str  # the exact bytes the webhook receives: the envelope, or a targeted event's own payload
    target: str | None = None


def _stream_key(account_id: str, event: NewEvent) -> str:
    return f"{account_id}#{event.stream}"


def _current_sequences(keys: set[str]) -> dict[str, int]:
    current = {key: 0 for key in keys}
    for item in EventSequence.batch_get(list(keys), consistent_read=True):
        current[item.stream_key] = int(item.sequence)
    return current


def _build(account_id: str, events: Sequence[NewEvent], current: dict[str, int]) -> list[Published]:
    timestamp = clock.infobip_format(clock.now())
    next_numbers = dict(current)
    published = []
    for event in events:
        key = _stream_key(account_id, event)
        next_numbers[key] += 1
        envelope = event.envelope(ids.event_id(), next_numbers[key], timestamp)
        body = encode(envelope) if event.payload is None else json.dumps(event.payload, separators=(",", ":"))
        published.append(Published(envelope, key, body, event.target))
    return published


def _stage(transaction: TransactWrite, account_id: str, current: dict[str, int], published: list[Published]) -> None:
    now = clock.now()
    expires = now + timedelta(days=get_settings().outbox_retention_days)
    last = {item.stream_key: item.envelope.sequence for item in published}
    for key, value in last.items():
        sequence = EventSequence(key, account_id=account_id, sequence=value, expires_at=now + _SEQUENCE_RETENTION)
        if current[key] == 0:
            transaction.save(sequence, condition=EventSequence.stream_key.does_not_exist())
        else:
            transaction.save(sequence, condition=EventSequence.sequence == current[key])
    for item in published:
        envelope = item.envelope
        platform = envelope.platform
        transaction.save(
            OutboxEvent(
                item.stream_key,
                envelope.sequence,
                account_id=account_id,
                event_id=envelope.eventId,
                type=envelope.type,
                calls_configuration_id=envelope.callsConfigurationId,
                application_id=platform.applicationId if platform else None,
                entity_id=platform.entityId if platform else None,
                body=item.body,
                target=item.target,
                created_at=now,
                expires_at=expires,
            ),
            condition=OutboxEvent.stream_key.does_not_exist(),
        )


def publish(account_id: str, events: Sequence[NewEvent], writes: DomainWrites | None = None) -> list[EventEnvelope]:
    """Write `events` (and the caller's `writes`) atomically. Returns the envelopes as delivered."""
    if not events:
        raise ValueError("publish needs at least one event")
    keys = {_stream_key(account_id, event) for event in events}
    for attempt in range(_MAX_ATTEMPTS):
        current = _current_sequences(keys)
        published = _build(account_id, events, current)
        try:
            with transaction() as staged:
                _stage(staged, account_id, current, published)
                if writes is not None:
                    writes(staged)
        except TransactWriteError:
            if _current_sequences(keys) == current:
                raise  # our counters did not move: the caller's own condition failed
            time.sleep(random.uniform(0, 0.01 * (2**attempt)))
            continue
        return [item.envelope for item in published]
    raise RuntimeError(f"could not allocate event sequence numbers for {sorted(keys)}")
