"""The keys secret (`SWITCHBOARD_KEYS_SECRET_ID`) and the post-deploy step that fills it.

The application expects `{"dataKey": <base64 of 32 random bytes>, "tokenKey": <same>}`. CloudFormation can only
generate one random printable string per secret, never base64 of raw bytes, so the stack creates the secret and
`python -m infra.cdk.keys --secret-id <KeysSecretId>` (run by `make deploy`) writes the keys once. It never
replaces keys that are already there: the data key encrypts stored webhook credentials.
"""

from __future__ import annotations

import argparse
import base64
import json
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from chalicelib.core.crypto import new_key_material
from infra.cdk.config import DeploymentConfig

KEY_NAMES = ("dataKey", "tokenKey")


class KeysSecret(Construct):
    def __init__(self, scope: Construct, id: str, config: DeploymentConfig):
        super().__init__(scope, id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=config.resource_name("keys"),
            description="Switchboard data and token keys; filled by `python -m infra.cdk.keys` after deploy",
            # A random placeholder: CloudFormation requires a value, and the application rejects it (no keys).
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}",  # noqa: S106 - an empty JSON template
                generate_string_key="placeholder",
            ),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )


def missing_keys(secret_string: str) -> dict[str, str]:
    """The complete secret value to store, or {} when every key is already present and well formed."""
    try:
        current = json.loads(secret_string)
    except ValueError:
        current = {}
    if not isinstance(current, dict):
        current = {}
    kept = {name: current[name] for name in KEY_NAMES if _well_formed(current.get(name))}
    if len(kept) == len(KEY_NAMES):
        return {}
    return {name: kept.get(name) or new_key_material() for name in KEY_NAMES}


def _well_formed(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(base64.b64decode(value, validate=True)) == 32
    except ValueError:
        return False


def initialise(secret_id: str, client: Any) -> bool:
    """Writes the keys if they are missing; returns whether it wrote."""
    value = missing_keys(client.get_secret_value(SecretId=secret_id)["SecretString"])
    if not value:
        return False
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret-id", required=True, help="the stack output KeysSecretId")
    args = parser.parse_args(argv)
    import boto3  # only the CLI talks to AWS

    wrote = initialise(args.secret_id, boto3.client("secretsmanager"))
    print("keys written" if wrote else "keys already present; left unchanged")


if __name__ == "__main__":
    main()
