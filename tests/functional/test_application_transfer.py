"""Application transfer through the API on moto (`POST /calls/1/calls/{callId}/application-transfer`, `.../accept`,
`.../reject`): which configuration's webhook subscriptions each event reaches (the real fan-out matching over the
account's subscriptions), the call's ownership moving with an accepted transfer so its later events reach the new
application only, a rejection and a timeout leaving it where it was, the media node asked to time the answer, races
between answers, and the refusals in Infobip's envelope (finished, unknown, another account's, unknown destination,
a second transfer while one is pending).

The media node is the signed fake of tests/functional/test_call_media_streams.py; the real node's timer is run in
tests/integration/test_application_transfer_client.py, which lets a transfer time out for real."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from chalicelib.calls import establish, hangup, repository, service, start_outbound_call, transfers
from chalicelib.calls.schemas import ApplicationTransferRequest
from chalicelib.calls_configurations import service as configurations
from chalicelib.calls_configurations.schemas import CallsConfigurationCreateRequest
from chalicelib.core import clock
from chalicelib.core.errors import AppError, Conflict
from chalicelib.db.models import OutboxEvent
from chalicelib.events.fanout import messages_for
from chalicelib.subscriptions import repository as subscriptions
from tests.functional import test_call_media_streams as streams
from tests.functional.test_call_media_streams import FakeNode
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator, schema_validator
from tests.support.payloads import JSON, dumps, subscription

DOC = "infobip-voice-openapi.json"
TRANSFER = "/calls/1/calls/{callId}/application-transfer"
ACCEPT = TRANSFER + "/{transferId}/accept"
REJECT = TRANSFER + "/{transferId}/reject"
APPS = ("xfer-a", "xfer-b", "xfer-c")
media_node = streams.media_node  # the signed fake media node (a fixture)
EVERYTHING = [
    "APPLICATION_TRANSFER_REQUESTED",
    "APPLICATION_TRANSFER_FINISHED",
    "APPLICATION_TRANSFER_FAILED",
    "CALL_STARTED",
    "CALL_ESTABLISHED",
    "CALL_FINISHED",
    "SAY_FINISHED",
]


@pytest.fixture
def apps(client, account) -> tuple[str, ...]:
    """Three calls configurations, each with its own webhook subscription (criteria: its configuration)."""
    for app in APPS:
        configurations.create_configuration(account.account_id, CallsConfigurationCreateRequest(id=app, name=app))
        body = subscription(f"{app}-hook", f"http://127.0.0.1:9/{app}/events", EVERYTHING)
        body["criteria"] = [{"callsConfigurationId": app}]
        created = client.post(
            "/subscriptions/1/subscription/VOICE_VIDEO", headers={**account.headers, **JSON}, body=dumps(body)
        )
        assert created.status_code == 201, created.body
    return APPS


def live_call(account_id: str, node: FakeNode, owner: str = "xfer-a", **kwargs: Any) -> str:
    """An answered call of application `owner` on the fake node."""
    leg = start_outbound_call(account_id, "carol", owner, **kwargs)
    repository.set_node(account_id, leg.call_id, node.node_id)
    establish(account_id, leg.call_id)
    return leg.call_id


def events(account_id: str, call_id: str) -> list[dict[str, Any]]:
    return [json.loads(item.body) for item in OutboxEvent.query(f"{account_id}#{call_id}")]


def delivered(account_id: str, call_id: str) -> list[tuple[str, list[str]]]:
    """Each of the call's events with the subscriptions the fan-out hands it to: (type, [subscriptionId, ...])."""
    candidates = subscriptions.list_subscriptions(account_id, "VOICE_VIDEO")
    routed = []
    for item in OutboxEvent.query(f"{account_id}#{call_id}"):
        image = {
            "type": item.type,
            "calls_configuration_id": item.calls_configuration_id,
            "application_id": item.application_id,
            "entity_id": item.entity_id,
            "stream_key": item.stream_key,
            "account_id": item.account_id,
            "event_id": item.event_id,
            "sequence": item.sequence,
            "body": item.body,
        }
        messages = messages_for(image, candidates, int(clock.epoch() * 1000))
        routed.append((item.type, sorted(message.subscriptionId for message in messages)))
    return routed


