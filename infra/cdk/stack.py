"""The Switchboard stack: storage, messaging, keys, the control plane and its event sources, the media fleet, and the
outputs an operator needs after `cdk deploy`.

The control plane and the media fleet share `self.platform_environment` (every variable REQUIRED_ENVIRONMENT
names, which the checks demand on every function and task) and the tables and keys, each through its own role.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Fn, Stack
from constructs import Construct

from infra.cdk.config import DeploymentConfig
from infra.cdk.control_plane import REST_API, ControlPlane
from infra.cdk.domains import ApiDomain
from infra.cdk.event_sources import EventSources
from infra.cdk.keys import KeysSecret
from infra.cdk.media_fleet import MediaFleet
from infra.cdk.messaging import Queues
from infra.cdk.storage import MediaBucket, Tables


class SwitchboardStack(Stack):
    def __init__(self, scope: Construct, config: DeploymentConfig):
        # The stack's id is the stage: chalice.cdk reads the Chalice stage from its scope's path.
        super().__init__(
            scope,
            config.stage,
            stack_name=config.stack_name,
            env=Environment(account=config.account, region=config.region),
            description=f"Switchboard ({config.stage}): voice and video platform with Infobip-compatible APIs",
        )
        self.config = config
        self.tables = Tables(self, "Tables", config)
        self.queues = Queues(self, "Queues", config)
        self.media = MediaBucket(self, "Media", config)
        self.keys = KeysSecret(self, "Keys", config)

        # Call links are the public face: their domain, when given, is the base URL the platform hands out.
        public_domain = config.call_link_domain or config.api_domain
        self.control_plane = ControlPlane(
            self,
            "ControlPlane",
            config=config,
            tables=self.tables,
            queues=self.queues,
            keys=self.keys,
            bucket=self.media.bucket,
            public_base_url=f"https://{public_domain.name}" if public_domain else None,
        )
        self.platform_environment = self.control_plane.environment
        self.event_sources = EventSources(
            self, "EventSources", control_plane=self.control_plane, tables=self.tables, queues=self.queues
        )
        self.media_fleet = MediaFleet(
            self,
            "MediaFleet",
            config=config,
            platform_environment=self.platform_environment,
            tables=self.tables,
            queues=self.queues,
            keys=self.keys,
            bucket=self.media.bucket,
        )
        api_url = self.control_plane.default_url
        call_link_url = self.control_plane.public_base_url
        stage = self.control_plane.stage
        seen: set[str] = set()
        for purpose, domain in (("ApiDomain", config.api_domain), ("CallLinkDomain", config.call_link_domain)):
            if domain is None or domain.name in seen:
                continue
            seen.add(domain.name)
            ApiDomain(
                self,
                purpose,
                domain=domain,
                rest_api_id=Fn.ref(REST_API),
                stage=stage,
                stage_resource=f"{REST_API}{stage}Stage",
            )
        if config.api_domain:
            api_url = f"https://{config.api_domain.name}"
        self._outputs(api_url, call_link_url)

    def _outputs(self, api_url: str, call_link_url: str) -> None:
        CfnOutput(self, "ApiUrl", value=api_url, description="Base URL for the Infobip-compatible REST APIs")
        CfnOutput(self, "CallLinkBaseUrl", value=call_link_url, description="Base URL of call links (GET /{code})")
        CfnOutput(
            self,
            "SignallingUrl",
            value=self.media_fleet.url,
            description="Media nodes' base URL for the SDKs: signalling websocket at /ws, WHIP offers at /whip/{legId}",
        )
        CfnOutput(self, "KeysSecretId", value=self.keys.secret.secret_arn, description="The key seed secret")
        CfnOutput(self, "MediaBucketName", value=self.media.bucket.bucket_name)
        CfnOutput(self, "StreamFailuresQueueUrl", value=self.queues.stream_failures.queue_url)
        # One line an operator can `export` to run the platform's own CLIs (accounts, keys) against this stack.
        settings = {**self.platform_environment, "AWS_REGION": self.region}
        CfnOutput(
            self,
            "OperatorEnvironment",
            value=Fn.join(" ", [Fn.join("=", [name, value]) for name, value in sorted(settings.items())]),
            description="export these to run python -m chalicelib.accounts against this deployment",
        )
