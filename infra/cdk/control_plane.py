"""The Chalice app (API Gateway + Lambda) through `chalice.cdk.Chalice`, and what Chalice cannot set itself.

`chalice.cdk.Chalice` works with CDK v2: it imports `aws_cdk`/`constructs` when `aws_cdk.core` (v1) is absent.
It runs `chalice package` and includes the resulting SAM template with `CfnInclude`, keeping the logical ids
(`APIHandler`, `RestAPI`, `FanOutEvents`, ...). Three of its habits shape this module:

- It takes the Chalice stage from its scope's path, so it is created directly on the stack, whose id is the stage
  (`dev`, `prod`), and `.chalice/config.json`'s stage settings apply.
- It packages into `./chalice.out` of the current directory and needs a region for botocore; both are confined to
  the packaging call (a temporary directory, the stack's region).
- With `manage_iam_role: false` it creates no roles: this module creates one per function from `access.ACCESS`
  and points each function at it (Chalice's own per-function roles would need a policy file per function, and its
  `get_role("DefaultRole")` does not exist in that mode).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aws_cdk import Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sam as sam
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from chalicelib.core.settings import REQUIRED_ENVIRONMENT
from infra.cdk import gateway
from infra.cdk.access import ACCESS, API_HANDLER, FunctionAccess, grant
from infra.cdk.config import DeploymentConfig
from infra.cdk.keys import KeysSecret
from infra.cdk.messaging import Queues
from infra.cdk.storage import Tables
from infra.resources import BUCKET_SETTING, EVENT_SOURCES, QUEUE_URL_SETTINGS

PROJECT_DIR = Path(__file__).resolve().parents[2]
REST_API = "RestAPI"
KEYS_SECRET_SETTING = "SWITCHBOARD_KEYS_SECRET_ID"  # noqa: S105 - a variable name, not a secret
PUBLIC_BASE_URL_SETTING = "SWITCHBOARD_PUBLIC_BASE_URL"
_PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/replaced-by-cdk"

# Timeouts: the REST handler stays under API Gateway's 29 s; queue consumers stay under the queues' 60 s
# visibility timeout (Lambda refuses an SQS mapping whose function may outlive it).
# The SFTP export may upload a long recording: Lambda's maximum, under the export queue's 960 s.
_TIMEOUTS = {
    API_HANDLER: 29,
    "fan_out_events": 60,
    "deliver_events": 50,
    "archive_dead_letters": 30,
    "queue_recording_exports": 60,
    "export_recordings": 900,
    "reap_dead_nodes": 60,  # a run's work is bounded (`reaper_max_items`); the next run, a minute later, goes on
}
_MEMORY_MB = 512


def logical_id(function: str) -> str:
    """Chalice's logical id for a function (`api_handler` is the REST API's handler)."""
    return "APIHandler" if function == API_HANDLER else to_cfn_resource_name(function)


def api_gateway_stage(stage: str) -> str:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    return str(config["stages"].get(stage, {}).get("api_gateway_stage") or config.get("api_gateway_stage") or "api")


@contextlib.contextmanager
def _packaging_environment(region: str) -> Iterator[None]:
    """Chalice imports the app to package it, with the stage's environment variables set in this process: the whole
    environment is put back afterwards, and settings read meanwhile are forgotten, so a synth in a process that also
    runs the app (tests) never leaves it pointed at another stage's tables."""
    from chalicelib.core.settings import reset_settings_cache

    previous_dir, previous_environment = os.getcwd(), dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="chalice-") as workdir:
        os.chdir(workdir)
        os.environ["AWS_DEFAULT_REGION"] = region
        try:
            yield
        finally:
            os.chdir(previous_dir)
            os.environ.clear()
            os.environ.update(previous_environment)
            reset_settings_cache()


