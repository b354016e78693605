"""The transactional outbox: events and the change they describe are written together, numbered per call."""

from __future__ import annotations

import threading

import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib.db.models import ApiKey, EventSequence, OutboxEvent
from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish


def sequences(account_id: str, stream: str) -> list[int]:
    return [int(e.sequence) for e in OutboxEvent.query(f"{account_id}#{stream}")]


def test_each_call_is_numbered_from_one(account):
    publish(account.account_id, [NewEvent("CALL_STARTED", call_id="a"), NewEvent("CALL_RINGING", call_id="a")])
    publish(account.account_id, [NewEvent("CALL_STARTED", call_id="b")])
    published = publish(account.account_id, [NewEvent("CALL_FINISHED", call_id="a")])
    assert published[0].sequence == 3
    assert sequences(account.account_id, "a") == [1, 2, 3]
    assert sequences(account.account_id, "b") == [1]


def test_concurrent_writers_on_one_call_never_share_a_number(account):
    errors: list[Exception] = []

    def writer() -> None:
        try:
            for _ in range(5):
                publish(account.account_id, [NewEvent("CALL_MEDIA_CHANGED", call_id="busy")])
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sequences(account.account_id, "busy") == list(range(1, 21))


def test_the_envelope_is_infobips_plus_id_and_sequence(account):
    (envelope,) = publish(
        account.account_id,
        [
            NewEvent(
                "CALL_STARTED",
                call_id="c",
                calls_configuration_id="cfg",
                application_id="app",
                properties={"call": {"id": "c"}},
                extra={"retryProperties": {"retry": False}},
            )
        ],
    )
    stored = OutboxEvent.get(f"{account.account_id}#c", 1)
    assert stored.body == envelope.model_dump_json(exclude_none=True)
    body = envelope.model_dump(exclude_none=True)
    assert body["platform"] == {"applicationId": "app"}
    assert body["retryProperties"] == {"retry": False}
    assert {"type", "callId", "timestamp", "callsConfigurationId", "eventId", "sequence"} <= set(body)
    assert stored.expires_at is not None


def test_a_failed_domain_write_writes_no_event(account):
    existing = next(iter(ApiKey.by_account.query(account.account_id)))

    def conflicting(transaction) -> None:  # claims a key hash that already exists
        transaction.save(
            ApiKey(
                existing.key_hash,
                key_id="x",
                account_id=account.account_id,
                name="x",
                prefix="x",
                created_at=existing.created_at,
            ),
            condition=ApiKey.key_hash.does_not_exist(),
        )

    with pytest.raises(TransactWriteError):
        publish(account.account_id, [NewEvent("CALL_STARTED", call_id="atomic")], conflicting)
    assert sequences(account.account_id, "atomic") == []
    assert EventSequence.count(f"{account.account_id}#atomic") == 0


def test_unknown_event_types_are_refused():
    with pytest.raises(ValueError):
        NewEvent("CALL_EXPLODED", call_id="x")