def post(client, account, path: str, body: Any = None):
    if body is None:
        return client.post(path, headers=account.headers)
    return client.post(path, headers={**account.headers, **JSON}, body=dumps(body))


def request_transfer(client, account, call_id: str, destination: str = "xfer-b", **body: Any) -> str:
    response = post(
        client, account, TRANSFER.format(callId=call_id), {"destinationCallsConfigurationId": destination, **body}
    )
    assert response.status_code == 200, response.body
    response_validator(DOC, "POST", TRANSFER, 200)(json.loads(response.body))
    assert json.loads(response.body) == {"status": "PENDING"}
    requested = events(account.account_id, call_id)[-1]
    assert requested["type"] == "APPLICATION_TRANSFER_REQUESTED"
    return str(requested["properties"]["transferId"])


def answer(client, account, call_id: str, transfer_id: str, how: str = "accept"):
    path = (ACCEPT if how == "accept" else REJECT).format(callId=call_id, transferId=transfer_id)
    return client.post(path, headers=account.headers)


def test_an_accepted_transfer_moves_the_call_and_its_later_events_to_the_destination(client, account, apps, media_node):
    acc = account.account_id
    call_id = live_call(acc, media_node, custom_data={"step": "menu"})
    transfer_id = request_transfer(client, account, call_id, timeout=20, customData={"step": "billing"})

    # the node that has the call times the answer
    path, timer = media_node.requests[-1]
    assert path == f"/internal/v1/calls/{call_id}/application-transfer"
    assert timer == {"accountId": acc, "transferId": transfer_id, "timeoutSeconds": 20}

    requested = events(acc, call_id)[-1]
    schema_validator(DOC, "ApplicationTransferRequestedEvent")(requested)
    assert requested["callsConfigurationId"] == "xfer-b" and requested["callId"] == call_id
    properties = requested["properties"]
    assert (properties["sourceCallsConfigurationId"], properties["sourceApplicationId"]) == ("xfer-a", "xfer-a")
    assert properties["call"]["id"] == call_id and properties["call"]["callsConfigurationId"] == "xfer-a"
    assert service.get_call(acc, call_id).calls_configuration_id == "xfer-a"  # nothing moves before the answer

    accepted = answer(client, account, call_id, transfer_id)
    assert accepted.status_code == 200, accepted.body
    response_validator(DOC, "POST", ACCEPT, 200)(json.loads(accepted.body))
    finished = events(acc, call_id)[-1]
    schema_validator(DOC, "ApplicationTransferFinishedEvent")(finished)
    assert finished["type"] == "APPLICATION_TRANSFER_FINISHED" and finished["callsConfigurationId"] == "xfer-a"
    assert finished["properties"]["transferId"] == transfer_id
    assert finished["properties"]["destinationCallsConfigurationId"] == "xfer-b"
    assert finished["properties"]["destinationApplicationId"] == "xfer-b"
    assert finished["properties"]["call"]["callsConfigurationId"] == "xfer-b"
    assert finished["properties"]["call"]["customData"] == {"step": "billing"}

    read = json.loads(client.get(f"/calls/1/calls/{call_id}", headers=account.headers).body)
    assert (read["callsConfigurationId"], read["customData"]) == ("xfer-b", {"step": "billing"})
    listed = json.loads(client.get("/calls/1/calls?callsConfigurationId=xfer-b", headers=account.headers).body)
    assert [call["id"] for call in listed["results"]] == [call_id]

    # what happens on the call from now on is the destination's business only
    service.action_event(acc, call_id, "SAY_FINISHED", {"duration": 1, "playedCompletely": True})
    hangup(acc, call_id)
    assert delivered(acc, call_id) == [
        ("CALL_STARTED", ["xfer-a-hook"]),
        ("CALL_ESTABLISHED", ["xfer-a-hook"]),
        ("APPLICATION_TRANSFER_REQUESTED", ["xfer-b-hook"]),
        ("APPLICATION_TRANSFER_FINISHED", ["xfer-a-hook"]),
        ("SAY_FINISHED", ["xfer-b-hook"]),
        ("CALL_FINISHED", ["xfer-b-hook"]),
    ]
    log = events(acc, call_id)[-1]["properties"]["callLog"]
    assert log["callsConfigurationIds"] == ["xfer-b"]


