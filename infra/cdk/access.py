"""Least privilege, as data: what each Chalice function may touch. `control_plane` turns it into one IAM role per
function with grants scoped to the named tables, queues and secret (plus its own log group and X-Ray).

Read from the code paths each function runs (app.py's consumers and the routes' services); when a function
starts using a new table or queue, it fails with AccessDenied until it is added here.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.resources import DEAD_LETTER_QUEUE, DELIVERY_QUEUE, TABLES

API_HANDLER = "api_handler"  # Chalice's name for the function behind the REST API


@dataclass(frozen=True)
class FunctionAccess:
    read_tables: tuple[str, ...] = ()
    write_tables: tuple[str, ...] = ()  # read and write
    send_queues: tuple[str, ...] = ()
    consume_queues: tuple[str, ...] = ()  # receive, delete, change visibility
    read_streams: tuple[str, ...] = ()  # tables whose stream the function consumes
    read_keys: bool = False


_SUBSCRIPTION_TABLES = ("subscriptions", "subscription-profiles", "subscription-security")

ACCESS: dict[str, FunctionAccess] = {
    # Every REST route: accounts, keys, subscriptions, the delivery log, dead-letter replay, events into the outbox.
    API_HANDLER: FunctionAccess(
        write_tables=tuple(spec.base_name for spec in TABLES),
        send_queues=(DELIVERY_QUEUE,),
        read_keys=True,
    ),
    # Outbox stream -> matching subscriptions -> one message per subscription on the delivery queue.
    "fan_out_events": FunctionAccess(
        read_tables=_SUBSCRIPTION_TABLES,
        send_queues=(DELIVERY_QUEUE,),
        read_streams=("outbox",),
    ),
    # Delivery queue -> webhook POST (credentials decrypted with the data key) -> delivery log; gives up into the DLQ.
    "deliver_events": FunctionAccess(
        read_tables=_SUBSCRIPTION_TABLES,
        write_tables=("delivery-log",),
        send_queues=(DEAD_LETTER_QUEUE,),
        consume_queues=(DELIVERY_QUEUE,),
        read_keys=True,
    ),
    # Dead-letter queue -> the dead-letters table, replayable through the API.
    "archive_dead_letters": FunctionAccess(
        write_tables=("dead-letters",),
        consume_queues=(DEAD_LETTER_QUEUE,),
    ),
}
