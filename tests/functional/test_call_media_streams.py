"""Starting and stopping a call's media stream (`POST /calls/1/calls/{callId}/start-media-stream`, `stop-media-
stream`) through the API on moto: the configuration is resolved in the account and its BASIC credentials reach the
call's media node decrypted, on the signed internal channel; unknown or another account's configurations, finished
and unknown calls are refused in Infobip's envelope; the stream's events are Infobip's.

The media node here is a fake on loopback that checks the control signature and records what it is asked
(tests/media/test_media_stream.py runs the real node with a real websocket host)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.calls import establish, hangup, repository, service, start_outbound_call
from chalicelib.contract import control
from chalicelib.core import clock
from chalicelib.core.settings import key_material
from chalicelib.db.models import OutboxEvent
from chalicelib.media_nodes import service as nodes
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator, schema_validator
from tests.support.payloads import JSON, dumps

DOC = "infobip-voice-openapi.json"
START = "/calls/1/calls/{callId}/start-media-stream"
STOP = "/calls/1/calls/{callId}/stop-media-stream"
STREAM_URL = "ws://127.0.0.1:9/stream"
PASSWORD = "pa55-Stream-9c1d"


@dataclass
class FakeNode:
    """A media node's internal API: signed requests only; answers `status` (COMPLETED when 200)."""

    node_id: str
    url: str = ""
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path, body)
    status: int = 200


