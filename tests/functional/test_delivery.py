"""Delivery and dead letters, driven through real queues (moto) and a real receiver on loopback."""

from __future__ import annotations

import base64
import json
import secrets
import time

import boto3
import pytest

from chalicelib.core import clock
from chalicelib.core.settings import get_settings, reset_settings_cache
from chalicelib.events import dead_letters, delivery, queue, signing
from chalicelib.events.messages import DeliveryMessage
from infra.local.pump import queue_message_to_lambda, settle
from tests.support.payloads import JSON, dumps, hmac_security, subscription
from tests.support.receiver import Receiver

BASE = "/subscriptions/1/subscription/VOICE_VIDEO"


@pytest.fixture
def queues(embedded_aws, monkeypatch):
    """Fresh delivery and dead-letter queues for this test only."""
    sqs = boto3.client("sqs")
    suffix = secrets.token_hex(4)
    dead = sqs.create_queue(QueueName=f"t-dead-{suffix}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    live = sqs.create_queue(
        QueueName=f"t-live-{suffix}.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"}
    )["QueueUrl"]
    monkeypatch.setenv("SWITCHBOARD_DELIVERY_QUEUE_URL", live)
    monkeypatch.setenv("SWITCHBOARD_DEAD_LETTER_QUEUE_URL", dead)
    reset_settings_cache()
    yield live, dead
    monkeypatch.undo()
    reset_settings_cache()


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


def subscribe(client, account, url, **kwargs):
    response = client.post(BASE, headers={**account.headers, **JSON}, body=dumps(subscription("s", url, **kwargs)))
    assert response.status_code == 201, response.body


def message(account, sequence=1, call="call-1", age_seconds=0.0) -> DeliveryMessage:
    body = json.dumps({"type": "CALL_STARTED", "callId": call, "sequence": sequence, "eventId": f"e{sequence}"})
    return DeliveryMessage(
        accountId=account.account_id,
        channel="VOICE_VIDEO",
        subscriptionId="s",
        eventId=f"{call}-e{sequence}",
        eventType="CALL_STARTED",
        sequence=sequence,
        stream=call,
        body=body,
        firstEnqueuedAt=int((clock.epoch() - age_seconds) * 1000),
    )


def run(handler, url: str, expected: int) -> dict:
    """Receive `expected` messages, hand them to `handler` as Lambda would, and settle the batch like Lambda."""
    sqs = boto3.client("sqs")
    messages: list[dict] = []
    deadline = time.monotonic() + 5
    while len(messages) < expected and time.monotonic() < deadline:
        messages += sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
    assert len(messages) == expected
    event = {"Records": [queue_message_to_lambda(m, "arn:aws:sqs:us-east-1:1:q", "us-east-1") for m in messages]}
    result = handler(event)
    settle(sqs, url, messages, result)
    return result


def visible(url: str) -> int:
    return len(boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))


def test_a_delivery_is_signed_and_logged(client, account, queues, receiver):
    subscribe(client, account, f"{receiver.url}/hook", security=hmac_security("hmac", "topsecret"))
    sent = message(account)
    queue.send_in_order(queues[0], [sent])
    assert run(delivery.handle, queues[0], 1) == {"batchItemFailures": []}
    (request,) = receiver.accepted()
    assert request.body == sent.body.encode()
    assert request.headers["x-switchboard-event-id"] == sent.eventId
    assert request.headers["x-switchboard-sequence"] == "1"
    signing.verify(
        "topsecret",
        request.headers["x-switchboard-timestamp"],
        request.body,
        request.headers["x-switchboard-signature"],
    )
    log = json.loads(client.get(f"{BASE}/s/deliveries", headers=account.headers).body)["results"]
    assert [(entry["outcome"], entry["statusCode"]) for entry in log] == [("DELIVERED", 200)]


def test_basic_security_and_custom_headers_are_sent(client, account, queues, receiver):
    body = subscription(
        "s",
        f"{receiver.url}/hook",
        security={"authId": "b", "type": "BASIC", "credentials": {"username": "u", "password": "p"}},
    )
    body["profile"]["headers"] = {"X-Tenant": "blue"}
    assert client.post(BASE, headers={**account.headers, **JSON}, body=dumps(body)).status_code == 201
    queue.send_in_order(queues[0], [message(account)])
    run(delivery.handle, queues[0], 1)
    (request,) = receiver.accepted()
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    assert request.headers["x-tenant"] == "blue"
    assert "x-switchboard-signature" not in request.headers


