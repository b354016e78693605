"""The resource definitions are derived from the models, so the local stack and CDK cannot drift from them."""

from __future__ import annotations

from app import app
from chalicelib.db.models import ALL_MODELS, Account, OutboxEvent
from infra.resources import EVENT_SOURCES, QUEUE_URL_SETTINGS, QUEUES, TABLES, KeySpec


def spec(base_name: str):
    return next(table for table in TABLES if table.base_name == base_name)


def test_every_model_has_a_table():
    assert len(TABLES) == len(ALL_MODELS)
    assert {t.base_name for t in TABLES} == {getattr(m.Meta, "base_name") for m in ALL_MODELS}  # noqa: B009


def test_keys_indexes_stream_and_ttl_come_from_the_models():
    outbox = spec(OutboxEvent.Meta.base_name)
    assert outbox.hash_key == KeySpec("stream_key", "S")
    assert outbox.range_key == KeySpec("sequence", "N")
    assert outbox.stream_view_type == "NEW_IMAGE"
    assert outbox.ttl_attribute == "expires_at"
    accounts = spec(Account.Meta.base_name)
    assert [(i.name, i.hash_key.name) for i in accounts.indexes] == [("by-username", "username")]


def test_event_sources_name_real_consumers_and_sources():
    functions = {f.name for f in app.pure_lambda_functions}
    queues = {q.base_name for q in QUEUES}
    for source in EVENT_SOURCES:
        assert source.function in functions
        assert source.report_batch_item_failures
        if source.source_kind == "queue":
            assert source.source in queues and source.source in QUEUE_URL_SETTINGS
        else:
            assert spec(source.source).stream_view_type


def test_delivery_queue_is_fifo_with_a_fifo_dead_letter_queue():
    delivery = next(q for q in QUEUES if q.dead_letter)
    dead = next(q for q in QUEUES if q.base_name == delivery.dead_letter)
    assert delivery.fifo and dead.fifo
