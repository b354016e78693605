"""cdk-nag (AwsSolutions) acknowledgements. Each names the finding, the construct it applies to and why it stays.

cdk-nag 3 reports through CDK's policy validation: an unacknowledged finding fails `app.synth()` and `cdk synth`.
Findings are acknowledged one by one (`AwsSolutions-IAM5[Resource::...]` names the exact wildcard), so a new
wildcard in a role is a new failure, never silently covered by an old acknowledgement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

from infra.cdk.access import ACCESS, MEDIA_NODE, FunctionAccess
from infra.resources import TABLES

if TYPE_CHECKING:
    from infra.cdk.stack import SwitchboardStack

PACK = "AwsSolutions::"
_INDEXED_TABLES = {spec.base_name: bool(spec.indexes) for spec in TABLES}


def _acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{PACK}{rule}", reason=reason))


def _acknowledge_object_patterns(stack: SwitchboardStack, policy: IConstruct, access: FunctionAccess) -> None:
    """Object grants name key patterns (`<accountId>/files/*`): the account id is data, so the pattern needs '*'."""
    bucket = stack.resolve(stack.get_logical_id(stack.media.bucket.node.default_child))  # type: ignore[arg-type]
    for pattern in sorted(set(access.read_objects + access.write_objects + access.take_objects)):
        _acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{pattern}]",
            f"Object actions only, on the media bucket's keys matching {pattern}: audio files are keyed "
            "<accountId>/files/<fileId>, one prefix per account, so the account is a wildcard; no other prefix "
            "(recordings, temporary objects) and no bucket-level action is granted.",
        )


def suppress_findings(stack: SwitchboardStack) -> None:
    _acknowledge(
        stack.queues.stream_failures,
        "AwsSolutions-SQS3",
        "This queue is itself the terminal record of outbox-stream batches fan-out gave up on (Lambda's on-failure "
        "destination); a further dead-letter queue behind it would only hide those records one level deeper.",
    )
    _acknowledge(
        stack.media.bucket,
        "AwsSolutions-S1",
        "Objects are only reached through short-lived presigned URLs the API issues (and logs, per account); "
        "operators who need per-request S3 audit enable CloudTrail data events, which need no second bucket.",
    )
    _acknowledge(
        stack.keys.secret,
        "AwsSolutions-SMG4",
        "The data key encrypts stored webhook credentials: rotating it needs re-encryption of every sealed record, "
        "which the application does not do yet. The seed is generated once, at stack creation.",
    )
    for function, access in ACCESS.items():
        role = stack.control_plane.roles[function]
        policy = role.node.find_child("DefaultPolicy")
        # X-Ray's PutTraceSegments/PutTelemetryRecords and DynamoDB's ListStreams accept no resource but "*".
        _acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Only actions without resource-level permissions use '*': xray:PutTraceSegments, "
            "xray:PutTelemetryRecords (every function traces) and dynamodb:ListStreams (stream consumers).",
        )
        _acknowledge_index_grants(stack, role, access)
        _acknowledge_object_patterns(stack, role, access)  # the role: its statements may overflow the default policy
    _suppress_media_fleet(stack)


def _acknowledge_index_grants(stack: SwitchboardStack, role: IConstruct, access: FunctionAccess) -> None:
    for table_name in sorted(set(access.read_tables + access.write_tables)):
        table = stack.tables[table_name]
        if not _INDEXED_TABLES.get(table_name):
            continue
        logical_id = stack.resolve(stack.get_logical_id(table.node.default_child))  # type: ignore[arg-type]
        _acknowledge(
            role,  # the role, not its default policy: with many tables, grants overflow into further policies
            f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/index/*]",
            f"Queries through the secondary indexes of {table_name} (the function's own table): index ARNs are "
            "the table ARN plus /index/<name>, and the grant covers that table's indexes only.",
        )


def _suppress_media_fleet(stack: SwitchboardStack) -> None:
    fleet = stack.media_fleet
    _acknowledge_object_patterns(stack, fleet.task_role, MEDIA_NODE)
    # CDK grants a table's data with its indexes (calls and recording-files have the reaper's indexes)
    _acknowledge_index_grants(stack, fleet.task_role, MEDIA_NODE)
    _acknowledge(
        fleet.task_role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5[Resource::*]",
        "Only cloudwatch:PutMetricData uses '*' (it has no resource-level permissions), and a condition limits it "
        "to the Switchboard namespace: the nodes' load metric that autoscaling tracks.",
    )
    execution_role = fleet.task_definition.execution_role
    assert execution_role is not None
    _acknowledge(
        execution_role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5[Resource::*]",
        "Only ecr:GetAuthorizationToken uses '*' (it has no resource-level permissions); pulling layers is limited to "
        "the CDK asset repository, and logging to the fleet's own log group.",
    )
    _acknowledge(
        fleet.load_balancer,
        "AwsSolutions-ELB2",
        "The signalling load balancer carries long-lived websockets: an access-log line per connection, written when "
        "it closes, says little. Nodes log each session and call; operators who need connection logs can enable "
        "them with a bucket of their choosing.",
    )
    _acknowledge(
        fleet.load_balancer.connections.security_groups[0],
        "AwsSolutions-EC23",
        "The signalling endpoint is public by design: SDK clients connect from anywhere, on the listener ports only "
        "(80 redirects to 443 when a certificate is configured).",
    )
    _acknowledge(
        fleet.security_group,
        "AwsSolutions-EC23",
        "WebRTC media comes straight from clients anywhere to each node's public address: UDP on the kernel's "
        "ephemeral range only, where aioice binds its candidates and nothing else listens. Signalling reaches the "
        "tasks only from the load balancer's security group.",
    )
    _acknowledge(
        fleet.task_definition,
        "AwsSolutions-ECS2",
        "The plain environment holds configuration only: stage, table prefix, URLs, queue URLs and the keys secret's "
        "ARN. The keys are read from Secrets Manager at run time, and TURN credentials can come from a secret "
        "(iceServersSecretArn) injected by ECS.",
    )
