"""Subscriptions, notification profiles and security settings: behaviour, rules and Infobip's response schemas."""

from __future__ import annotations

import json

import pytest

from chalicelib.db.models import SecuritySetting
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator
from tests.support.payloads import JSON, dumps, hmac_security, subscription

DOC = "infobip-subscriptions-api-openapi.json"
BASE = "/subscriptions/1/subscription/VOICE_VIDEO"
URL = "http://127.0.0.1:9/hook"


def post(client, account, path, body):
    return client.post(path, headers={**account.headers, **JSON}, body=dumps(body))


def put(client, account, path, body):
    return client.put(path, headers={**account.headers, **JSON}, body=dumps(body))


def body_of(response):
    return json.loads(response.body)


def test_create_get_list_update_delete_match_infobips_schemas(client, account):
    created = post(
        client,
        account,
        BASE,
        subscription(
            "sub-1", URL, criteria=[{"callsConfigurationId": "app-1"}], security=hmac_security("auth-1", "s3cret")
        ),
    )
    assert created.status_code == 201
    assert created.headers["Location"] == f"{BASE}/sub-1"
    response_validator(DOC, "POST", "/subscriptions/1/subscription/{channel}", 201)(body_of(created))
    assert body_of(created) == {
        "subscriptionId": "sub-1",
        "profile": {"profileId": "sub-1-profile", "security": {"authId": "auth-1"}},
    }

    got = client.get(f"{BASE}/sub-1", headers=account.headers)
    response_validator(DOC, "GET", "/subscriptions/1/subscription/{channel}/{subscriptionId}", 200)(body_of(got))
    assert body_of(got)["criteria"] == [{"callsConfigurationId": "app-1"}]
    assert body_of(got)["events"] == ["CALL_STARTED", "CALL_FINISHED"]

    listed = client.get(BASE, headers=account.headers)
    response_validator(DOC, "GET", "/subscriptions/1/subscription/{channel}", 200)(body_of(listed))
    assert [s["subscriptionId"] for s in body_of(listed)["results"]] == ["sub-1"]

    updated = put(
        client,
        account,
        f"{BASE}/sub-1",
        {"name": "renamed", "events": ["CALL_RECEIVED"], "profile": {"profileId": "sub-1-profile"}},
    )
    response_validator(DOC, "PUT", "/subscriptions/1/subscription/{channel}/{subscriptionId}", 200)(body_of(updated))
    assert body_of(client.get(f"{BASE}/sub-1", headers=account.headers))["events"] == ["CALL_RECEIVED"]

    deleted = client.delete(f"{BASE}/sub-1", headers=account.headers)
    response_validator(DOC, "DELETE", "/subscriptions/1/subscription/{channel}/{subscriptionId}", 200)(body_of(deleted))
    assert_envelope(client.get(f"{BASE}/sub-1", headers=account.headers), 404, "NOT_FOUND")


def test_list_filters_and_paging(client, account):
    for index in range(3):
        post(client, account, BASE, subscription(f"f-{index}", URL, criteria=[{"callsConfigurationId": f"c{index}"}]))
    only = body_of(client.get(f"{BASE}?callsConfigurationId=c1", headers=account.headers))
    assert [s["subscriptionId"] for s in only["results"]] == ["f-1"]
    page = body_of(client.get(f"{BASE}?page=1&size=2", headers=account.headers))
    assert page["paging"] == {"page": 1, "size": 2, "totalPages": 2, "totalResults": 3}
    assert len(page["results"]) == 1


def test_overlapping_subscriptions_are_refused(client, account):
    criteria = [{"callsConfigurationId": "same"}]
    assert post(client, account, BASE, subscription("a", URL, ["CALL_STARTED"], criteria=criteria)).status_code == 201
    clash = post(
        client,
        account,
        BASE,
        subscription("b", URL, ["CALL_STARTED", "CALL_RINGING"], criteria=criteria, profile_id="b-profile"),
    )
    assert "CALL_STARTED" in assert_envelope(clash, 409, "CONFLICT")["text"]
    # no overlap: other events for the same criteria, or the same events for other criteria
    assert (
        post(
            client, account, BASE, subscription("c", URL, ["CALL_RINGING"], criteria=criteria, profile_id="c-profile")
        ).status_code
        == 201
    )
    assert (
        post(
            client,
            account,
            BASE,
            subscription("d", URL, ["CALL_STARTED"], criteria=[{"callsConfigurationId": "x"}], profile_id="d-profile"),
        ).status_code
        == 201
    )
    # an update that would overlap is refused too
    clash = put(
        client,
        account,
        f"{BASE}/d",
        {"events": ["CALL_STARTED"], "criteria": criteria, "profile": {"profileId": "d-profile"}},
    )
    assert_envelope(clash, 409, "CONFLICT")