class ControlPlane(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        tables: Tables,
        queues: Queues,
        keys: KeysSecret,
        bucket: s3.IBucket,
        public_base_url: str | None,
    ):
        super().__init__(scope, id)
        self.config = config
        self.stage = api_gateway_stage(config.stage)
        stack = Stack.of(self)
        with _packaging_environment(config.region):
            self.chalice = Chalice(stack, "Chalice", source_dir=str(PROJECT_DIR), stage_config=self._stage_config())
        self.rest_api: sam.CfnApi = self.chalice.get_resource(REST_API)
        self.default_url = Fn.sub(
            f"https://${{{REST_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{self.stage}"
        )
        self.public_base_url = public_base_url or self.default_url
        self.environment = self._environment(queues, keys, bucket)
        self.roles: dict[str, iam.Role] = {}
        for function, access in ACCESS.items():
            self._configure_function(function, access, tables, queues, keys, bucket)
        self._configure_api()

    def _stage_config(self) -> dict[str, Any]:
        return {
            "manage_iam_role": False,
            "iam_role_arn": _PLACEHOLDER_ROLE,
            "autogen_policy": False,
            "xray": True,
            "api_gateway_endpoint_type": "REGIONAL",
            "lambda_memory_size": _MEMORY_MB,
        }

    def _environment(self, queues: Queues, keys: KeysSecret, bucket: s3.IBucket) -> dict[str, str]:
        """What every function (and later every media task) carries; checked against REQUIRED_ENVIRONMENT."""
        environment = {
            "SWITCHBOARD_STAGE": self.config.stage,
            "SWITCHBOARD_TABLE_PREFIX": self.config.table_prefix,
            PUBLIC_BASE_URL_SETTING: self.public_base_url,
            KEYS_SECRET_SETTING: keys.secret.secret_arn,
            BUCKET_SETTING: bucket.bucket_name,  # audio files: uploaded through the API, played by the media nodes
            **{setting: queues[queue].queue_url for queue, setting in QUEUE_URL_SETTINGS.items()},
        }
        missing = set(REQUIRED_ENVIRONMENT) - set(environment)
        if missing:
            raise ValueError(f"the settings model requires {sorted(missing)}, which the stack does not set")
        return environment

    def function_name(self, function: str) -> str:
        return f"switchboard-{self.config.stage}-{function.replace('_', '-')}"

    def function(self, function: str) -> sam.CfnFunction:
        resource: sam.CfnFunction = self.chalice.get_resource(logical_id(function))
        return resource

    def _configure_function(
        self,
        function: str,
        access: FunctionAccess,
        tables: Tables,
        queues: Queues,
        keys: KeysSecret,
        bucket: s3.IBucket,
    ) -> None:
        name = self.function_name(function)
        resource = self.function(function)
        log_group = logs.CfnLogGroup(
            self,
            f"{function}-logs",
            log_group_name=f"/aws/lambda/{name}",
            retention_in_days=self.config.log_retention_days,
        )
        log_group.apply_removal_policy(RemovalPolicy.DESTROY)
        role = iam.Role(
            self,
            f"{function}-role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Switchboard {self.config.stage} {function}: only what access.ACCESS grants it",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.attr_arn])
        )
        # X-Ray has no resource-level permissions: "*" is the only resource these actions accept.
        role.add_to_policy(
            iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
        )
        grant(access, role, tables, queues, keys, bucket)
        if access.read_streams:
            queues.stream_failures.grant_send_messages(role)  # the stream mapping's on-failure destination
        self.roles[function] = role

        resource.add_property_override("FunctionName", name)
        resource.add_property_override("Role", role.role_arn)
        for key, value in self.environment.items():
            resource.add_property_override(f"Environment.Variables.{key}", value)
        for spec in EVENT_SOURCES:
            if spec.function == function:
                for key, value in spec.settings_env.items():
                    resource.add_property_override(f"Environment.Variables.{key}", value)
        resource.add_property_override("Timeout", _TIMEOUTS[function])
        # The role's policies must exist before the function runs (and before Lambda validates its event sources):
        # its default policy and, when that outgrows IAM's inline size, the managed overflow policies CDK splits off.
        resource.node.add_dependency(role)
        resource.node.add_dependency(log_group)

    def policy(self, function: str) -> iam.Policy:
        policy: iam.Policy = self.roles[function].node.find_child("DefaultPolicy")  # type: ignore[assignment]
        return policy

    def _configure_api(self) -> None:
        # CfnInclude turned each integration's `Fn::Sub` into a token, so the URIs are replaced (all paths at once).
        uri = gateway.integration_uri(self.function_name(API_HANDLER))
        paths = self.rest_api.definition_body["paths"]
        self.rest_api.add_property_override("DefinitionBody.paths", gateway.with_integration_uri(paths, uri))
        self.rest_api.add_property_override(
            "DefinitionBody.x-amazon-apigateway-gateway-responses", gateway.gateway_responses()
        )
        self.rest_api.tracing_enabled = True
