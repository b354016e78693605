"""The consumers' event-source mappings, from `infra.resources.EVENT_SOURCES`.

Chalice's `on_dynamodb_record`/`on_sqs_message` cannot set `ReportBatchItemFailures`; without it Lambda treats a
batch as all-or-nothing, and a handler's `batchItemFailures` answer is ignored (failed records silently dropped or
good ones redelivered). So the consumers are plain `@app.lambda_function`s and their mappings live here.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.cdk.control_plane import ControlPlane
from infra.cdk.messaging import Queues
from infra.cdk.storage import Tables
from infra.resources import EVENT_SOURCES, EventSourceSpec

# A fan-out that keeps failing (SQS or DynamoDB unavailable) retries in order for hours rather than dropping events.
# Bisecting isolates a record that can never succeed, which then goes to the failure queue (shard and sequence
# numbers, so it can be replayed while the stream still holds it: 24 h).
STREAM_RETRY_ATTEMPTS = 100
STREAM_MAX_RECORD_AGE_SECONDS = 6 * 3600


class EventSources(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        control_plane: ControlPlane,
        tables: Tables,
        queues: Queues,
        specs: tuple[EventSourceSpec, ...] = EVENT_SOURCES,
    ):
        super().__init__(scope, id)
        self.mappings: dict[str, lambda_.CfnEventSourceMapping] = {}
        for spec in specs:
            function = control_plane.function(spec.function)
            if spec.source_kind == "table-stream":
                source: dict[str, Any] = self._stream_source(spec, tables, queues)
            elif spec.source_kind == "queue":
                source = {"event_source_arn": queues[spec.source].queue_arn}
            else:
                raise ValueError(f"unknown event source kind {spec.source_kind!r} for {spec.function}")
            mapping = lambda_.CfnEventSourceMapping(
                self,
                spec.function,
                function_name=function.ref,
                batch_size=spec.batch_size,
                function_response_types=["ReportBatchItemFailures"] if spec.report_batch_item_failures else None,
                maximum_batching_window_in_seconds=spec.max_batching_window_seconds or None,
                **source,
            )
            # Lambda checks the function's role when it creates the mapping: the role's policy must exist first.
            mapping.node.add_dependency(control_plane.policy(spec.function))
            self.mappings[spec.function] = mapping

    @staticmethod
    def _stream_source(spec: EventSourceSpec, tables: Tables, queues: Queues) -> dict[str, Any]:
        stream_arn = tables[spec.source].table_stream_arn
        if stream_arn is None:
            raise ValueError(f"{spec.function} consumes the stream of {spec.source}, which has none")
        return {
            "event_source_arn": stream_arn,
            "starting_position": spec.starting_position,
            "bisect_batch_on_function_error": True,
            "maximum_retry_attempts": STREAM_RETRY_ATTEMPTS,
            "maximum_record_age_in_seconds": STREAM_MAX_RECORD_AGE_SECONDS,
            "parallelization_factor": 1,  # one batch per shard at a time: a call's events stay in order
            "destination_config": lambda_.CfnEventSourceMapping.DestinationConfigProperty(
                on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(destination=queues.stream_failures.queue_arn)
            ),
        }
