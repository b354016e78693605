"""The local stand-in for Lambda's event-source mappings.

For every `infra.resources.EVENT_SOURCES` entry a thread polls the table stream or queue, converts what it reads to
the exact event shape Lambda delivers, calls the same handler function Lambda would (found in Chalice's registry
of `@app.lambda_function`s) and honours `batchItemFailures`: failed queue messages stay on the queue, a failed
stream record is retried (with the records after it) until it succeeds, as Lambda does with a bisect-free mapping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
from chalice.local import LambdaContext

from chalicelib.core.observability import logger
from infra.resources import QUEUE_URL_SETTINGS, EventSourceSpec

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _context(name: str) -> LambdaContext:
    return LambdaContext(function_name=name, memory_size=512, max_runtime_ms=900_000)


def stream_record_to_lambda(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """boto3 GetRecords output → the record shape a Lambda stream trigger receives."""
    converted = dict(record)
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    converted["dynamodb"] = dynamodb
    converted["eventSourceARN"] = stream_arn
    converted.setdefault("awsRegion", region)
    return converted


def queue_message_to_lambda(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """boto3 ReceiveMessage output → the record shape a Lambda SQS trigger receives."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def settle(sqs: Any, url: str, received: list[dict[str, Any]], result: dict[str, Any]) -> None:
    """What Lambda does after an SQS batch: delete every message not listed in `batchItemFailures`."""
    failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
    done = [m for m in received if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
        )


class Pump:
    def __init__(
        self,
        app: Any,
        sources: tuple[EventSourceSpec, ...],
        prefix: str,
        queue_urls: dict[str, str],
        idle_sleep: float = 0.02,
        max_idle_sleep: float = 0.25,
    ) -> None:
        functions = {function.name: function.func for function in app.pure_lambda_functions}
        self._jobs = [(spec, functions[spec.function]) for spec in sources]
        self._prefix = prefix
        self._queue_urls = queue_urls
        self._idle_sleep = idle_sleep
        self._max_idle_sleep = max_idle_sleep
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.region = boto3.session.Session().region_name or "us-east-1"

    def start(self) -> None:
        for spec, handler in self._jobs:
            target = self._run_stream if spec.source_kind == "table-stream" else self._run_queue
            # a stream shard is read by one poller; a queue by as many as the mapping's concurrency allows
            pollers = 1 if spec.source_kind == "table-stream" else (spec.max_concurrency or 1)
            for number in range(pollers):
                thread = threading.Thread(
                    target=target, args=(spec, handler), name=f"pump-{spec.function}-{number}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    # --- queues -------------------------------------------------------------------------------------------

    def _run_queue(self, spec: EventSourceSpec, handler: Handler) -> None:
        sqs = boto3.client("sqs")
        url = self._queue_urls[QUEUE_URL_SETTINGS[spec.source]]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        idle = self._idle_sleep
        while not self._stop.is_set():
            try:
                received = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=spec.batch_size,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                    WaitTimeSeconds=0,
                ).get("Messages", [])
                if not received:
                    # Back off while idle: moto slows down for everyone under a stream of empty polls (and its long
                    # poll spins while a FIFO group is locked, so it is no substitute).
                    self._stop.wait(idle)
                    idle = min(idle * 2, self._max_idle_sleep)
                    continue
                idle = self._idle_sleep
                event = {"Records": [queue_message_to_lambda(m, arn, self.region) for m in received]}
                try:
                    result = handler(event, _context(spec.function)) or {}
                except Exception:
                    logger().exception("consumer crashed; its batch returns to the queue", extra={"fn": spec.function})
                    continue
                settle(sqs, url, received, result)
            except Exception:
                if not self._stop.is_set():
                    logger().exception("queue pump error", extra={"fn": spec.function})
                    self._stop.wait(1)

    # --- table streams -------------------------------------------------------------------------------------

    def _run_stream(self, spec: EventSourceSpec, handler: Handler) -> None:
        dynamodb = boto3.client("dynamodb")
        streams = boto3.client("dynamodbstreams")
        arn = dynamodb.describe_table(TableName=self._prefix + spec.source)["Table"]["LatestStreamArn"]
        iterators: dict[str, str] = {}
        pending: dict[str, list[dict[str, Any]]] = {}
        last_discovery = 0.0
        idle = self._idle_sleep
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_discovery > 2:
                    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                        shard_id = shard["ShardId"]
                        if shard_id not in iterators and shard_id not in pending:
                            iterators[shard_id] = streams.get_shard_iterator(
                                StreamArn=arn,
                                ShardId=shard_id,
                                ShardIteratorType=spec.starting_position,
                            )["ShardIterator"]
                    last_discovery = time.monotonic()
                busy = False
                for shard_id in list(iterators):
                    records = pending.pop(shard_id, [])
                    if not records:
                        response = streams.get_records(ShardIterator=iterators[shard_id], Limit=spec.batch_size)
                        next_iterator = response.get("NextShardIterator")
                        if next_iterator:
                            iterators[shard_id] = next_iterator
                        records = [stream_record_to_lambda(r, arn, self.region) for r in response.get("Records", [])]
                    if records:
                        busy = True
                        retry = self._deliver_stream_batch(spec, handler, records)
                        if retry:
                            pending[shard_id] = retry
                if busy:
                    idle = self._idle_sleep
                else:
                    self._stop.wait(idle)
                    idle = min(idle * 2, self._max_idle_sleep)
            except Exception:
                if not self._stop.is_set():
                    logger().exception("stream pump error", extra={"fn": spec.function})
                    self._stop.wait(1)

    def _deliver_stream_batch(
        self, spec: EventSourceSpec, handler: Handler, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Run the handler; returns the records to retry (from the first failure on)."""
        try:
            result = handler({"Records": records}, _context(spec.function)) or {}
        except Exception:
            logger().exception("stream consumer crashed; retrying its batch", extra={"fn": spec.function})
            self._stop.wait(1)
            return records
        failures = [item["itemIdentifier"] for item in result.get("batchItemFailures", [])]
        if not failures:
            return []
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        first = min(numbers.index(f) for f in failures if f in numbers) if any(f in numbers for f in failures) else 0
        self._stop.wait(0.5)
        return records[first:]
