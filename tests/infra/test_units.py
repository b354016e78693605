"""The pure pieces of the CDK app: gateway responses, integration rewriting, the keys initialiser, context."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.core.errors import not_found_body
from infra.cdk import gateway, keys


def test_unknown_paths_answer_infobips_404_body():
    responses = gateway.gateway_responses()
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == 404
    assert json.loads(missing["responseTemplates"]["application/json"]) == not_found_body()
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"} <= set(responses)
    for response in responses.values():
        assert '"requestError":{"serviceException":{"messageId":' in response["responseTemplates"]["application/json"]


def test_integration_paths_name_every_lambda_integration_and_refuse_dotted_routes():
    document = {
        "paths": {
            "/calls/1/calls": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy"}}},
            "/health": {"options": {"x-amazon-apigateway-integration": {"type": "mock"}}},
        }
    }
    assert gateway.integration_paths(document) == ["paths./calls/1/calls.get.x-amazon-apigateway-integration"]
    with pytest.raises(ValueError, match="dot"):
        gateway.integration_paths(
            {"paths": {"/v1.0/x": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy"}}}}}
        )


def test_keys_are_written_when_missing_and_never_replaced():
    written = keys.missing_keys('{"placeholder": "x"}')
    assert set(written) == {"dataKey", "tokenKey"}
    assert all(len(base64.b64decode(value)) == 32 for value in written.values())
    assert keys.missing_keys(json.dumps(written)) == {}
    partial = keys.missing_keys(json.dumps({"dataKey": written["dataKey"], "tokenKey": "short"}))
    assert partial["dataKey"] == written["dataKey"] and partial["tokenKey"] != "short"


class FakeSecrets:
    def __init__(self, value: str):
        self.value, self.puts = value, 0

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        return {"SecretString": self.value}

    def put_secret_value(self, SecretId: str, SecretString: str) -> None:
        self.value, self.puts = SecretString, self.puts + 1


def test_initialise_is_idempotent():
    secrets = FakeSecrets('{"placeholder": "generated"}')
    assert keys.initialise("arn", secrets) is True
    assert keys.initialise("arn", secrets) is False
    assert secrets.puts == 1
