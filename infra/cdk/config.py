"""Deployment parameters, read from CDK context (`cdk synth -c stage=prod -c domainName=...`) or `infra/cdk.json`.

Only what differs between deployments lives here; everything the code needs to agree on comes from
`infra.resources` and the settings model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from constructs import Node

STAGES = ("dev", "prod")
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class DomainConfig:
    """A custom domain served by the API: a regional API Gateway domain with an ACM certificate in the stack's
    region, and (when a hosted zone is given) an alias record for it."""

    name: str
    certificate_arn: str
    hosted_zone_id: str | None = None


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
        )


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def _domain(get: Any, name_key: str, certificate_key: str) -> DomainConfig | None:
    name = get(name_key)
    if not name:
        return None
    certificate = get(certificate_key) or get("certificateArn")
    if not certificate:
        raise ValueError(f"-c {name_key}=... needs -c {certificate_key}=<ACM certificate ARN in the stack's region>")
    return DomainConfig(str(name), str(certificate), get("hostedZoneId") or None)