def test_a_failed_create_leaves_nothing_behind(client, account):
    assert post(client, account, BASE, subscription("dup", URL)).status_code == 201
    again = post(client, account, BASE, subscription("dup", URL, ["CALL_RINGING"], profile_id="fresh-profile"))
    assert_envelope(again, 409, "CONFLICT")
    assert_envelope(client.get("/subscriptions/1/profiles/fresh-profile", headers=account.headers), 404, "NOT_FOUND")


def test_existing_profile_can_be_referenced_and_is_protected_while_used(client, account):
    profile = {
        "profileId": "shared",
        "webhook": {"notifyUrl": URL},
        "readTimeout": 2000,
        "headers": {"X-Tenant": "blue"},
    }
    created = post(client, account, "/subscriptions/1/profiles", profile)
    response_validator(DOC, "POST", "/subscriptions/1/profiles", 201)(body_of(created))
    got = body_of(client.get("/subscriptions/1/profiles/shared", headers=account.headers))
    response_validator(DOC, "GET", "/subscriptions/1/profiles/{profileId}", 200)(got)
    assert got["readTimeout"] == 2000 and got["headers"] == {"X-Tenant": "blue"}
    body = {"subscriptionId": "uses-shared", "events": ["CALL_FINISHED"], "profile": {"profileId": "shared"}}
    assert post(client, account, BASE, body).status_code == 201
    assert_envelope(client.delete("/subscriptions/1/profiles/shared", headers=account.headers), 409, "CONFLICT")
    missing = {"subscriptionId": "dangling", "events": ["CALL_RINGING"], "profile": {"profileId": "nope"}}
    assert_envelope(post(client, account, BASE, missing), 404, "NOT_FOUND")


def test_security_secrets_are_encrypted_and_never_echoed(client, account):
    created = post(
        client,
        account,
        "/subscriptions/1/security",
        {"authId": "basic-1", "type": "BASIC", "credentials": {"username": "hook", "password": "p4ss"}},
    )
    response_validator(DOC, "POST", "/subscriptions/1/security", 201)(body_of(created))
    got = client.get("/subscriptions/1/security/basic-1", headers=account.headers)
    response_validator(DOC, "GET", "/subscriptions/1/security/{authId}", 200)(body_of(got))
    assert body_of(got)["credentials"]["username"] == "hook"
    assert "p4ss" not in got.body.decode()
    stored = SecuritySetting.get(account.account_id, "basic-1")
    assert "p4ss" not in json.dumps(stored.serialize())
    listed = client.get("/subscriptions/1/security", headers=account.headers)
    response_validator(DOC, "GET", "/subscriptions/1/security", 200)(body_of(listed))
    assert "p4ss" not in listed.body.decode()


def test_security_type_needs_its_credentials(client, account):
    response = post(client, account, "/subscriptions/1/security", {"authId": "h", "type": "HMAC", "credentials": {}})
    assert "secretKey" in json.dumps(assert_envelope(response, 400, "BAD_REQUEST"))
    response = post(client, account, "/subscriptions/1/security", {"authId": "o", "type": "OAUTH"})
    assert "not supported" in json.dumps(assert_envelope(response, 400, "BAD_REQUEST"))


def test_security_in_use_cannot_be_deleted(client, account):
    post(client, account, BASE, subscription("secured", URL, security=hmac_security("in-use", "k")))
    assert_envelope(client.delete("/subscriptions/1/security/in-use", headers=account.headers), 409, "CONFLICT")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00::1]/x",
        "http://192.168.1.1/",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "http://0.0.0.0:80/",
        "http://100.64.1.1/",
        "http://no-such-host.invalid/hook",
    ],
)
def test_webhook_urls_to_private_networks_are_refused(client, account, url):
    response = post(client, account, BASE, subscription("priv", url))
    assert "profile.webhook.notifyUrl" in assert_envelope(response, 400, "BAD_REQUEST")["validationErrors"]


def test_unsupported_and_unknown_channels(client, account):
    assert (
        "VOICE_VIDEO"
        in assert_envelope(
            client.get("/subscriptions/1/subscription/SMS", headers=account.headers), 400, "BAD_REQUEST"
        )["text"]
    )
    assert_envelope(client.get("/subscriptions/1/subscription/PIGEON", headers=account.headers), 400, "BAD_REQUEST")
