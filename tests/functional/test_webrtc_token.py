"""`POST /webrtc/1/token`: Infobip's request and response, a token the media nodes can verify."""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.contract.tokens import verify
from chalicelib.webrtc.service import token_key
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator
from tests.support.payloads import JSON, dumps

PATH = "/webrtc/1/token"


def mint(client, account, body):
    return client.post(PATH, headers={**account.headers, **JSON}, body=dumps(body))


def test_a_token_for_an_identity(client, account):
    response = mint(
        client,
        account,
        {
            "identity": "alice.smith",
            "displayName": "Alice Smith",
            "timeToLive": 600,
            "capabilities": {"recording": "ON_DEMAND"},
        },
    )
    assert response.status_code == 200
    body = json.loads(response.body)
    response_validator("infobip-webrtc-calls-openapi.json", "POST", "/webrtc/1/token", 200)(body)
    claims = verify(body["token"], token_key(), now=time.time())
    assert (claims.identity, claims.name, claims.acc, claims.rec) == (
        "alice.smith",
        "Alice Smith",
        account.account_id,
        "ON_DEMAND",
    )
    assert claims.exp - claims.iat == 600
    assert body["expirationTime"].endswith("Z")


def test_the_token_names_the_least_loaded_live_media_node(client, account):
    from chalicelib.contract.tokens import unverified_claims
    from chalicelib.core import clock
    from chalicelib.media_nodes import service as nodes

    started = clock.now()
    nodes.heartbeat(
        "tok-busy",
        "https://busy.example",
        "http://busy",
        status="UP",
        capacity=10,
        calls=9,
        sessions=1,
        started_at=started,
    )
    nodes.heartbeat(
        "tok-idle",
        "https://idle.example",
        "http://idle",
        status="UP",
        capacity=10,
        calls=0,
        sessions=0,
        started_at=started,
    )
    try:
        token = json.loads(mint(client, account, {"identity": "carol"}).body)["token"]
        assert unverified_claims(token).location == "https://idle.example"
    finally:
        nodes.deregister("tok-busy")
        nodes.deregister("tok-idle")


def test_defaults_to_eight_hours(client, account):
    claims = verify(json.loads(mint(client, account, {"identity": "bob"}).body)["token"], token_key(), time.time())
    assert claims.exp - claims.iat == 8 * 3600 and claims.rec is None


def test_unicode_identities_are_allowed(client, account):
    assert mint(client, account, {"identity": "Zoë_ünïcødé-1"}).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"identity": "ab"}, "identity"),
        ({"identity": "x" * 65}, "identity"),
        ({"identity": "has space"}, "identity"),
        ({"identity": "semi;colon"}, "identity"),
        ({"identity": "alice", "timeToLive": 86401}, "timeToLive"),
        ({"identity": "alice", "timeToLive": 0}, "timeToLive"),
        ({"identity": "alice", "timeToLive": "60"}, "timeToLive"),
        ({"identity": "alice", "displayName": "x" * 51}, "displayName"),
        ({"identity": "alice", "capabilities": {"recording": "SOMETIMES"}}, "capabilities.recording"),
        ({}, "identity"),
    ],
)
def test_bad_requests_name_the_field(client, account, body, field):
    assert field in assert_envelope(mint(client, account, body), 400, "BAD_REQUEST")["validationErrors"]


def test_needs_credentials(client, embedded_aws):
    assert_envelope(client.post(PATH, headers=JSON, body=dumps({"identity": "alice"})), 401, "UNAUTHORIZED")
