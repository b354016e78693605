"""The SQS FIFO queues from `infra.resources.QUEUES`, and the queue that records outbox-stream batches fan-out gave
up on (an on-failure destination: it holds the shard and sequence range, so the records can be found again)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.cdk.config import DeploymentConfig
from infra.resources import QUEUES, QueueSpec

STREAM_FAILURES_QUEUE = "fan-out-failures"


class Queues(Construct):
    def __init__(self, scope: Construct, id: str, config: DeploymentConfig, specs: tuple[QueueSpec, ...] = QUEUES):
        super().__init__(scope, id)
        self.by_name: dict[str, sqs.Queue] = {}
        # Dead-letter queues come first in QUEUES; a queue's redrive target must already exist.
        for spec in specs:
            self.by_name[spec.base_name] = self._queue(spec, config)
        # Lambda's on-failure destinations for a stream must be standard queues, never FIFO.
        self.stream_failures = sqs.Queue(
            self,
            STREAM_FAILURES_QUEUE,
            queue_name=config.resource_name(STREAM_FAILURES_QUEUE),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )

    def _queue(self, spec: QueueSpec, config: DeploymentConfig) -> sqs.Queue:
        dead_letter = None
        if spec.dead_letter:
            dead_letter = sqs.DeadLetterQueue(
                queue=self.by_name[spec.dead_letter], max_receive_count=spec.max_receive_count
            )
        return sqs.Queue(
            self,
            spec.base_name.removesuffix(".fifo"),
            queue_name=config.resource_name(spec.base_name),
            fifo=spec.fifo or None,
            content_based_deduplication=False if spec.fifo else None,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            retention_period=Duration.seconds(spec.retention_seconds),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=dead_letter,
        )

    def __getitem__(self, base_name: str) -> sqs.Queue:
        return self.by_name[base_name]
