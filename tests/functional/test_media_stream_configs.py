"""Media-stream configurations (`/calls/1/media-stream-configs`): behaviour, the URL policy, credentials that never
come back, validation, paging, tenant isolation and Infobip's response schemas."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.observability import logger
from chalicelib.core.settings import reset_settings_cache
from chalicelib.db.models import MediaStreamConfig
from chalicelib.media_streams import service
from chalicelib.media_streams.errors import MediaStreamConfigNotFound
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator, schema_validator
from tests.support.payloads import JSON, dumps

DOC = "infobip-voice-openapi.json"
BASE = "/calls/1/media-stream-configs"
ONE = BASE + "/{mediaStreamConfigId}"
URL = "ws://127.0.0.1:9/stream"
PASSWORD = "pa55-Never-Shown-7f3c"


def config(url: Any = URL, name: Any = "Stream", security: Any = None, **extra: Any) -> dict[str, Any]:
    """A request body; `Any` because the validation tests send wrong types on purpose."""
    body: dict[str, Any] = {"type": "MEDIA_STREAMING", "name": name, "url": url, **extra}
    if security is not None:
        body["securityConfig"] = security
    return body


def basic(username: Any = "streamer", password: Any = PASSWORD) -> dict[str, Any]:
    return {"type": "BASIC", "username": username, "password": password}


def post(client, account, body):
    return client.post(BASE, headers={**account.headers, **JSON}, body=dumps(body))


def put(client, account, config_id, body):
    return client.put(f"{BASE}/{config_id}", headers={**account.headers, **JSON}, body=dumps(body))


def body_of(response):
    return json.loads(response.body)


def created_id(client, account, body) -> str:
    response = post(client, account, body)
    assert response.status_code == 201, response.body
    return str(body_of(response)["id"])


def check_schema(body: dict[str, Any], method: str, path: str, status: int = 200) -> None:
    response_validator(DOC, method, path, status)(body)
    schema_validator(DOC, "MediaStreamingConfigResponse")(body)


def test_create_get_list_update_delete_match_infobips_schemas(client, account):
    created = post(client, account, config(security=basic()))
    assert created.status_code == 201
    check_schema(body_of(created), "POST", BASE, 201)
    config_id = body_of(created)["id"]
    expected = {"id": config_id, "type": "MEDIA_STREAMING", "name": "Stream", "url": URL, "audioEncoding": "RAW"}
    assert body_of(created) == expected

    got = client.get(f"{BASE}/{config_id}", headers=account.headers)
    check_schema(body_of(got), "GET", ONE)
    assert body_of(got) == expected

    listed = client.get(BASE, headers=account.headers)
    response_validator(DOC, "GET", BASE, 200)(body_of(listed))
    assert body_of(listed) == {
        "results": [expected],
        "paging": {"page": 0, "size": 20, "totalPages": 1, "totalResults": 1},
    }

    updated = put(client, account, config_id, config("wss://127.0.0.1:8443/other", "Renamed", basic()))
    check_schema(body_of(updated), "PUT", ONE)
    assert body_of(updated) == {**expected, "name": "Renamed", "url": "wss://127.0.0.1:8443/other"}

    deleted = client.delete(f"{BASE}/{config_id}", headers=account.headers)
    check_schema(body_of(deleted), "DELETE", ONE)
    assert body_of(deleted)["name"] == "Renamed"
    assert_envelope(client.get(f"{BASE}/{config_id}", headers=account.headers), 404, "NOT_FOUND")
    assert_envelope(client.delete(f"{BASE}/{config_id}", headers=account.headers), 404, "NOT_FOUND")


def test_ids_are_generated_and_distinct(client, account):
    first = created_id(client, account, config())
    second = created_id(client, account, config())
    assert first != second


def test_an_empty_name_and_infobips_example_body_are_accepted(client, account):
    assert post(client, account, config(name="")).status_code == 201
    # Infobip's own request example carries audioEncoding, which its request schema does not list
    example = config("ws://127.0.0.1:3001", "Media-stream config", basic("my-username", "my-password"))
    assert body_of(post(client, account, {**example, "audioEncoding": "RAW"}))["audioEncoding"] == "RAW"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record, at DEBUG, from Switchboard and the libraries under it (pynamodb, botocore)."""
    switchboard = logger()
    saved = switchboard.log_level
    switchboard.setLevel("DEBUG")
    caplog.set_level(logging.DEBUG)
    yield caplog
    switchboard.setLevel(saved)


