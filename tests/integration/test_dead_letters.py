"""Events whose webhook keeps failing land in the dead-letter queue, stay readable, and arrive after a replay."""

from __future__ import annotations

import httpx
import pytest

from tests.support.payloads import subscription
from tests.support.receiver import Receiver, wait_for
from tests.support.stack import start_stack

BASE = "/subscriptions/1/subscription/VOICE_VIDEO"


@pytest.fixture(scope="module")
def stack():
    running = start_stack(
        SWITCHBOARD_DELIVERY_RETRY_WINDOW_SECONDS="3",
        SWITCHBOARD_DELIVERY_BACKOFF_BASE_SECONDS="1",
        SWITCHBOARD_DELIVERY_BACKOFF_MAX_SECONDS="1",
    )
    yield running
    running.stop()


def test_dead_lettered_events_arrive_after_replay(stack):
    down = {"value": True}
    receiver = Receiver(policy=lambda path, headers, body: (503 if down["value"] else 200, 0.0)).start()
    try:
        body = subscription("down", f"{receiver.url}/events", ["CALL_STARTED", "CALL_FINISHED"])
        assert httpx.post(f"{stack.url}{BASE}", json=body, headers=stack.headers).status_code == 201
        published = stack.publish(
            stack.ready["accountId"],
            [
                {"type": "CALL_STARTED", "call_id": "dl-call"},
                {"type": "CALL_FINISHED", "call_id": "dl-call"},
            ],
        )

        def letters() -> list[dict]:
            response = httpx.get(f"{stack.url}{BASE}/down/dead-letters", headers=stack.headers)
            return list(response.json()["results"])

        assert wait_for(lambda: len(letters()) == 2, timeout=60), stack.log()
        assert [letter["eventId"] for letter in letters()] == [event["eventId"] for event in published]
        assert all(letter["reason"] == "HTTP 503" for letter in letters())
        assert receiver.accepted() == []
        log = httpx.get(f"{stack.url}{BASE}/down/deliveries", headers=stack.headers).json()["results"]
        assert {"FAILED", "DEAD_LETTERED"} <= {entry["outcome"] for entry in log}

        down["value"] = False
        replay = httpx.post(f"{stack.url}{BASE}/down/dead-letters/replay", headers=stack.headers)
        assert replay.json() == {"replayed": 2, "remaining": 0}
        assert wait_for(lambda: len(receiver.accepted()) == 2, timeout=30), stack.log()
        assert [r.event["eventId"] for r in receiver.accepted()] == [event["eventId"] for event in published]
        assert letters() == []
    finally:
        receiver.stop()
