"""Least privilege, as data: what each Chalice function, and the media node's task, may touch. `control_plane` turns
it into one IAM role per function, `media_fleet` into the task role, with grants scoped to the named tables, queues
and secret (`grant`), plus their own log groups.

Read from the code paths each function runs (app.py's consumers and the routes' services; the media node's calls
through `chalicelib.calls.service`); when one starts using a new table or queue, it fails with AccessDenied until it
is added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.resources import DEAD_LETTER_QUEUE, DELIVERY_QUEUE, TABLES

if TYPE_CHECKING:
    from aws_cdk import aws_iam as iam

    from infra.cdk.keys import KeysSecret
    from infra.cdk.messaging import Queues
    from infra.cdk.storage import Tables

API_HANDLER = "api_handler"  # Chalice's name for the function behind the REST API


@dataclass(frozen=True)
class FunctionAccess:
    read_tables: tuple[str, ...] = ()
    write_tables: tuple[str, ...] = ()  # read and write
    write_only_tables: tuple[str, ...] = ()  # put and delete, never read back (the outbox, the node registry)
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

# The media node writes call legs and their events: `chalicelib.calls.service` reads a leg (consistent GetItem),
# then commits it with its outbox events and the per-stream sequence counters in one transaction
# (`chalicelib.events.outbox.publish`: BatchGetItem on the counters, TransactWriteItems over all three tables).
# It puts its heartbeat in the node registry (`chalicelib.media_nodes.service.heartbeat`) and reads the keys secret
# for the token key it verifies WebRTC tokens with.
MEDIA_NODE = FunctionAccess(
    write_tables=("calls", "event-sequences"),
    write_only_tables=("outbox", "media-nodes"),
    read_keys=True,
)


def grant(access: FunctionAccess, role: iam.IGrantable, tables: Tables, queues: Queues, keys: KeysSecret) -> None:
    """Turn `access` into grants on the named resources only."""
    for table in access.read_tables:
        tables[table].grant_read_data(role)
    for table in access.write_tables:
        tables[table].grant_read_write_data(role)
    for table in access.write_only_tables:
        tables[table].grant_write_data(role)
    for table in access.read_streams:
        tables[table].grant_stream_read(role)
    for queue in access.send_queues:
        queues[queue].grant_send_messages(role)
    for queue in access.consume_queues:
        queues[queue].grant_consume_messages(role)
    if access.read_keys:
        keys.secret.grant_read(role)
