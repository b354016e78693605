"""Calls configurations (`/calls/1/configurations`): behaviour, ids, validation, paging, tenant isolation and
Infobip's response schemas."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.calls_configurations import service
from chalicelib.calls_configurations.errors import CallsConfigurationNotFound, ConfigurationIdTaken
from chalicelib.calls_configurations.schemas import CallsConfigurationCreateRequest
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator
from tests.support.payloads import JSON, dumps

DOC = "infobip-voice-openapi.json"
BASE = "/calls/1/configurations"
ONE = BASE + "/{callsConfigurationId}"


def post(client, account, body):
    return client.post(BASE, headers={**account.headers, **JSON}, body=dumps(body))


def put(client, account, configuration_id, body):
    return client.put(f"{BASE}/{configuration_id}", headers={**account.headers, **JSON}, body=dumps(body))


def body_of(response):
    return json.loads(response.body)


def test_create_get_list_update_delete_match_infobips_schemas(client, account):
    created = post(client, account, {"id": "my-app_1", "name": "My app"})
    assert created.status_code == 201
    response_validator(DOC, "POST", BASE, 201)(body_of(created))
    assert body_of(created) == {"id": "my-app_1", "name": "My app"}

    got = client.get(f"{BASE}/my-app_1", headers=account.headers)
    response_validator(DOC, "GET", ONE, 200)(body_of(got))
    assert body_of(got) == {"id": "my-app_1", "name": "My app"}

    listed = client.get(BASE, headers=account.headers)
    response_validator(DOC, "GET", BASE, 200)(body_of(listed))
    assert body_of(listed) == {
        "results": [{"id": "my-app_1", "name": "My app"}],
        "paging": {"page": 0, "size": 20, "totalPages": 1, "totalResults": 1},
    }

    updated = put(client, account, "my-app_1", {"name": "Renamed"})
    response_validator(DOC, "PUT", ONE, 200)(body_of(updated))
    assert body_of(updated) == {"id": "my-app_1", "name": "Renamed"}
    assert body_of(client.get(f"{BASE}/my-app_1", headers=account.headers))["name"] == "Renamed"

    deleted = client.delete(f"{BASE}/my-app_1", headers=account.headers)
    response_validator(DOC, "DELETE", ONE, 200)(body_of(deleted))
    assert body_of(deleted) == {"id": "my-app_1", "name": "Renamed"}
    assert_envelope(client.get(f"{BASE}/my-app_1", headers=account.headers), 404, "NOT_FOUND")
    assert_envelope(client.delete(f"{BASE}/my-app_1", headers=account.headers), 404, "NOT_FOUND")
    assert body_of(client.get(BASE, headers=account.headers))["results"] == []


def test_without_an_id_one_is_generated_that_fits_infobips_pattern(client, account):
    created = post(client, account, {"name": "Generated"})
    assert created.status_code == 201
    generated = body_of(created)["id"]
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,128}", generated)
    assert body_of(client.get(f"{BASE}/{generated}", headers=account.headers)) == {"id": generated, "name": "Generated"}
    second = body_of(post(client, account, {"name": "Generated"}))["id"]
    assert second != generated


def test_name_is_optional_as_in_infobips_schema(client, account):
    created = post(client, account, {})
    assert created.status_code == 201
    response_validator(DOC, "POST", BASE, 201)(body_of(created))
    assert set(body_of(created)) == {"id"}
    # a PUT replaces: without a name the configuration is left unnamed
    post(client, account, {"id": "named", "name": "Name"})
    assert body_of(put(client, account, "named", {})) == {"id": "named"}


def test_ids_and_names_at_the_limits_are_accepted(client, account):
    longest = "a" * 128
    created = post(client, account, {"id": longest, "name": "n" * 128})
    assert created.status_code == 201
    assert body_of(client.get(f"{BASE}/{longest}", headers=account.headers))["name"] == "n" * 128
    assert post(client, account, {"id": "x"}).status_code == 201


def test_a_taken_id_is_refused_in_the_envelope_and_the_first_is_kept(client, account):
    assert post(client, account, {"id": "dup", "name": "First"}).status_code == 201
    refused = assert_envelope(post(client, account, {"id": "dup", "name": "Second"}), 400, "BAD_REQUEST")
    assert "already exists" in refused["validationErrors"]["id"][0]
    assert body_of(client.get(f"{BASE}/dup", headers=account.headers))["name"] == "First"


def test_racing_creates_of_one_id_have_exactly_one_winner(account):
    request = CallsConfigurationCreateRequest(id="raced", name="race")

    def create(_: int) -> str:
        try:
            service.create_configuration(account.account_id, request)
        except ConfigurationIdTaken:
            return "taken"
        return "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(create, range(8)))
    assert sorted(outcomes) == ["created"] + ["taken"] * 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "has space"}, "id"),
        ({"id": "dotted.id"}, "id"),
        ({"id": "slash/id"}, "id"),
        ({"id": "ünïcode"}, "id"),
        ({"id": ""}, "id"),
        ({"id": "a" * 129}, "id"),
        ({"id": 123}, "id"),
        ({"id": ["list"]}, "id"),
        ({"name": ""}, "name"),
        ({"name": "n" * 129}, "name"),
        ({"name": 5}, "name"),
        ({"name": {"nested": "object"}}, "name"),
    ],
)
def test_invalid_fields_are_named_in_infobips_envelope(client, account, body, field):
    exception = assert_envelope(post(client, account, body), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"], exception


@pytest.mark.parametrize(
    ("body", "field"), [({"name": ""}, "name"), ({"name": "n" * 129}, "name"), ({"name": False}, "name")]
)
def test_invalid_updates_are_refused_and_change_nothing(client, account, body, field):
    post(client, account, {"id": "kept", "name": "Kept"})
    exception = assert_envelope(put(client, account, "kept", body), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"]
    assert body_of(client.get(f"{BASE}/kept", headers=account.headers))["name"] == "Kept"


@pytest.mark.parametrize("raw", ["", "not json", "[]", '"a string"'])
def test_bodies_that_are_not_json_objects_are_refused(client, account, raw):
    assert_envelope(client.post(BASE, headers={**account.headers, **JSON}, body=raw), 400, "BAD_REQUEST")


def test_updating_an_unknown_configuration_is_404_and_creates_nothing(client, account):
    assert_envelope(put(client, account, "ghost", {"name": "Boo"}), 404, "NOT_FOUND")
    assert_envelope(client.get(f"{BASE}/ghost", headers=account.headers), 404, "NOT_FOUND")


def test_paging_is_infobips(client, account):
    for index in range(5):
        assert post(client, account, {"id": f"page-{index}", "name": f"P{index}"}).status_code == 201
    first = body_of(client.get(f"{BASE}?page=0&size=2", headers=account.headers))
    assert first["paging"] == {"page": 0, "size": 2, "totalPages": 3, "totalResults": 5}
    pages = [body_of(client.get(f"{BASE}?page={n}&size=2", headers=account.headers)) for n in range(3)]
    ids = [c["id"] for page in pages for c in page["results"]]
    assert sorted(ids) == [f"page-{index}" for index in range(5)]  # every one once, across the pages
    assert [len(page["results"]) for page in pages] == [2, 2, 1]
    beyond = client.get(f"{BASE}?page=3&size=2", headers=account.headers)
    response_validator(DOC, "GET", BASE, 200)(body_of(beyond))
    assert body_of(beyond)["results"] == []


@pytest.mark.parametrize("query", ["page=-1", "size=0", "size=101", "page=abc"])
def test_bad_paging_parameters_are_refused(client, account, query):
    assert_envelope(client.get(f"{BASE}?{query}", headers=account.headers), 400, "BAD_REQUEST")


def test_another_accounts_configuration_is_unknown(client, account, other_account):
    post(client, account, {"id": "private", "name": "Mine"})
    assert_envelope(client.get(f"{BASE}/private", headers=other_account.headers), 404, "NOT_FOUND")
    assert_envelope(put(client, other_account, "private", {"name": "Theirs"}), 404, "NOT_FOUND")
    assert_envelope(client.delete(f"{BASE}/private", headers=other_account.headers), 404, "NOT_FOUND")
    assert body_of(client.get(BASE, headers=other_account.headers))["results"] == []
    assert body_of(client.get(f"{BASE}/private", headers=account.headers))["name"] == "Mine"
    # ids are the account's own: another account may choose the same one
    assert post(client, other_account, {"id": "private", "name": "Theirs"}).status_code == 201
    assert body_of(client.get(f"{BASE}/private", headers=account.headers))["name"] == "Mine"


def test_the_platform_looks_configurations_up_per_account(account, other_account):
    service.create_configuration(account.account_id, CallsConfigurationCreateRequest(id="lookup", name="Look"))
    found = service.get_configuration(account.account_id, "lookup")
    assert (found.configuration_id, found.name) == ("lookup", "Look")
    with pytest.raises(CallsConfigurationNotFound) as raised:
        service.get_configuration(other_account.account_id, "lookup")
    assert raised.value.status == 404


def test_credentials_are_required(client):
    assert_envelope(client.get(BASE), 401, "UNAUTHORIZED")
    assert_envelope(client.post(BASE, headers=JSON, body=dumps({"name": "x"})), 401, "UNAUTHORIZED")


def test_basic_auth_works_too(client, account):
    created = client.post(BASE, headers={**account.basic_headers, **JSON}, body=dumps({"id": "basic"}))
    assert created.status_code == 201
