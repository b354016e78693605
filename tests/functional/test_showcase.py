"""`GET /showcase` and `POST /showcase/token`: a demo page and credential-free tokens for one demo account, in the
local and dev stages only. In production both answer exactly as an unknown path does."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from chalicelib.contract.tokens import verify
from chalicelib.core.errors import not_found_body
from chalicelib.core.settings import reset_settings_cache
from chalicelib.webrtc.service import token_key
from tests.support.envelope import assert_envelope
from tests.support.payloads import JSON, dumps

TOKEN = "/showcase/token"


@pytest.fixture
def configure(embedded_aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set the stage and the demo account for one test (the settings are read again afterwards)."""

    def apply(stage: str = "local", account_id: str | None = None) -> None:
        monkeypatch.setenv("SWITCHBOARD_STAGE", stage)
        if account_id is None:
            monkeypatch.delenv("SWITCHBOARD_SHOWCASE_ACCOUNT_ID", raising=False)
        else:
            monkeypatch.setenv("SWITCHBOARD_SHOWCASE_ACCOUNT_ID", account_id)
        reset_settings_cache()

    yield apply
    monkeypatch.undo()
    reset_settings_cache()


@pytest.mark.parametrize("stage", ["local", "dev"])
def test_a_demo_token_is_a_verifiable_token_of_the_demo_account(client, account, configure, stage):
    configure(stage, account.account_id)
    response = client.post(TOKEN, headers=JSON, body=dumps({"identity": "alice.demo", "displayName": "Alice"}))
    assert response.status_code == 200, response.body
    body = json.loads(response.body)
    claims = verify(body["token"], token_key(), now=time.time())
    assert (claims.acc, claims.identity, claims.name) == (account.account_id, "alice.demo", "Alice")
    assert claims.exp - claims.iat == 3600  # an hour: nobody had to prove who they are
    assert body["expirationTime"].endswith("Z")


def test_the_page_is_html_that_imports_the_sdk_this_deployment_serves(client, configure):
    configure("local")
    response = client.get("/showcase")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.body.decode()
    # relative, so it resolves to /sdk/v1/... here and under an API Gateway stage path alike
    assert 'from "./sdk/v1/switchboard-rtc.js"' in page
    assert 'fetch("showcase/token"' in page
    assert client.get("/sdk/v1/switchboard-rtc.js").status_code == 200


def test_in_production_the_showcase_answers_like_an_unknown_path(client, account, configure):
    configure("prod", account.account_id)  # even with a demo account configured
    for response in (
        client.get("/showcase"),
        client.post(TOKEN, headers=JSON, body=dumps({"identity": "alice.demo"})),
        client.post(TOKEN, headers=JSON, body=b"not json"),  # nothing is parsed first
    ):
        assert_envelope(response, 404, "NOT_FOUND")
        assert json.loads(response.body) == not_found_body()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"identity": "al"}, "identity"),
        ({"identity": "alice smith!"}, "identity"),
        ({}, "identity"),
        ({"identity": "alice", "timeToLive": 86400}, "timeToLive"),
    ],
)
def test_a_bad_request_gets_the_infobip_error_envelope(client, account, configure, body, field):
    configure("local", account.account_id)
    exception = assert_envelope(client.post(TOKEN, headers=JSON, body=dumps(body)), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"], exception


def test_without_a_demo_account_the_endpoint_says_what_to_set(client, configure):
    configure("dev")
    exception = assert_envelope(client.post(TOKEN, headers=JSON, body=dumps({"identity": "alice"})), 403, "FORBIDDEN")
    assert "SWITCHBOARD_SHOWCASE_ACCOUNT_ID" in exception["text"]


def test_a_demo_account_that_does_not_exist_is_refused(client, configure):
    configure("local", "no-such-account")
    exception = assert_envelope(client.post(TOKEN, headers=JSON, body=dumps({"identity": "alice"})), 403, "FORBIDDEN")
    assert "no-such-account" in exception["text"]
