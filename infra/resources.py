"""The platform's resources, described once and read by both the local runner and the CDK app.

Tables are derived from the pynamodb models (keys, indexes, stream, TTL), so the models stay the single
source of truth for storage. Queues, buckets and the consumers' event sources are plain data here.
Nothing in this module talks to AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pynamodb.attributes import Attribute, NumberAttribute, TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.db import ALL_MODELS
from chalicelib.db.base import BaseModel


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str  # "S" | "N"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: KeySpec
    range_key: KeySpec | None


@dataclass(frozen=True)
class TableSpec:
    base_name: str
    hash_key: KeySpec
    range_key: KeySpec | None
    indexes: tuple[IndexSpec, ...]
    stream_view_type: str | None
    ttl_attribute: str | None


@dataclass(frozen=True)
class QueueSpec:
    base_name: str  # the full name is "<prefix><base_name>"
    fifo: bool
    visibility_timeout_seconds: int
    retention_seconds: int
    dead_letter: str | None = None  # base name of the dead-letter queue
    max_receive_count: int = 0


@dataclass(frozen=True)
class EventSourceSpec:
    """Attaches a consumer (`@app.lambda_function(name=function)`) to a stream or queue."""

    function: str
    source_kind: str  # "table-stream" | "queue"
    source: str  # table or queue base name
    batch_size: int
    max_batching_window_seconds: int = 0
    report_batch_item_failures: bool = True
    starting_position: str = "TRIM_HORIZON"
    max_concurrency: int | None = None  # queues: Lambda's ScalingConfig.MaximumConcurrency (2..1000)
    settings_env: dict[str, str] = field(default_factory=dict)


def _key(attribute: Attribute) -> KeySpec:
    return KeySpec(attribute.attr_name, "N" if isinstance(attribute, NumberAttribute) else "S")


def _index_spec(index: GlobalSecondaryIndex) -> IndexSpec:
    hash_key = range_key = None
    for attribute in vars(type(index)).values():
        if isinstance(attribute, Attribute):
            if attribute.is_hash_key:
                hash_key = _key(attribute)
            elif attribute.is_range_key:
                range_key = _key(attribute)
    assert hash_key is not None, f"index {index.Meta.index_name} has no hash key"
    return IndexSpec(index.Meta.index_name, hash_key, range_key)


def table_spec(model: type[BaseModel]) -> TableSpec:
    hash_key = range_key = None
    ttl = None
    for attribute in model.get_attributes().values():
        if attribute.is_hash_key:
            hash_key = _key(attribute)
        elif attribute.is_range_key:
            range_key = _key(attribute)
        if isinstance(attribute, TTLAttribute):
            ttl = attribute.attr_name
    assert hash_key is not None, f"{model.__name__} has no hash key"
    indexes = tuple(_index_spec(value) for value in vars(model).values() if isinstance(value, GlobalSecondaryIndex))
    return TableSpec(
        base_name=getattr(model.Meta, "base_name"),  # noqa: B009 - set by TableMeta, unknown to pynamodb's types
        hash_key=hash_key,
        range_key=range_key,
        indexes=indexes,
        stream_view_type=getattr(model.Meta, "stream_view_type", None),
        ttl_attribute=ttl,
    )


TABLES: tuple[TableSpec, ...] = tuple(table_spec(model) for model in ALL_MODELS)

DELIVERY_QUEUE = "deliveries.fifo"
DEAD_LETTER_QUEUE = "deliveries-dead.fifo"
RECORDING_EXPORT_QUEUE = "recording-exports"
RECORDING_EXPORT_DEAD_QUEUE = "recording-exports-dead"

QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(DEAD_LETTER_QUEUE, fifo=True, visibility_timeout_seconds=60, retention_seconds=14 * 86400),
    # The delivery handler moves messages to the dead-letter queue itself when their retry window ends;
    # the redrive policy only catches messages the handler could never process at all.
    QueueSpec(
        DELIVERY_QUEUE,
        fifo=True,
        visibility_timeout_seconds=60,
        retention_seconds=4 * 86400,
        dead_letter=DEAD_LETTER_QUEUE,
        max_receive_count=1000,
    ),
    QueueSpec(RECORDING_EXPORT_DEAD_QUEUE, fifo=False, visibility_timeout_seconds=60, retention_seconds=14 * 86400),
    # Standard, not FIFO: exports are independent. The exporter retries with its own backoff (hiding the message)
    # and gives up after its last attempt; only a message whose handler keeps crashing reaches the dead letters.
    # The visibility timeout outlasts the consumer's timeout (`infra.cdk.control_plane._TIMEOUTS`).
    QueueSpec(
        RECORDING_EXPORT_QUEUE,
        fifo=False,
        visibility_timeout_seconds=960,
        retention_seconds=4 * 86400,
        dead_letter=RECORDING_EXPORT_DEAD_QUEUE,
        max_receive_count=12,
    ),
)

QUEUE_URL_SETTINGS = {
    DELIVERY_QUEUE: "SWITCHBOARD_DELIVERY_QUEUE_URL",
    DEAD_LETTER_QUEUE: "SWITCHBOARD_DEAD_LETTER_QUEUE_URL",
    RECORDING_EXPORT_QUEUE: "SWITCHBOARD_RECORDING_EXPORT_QUEUE_URL",
    RECORDING_EXPORT_DEAD_QUEUE: "SWITCHBOARD_RECORDING_EXPORT_DEAD_QUEUE_URL",
}

EVENT_SOURCES: tuple[EventSourceSpec, ...] = (
    EventSourceSpec("fan_out_events", "table-stream", "outbox", batch_size=100, max_batching_window_seconds=0),
    # FIFO groups keep each call's order whatever the concurrency; more pollers let other calls proceed.
    EventSourceSpec("deliver_events", "queue", DELIVERY_QUEUE, batch_size=10, max_concurrency=4),
    EventSourceSpec("archive_dead_letters", "queue", DEAD_LETTER_QUEUE, batch_size=10),
    # The outbox's second reader (DynamoDB serves two per shard without throttling): *_RECORDING_READY and
    # *_COMPOSITION_FINISHED → one message per stored file on the export queue, when the account exports.
    EventSourceSpec("queue_recording_exports", "table-stream", "outbox", batch_size=100),
    # One file per invocation: an upload can take minutes, and one slow server must not hold other files back.
    EventSourceSpec("export_recordings", "queue", RECORDING_EXPORT_QUEUE, batch_size=1, max_concurrency=2),
)

BUCKET = "media"
BUCKET_SETTING = "SWITCHBOARD_BUCKET"  # the settings model's `bucket`
