"""The keys secret (`SWITCHBOARD_KEYS_SECRET_ID`): CloudFormation generates a random 64-character `seed`, from which
the application derives its data and token keys (`chalicelib.core.settings.key_material`). Nothing has to run after
deploy. The seed must never change once data exists: the data key encrypts stored webhook credentials.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.cdk.config import DeploymentConfig


class KeysSecret(Construct):
    def __init__(self, scope: Construct, id: str, config: DeploymentConfig):
        super().__init__(scope, id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=config.resource_name("keys"),
            description="Switchboard key seed: the data and token keys are derived from it; never change it",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}",  # noqa: S106 - an empty JSON template, the seed is generated into it
                generate_string_key="seed",
                password_length=64,
                exclude_punctuation=True,
            ),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