@pytest.fixture
def media_node(embedded_aws: str) -> Iterator[FakeNode]:
    fake = FakeNode(f"fake-{secrets.token_hex(4)}")
    key = base64.b64decode(key_material("controlKey"))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = dict(self.headers.items())
            if not control.verify(key, headers, "POST", self.path, body, time.time()):
                self._answer(401, {"error": "UNAUTHORIZED"})
                return
            fake.requests.append((self.path, json.loads(body) if body else {}))
            if fake.status != 200:
                self._answer(fake.status, {"error": "WRONG_STATE", "text": "the call is streaming already"})
            else:
                self._answer(200, {"status": "COMPLETED"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    nodes.heartbeat(
        fake.node_id,
        "https://fake.example",
        fake.url,
        status="UP",
        capacity=100,
        calls=0,
        sessions=0,
        started_at=clock.now(),
    )
    yield fake
    nodes.deregister(fake.node_id)
    server.shutdown()
    server.server_close()


def stream_config(client, account, security: bool = True) -> str:
    body: dict[str, Any] = {"type": "MEDIA_STREAMING", "name": "Stream", "url": STREAM_URL}
    if security:
        body["securityConfig"] = {"type": "BASIC", "username": "streamer", "password": PASSWORD}
    created = client.post("/calls/1/media-stream-configs", headers={**account.headers, **JSON}, body=dumps(body))
    assert created.status_code == 201, created.body
    return str(json.loads(created.body)["id"])


def live_call(account_id: str, node: FakeNode, custom_data: dict[str, str] | None = None) -> str:
    """An answered application call on the fake node."""
    leg = start_outbound_call(account_id, "carol", "conf-a", custom_data=custom_data)
    repository.set_node(account_id, leg.call_id, node.node_id)
    establish(account_id, leg.call_id)
    return leg.call_id


def start(client, account, call_id: str, config_id: str, **audio: Any):
    body = {"mediaStream": {"audioProperties": {"mediaStreamConfigId": config_id, **audio}}}
    return client.post(START.format(callId=call_id), headers={**account.headers, **JSON}, body=dumps(body))


def stop(client, account, call_id: str):
    return client.post(STOP.format(callId=call_id), headers=account.headers)


def test_the_node_gets_the_configurations_url_and_decrypted_credentials_and_the_calls_custom_data(
    client, account, media_node
):
    config_id = stream_config(client, account)
    call_id = live_call(account.account_id, media_node, custom_data={"order": "42"})

    started = start(client, account, call_id, config_id, replaceMedia=True)
    assert started.status_code == 200, started.body
    response_validator(DOC, "POST", START, 200)(json.loads(started.body))
    assert json.loads(started.body) == {"status": "PENDING"}  # the outcome is MEDIA_STREAM_STARTED or _FAILED
    path, body = media_node.requests[-1]
    assert path == f"{control.CONTROL_PREFIX}/calls/{call_id}/start-media-stream"
    token = base64.b64encode(f"streamer:{PASSWORD}".encode()).decode()
    assert body == {
        "mediaStreamConfigId": config_id,
        "url": STREAM_URL,
        "authorization": f"Basic {token}",
        "replaceMedia": True,
        "customData": {"order": "42"},
    }

    stopped = stop(client, account, call_id)
    assert stopped.status_code == 200, stopped.body
    assert json.loads(stopped.body) == {"status": "COMPLETED"}
    assert media_node.requests[-1] == (f"{control.CONTROL_PREFIX}/calls/{call_id}/stop-media-stream", {})


def test_a_configuration_without_security_sends_no_credentials_and_replace_media_defaults_to_false(
    client, account, media_node
):
    config_id = stream_config(client, account, security=False)
    call_id = live_call(account.account_id, media_node)
    assert start(client, account, call_id, config_id).status_code == 200
    _, body = media_node.requests[-1]
    assert body == {"mediaStreamConfigId": config_id, "url": STREAM_URL, "replaceMedia": False}


def test_unknown_and_other_accounts_configurations_are_refused_before_the_node_is_asked(
    client, account, other_account, media_node
):
    call_id = live_call(account.account_id, media_node)
    others = stream_config(client, other_account)
    for config_id in ("no-such-config", others):
        exception = assert_envelope(start(client, account, call_id, config_id), 400, "BAD_REQUEST")
        assert "mediaStream.audioProperties.mediaStreamConfigId" in exception["validationErrors"]
    assert media_node.requests == []


def test_bad_bodies_are_400(client, account, media_node):
    config_id = stream_config(client, account)
    call_id = live_call(account.account_id, media_node)
    headers = {**account.headers, **JSON}
    bodies: list[dict[str, Any]] = [
        {},
        {"mediaStream": {}},
        {"mediaStream": {"audioProperties": {"replaceMedia": True}}},
    ]
    for body in bodies:
        response = client.post(START.format(callId=call_id), headers=headers, body=dumps(body))
        assert_envelope(response, 400, "BAD_REQUEST")
    multi = start(client, account, call_id, config_id, multiChannel={"enabled": True})
    assert "mediaStream.audioProperties.multiChannel" in assert_envelope(multi, 400, "BAD_REQUEST")["validationErrors"]
    assert start(client, account, call_id, config_id, multiChannel={"enabled": False}).status_code == 200


def test_finished_unknown_and_other_accounts_calls_are_refused(client, account, other_account, media_node):
    config_id = stream_config(client, account)
    call_id = live_call(account.account_id, media_node)
    hangup(account.account_id, call_id)
    assert_envelope(start(client, account, call_id, config_id), 409, "CONFLICT")
    assert_envelope(stop(client, account, call_id), 409, "CONFLICT")
    assert_envelope(start(client, account, "no-such-call", config_id), 404, "NOT_FOUND")
    assert_envelope(stop(client, account, "no-such-call"), 404, "NOT_FOUND")
    theirs = live_call(other_account.account_id, media_node)
    assert_envelope(start(client, account, theirs, config_id), 404, "NOT_FOUND")
    assert media_node.requests == []


def test_a_node_that_cannot_start_the_stream_now_is_a_409(client, account, media_node):
    config_id = stream_config(client, account)
    call_id = live_call(account.account_id, media_node)
    media_node.status = 409  # e.g. the call is streaming already
    assert_envelope(start(client, account, call_id, config_id), 409, "CONFLICT")


def test_the_streams_events_are_infobips(account):
    call_id = start_outbound_call(account.account_id, "carol", "conf-a").call_id
    stream = {"configId": "config-1", "streamId": "stream-1"}
    service.action_event(account.account_id, call_id, "MEDIA_STREAM_STARTED", stream)
    service.action_event(account.account_id, call_id, "MEDIA_STREAM_FAILED", {**stream, "reason": "host gone"})
    service.action_event(account.account_id, call_id, "MEDIA_STREAM_FINISHED", {**stream, "reason": "stopped"})
    bodies = [json.loads(item.body) for item in OutboxEvent.query(f"{account.account_id}#{call_id}")]
    streamed = [body for body in bodies if body["type"].startswith("MEDIA_STREAM_")]
    assert [body["type"] for body in streamed] == [
        "MEDIA_STREAM_STARTED",
        "MEDIA_STREAM_FAILED",
        "MEDIA_STREAM_FINISHED",
    ]
    for body, title in zip(
        streamed, ("MediaStreamStartedEvent", "MediaStreamFailedEvent", "MediaStreamFinishedEvent"), strict=True
    ):
        schema_validator(DOC, title)(body)
        assert body["callId"] == call_id and body["properties"]["streamId"] == "stream-1"
    assert streamed[1]["properties"] == {**stream, "reason": "host gone"}