def test_the_password_is_never_returned_stored_or_logged(client, account, debug_logs):
    config_id = created_id(client, account, config(security=basic()))
    responses = [
        client.get(f"{BASE}/{config_id}", headers=account.headers),
        client.get(BASE, headers=account.headers),
        put(client, account, config_id, config(name="Again", security=basic())),
        post(client, account, config(url="ws://10.0.0.1/x", security=basic())),  # refused: an error body
        post(client, account, config(security={**basic(), "username": "bad:name"})),  # refused: validation
    ]
    assert service.connection_for(account.account_id, config_id).headers["Authorization"].startswith("Basic ")
    responses.append(client.delete(f"{BASE}/{config_id}", headers=account.headers))
    for response in responses:
        assert PASSWORD not in response.body.decode()
        assert base64.b64encode(f"streamer:{PASSWORD}".encode()).decode() not in response.body.decode()

    logged = [f"{record.getMessage()} {record.__dict__}" for record in debug_logs.records]
    assert any("credentials_sealed" in line for line in logged), "the DynamoDB writes were not captured"
    assert not [line for line in logged if PASSWORD in line]


def test_credentials_are_encrypted_at_rest(client, account):
    config_id = created_id(client, account, config(security=basic()))
    stored = json.dumps(MediaStreamConfig.get(account.account_id, config_id).serialize())
    assert PASSWORD not in stored and "streamer" not in stored
    assert "credentials_sealed" in stored


def test_the_media_node_gets_the_url_and_a_basic_header(client, account):
    config_id = created_id(client, account, config(security=basic("user", "secret:with:colons")))
    url, headers = service.connection_for(account.account_id, config_id)
    assert url == URL
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "Basic" and base64.b64decode(token).decode() == "user:secret:with:colons"

    plain = created_id(client, account, config())
    assert service.connection_for(account.account_id, plain) == (URL, {})