def test_the_destination_platform_routes_the_request_and_becomes_the_calls(client, account, apps, media_node):
    acc = account.account_id
    call_id = live_call(acc, media_node, application_id="ivr-app")
    platform = {"applicationId": "agents-app", "entityId": "desk-7"}
    transfer_id = request_transfer(client, account, call_id, platform=platform)
    requested = events(acc, call_id)[-1]
    assert requested["platform"] == platform and requested["properties"]["sourceApplicationId"] == "ivr-app"
    assert answer(client, account, call_id, transfer_id).status_code == 200
    finished = events(acc, call_id)[-1]
    assert finished["platform"] == {"applicationId": "ivr-app"}  # to the requester, as it was
    assert finished["properties"]["destinationApplicationId"] == "agents-app"
    assert finished["properties"]["call"]["platform"] == platform
    record = service.get_call(acc, call_id)
    assert (record.application_id, record.entity_id) == ("agents-app", "desk-7")


def test_a_rejected_transfer_leaves_the_call_with_its_application(client, account, apps, media_node):
    acc = account.account_id
    call_id = live_call(acc, media_node)
    transfer_id = request_transfer(client, account, call_id)
    rejected = answer(client, account, call_id, transfer_id, "reject")
    assert rejected.status_code == 200, rejected.body
    response_validator(DOC, "POST", REJECT, 200)(json.loads(rejected.body))
    failed = events(acc, call_id)[-1]
    schema_validator(DOC, "ApplicationTransferFailedEvent")(failed)
    assert failed["type"] == "APPLICATION_TRANSFER_FAILED" and failed["properties"]["transferId"] == transfer_id
    assert failed["properties"]["destinationCallsConfigurationId"] == "xfer-b"
    assert service.get_call(acc, call_id).calls_configuration_id == "xfer-a"

    # answered once: a second answer of either kind is refused and publishes nothing
    for how in ("accept", "reject"):
        assert_envelope(answer(client, account, call_id, transfer_id, how), 409, "CONFLICT")
    hangup(acc, call_id)
    assert [routed for _, routed in delivered(acc, call_id)[-2:]] == [["xfer-a-hook"], ["xfer-a-hook"]]

    # a new transfer may follow an answered one
    again = live_call(acc, media_node)
    first = request_transfer(client, account, again, "xfer-b")
    assert answer(client, account, again, first, "reject").status_code == 200
    second = request_transfer(client, account, again, "xfer-c")
    assert answer(client, account, again, second).status_code == 200
    assert service.get_call(acc, again).calls_configuration_id == "xfer-c"
    assert_envelope(answer(client, account, again, first), 404, "NOT_FOUND")  # only the latest is known