def test_a_failure_holds_the_rest_of_its_call_but_not_other_calls(client, account, queues, receiver):
    receiver.policy = lambda path, headers, body: (500, 0.0) if b'"call-1"' in body else (200, 0.0)
    subscribe(client, account, f"{receiver.url}/hook")
    queue.send_in_order(queues[0], [message(account, 1), message(account, 2), message(account, 1, call="call-2")])
    result = run(delivery.handle, queues[0], 3)
    assert len(result["batchItemFailures"]) == 2  # call-1 #1 failed, call-1 #2 held behind it
    assert [json.loads(r.body)["callId"] for r in receiver.all()].count("call-1") == 1
    assert [json.loads(r.body)["callId"] for r in receiver.accepted()] == ["call-2"]
    assert visible(queues[0]) == 0  # call-1 #1 is hidden for its backoff and #2 waits behind it in the group
    log = json.loads(client.get(f"{BASE}/s/deliveries", headers=account.headers).body)["results"]
    assert sorted(entry["outcome"] for entry in log) == ["DELIVERED", "FAILED"]


def test_timeouts_count_as_failures(client, account, queues, receiver):
    receiver.policy = lambda path, headers, body: (200, 1.5)
    body = subscription("s", f"{receiver.url}/hook")
    body["profile"]["readTimeout"] = 1000
    assert client.post(BASE, headers={**account.headers, **JSON}, body=dumps(body)).status_code == 201
    queue.send_in_order(queues[0], [message(account)])
    assert len(run(delivery.handle, queues[0], 1)["batchItemFailures"]) == 1
    log = json.loads(client.get(f"{BASE}/s/deliveries", headers=account.headers).body)["results"]
    assert "Timeout" in log[0]["error"]


def test_after_the_retry_window_a_message_is_dead_lettered_and_can_be_replayed(client, account, queues, receiver):
    receiver.policy = lambda path, headers, body: (503, 0.0)
    subscribe(client, account, f"{receiver.url}/hook")
    old = get_settings().delivery_retry_window_seconds + 5
    queue.send_in_order(queues[0], [message(account, 1, age_seconds=old), message(account, 2, age_seconds=old)])
    assert run(delivery.handle, queues[0], 2) == {"batchItemFailures": []}  # nothing retried: moved away

    assert run(dead_letters.handle, queues[1], 2) == {"batchItemFailures": []}
    letters = json.loads(client.get(f"{BASE}/s/dead-letters", headers=account.headers).body)["results"]
    assert [(letter["sequence"], letter["reason"]) for letter in letters] == [(1, "HTTP 503"), (2, "HTTP 503")]
    assert letters[0]["event"]["callId"] == "call-1"

    receiver.policy = lambda path, headers, body: (200, 0.0)
    replayed = json.loads(client.post(f"{BASE}/s/dead-letters/replay", headers=account.headers).body)
    assert replayed == {"replayed": 2, "remaining": 0}
    assert run(delivery.handle, queues[0], 2) == {"batchItemFailures": []}
    assert [json.loads(r.body)["sequence"] for r in receiver.accepted()] == [1, 2]
    assert json.loads(client.get(f"{BASE}/s/dead-letters", headers=account.headers).body)["results"] == []


def test_deliveries_for_a_deleted_subscription_are_dropped(client, account, queues, receiver):
    subscribe(client, account, f"{receiver.url}/hook")
    client.delete(f"{BASE}/s", headers=account.headers)
    queue.send_in_order(queues[0], [message(account)])
    assert run(delivery.handle, queues[0], 1) == {"batchItemFailures": []}
    assert receiver.all() == []


def test_a_webhook_the_policy_forbids_is_never_contacted(client, account, queues, receiver, monkeypatch):
    subscribe(client, account, f"{receiver.url}/hook")
    monkeypatch.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "false")
    reset_settings_cache()
    queue.send_in_order(get_settings().delivery_queue_url, [message(account)])
    assert len(run(delivery.handle, get_settings().delivery_queue_url, 1)["batchItemFailures"]) == 1
    assert receiver.all() == []
