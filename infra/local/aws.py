"""Embedded AWS: moto in server mode on 127.0.0.1, provisioned from `infra.resources` (the same definitions the
CDK app deploys)."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from chalicelib.core.crypto import new_key_material
from infra.resources import BUCKET, BUCKET_SETTING, QUEUE_URL_SETTINGS, QUEUES, TABLES, TableSpec

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    # moto serves every account on one endpoint; account-id based endpoints would miss it
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


@dataclass
class EmbeddedAws:
    server: ThreadedMotoServer
    endpoint: str

    def stop(self) -> None:
        self.server.stop()


# moto serves requests on threads but does not isolate DynamoDB transactions: it applies one item by item and
# undoes a failed one by restoring deep copies of whole tables taken when it began, silently erasing whatever another
# request committed meanwhile (moto 5.2.5: a racing call change stored without its event, an outbox event lost among
# concurrent writers). The API, the pump and the media node all write at once, so the embedded AWS serialises the
# item operations, which gives the isolation DynamoDB has. tests/unit/test_moto_isolation.py fails if moto renames one.
ISOLATED_OPERATIONS = (
    "transact_write_items",
    "transact_get_items",
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
)
_isolation_lock = threading.RLock()


def isolate_dynamodb_transactions() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _keep_streams_across_failed_transactions(DynamoDBBackend)
    for name in ISOLATED_OPERATIONS:
        operation = getattr(DynamoDBBackend, name)
        if getattr(operation, "_switchboard_isolated", False):
            continue

        def locked(*args: Any, __operation: Callable[..., Any] = operation, **kwargs: Any) -> Any:
            with _isolation_lock:
                return __operation(*args, **kwargs)

        locked._switchboard_isolated = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, locked)


def _keep_streams_across_failed_transactions(backend: Any) -> None:
    """A failed transaction makes moto put back deep copies of the tables it touched, streams included: the stream
    a reader iterates is then orphaned (it never sees another record: a conditional-write conflict on the outbox's
    table silenced the pipeline), and the copy hides nothing of what the failure appended. Put the live stream back
    on the restored table, without the failed transaction's records."""
    if getattr(backend, "_switchboard_streams_kept", False):
        return
    operation = backend.transact_write_items

    def keeping(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _isolation_lock:  # (re-entrant: the isolating wrapper holds it already)
            shards = {
                name: (table.stream_shard, len(table.stream_shard.items))
                for name, table in self.tables.items()
                if getattr(table, "stream_shard", None) is not None
            }
            try:
                return operation(self, *args, **kwargs)
            except Exception:
                for name, (shard, length) in shards.items():
                    table = self.tables.get(name)
                    if table is not None and table.stream_shard is not shard:
                        del shard.items[length:]
                        shard.table = table
                        table.stream_shard = shard
                raise

    backend.transact_write_items = keeping
    backend._switchboard_streams_kept = True


def start_moto(port: int = 0) -> EmbeddedAws:
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    isolate_dynamodb_transactions()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    return EmbeddedAws(server, endpoint)


def _attribute_definitions(spec: TableSpec) -> list[dict[str, str]]:
    keys = {spec.hash_key.name: spec.hash_key.type}
    if spec.range_key:
        keys[spec.range_key.name] = spec.range_key.type
    for index in spec.indexes:
        keys[index.hash_key.name] = index.hash_key.type
        if index.range_key:
            keys[index.range_key.name] = index.range_key.type
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in keys.items()]


def _key_schema(hash_key: Any, range_key: Any) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key.name, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key.name, "KeyType": "RANGE"})
    return schema


def create_table(client: Any, spec: TableSpec, prefix: str) -> None:
    name = prefix + spec.base_name
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": _attribute_definitions(spec),
        "KeySchema": _key_schema(spec.hash_key, spec.range_key),
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.hash_key, index.range_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    if spec.stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
    client.create_table(**request)
    if spec.ttl_attribute:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
        )


def provision(prefix: str) -> dict[str, str]:
    """Create tables, queues, bucket and the keys secret. Returns the environment the app needs."""
    dynamodb = boto3.client("dynamodb")
    for spec in TABLES:
        create_table(dynamodb, spec, prefix)
    sqs = boto3.client("sqs")
    urls: dict[str, str] = {}
    for queue in QUEUES:
        attributes = {
            "VisibilityTimeout": str(queue.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(queue.retention_seconds),
        }
        if queue.fifo:
            attributes["FifoQueue"] = "true"
        if queue.dead_letter:
            arn = sqs.get_queue_attributes(QueueUrl=urls[queue.dead_letter], AttributeNames=["QueueArn"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": arn["Attributes"]["QueueArn"],
                    "maxReceiveCount": queue.max_receive_count,
                }
            )
        urls[queue.base_name] = sqs.create_queue(QueueName=prefix + queue.base_name, Attributes=attributes)["QueueUrl"]
    boto3.client("s3").create_bucket(Bucket=prefix + BUCKET)
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"{prefix}keys",
        SecretString=json.dumps(
            {"dataKey": new_key_material(), "tokenKey": new_key_material(), "controlKey": new_key_material()}
        ),
    )
    environment = {QUEUE_URL_SETTINGS[name]: url for name, url in urls.items()}
    environment["SWITCHBOARD_KEYS_SECRET_ID"] = secret["ARN"]
    environment[BUCKET_SETTING] = prefix + BUCKET
    return environment