def test_a_transfer_that_times_out_fails_for_the_requester_and_a_late_answer_is_refused(
    client, account, apps, media_node
):
    acc = account.account_id
    call_id = live_call(acc, media_node)
    transfer_id = request_transfer(client, account, call_id, timeout=1)
    assert media_node.requests[-1][1]["timeoutSeconds"] == 1
    assert transfers.time_out(acc, call_id, transfer_id) is True  # what the node reports when its timer fires
    assert transfers.time_out(acc, call_id, transfer_id) is False  # once
    assert [t for t, _ in delivered(acc, call_id)][-2:] == [
        "APPLICATION_TRANSFER_REQUESTED",
        "APPLICATION_TRANSFER_FAILED",
    ]
    assert delivered(acc, call_id)[-1] == ("APPLICATION_TRANSFER_FAILED", ["xfer-a-hook"])
    assert_envelope(answer(client, account, call_id, transfer_id), 409, "CONFLICT")
    assert service.get_call(acc, call_id).calls_configuration_id == "xfer-a"

    # a timeout reported after the answer changes nothing
    accepted_call = live_call(acc, media_node)
    accepted = request_transfer(client, account, accepted_call)
    assert answer(client, account, accepted_call, accepted).status_code == 200
    before = events(acc, accepted_call)
    assert transfers.time_out(acc, accepted_call, accepted) is False
    assert events(acc, accepted_call) == before


def test_a_call_that_ends_while_its_transfer_waits_cannot_be_accepted_and_still_times_out(
    client, account, apps, media_node
):
    acc = account.account_id
    call_id = live_call(acc, media_node)
    transfer_id = request_transfer(client, account, call_id)
    hangup(acc, call_id)
    assert_envelope(answer(client, account, call_id, transfer_id), 409, "CONFLICT")
    assert service.get_call(acc, call_id).calls_configuration_id == "xfer-a"
    assert transfers.time_out(acc, call_id, transfer_id) is True
    assert delivered(acc, call_id)[-1] == ("APPLICATION_TRANSFER_FAILED", ["xfer-a-hook"])


def test_a_second_transfer_while_one_is_pending_is_a_409(client, account, apps, media_node):
    acc = account.account_id
    call_id = live_call(acc, media_node)
    request_transfer(client, account, call_id, "xfer-b")
    second = post(client, account, TRANSFER.format(callId=call_id), {"destinationCallsConfigurationId": "xfer-c"})
    assert "pending application transfer" in assert_envelope(second, 409, "CONFLICT")["text"]
    assert [t for t, _ in delivered(acc, call_id)].count("APPLICATION_TRANSFER_REQUESTED") == 1