def test_a_put_replaces_the_credentials_too(client, account):
    config_id = created_id(client, account, config(security=basic()))
    put(client, account, config_id, config(security=basic("other", "n3w")))
    token = service.connection_for(account.account_id, config_id).headers["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(token).decode() == "other:n3w"
    put(client, account, config_id, config())
    assert service.connection_for(account.account_id, config_id).headers == {}


def test_another_accounts_configuration_is_unknown(client, account, other_account):
    config_id = created_id(client, account, config(security=basic()))
    assert_envelope(client.get(f"{BASE}/{config_id}", headers=other_account.headers), 404, "NOT_FOUND")
    assert_envelope(put(client, other_account, config_id, config(name="Theirs")), 404, "NOT_FOUND")
    assert_envelope(client.delete(f"{BASE}/{config_id}", headers=other_account.headers), 404, "NOT_FOUND")
    assert body_of(client.get(BASE, headers=other_account.headers))["results"] == []
    with pytest.raises(MediaStreamConfigNotFound):
        service.connection_for(other_account.account_id, config_id)
    assert body_of(client.get(f"{BASE}/{config_id}", headers=account.headers))["name"] == "Stream"


def test_updating_an_unknown_configuration_is_404_and_creates_nothing(client, account):
    assert_envelope(put(client, account, "ghost", config()), 404, "NOT_FOUND")
    assert_envelope(client.get(f"{BASE}/ghost", headers=account.headers), 404, "NOT_FOUND")
    with pytest.raises(MediaStreamConfigNotFound):
        service.connection_for(account.account_id, "ghost")


def test_paging_is_infobips(client, account):
    made = {created_id(client, account, config(name=f"P{index}")) for index in range(5)}
    pages = [body_of(client.get(f"{BASE}?page={n}&size=2", headers=account.headers)) for n in range(3)]
    assert pages[0]["paging"] == {"page": 0, "size": 2, "totalPages": 3, "totalResults": 5}
    assert [len(page["results"]) for page in pages] == [2, 2, 1]
    assert {c["id"] for page in pages for c in page["results"]} == made
    assert body_of(client.get(f"{BASE}?page=3&size=2", headers=account.headers))["results"] == []
    assert_envelope(client.get(f"{BASE}?size=101", headers=account.headers), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "MEDIA_STREAMING", "url": URL}, "name"),
        ({"type": "MEDIA_STREAMING", "name": "n"}, "url"),
        ({"name": "n", "url": URL}, "type"),
        (config(name="n" * 129), "name"),
        (config(name=7), "name"),
        (config(url=42), "url"),
        (config(url=""), "url"),
        ({**config(), "type": "WEBSOCKET_ENDPOINT"}, "type"),
        ({**config(), "type": "CARRIER_PIGEON"}, "type"),
        (config(audioEncoding="BASE64"), "audioEncoding"),
        (config(audioEncoding="MP3"), "audioEncoding"),
        (config(security={"type": "HMAC", "secretKey": "k", "algorithm": "HMAC_SHA_256"}), "securityConfig.type"),
        (config(security={"type": "DIGEST", "username": "u", "password": "p"}), "securityConfig.type"),
        (config(security={"username": "u", "password": "p"}), "securityConfig.type"),
        (config(security={"type": "BASIC", "username": "u"}), "securityConfig"),
        (config(security={"type": "BASIC", "password": "p"}), "securityConfig"),
        (config(security=basic(username="a:b")), "securityConfig.username"),
        (config(security=basic(username="")), "securityConfig.username"),
        (config(security=basic(password=12345)), "securityConfig.password"),
        (config(security="BASIC u:p"), "securityConfig"),
    ],
)
def test_invalid_fields_are_named_in_infobips_envelope(client, account, body, field):
    exception = assert_envelope(post(client, account, body), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"], exception


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/stream",
        "https://127.0.0.1:9/stream",
        "ftp://example.com/stream",
        "file:///etc/passwd",
        "127.0.0.1:9",
        "ws:///no-host",
        "ws://[::1",
        "ws://10.0.0.5/stream",
        "wss://192.168.1.1/stream",
        "ws://169.254.169.254/latest/meta-data",
        "ws://[fd00::1]/stream",
        "ws://100.64.1.1/stream",
        "ws://0.0.0.0:80/",
        "ws://no-such-host.invalid/stream",
        "ws://user:pw@127.0.0.1:9/stream",
        "ws://127.0.0.1:9/stream#fragment",
    ],
)
def test_stream_urls_must_be_websockets_outside_private_networks(client, account, url):
    exception = assert_envelope(post(client, account, config(url=url)), 400, "BAD_REQUEST")
    assert "url" in exception["validationErrors"], exception
    assert "pw@" not in json.dumps(exception)


def test_a_refused_update_changes_nothing(client, account):
    config_id = created_id(client, account, config(security=basic()))
    assert_envelope(put(client, account, config_id, config(url="ws://10.1.1.1/x")), 400, "BAD_REQUEST")
    assert service.connection_for(account.account_id, config_id).url == URL


@pytest.fixture
def loopback_refused() -> Iterator[None]:
    """The outbound policy of a deployment: loopback is refused as well."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "false")
        reset_settings_cache()
        yield
    reset_settings_cache()  # after the environment is restored


def test_loopback_is_allowed_only_where_the_operator_allows_it(client, account, loopback_refused):
    exception = assert_envelope(post(client, account, config()), 400, "BAD_REQUEST")
    assert "url" in exception["validationErrors"]
    assert_envelope(post(client, account, config(url="ws://localhost:9/stream")), 400, "BAD_REQUEST")


def test_credentials_are_required(client):
    assert_envelope(client.get(BASE), 401, "UNAUTHORIZED")
    assert_envelope(client.post(BASE, headers=JSON, body=dumps(config())), 401, "UNAUTHORIZED")
