"""Deployment parameters, read from CDK context (`cdk synth -c stage=prod -c domainName=...`) or `infra/cdk.json`.

Only what differs between deployments lives here; everything the code needs to agree on comes from
`infra.resources` and the settings model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from constructs import Node

STAGES = ("dev", "prod")
DEFAULT_REGION = "us-east-1"

# A media task's network interface holds only its private address; the public IP is the Internet Gateway's 1:1 NAT
# of it. Without a STUN server the node offers only the private address as a host candidate, which clients on the
# internet cannot reach. The platform never defaults to a third party's public STUN server: the operator names the
# STUN/TURN servers (`-c iceServers='[...]'` or `-c iceServersSecretArn=...`), and synthesis warns while none is set.
DEFAULT_ICE_SERVERS: tuple[dict[str, Any], ...] = ()
NO_ICE_SERVERS_WARNING = (
    "No STUN/TURN servers configured (context iceServers or iceServersSecretArn): media nodes will offer only their "
    "private addresses, and clients on the internet will not get media. Configure your STUN/TURN servers."
)


@dataclass(frozen=True)
class DomainConfig:
    """A custom domain served by the API: a regional API Gateway domain with an ACM certificate in the stack's
    region, and (when a hosted zone is given) an alias record for it."""

    name: str
    certificate_arn: str
    hosted_zone_id: str | None = None


@dataclass(frozen=True)
class MediaConfig:
    """The media fleet: its signalling domain (HTTPS on the load balancer; plain HTTP without one), the ICE servers
    handed to every node, and the task count autoscaling stays within."""

    domain: DomainConfig | None = None
    ice_servers: tuple[dict[str, Any], ...] = DEFAULT_ICE_SERVERS
    ice_servers_secret_arn: str | None = None  # a secret whose value is the JSON list (TURN credentials stay out)
    min_tasks: int = 1
    max_tasks: int = 1
    drain_seconds: int = 120

    @classmethod
    def from_context(cls, get: Any) -> MediaConfig:
        min_tasks = int(get("mediaMinTasks") or 1)
        max_tasks = int(get("mediaMaxTasks") or min_tasks)
        if not 1 <= min_tasks <= max_tasks:
            raise ValueError(f"need 1 <= mediaMinTasks <= mediaMaxTasks, not {min_tasks} and {max_tasks}")
        drain = int(get("mediaDrainSeconds") or 120)
        if not 0 <= drain <= 3600:
            raise ValueError("mediaDrainSeconds must be between 0 and 3600 (the load balancer's limit)")
        return cls(
            domain=_domain(get, "signallingDomainName", "signallingCertificateArn"),
            ice_servers=_ice_servers(get("iceServers")),
            ice_servers_secret_arn=get("iceServersSecretArn") or None,
            min_tasks=min_tasks,
            max_tasks=max_tasks,
            drain_seconds=drain,
        )


@dataclass(frozen=True)
class DeploymentConfig:
    stage: str
    region: str
    account: str | None = None
    table_prefix: str = ""
    api_domain: DomainConfig | None = None
    call_link_domain: DomainConfig | None = None
    retain_data: bool = True
    log_retention_days: int = 30
    media: MediaConfig = field(default_factory=lambda: MediaConfig())

    @property
    def stack_name(self) -> str:
        return f"switchboard-{self.stage}"

    def resource_name(self, base: str) -> str:
        """Physical names share the tables' prefix, as the settings model expects (`<prefix><base_name>`)."""
        return f"{self.table_prefix}{base}"

    @classmethod
    def from_context(cls, node: Node) -> DeploymentConfig:
        def get(name: str) -> Any:
            return node.try_get_context(name)

        stage = str(get("stage") or "dev")
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, not {stage!r}")
        region = str(
            get("region") or os.environ.get("CDK_DEFAULT_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION
        )
        retain = get("retainData")
        return cls(
            stage=stage,
            region=region,
            account=get("account") or os.environ.get("CDK_DEFAULT_ACCOUNT") or None,
            table_prefix=str(get("tablePrefix") or f"switchboard-{stage}-"),
            api_domain=_domain(get, "domainName", "certificateArn"),
            call_link_domain=_domain(get, "callLinkDomainName", "callLinkCertificateArn"),
            retain_data=stage == "prod" if retain is None else _truthy(retain),
            log_retention_days=int(get("logRetentionDays") or 30),
            media=MediaConfig.from_context(get),
        )


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def _ice_servers(value: Any) -> tuple[dict[str, Any], ...]:
    """RTCIceServer dicts (`urls`, optional `username`/`credential`), as a list in cdk.json or JSON on `-c`."""
    if value is None:
        return DEFAULT_ICE_SERVERS
    servers = json.loads(value) if isinstance(value, str) else value
    if not isinstance(servers, list) or not all(isinstance(server, dict) and server.get("urls") for server in servers):
        raise ValueError('iceServers must be a JSON list of {"urls": ..., "username": ..., "credential": ...}')
    for server in servers:
        urls = server["urls"] if isinstance(server["urls"], list) else [server["urls"]]
        if not all(str(url).startswith(("stun:", "stuns:", "turn:", "turns:")) for url in urls):
            raise ValueError(f"iceServers urls must be stun:, stuns:, turn: or turns: URIs, not {urls}")
    return tuple(servers)


def _domain(get: Any, name_key: str, certificate_key: str) -> DomainConfig | None:
    name = get(name_key)
    if not name:
        return None
    certificate = get(certificate_key) or get("certificateArn")
    if not certificate:
        raise ValueError(f"-c {name_key}=... needs -c {certificate_key}=<ACM certificate ARN in the stack's region>")
    return DomainConfig(str(name), str(certificate), get("hostedZoneId") or None)
