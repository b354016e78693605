"""The event pipeline end to end, against a receiver that fails about half its requests and sometimes times out:
every event still arrives at least once, each call's events are first accepted in sequence order, and every
request carries a valid signature."""

from __future__ import annotations

import random
import threading
from collections import defaultdict

import httpx
import pytest

from chalicelib.events import signing
from tests.support.payloads import hmac_security, subscription
from tests.support.receiver import Receiver, wait_for
from tests.support.stack import start_stack

SECRET = "integration-secret"
CALLS = 4
EVENTS_PER_CALL = [
    "CALL_STARTED",
    "CALL_RINGING",
    "CALL_PRE_ESTABLISHED",
    "CALL_ESTABLISHED",
    "CALL_MEDIA_CHANGED",
    "CALL_FINISHED",
]


@pytest.fixture(scope="module")
def stack():
    running = start_stack(SWITCHBOARD_DELIVERY_BACKOFF_BASE_SECONDS="1", SWITCHBOARD_DELIVERY_BACKOFF_MAX_SECONDS="2")
    yield running
    running.stop()


def flaky_policy(seed: int):
    rng = random.Random(seed)
    lock = threading.Lock()

    def policy(path, headers, body):
        with lock:
            roll = rng.random()
        if roll < 0.45:
            return 500, 0.0
        if roll < 0.55:
            return 200, 1.5  # answers after the profile's 1 s read timeout: the platform gives up and retries
        return 200, 0.0

    return policy


def test_flaky_receiver_gets_everything_in_order_with_valid_signatures(stack):
    receiver = Receiver(policy=flaky_policy(20261122)).start()
    try:
        body = subscription(
            "flaky", f"{receiver.url}/events", EVENTS_PER_CALL, security=hmac_security("flaky-auth", SECRET)
        )
        body["profile"]["readTimeout"] = 1000
        created = httpx.post(f"{stack.url}/subscriptions/1/subscription/VOICE_VIDEO", json=body, headers=stack.headers)
        assert created.status_code == 201, created.text

        events = [
            {"type": event_type, "call_id": f"call-{call}", "calls_configuration_id": "app"}
            for event_type in EVENTS_PER_CALL
            for call in range(CALLS)
        ]  # calls interleaved, as in life
        published = stack.publish(stack.ready["accountId"], events)
        wanted = {event["eventId"] for event in published}

        def all_accepted() -> bool:
            return wanted <= {r.event["eventId"] for r in receiver.accepted()}

        assert wait_for(all_accepted, timeout=180), (
            f"missing {len(wanted - {r.event['eventId'] for r in receiver.accepted()})} events\n" + stack.log()
        )

        requests = receiver.all()
        statuses = [r.status for r in requests]
        assert statuses.count(500) >= 3, "the receiver should have failed some requests"
        assert len(requests) > len(wanted), "failures should have caused retries"
        for request in requests:
            signing.verify(
                SECRET,
                request.headers["x-switchboard-timestamp"],
                request.body,
                request.headers["x-switchboard-signature"],
            )
            assert request.headers["x-switchboard-event-id"] == request.event["eventId"]
            assert request.headers["x-switchboard-sequence"] == str(request.event["sequence"])

        first_accepted: dict[str, list[int]] = defaultdict(list)
        seen: set[str] = set()
        for request in sorted(receiver.accepted(), key=lambda r: r.at):
            if request.event["eventId"] not in seen:
                seen.add(request.event["eventId"])
                first_accepted[request.event["callId"]].append(request.event["sequence"])
        assert dict(first_accepted) == {f"call-{c}": list(range(1, len(EVENTS_PER_CALL) + 1)) for c in range(CALLS)}
    finally:
        receiver.stop()
