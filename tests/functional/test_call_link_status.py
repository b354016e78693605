"""The Call Link status webhook on moto, with a controlled clock: a session's end writes one targeted outbox event
(Infobip's `WebhookEventPayload`, checked against the published OpenAPI schema), fan-out hands it to the link
configuration's webhook only, and the delivery function posts it with the configuration's BASIC or HMAC security,
retrying and dead-lettering it exactly like a Calls event. Nothing is sent without a webhook, for a call that is not
the session's, or twice for one session."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.calls import service as calls
from chalicelib.core import clock
from chalicelib.core.settings import get_settings, reset_settings_cache
from chalicelib.db.models import DeadLetter, OutboxEvent
from chalicelib.events import dead_letters, delivery, queue, signing
from chalicelib.events.fanout import messages_for
from chalicelib.events.messages import DeliveryMessage
from tests.functional.test_call_link_page import body_of, create, report, start
from tests.functional.test_delivery import run
from tests.support.openapi import schema_validator
from tests.support.receiver import Receiver

DOC = "infobip-webrtc-calls-openapi.json"


@pytest.fixture
def queues(embedded_aws, monkeypatch) -> Iterator[tuple[str, str]]:
    """Fresh delivery and dead-letter queues for this test only."""
    sqs = boto3.client("sqs")
    suffix = secrets.token_hex(4)
    dead = sqs.create_queue(QueueName=f"cl-dead-{suffix}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    live = sqs.create_queue(QueueName=f"cl-live-{suffix}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    monkeypatch.setenv("SWITCHBOARD_DELIVERY_QUEUE_URL", live)
    monkeypatch.setenv("SWITCHBOARD_DEAD_LETTER_QUEUE_URL", dead)
    reset_settings_cache()
    yield live, dead
    monkeypatch.undo()
    reset_settings_cache()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    clock.reset()
    clock.freeze()
    yield
    clock.reset()


def config_with_webhook(client, account, url: str, security: dict[str, Any] | None = None) -> str:
    webhook: dict[str, Any] = {"url": url, **({"securityConfig": security} if security else {})}
    return str(create(client, account, "/call-link/1/configs", {"name": "Status", "webhook": webhook})["id"])


def webrtc_link(client, account, config_id: str | None, **extra: Any) -> str:
    body = {
        "destination": {"type": "WEBRTC", "identity": "agent", "displayName": "Agent"},
        **({"callLinkConfigId": config_id} if config_id else {}),
        **extra,
    }
    return str(create(client, account, "/call-link/1/links", body)["id"])


def answered_call(account, caller_identity: str, seconds: float) -> str:
    """A 1:1 call from `caller_identity` to `agent`, answered and hung up `seconds` later."""
    caller, callee = calls.start_webrtc_call(account.account_id, caller_identity, "Visitor", "agent", "Agent")
    calls.ringing(account.account_id, callee.call_id)
    clock.shift(2)
    calls.establish(account.account_id, callee.call_id)
    calls.establish(account.account_id, caller.call_id)
    clock.shift(seconds)
    calls.hangup(account.account_id, caller.call_id)
    calls.hangup(account.account_id, callee.call_id)
    return caller.call_id


def status_events(account_id: str, stream: str) -> list[OutboxEvent]:
    return [item for item in OutboxEvent.query(f"{account_id}#{stream}") if item.type == "CALL_LINK_STATUS"]


def routed(item: OutboxEvent) -> list[DeliveryMessage]:
    image = {name: getattr(item, name) for name in ("type", "stream_key", "account_id", "event_id", "sequence")}
    image.update(body=item.body, target=item.target, calls_configuration_id=None)
    return messages_for(image, [], int(clock.epoch() * 1000))


def validate(payload: dict[str, Any], details_title: str) -> None:
    schema_validator(DOC, "WebhookEventPayload")(payload)
    schema_validator(DOC, details_title)(payload["callDetails"])  # JSON Schema does not follow the discriminator


def test_a_webrtc_sessions_end_reaches_the_configs_webhook_signed_with_its_hmac_key(client, account, queues, receiver):
    security = {"type": "HMAC", "secretKey": "link-secret", "algorithm": "HMAC_SHA_256"}
    config_id = config_with_webhook(client, account, f"{receiver.url}/status", security)
    code = webrtc_link(client, account, config_id, identity="visitor", customData={"case": "42"})
    session = body_of(start(client, code))["sessionId"]
    call_id = answered_call(account, "visitor", 12)
    assert report(client, code, session, "FINISHED", call_id).status_code == 200
    assert report(client, code, session, "FINISHED", call_id).status_code == 200  # a repeated report: one event

    (item,) = status_events(account.account_id, call_id)
    (message,) = routed(item)  # the configuration's webhook, not the account's subscriptions
    assert (message.channel, message.subscriptionId) == ("CALL_LINK", config_id)
    queue.send_in_order(queues[0], [message])
    assert run(delivery.handle, queues[0], 1) == {"batchItemFailures": []}

    (request,) = receiver.accepted("/status")
    signing.verify(
        "link-secret",
        request.headers["x-switchboard-timestamp"],
        request.body,
        request.headers["x-switchboard-signature"],
    )
    assert b"link-secret" not in request.body
    payload = request.event
    validate(payload, "WebRtcCallDetails")
    assert payload["callLinkId"] == code and payload["callLinkConfigId"] == config_id
    assert payload["customData"] == {"case": "42"}
    assert payload["errorCode"]["name"] == "NORMAL_HANGUP" and payload["errorCode"]["id"] == 10000
    details = payload["callDetails"]
    assert details["type"] == "WEBRTC"
    caller, callee = details["caller"], details["callee"]
    assert caller["callId"] == call_id and caller["endpoint"] == {
        "type": "WEBRTC",
        "identity": "visitor",
        "displayName": "Visitor",
    }
    assert callee["endpoint"]["identity"] == "agent" and callee["callId"] != call_id
    assert (caller["state"], callee["state"]) == ("FINISHED", "FINISHED")
    assert (caller["duration"], callee["duration"]) == (12, 12)
    assert (caller["direction"], callee["direction"]) == ("INBOUND", "OUTBOUND")
    assert caller["joinTime"] and caller["leaveTime"] and callee["ringDuration"] == 2


def test_basic_security_retries_and_dead_letters_are_those_of_calls_events(client, account, queues, receiver):
    answers = iter([500, 200])
    receiver.policy = lambda path, headers, body: (next(answers), 0.0)
    security = {"type": "BASIC", "username": "hook-user", "password": "hook-pass"}
    config_id = config_with_webhook(client, account, f"{receiver.url}/status", security)
    code = webrtc_link(client, account, config_id)
    session = body_of(start(client, code, {"displayName": "Ana"}))
    call_id = answered_call(account, session["identity"], 3)
    assert report(client, code, session["sessionId"], "FINISHED", call_id).status_code == 200
    (message,) = routed(status_events(account.account_id, call_id)[0])
    settings = get_settings()

    failed = delivery.deliver(message, 1, settings)
    assert failed.retry_after is not None and failed.attempt is not None and failed.attempt.outcome == "FAILED"
    delivered = delivery.deliver(message, 2, settings)
    assert delivered.retry_after is None and delivered.attempt is not None and delivered.attempt.outcome == "DELIVERED"
    assert [r.status for r in receiver.all()] == [500, 200]
    for request in receiver.all():
        assert request.headers["authorization"] == "Basic " + base64.b64encode(b"hook-user:hook-pass").decode()
        assert request.headers["x-switchboard-event-id"] == message.eventId
        assert "x-switchboard-signature" not in request.headers

    # past the retry window a failing status event goes to the dead-letter queue, as a Calls event does
    receiver.policy = lambda path, headers, body: (503, 0.0)
    expired = message.model_copy(
        update={"firstEnqueuedAt": int((clock.epoch() - settings.delivery_retry_window_seconds - 1) * 1000)}
    )
    parked = delivery.deliver(expired, 9, settings)
    assert parked.retry_after is None and parked.attempt is not None and parked.attempt.outcome == "DEAD_LETTERED"
    assert run(dead_letters.handle, queues[1], 1) == {"batchItemFailures": []}
    (archived,) = DeadLetter.query(message.log_key)
    assert archived.event_id == message.eventId and archived.reason == "HTTP 503"


def test_a_room_users_departure_lists_that_participant(client, account, receiver):
    config_id = config_with_webhook(client, account, f"{receiver.url}/status")
    body = {"destination": {"type": "ROOM", "roomName": "standup"}, "callLinkConfigId": config_id}
    code = str(create(client, account, "/call-link/1/links", body)["id"])
    before = len(list(OutboxEvent.query(f"{account.account_id}#account")))
    never_joined = body_of(start(client, code, {"displayName": "Bo"}))["sessionId"]
    assert report(client, code, never_joined, "FINISHED").status_code == 200
    joined = body_of(start(client, code, {"displayName": "Ana"}))
    assert report(client, code, joined["sessionId"], "ESTABLISHED").status_code == 200
    clock.shift(30)
    assert report(client, code, joined["sessionId"], "FINISHED").status_code == 200

    events = status_events(account.account_id, "account")
    assert len(list(OutboxEvent.query(f"{account.account_id}#account"))) == before + 1  # none for Bo
    payload = json.loads(events[-1].body)
    validate(payload, "RoomCallDetails")
    (participant,) = payload["callDetails"]["participants"]
    assert participant["endpoint"] == {"type": "WEBRTC", "identity": joined["identity"], "displayName": "Ana"}
    assert (participant["state"], participant["duration"], participant["type"]) == ("LEFT", 30, "CONFERENCE")
    assert payload["callLinkConfigId"] == config_id and payload["errorCode"]["name"] == "NORMAL_HANGUP"


def test_nothing_is_sent_without_a_webhook_or_for_a_call_that_is_not_the_sessions(client, account, receiver):
    plain = webrtc_link(client, account, None, identity="visitor")
    session = body_of(start(client, plain))["sessionId"]
    call_id = answered_call(account, "visitor", 1)
    assert report(client, plain, session, "FINISHED", call_id).status_code == 200
    assert status_events(account.account_id, call_id) == []
    # the session did end: the destination is free again
    assert start(client, plain).status_code == 201

    config_id = config_with_webhook(client, account, f"{receiver.url}/status")
    hooked = webrtc_link(client, account, config_id, identity="visitor")
    session = body_of(start(client, hooked))["sessionId"]
    someone_elses = answered_call(account, "intruder", 1)
    assert report(client, hooked, session, "FINISHED", someone_elses).status_code == 200
    assert status_events(account.account_id, someone_elses) == []


def test_the_webhook_url_passes_the_outbound_url_policy(client, account):
    response = client.post(
        "/call-link/1/configs",
        headers={**account.headers, "Content-Type": "application/json"},
        body=json.dumps({"name": "Bad", "webhook": {"url": "http://169.254.169.254/latest"}}),
    )
    assert response.status_code == 400, response.body
    assert "webhook.url" in response.body.decode()
