"""The pure pieces of the CDK app: gateway responses, integration rewriting, the keys secret, context."""

from __future__ import annotations

import base64
import json

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from chalicelib.core.errors import not_found_body
from chalicelib.core.settings import derive_key
from infra.cdk import gateway, keys
from infra.cdk.config import DEFAULT_ICE_SERVERS, DeploymentConfig, MediaConfig


def test_unknown_paths_answer_infobips_404_body():
    responses = gateway.gateway_responses()
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == 404
    assert json.loads(missing["responseTemplates"]["application/json"]) == not_found_body()
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"} <= set(responses)
    for response in responses.values():
        assert '"requestError":{"serviceException":{"messageId":' in response["responseTemplates"]["application/json"]


def test_every_lambda_integration_is_pointed_at_the_handler_even_on_dotted_routes():
    paths = {
        "/calls/1/calls": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "old"}}},
        "/sdk/v1/switchboard-rtc.js": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "old"}}},
        "/health": {"options": {"x-amazon-apigateway-integration": {"type": "mock"}}},
    }
    uri = {"Fn::Sub": "new"}
    rewritten = gateway.with_integration_uri(paths, uri)
    assert rewritten["/calls/1/calls"]["get"]["x-amazon-apigateway-integration"]["uri"] == uri
    assert rewritten["/sdk/v1/switchboard-rtc.js"]["get"]["x-amazon-apigateway-integration"]["uri"] == uri
    assert "uri" not in rewritten["/health"]["options"]["x-amazon-apigateway-integration"]
    assert paths["/calls/1/calls"]["get"]["x-amazon-apigateway-integration"]["uri"] == "old"  # a copy


def test_the_keys_secret_generates_a_seed_the_application_derives_its_keys_from():
    stack = Stack(App(), "KeysOnly")
    keys.KeysSecret(stack, "Keys", DeploymentConfig(stage="dev", region="us-east-1"))
    (secret,) = Template.from_stack(stack).find_resources("AWS::SecretsManager::Secret").values()
    generator = secret["Properties"]["GenerateSecretString"]
    assert generator["GenerateStringKey"] == "seed"
    assert generator["PasswordLength"] >= 32
    data, token = derive_key("s" * 64, "dataKey"), derive_key("s" * 64, "tokenKey")
    assert len(base64.b64decode(data)) == 32 and data != token
    assert derive_key("t" * 64, "dataKey") != data


def test_ice_servers_come_from_context_as_a_list_or_json_and_must_be_stun_or_turn():
    turn = {"urls": ["turn:turn.example.com:3478?transport=udp"], "username": "u", "credential": "p"}
    assert MediaConfig.from_context({}.get).ice_servers == DEFAULT_ICE_SERVERS
    assert MediaConfig.from_context({"iceServers": [turn]}.get).ice_servers == (turn,)
    assert MediaConfig.from_context({"iceServers": json.dumps([turn])}.get).ice_servers == (turn,)
    assert MediaConfig.from_context({"iceServers": "[]"}.get).ice_servers == ()
    with pytest.raises(ValueError, match="stun:, stuns:, turn: or turns:"):
        MediaConfig.from_context({"iceServers": [{"urls": "https://turn.example.com"}]}.get)
    with pytest.raises(ValueError, match="JSON list"):
        MediaConfig.from_context({"iceServers": {"urls": "stun:x"}}.get)


def test_media_task_counts_and_drain_time_are_checked():
    config = MediaConfig.from_context({"mediaMinTasks": "2"}.get)
    assert (config.min_tasks, config.max_tasks, config.drain_seconds) == (2, 2, 120)
    with pytest.raises(ValueError, match="mediaMinTasks"):
        MediaConfig.from_context({"mediaMinTasks": "3", "mediaMaxTasks": "2"}.get)
    with pytest.raises(ValueError, match="mediaDrainSeconds"):
        MediaConfig.from_context({"mediaDrainSeconds": "7200"}.get)


def test_a_signalling_domain_needs_a_certificate():
    with pytest.raises(ValueError, match="signallingCertificateArn"):
        MediaConfig.from_context({"signallingDomainName": "media.example.com"}.get)
    config = MediaConfig.from_context(
        {"signallingDomainName": "media.example.com", "signallingCertificateArn": "arn:aws:acm:x"}.get
    )
    assert config.domain is not None and config.domain.certificate_arn == "arn:aws:acm:x"
