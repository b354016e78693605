"""Every bad input gets a clear 4xx in Infobip's envelope; nothing produces a stack trace."""

from __future__ import annotations

import pytest

from tests.support.envelope import assert_envelope
from tests.support.payloads import JSON, dumps, subscription

PATH = "/subscriptions/1/subscription/VOICE_VIDEO"


def test_malformed_json_is_400(client, account):
    response = client.post(PATH, headers={**account.headers, **JSON}, body='{"subscriptionId": "x",')
    exception = assert_envelope(response, 400, "BAD_REQUEST")
    assert "JSON" in exception["text"]


def test_non_object_json_is_400(client, account):
    response = client.post(PATH, headers={**account.headers, **JSON}, body="[1, 2]")
    assert "JSON object" in assert_envelope(response, 400, "BAD_REQUEST")["text"]


def test_empty_body_is_400(client, account):
    response = client.post(PATH, headers={**account.headers, **JSON}, body="")
    assert "required" in assert_envelope(response, 400, "BAD_REQUEST")["text"]


def test_wrong_types_name_the_fields(client, account):
    body = subscription("wrong-types", "http://127.0.0.1:9/hook")
    body["events"] = "CALL_STARTED"
    body["profile"]["connectTimeout"] = "500"
    response = client.post(PATH, headers={**account.headers, **JSON}, body=dumps(body))
    errors = assert_envelope(response, 400, "BAD_REQUEST")["validationErrors"]
    assert "events" in errors
    assert "profile.connectTimeout" in errors


def test_missing_fields_are_named(client, account):
    response = client.post(PATH, headers={**account.headers, **JSON}, body=dumps({"name": "x"}))
    errors = assert_envelope(response, 400, "BAD_REQUEST")["validationErrors"]
    assert {"subscriptionId", "events", "profile"} <= set(errors)


def test_unknown_event_type_is_400(client, account):
    body = subscription("bad-event", "http://127.0.0.1:9/hook", ["CALL_EXPLODED"])
    response = client.post(PATH, headers={**account.headers, **JSON}, body=dumps(body))
    assert "events.0" in assert_envelope(response, 400, "BAD_REQUEST")["validationErrors"]


def test_unknown_fields_are_ignored(client, account):
    body = subscription("extra-fields", "http://127.0.0.1:9/hook")
    body["somethingNew"] = {"nested": True}
    body["profile"]["alsoNew"] = 1
    response = client.post(PATH, headers={**account.headers, **JSON}, body=dumps(body))
    assert response.status_code == 201


def test_unknown_id_is_404(client, account):
    response = client.get(f"{PATH}/does-not-exist", headers=account.headers)
    assert_envelope(response, 404, "NOT_FOUND")


def test_oversized_body_is_413(client, account):
    body = subscription("big", "http://127.0.0.1:9/hook")
    body["padding"] = "x" * (1024 * 1024 + 1)
    response = client.post(PATH, headers={**account.headers, **JSON}, body=dumps(body))
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_wrong_method_is_405_with_allow(client, account):
    response = client.request("PATCH", PATH, headers=account.headers)
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_is_415(client, account, content_type):
    body = dumps(subscription("ctype", "http://127.0.0.1:9/hook"))
    response = client.post(PATH, headers={**account.headers, "Content-Type": content_type}, body=body)
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_with_charset_is_accepted(client, account):
    body = dumps(subscription("charset", "http://127.0.0.1:9/hook"))
    headers = {**account.headers, "Content-Type": "application/json; charset=utf-8"}
    assert client.post(PATH, headers=headers, body=body).status_code == 201


def test_bad_paging_is_400(client, account):
    response = client.get(f"{PATH}?size=1000", headers=account.headers)
    assert "size" in assert_envelope(response, 400, "BAD_REQUEST")["validationErrors"]
    response = client.get(f"{PATH}?page=abc", headers=account.headers)
    assert "page" in assert_envelope(response, 400, "BAD_REQUEST")["validationErrors"]


def test_unexpected_error_is_general_error_with_reference(client, account, monkeypatch):
    from chalicelib.subscriptions import service

    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "list_subscriptions", explode)
    response = client.get(PATH, headers=account.headers)
    exception = assert_envelope(response, 500, "GENERAL_ERROR")
    assert "secret internal detail" not in response.body.decode()
    assert response.headers["X-Request-Id"] in exception["text"]
