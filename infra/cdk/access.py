"""Least privilege, as data: what each Chalice function, and the media node's task, may touch. `control_plane` turns
it into one IAM role per function, `media_fleet` into the task role, with grants scoped to the named tables, queues
and secret (`grant`), plus their own log groups. Bucket access is per key prefix pattern, never the whole bucket.

Read from the code paths each function runs (app.py's consumers and the routes' services; the media node's calls
through `chalicelib.calls.service`); when one starts using a new table or queue, it fails with AccessDenied until it
is added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam

from infra.resources import DEAD_LETTER_QUEUE, DELIVERY_QUEUE, RECORDING_EXPORT_QUEUE, TABLES

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

    from infra.cdk.keys import KeysSecret
    from infra.cdk.messaging import Queues
    from infra.cdk.storage import Tables

API_HANDLER = "api_handler"  # Chalice's name for the function behind the REST API
# Uploaded audio files: `chalicelib.files.repository` keys them `<accountId>/files/<fileId>.<wav|mp3>`.
AUDIO_FILES = "*/files/*"
# Recordings: `chalicelib.recordings.repository` keys them `recordings/<accountId>/<fileId>.<ext>`.
RECORDINGS = "recordings/*"
# Call Link logos and backgrounds: `chalicelib.call_link.repository` keys them `<accountId>/call-link/images/<id>`.
CALL_LINK_IMAGES = "*/call-link/images/*"


@dataclass(frozen=True)
class FunctionAccess:
    read_tables: tuple[str, ...] = ()
    write_tables: tuple[str, ...] = ()  # read and write
    write_only_tables: tuple[str, ...] = ()  # put and delete, never read back (the outbox, the node registry)
    send_queues: tuple[str, ...] = ()
    consume_queues: tuple[str, ...] = ()  # receive, delete, change visibility
    read_streams: tuple[str, ...] = ()  # tables whose stream the function consumes
    read_keys: bool = False
    read_objects: tuple[str, ...] = ()  # media bucket key patterns: GetObject
    write_objects: tuple[str, ...] = ()  # media bucket key patterns: PutObject, GetObject, DeleteObject
    take_objects: tuple[str, ...] = ()  # media bucket key patterns: GetObject, DeleteObject (read, then removed)


_SUBSCRIPTION_TABLES = ("subscriptions", "subscription-profiles", "subscription-security")

ACCESS: dict[str, FunctionAccess] = {
    # Every REST route: accounts, keys, subscriptions, the delivery log, dead-letter replay, events into the outbox,
    # calls and their configurations; the Files API stores, reads back and deletes the uploaded audio.
    API_HANDLER: FunctionAccess(
        write_tables=tuple(spec.base_name for spec in TABLES),
        send_queues=(DELIVERY_QUEUE,),
        read_keys=True,
        write_objects=(AUDIO_FILES, RECORDINGS, CALL_LINK_IMAGES),
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
    # Outbox stream -> finished recording files of accounts with an enabled SFTP destination (read, never decrypted)
    # are claimed (a conditional UpdateItem on recording-files) and put on the export queue.
    "queue_recording_exports": FunctionAccess(
        read_tables=("recording-export-destinations",),
        write_tables=("recording-files",),
        send_queues=(RECORDING_EXPORT_QUEUE,),
        read_streams=("outbox",),
    ),
    # Export queue -> the file's item and object -> zip -> the account's SFTP server (its password decrypted with
    # the data key) -> the item updated, the object deleted; a retry hides its message for the backoff.
    "export_recordings": FunctionAccess(
        read_tables=("recording-export-destinations",),
        write_tables=("recording-files",),
        consume_queues=(RECORDING_EXPORT_QUEUE,),
        read_keys=True,
        take_objects=(RECORDINGS,),
    ),
    # Every minute: legs of dead media nodes (the `live-by-node` index of calls) are ended with their events, their
    # conferences and dialogs finished, their nodes' unsettled recording files (the `by-node` index) marked FAILED,
    # and the dead nodes' registry entries read and removed (`chalicelib.media_nodes.reaper`).
    "reap_dead_nodes": FunctionAccess(
        write_tables=("media-nodes", "calls", "event-sequences", "conferences", "dialogs", "recording-files"),
        write_only_tables=("outbox",),
    ),
}

# The media node writes call legs and their events: `chalicelib.calls.service` reads a leg (consistent GetItem),
# then commits it with its outbox events and the per-stream sequence counters in one transaction
# (`chalicelib.events.outbox.publish`: BatchGetItem on the counters, TransactWriteItems over all three tables).
# It puts its heartbeat in the node registry (`chalicelib.media_nodes.service.heartbeat`) and reads the keys secret
# for the token key it verifies WebRTC tokens with. Playing an uploaded file (`chalicelib.files.service.open_file`)
# reads its item (consistent GetItem on audio-files) and then its object. Application calls only name their calls
# configuration (`start_application_call` does not read it), so calls-configurations and media-stream-configs stay
# out of reach. Conferences it mixes are written like calls (`chalicelib.conferences.service`: the conference item,
# its participants' legs and their events in one transaction), and so are the dialogs it bridges
# (`chalicelib.dialogs.service`: the dialog item and its events; it reads the legs). What it records goes to the
# bucket under `recordings/` (PutObject, in parts when large) and, with its events, to recording-files.
MEDIA_NODE = FunctionAccess(
    read_tables=("audio-files",),
    write_tables=("calls", "event-sequences", "conferences", "dialogs", "recording-files"),
    write_only_tables=("outbox", "media-nodes"),
    read_keys=True,
    read_objects=(AUDIO_FILES,),
    write_objects=(RECORDINGS,),
)


def grant(
    access: FunctionAccess, role: iam.IGrantable, tables: Tables, queues: Queues, keys: KeysSecret, bucket: s3.IBucket
) -> None:
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
    # Object actions only (no ListBucket, no tagging, ACLs or versions): what boto3's put/get/delete_object need. The
    # bucket is SSE-S3 encrypted, so no KMS grant goes with them.
    if access.write_objects:
        _grant_objects(role, bucket, ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], access.write_objects)
    if access.take_objects:
        _grant_objects(role, bucket, ["s3:GetObject", "s3:DeleteObject"], access.take_objects)
    readable = tuple(pattern for pattern in access.read_objects if pattern not in access.write_objects)
    if readable:
        _grant_objects(role, bucket, ["s3:GetObject"], readable)


def _grant_objects(role: iam.IGrantable, bucket: s3.IBucket, actions: list[str], patterns: tuple[str, ...]) -> None:
    iam.Grant.add_to_principal(
        grantee=role, actions=actions, resource_arns=[bucket.arn_for_objects(pattern) for pattern in patterns]
    )
