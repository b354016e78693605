"""App keys and Basic credentials; every failure is a 401 in the envelope; accounts never see each other."""

from __future__ import annotations

import base64
import json

from chalicelib.core.crypto import hash_api_key
from chalicelib.db.models import Account, ApiKey
from tests.support.envelope import assert_envelope
from tests.support.payloads import JSON, dumps, subscription

WHOAMI = "/accounts/1/account"


def test_api_key_authenticates(client, account):
    response = client.get(WHOAMI, headers=account.headers)
    assert response.status_code == 200
    assert json.loads(response.body)["accountId"] == account.account_id


def test_basic_authenticates(client, account):
    response = client.get(WHOAMI, headers=account.basic_headers)
    assert json.loads(response.body)["accountId"] == account.account_id


def test_missing_credentials_are_401(client, embedded_aws):
    assert_envelope(client.get(WHOAMI), 401, "UNAUTHORIZED")


def test_wrong_key_is_401(client, account):
    assert_envelope(client.get(WHOAMI, headers={"Authorization": "App sbk_wrong"}), 401, "UNAUTHORIZED")


def test_wrong_password_is_401(client, account):
    token = base64.b64encode(f"{account.username}:not-the-password".encode()).decode()
    assert_envelope(client.get(WHOAMI, headers={"Authorization": f"Basic {token}"}), 401, "UNAUTHORIZED")


def test_garbage_basic_is_401(client, account):
    assert_envelope(client.get(WHOAMI, headers={"Authorization": "Basic !!!"}), 401, "UNAUTHORIZED")


def test_unsupported_scheme_is_401(client, account):
    assert_envelope(client.get(WHOAMI, headers={"Authorization": f"Bearer {account.api_key}"}), 401, "UNAUTHORIZED")


def test_revoked_key_is_401(client, account):
    created = json.loads(
        client.post("/accounts/1/api-keys", headers={**account.headers, **JSON}, body=dumps({"name": "temporary"})).body
    )
    second = {"Authorization": f"App {created['key']}"}
    assert client.get(WHOAMI, headers=second).status_code == 200
    assert client.delete(f"/accounts/1/api-keys/{created['id']}", headers=account.headers).status_code == 200
    assert_envelope(client.get(WHOAMI, headers=second), 401, "UNAUTHORIZED")


def test_disabled_account_is_401(client, account):
    Account.get(account.account_id).update(actions=[Account.enabled.set(False)])
    assert_envelope(client.get(WHOAMI, headers=account.headers), 401, "UNAUTHORIZED")
    assert_envelope(client.get(WHOAMI, headers=account.basic_headers), 401, "UNAUTHORIZED")


def test_key_is_shown_once_and_stored_only_as_hash(client, account):
    created = json.loads(
        client.post("/accounts/1/api-keys", headers={**account.headers, **JSON}, body=dumps({"name": "ci"})).body
    )
    assert created["key"].startswith(created["prefix"])
    listed = json.loads(client.get("/accounts/1/api-keys", headers=account.headers).body)["results"]
    assert all("key" not in item for item in listed)
    assert {item["id"] for item in listed} >= {created["id"]}
    stored = ApiKey.get(hash_api_key(created["key"]))
    assert created["key"] not in json.dumps(stored.serialize())


def test_password_is_stored_with_a_slow_kdf(account):
    stored = Account.get(account.account_id).password_hash
    assert stored is not None and stored.startswith("scrypt$") and account.password not in stored


def test_other_accounts_resources_are_invisible(client, account, other_account):
    body = dumps(subscription("private", "http://127.0.0.1:9/hook"))
    assert (
        client.post(
            "/subscriptions/1/subscription/VOICE_VIDEO", headers={**account.headers, **JSON}, body=body
        ).status_code
        == 201
    )
    path = "/subscriptions/1/subscription/VOICE_VIDEO/private"
    assert_envelope(client.get(path, headers=other_account.headers), 404, "NOT_FOUND")
    assert_envelope(client.delete(path, headers=other_account.headers), 404, "NOT_FOUND")
    listed = json.loads(client.get("/subscriptions/1/subscription/VOICE_VIDEO", headers=other_account.headers).body)
    assert listed["results"] == []
    assert_envelope(
        client.get("/subscriptions/1/profiles/private-profile", headers=other_account.headers), 404, "NOT_FOUND"
    )
    key_id = json.loads(client.get("/accounts/1/api-keys", headers=account.headers).body)["results"][0]["id"]
    assert_envelope(client.delete(f"/accounts/1/api-keys/{key_id}", headers=other_account.headers), 404, "NOT_FOUND")
    assert client.get(path, headers=account.headers).status_code == 200
