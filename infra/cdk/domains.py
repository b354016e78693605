"""Optional custom domains: the API's, and the call links' (the branded `GET /{code}` page), both served by the one
REST API. Each is a regional API Gateway domain mapped at its root to the API's stage, so
`https://<domain>/calls/1/...` and `https://<call-link domain>/<code>` work; with a hosted zone id, an alias record
is created too (otherwise point a CNAME at the `...DomainTarget` output)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnOutput, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_route53 as route53
from constructs import Construct

from infra.cdk.config import DomainConfig


class ApiDomain(Construct):
    def __init__(
        self, scope: Construct, id: str, *, domain: DomainConfig, rest_api_id: str, stage: str, stage_resource: str
    ):
        super().__init__(scope, id)
        self.url = f"https://{domain.name}"
        name = apigateway.CfnDomainName(
            self,
            "Domain",
            domain_name=domain.name,
            regional_certificate_arn=domain.certificate_arn,
            endpoint_configuration=apigateway.CfnDomainName.EndpointConfigurationProperty(types=["REGIONAL"]),
            security_policy="TLS_1_2",
        )
        mapping = apigateway.CfnBasePathMapping(
            self, "Mapping", domain_name=name.ref, rest_api_id=rest_api_id, stage=stage
        )
        # The stage is created by the SAM transform (`<RestAPI><stage>Stage`), so the dependency is by logical id.
        mapping.add_override("DependsOn", [stage_resource])
        Validations.of(mapping).acknowledge(
            Acknowledgment(
                id="CloudFormation-Validate::E3005",
                reason=f"{stage_resource} appears only after the SAM transform; cfn-lint, which applies it, checks it",
            )
        )
        if domain.hosted_zone_id:
            route53.CfnRecordSet(
                self,
                "Alias",
                hosted_zone_id=domain.hosted_zone_id,
                name=domain.name,
                type="A",
                alias_target=route53.CfnRecordSet.AliasTargetProperty(
                    dns_name=name.attr_regional_domain_name, hosted_zone_id=name.attr_regional_hosted_zone_id
                ),
            )
        CfnOutput(
            self, "DomainTarget", value=name.attr_regional_domain_name, description=f"CNAME target for {domain.name}"
        )