def _race(*answers: Callable[[], object]) -> list[object]:
    barrier = threading.Barrier(len(answers))
    results: list[object] = [None] * len(answers)

    def run(index: int, answer_it: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = answer_it()
        except AppError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(answers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_of_an_accept_a_reject_and_a_timeout_racing_exactly_one_happens(account, apps, media_node):
    acc = account.account_id
    for _ in range(3):
        call_id = live_call(acc, media_node)
        transfer = transfers.request(acc, call_id, ApplicationTransferRequest(destinationCallsConfigurationId="xfer-b"))
        tid = transfer.transfer_id
        accepted, rejected, timed_out = _race(
            partial(transfers.accept, acc, call_id, tid),
            partial(transfers.reject, acc, call_id, tid),
            partial(transfers.time_out, acc, call_id, tid),
        )
        outcomes = [type(r).__name__ for r in (accepted, rejected, timed_out)]
        answers = [t for t, _ in delivered(acc, call_id) if t.startswith("APPLICATION_TRANSFER_") and "REQ" not in t]
        assert len(answers) == 1, (outcomes, answers)
        owner = service.get_call(acc, call_id).calls_configuration_id
        if answers == ["APPLICATION_TRANSFER_FINISHED"]:
            assert owner == "xfer-b" and isinstance(rejected, Conflict) and timed_out is False
        else:
            assert owner == "xfer-a" and isinstance(accepted, Conflict)
            assert (rejected is None) != (timed_out is True)  # the one that won


def test_a_state_change_read_before_the_accept_never_hands_the_call_back(account, apps, media_node, monkeypatch):
    acc = account.account_id
    call_id = live_call(acc, media_node)
    stale = service.get_call(acc, call_id)
    transfer = transfers.request(acc, call_id, ApplicationTransferRequest(destinationCallsConfigurationId="xfer-b"))
    transfers.accept(acc, call_id, transfer.transfer_id)
    reads = iter([stale])  # the hangup decides on the leg as it was before the transfer
    real = service.repository.get
    monkeypatch.setattr(service.repository, "get", lambda a, c: next(reads, None) or real(a, c))
    hangup(acc, call_id)
    assert service.get_call(acc, call_id).calls_configuration_id == "xfer-b"


def test_refusals_are_clear_4xx_in_infobips_envelope(client, account, other_account, apps, media_node):
    acc = account.account_id
    call_id = live_call(acc, media_node)
    to_b = {"destinationCallsConfigurationId": "xfer-b"}
    path = TRANSFER.format(callId=call_id)

    assert_envelope(post(client, account, TRANSFER.format(callId="no-such-call"), to_b), 404, "NOT_FOUND")
    assert_envelope(post(client, other_account, path, to_b), 404, "NOT_FOUND")  # another account's call
    unknown = post(client, account, path, {"destinationCallsConfigurationId": "nowhere"})
    assert "nowhere" in assert_envelope(unknown, 404, "NOT_FOUND")["text"]
    configurations.create_configuration(  # another account's configuration is unknown too
        other_account.account_id, CallsConfigurationCreateRequest(id="theirs", name="theirs")
    )
    assert_envelope(post(client, account, path, {"destinationCallsConfigurationId": "theirs"}), 404, "NOT_FOUND")
    same = assert_envelope(
        post(client, account, path, {"destinationCallsConfigurationId": "xfer-a"}), 400, "BAD_REQUEST"
    )
    assert "destinationCallsConfigurationId" in same["validationErrors"]
    for bad in ({}, {"destinationCallsConfigurationId": ""}, {**to_b, "timeout": 0}, {**to_b, "customData": {"a": 1}}):
        assert_envelope(post(client, account, path, bad), 400, "BAD_REQUEST")
    assert_envelope(post(client, account, path), 400, "BAD_REQUEST")  # no body
    assert [t for t, _ in delivered(acc, call_id)] == ["CALL_STARTED", "CALL_ESTABLISHED"]  # none of it published

    transfer_id = request_transfer(client, account, call_id)
    for how in ("accept", "reject"):
        assert_envelope(answer(client, account, call_id, "no-such-transfer", how), 404, "NOT_FOUND")
        assert_envelope(answer(client, other_account, call_id, transfer_id, how), 404, "NOT_FOUND")
        assert_envelope(answer(client, account, "no-such-call", transfer_id, how), 404, "NOT_FOUND")
    assert service.get_call(acc, call_id).calls_configuration_id == "xfer-a"

    ended = live_call(acc, media_node)
    hangup(acc, ended)
    assert_envelope(post(client, account, TRANSFER.format(callId=ended), to_b), 409, "CONFLICT")
    never_transferred = live_call(acc, media_node)
    assert_envelope(answer(client, account, never_transferred, transfer_id), 404, "NOT_FOUND")


def test_a_node_that_cannot_time_the_transfer_fails_it_at_once(client, account, apps, media_node):
    acc = account.account_id
    call_id = live_call(acc, media_node)
    media_node.status = 404  # the node does not have the call (any more)
    refused = post(client, account, TRANSFER.format(callId=call_id), {"destinationCallsConfigurationId": "xfer-b"})
    assert_envelope(refused, 503, "SERVICE_UNAVAILABLE")
    assert [t for t, _ in delivered(acc, call_id)][-2:] == [
        "APPLICATION_TRANSFER_REQUESTED",
        "APPLICATION_TRANSFER_FAILED",
    ]
    media_node.status = 200
    request_transfer(client, account, call_id, "xfer-c")  # nothing is left pending
