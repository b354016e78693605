"""The SFTP destination API (`/accounts/1/recording-export/sftp`): the password never comes back and is encrypted at
rest, the host-key fingerprint is taken as `ssh-keygen -lf` prints it, the outbound policy applies to the host,
bad input is a 400 naming the field, and another account can neither see nor change the destination."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import asyncssh
import pytest

from chalicelib.core.observability import logger
from chalicelib.core.settings import reset_settings_cache
from chalicelib.db.models import RecordingExportDestination
from chalicelib.recording_export import service
from tests.support.envelope import assert_envelope
from tests.support.payloads import JSON, dumps

SFTP = "/accounts/1/recording-export/sftp"
PASSWORD = "Never-Shown-5ftp-8c2e"
KEY = asyncssh.generate_private_key("ssh-ed25519")
FINGERPRINT = KEY.get_fingerprint("sha256")
KEYGEN_LINE = f"256 {FINGERPRINT} archive@example (ED25519)\n"


def destination(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 2222,
        "path": "/upload/recordings",
        "username": "archivist",
        "password": PASSWORD,
        "hostKeyFingerprint": KEYGEN_LINE,
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def put(client, account, body: Any):
    return client.put(SFTP, headers={**account.headers, **JSON}, body=dumps(body))


def body_of(response) -> dict[str, Any]:
    return dict(json.loads(response.body))


def test_put_get_delete_and_the_view_shown_back(client, account):
    assert_envelope(client.get(SFTP, headers=account.headers), 404, "NOT_FOUND")

    created = put(client, account, destination())
    assert created.status_code == 200, created.body
    view = body_of(created)
    assert {k: v for k, v in view.items() if k not in ("createdAt", "updatedAt")} == {
        "enabled": True,
        "host": "127.0.0.1",
        "port": 2222,
        "path": "/upload/recordings",
        "username": "archivist",
        "hostKeyFingerprint": FINGERPRINT,  # the ssh-keygen line reduced to the fingerprint
    }
    assert body_of(client.get(SFTP, headers=account.headers)) == view

    replaced = body_of(put(client, account, destination(enabled=False, port=22, path="out")))
    assert (replaced["enabled"], replaced["port"], replaced["path"]) == (False, 22, "out")
    assert replaced["createdAt"] == view["createdAt"]

    deleted = client.delete(SFTP, headers=account.headers)
    assert deleted.status_code == 200 and body_of(deleted)["path"] == "out"
    assert_envelope(client.get(SFTP, headers=account.headers), 404, "NOT_FOUND")
    assert_envelope(client.delete(SFTP, headers=account.headers), 404, "NOT_FOUND")
    assert service.connection_for(account.account_id) is None


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    switchboard = logger()
    saved = switchboard.log_level
    switchboard.setLevel("DEBUG")
    caplog.set_level(logging.DEBUG)
    yield caplog
    switchboard.setLevel(saved)


def test_the_password_is_never_returned_logged_or_stored_in_clear(client, account, debug_logs):
    responses = [
        put(client, account, destination()),
        client.get(SFTP, headers=account.headers),
        put(client, account, destination(host="10.0.0.7")),  # refused
        put(client, account, destination(port="22")),  # invalid
    ]
    assert service.connection_for(account.account_id).password == PASSWORD  # type: ignore[union-attr]
    assert PASSWORD not in repr(service.connection_for(account.account_id))
    responses.append(client.delete(SFTP, headers=account.headers))
    for response in responses:
        assert PASSWORD not in response.body.decode()
        assert "password" not in body_of(response) or response.status_code == 400

    logged = [f"{record.getMessage()} {record.__dict__}" for record in debug_logs.records]
    assert any("password_sealed" in line for line in logged), "the DynamoDB writes were not captured"
    assert not [line for line in logged if PASSWORD in line]


def test_the_password_is_encrypted_at_rest(client, account):
    put(client, account, destination())
    stored = json.dumps(RecordingExportDestination.get(account.account_id, "SFTP").serialize())
    assert PASSWORD not in stored and "password_sealed" in stored


def test_a_replacement_without_a_password_keeps_the_stored_one(client, account):
    put(client, account, destination())
    assert put(client, account, destination(password=None, username="other")).status_code == 200
    kept = service.connection_for(account.account_id)
    assert kept is not None and (kept.username, kept.password) == ("other", PASSWORD)
    put(client, account, destination(password="n3w-password"))
    assert service.connection_for(account.account_id).password == "n3w-password"  # type: ignore[union-attr]


def test_a_new_destination_needs_a_password(client, account):
    exception = assert_envelope(put(client, account, destination(password=None)), 400, "BAD_REQUEST")
    assert "password" in exception["validationErrors"]
    assert_envelope(client.get(SFTP, headers=account.headers), 404, "NOT_FOUND")


def test_another_account_can_neither_see_nor_change_the_destination(client, account, other_account):
    put(client, account, destination())
    assert_envelope(client.get(SFTP, headers=other_account.headers), 404, "NOT_FOUND")
    assert_envelope(client.delete(SFTP, headers=other_account.headers), 404, "NOT_FOUND")
    # without a password of its own, the other account cannot piggy-back on this one's stored password
    assert_envelope(put(client, other_account, destination(password=None)), 400, "BAD_REQUEST")
    assert service.connection_for(other_account.account_id) is None

    put(client, other_account, destination(host="localhost", password="theirs"))
    mine = service.connection_for(account.account_id)
    assert mine is not None and (mine.host, mine.password) == ("127.0.0.1", PASSWORD)
    assert body_of(client.get(SFTP, headers=account.headers))["host"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (destination(host=None), "host"),
        (destination(host=""), "host"),
        (destination(host="sftp://files.example.com"), "host"),
        (destination(host="user@files.example.com"), "host"),
        (destination(host="files.example.com:22"), "host"),
        (destination(host="files.example.com/dir"), "host"),
        (destination(host="-bad-.example.com"), "host"),
        (destination(host=42), "host"),
        (destination(port=0), "port"),
        (destination(port=65536), "port"),
        (destination(port="22"), "port"),
        (destination(path=None), "path"),
        (destination(path=""), "path"),
        (destination(path="/in\nout"), "path"),
        (destination(username=None), "username"),
        (destination(username=""), "username"),
        (destination(username="a\x00b"), "username"),
        (destination(password=""), "password"),
        (destination(hostKeyFingerprint=None), "hostKeyFingerprint"),
        (destination(hostKeyFingerprint="SHA256:short"), "hostKeyFingerprint"),
        (destination(hostKeyFingerprint="MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"), "hostKeyFingerprint"),
        (destination(hostKeyFingerprint="16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"), "hostKeyFingerprint"),
        (destination(hostKeyFingerprint=FINGERPRINT.replace("SHA256:", "")), "hostKeyFingerprint"),
        (destination(enabled="yes"), "enabled"),
        (destination(passwd="typo"), "passwd"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, account, body, field):
    exception = assert_envelope(put(client, account, body), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"], exception
    assert PASSWORD not in json.dumps(exception)


@pytest.mark.parametrize("raw", ["", "not json", "[]", '"text"'])
def test_a_body_that_is_not_a_json_object_is_a_400(client, account, raw):
    assert_envelope(client.put(SFTP, headers={**account.headers, **JSON}, body=raw), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "host", ["10.1.2.3", "192.168.0.10", "169.254.169.254", "100.64.0.1", "fd00::1", "0.0.0.0", "no-such-host.invalid"]
)
def test_private_and_unresolvable_hosts_are_refused(client, account, host):
    exception = assert_envelope(put(client, account, destination(host=host)), 400, "BAD_REQUEST")
    assert "host" in exception["validationErrors"]
    assert service.connection_for(account.account_id) is None


@pytest.fixture
def loopback_refused() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "false")
        reset_settings_cache()
        yield
    reset_settings_cache()


def test_loopback_is_allowed_only_where_the_operator_allows_it(client, account, loopback_refused):
    for host in ("127.0.0.1", "localhost", "::1"):
        exception = assert_envelope(put(client, account, destination(host=host)), 400, "BAD_REQUEST")
        assert "host" in exception["validationErrors"]


def test_a_bare_fingerprint_and_a_padded_one_are_accepted(client, account):
    assert body_of(put(client, account, destination(hostKeyFingerprint=FINGERPRINT)))["hostKeyFingerprint"] == (
        FINGERPRINT
    )
    padded = body_of(put(client, account, destination(hostKeyFingerprint=FINGERPRINT + "=")))
    assert padded["hostKeyFingerprint"] == FINGERPRINT


def test_credentials_are_required(client):
    assert_envelope(client.get(SFTP), 401, "UNAUTHORIZED")
    assert_envelope(client.put(SFTP, headers=JSON, body=dumps(destination())), 401, "UNAUTHORIZED")
    assert_envelope(client.delete(SFTP), 401, "UNAUTHORIZED")
