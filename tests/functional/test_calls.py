"""Call legs on moto: each change and its Calls API event in one outbox transaction, numbered per call, with bodies
that Infobip's OpenAPI document accepts; the declined, busy, unanswered, cancelled and failed ends; racing changes;
finished legs that never change; tenants that never see each other's calls."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from chalicelib.calls import (
    CallNotFound,
    CallState,
    HangupSource,
    IllegalTransition,
    InvalidErrorCode,
    establish,
    fail,
    get_call,
    hangup,
    pre_establish,
    ringing,
    service,
    start_webrtc_call,
    to_call_log,
    to_infobip,
)
from chalicelib.calls.records import CallRecord
from chalicelib.calls.repository import HISTORY_RETENTION
from chalicelib.calls.schemas import PhoneEndpoint, SipEndpoint
from chalicelib.core import clock
from chalicelib.core.errors import AppError, BadRequest
from chalicelib.core.settings import get_settings
from chalicelib.db.models import CallLeg, OutboxEvent
from tests.support.openapi import load

VOICE = "infobip-voice-openapi.json"


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    """Durations here are exact: only clock.shift moves time, not the storage calls between two changes."""
    clock.reset()
    clock.freeze()
    yield
    clock.reset()


# --- reading what was published -------------------------------------------------------------------------------


def events(account_id: str, call_id: str) -> list[dict[str, Any]]:
    """The webhook bodies of one call, in sequence order."""
    return [json.loads(item.body) for item in OutboxEvent.query(f"{account_id}#{call_id}")]


def types(account_id: str, call_id: str) -> list[str]:
    return [body["type"] for body in events(account_id, call_id)]


def _schemas() -> dict[str, Any]:
    return dict(load(VOICE)["components"]["schemas"])


def _schema_name(suffix: str) -> str:
    names = [name for name in _schemas() if name.endswith(f".{suffix}")]
    assert names, f"{suffix} is not in {VOICE}"
    return names[0]


def _validate(instance: Any, schema_name: str) -> None:
    spec = load(VOICE)
    validator = Draft202012Validator({"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]})
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def _validate_endpoint(endpoint: dict[str, Any], owner: str) -> None:
    """jsonschema ignores OpenAPI's discriminator: check the endpoint against the variant its `type` names."""
    owner_schema = _schemas()[_schema_name(owner)]
    base_ref = owner_schema["properties"]["endpoint"]["$ref"].rsplit("/", 1)[1]
    variant = _schemas()[base_ref]["discriminator"]["mapping"][endpoint["type"]].rsplit("/", 1)[1]
    _validate(endpoint, variant)


def assert_valid_event(body: dict[str, Any]) -> None:
    """The whole webhook body against the event's own schema (CallStartedEvent, CallFinishedEvent, ...)."""
    event_schema = _schemas()[_schema_name("Event")]
    target = event_schema["discriminator"]["mapping"][body["type"]].rsplit("/", 1)[1]
    _validate(body, target)
    properties = body["properties"]
    if "call" in properties:
        _validate(properties["call"], _schema_name("Call"))
        _validate_endpoint(properties["call"]["endpoint"], "Call")
    else:
        _validate(properties["callLog"], _schema_name("CallLog"))
        _validate_endpoint(properties["callLog"]["endpoint"], "CallLog")


def assert_events(account_id: str, call_id: str, expected: list[str]) -> list[dict[str, Any]]:
    bodies = events(account_id, call_id)
    assert [body["type"] for body in bodies] == expected
    assert [body["sequence"] for body in bodies] == list(range(1, len(expected) + 1))
    for body in bodies:
        assert body["callId"] == call_id
        assert_valid_event(body)
    return bodies


def _ended(account_id: str, call_id: str) -> dict[str, Any]:
    body = events(account_id, call_id)[-1]
    return dict(body["properties"]["callLog"])


# --- the happy path -------------------------------------------------------------------------------------------


def test_a_webrtc_call_from_dial_to_hangup(account):
    acc = account.account_id
    caller, callee = start_webrtc_call(acc, "alice", "Alice", "bob", "Bob", video=True, node_id="node-1")
    assert (caller.direction, callee.direction) == ("INBOUND", "OUTBOUND")
    assert (caller.peer_call_id, callee.peer_call_id, callee.parent_call_id) == (
        callee.call_id,
        caller.call_id,
        caller.call_id,
    )
    assert get_call(acc, caller.call_id) == caller
    assert get_call(acc, callee.call_id) == callee

    ringing(acc, callee.call_id)
    clock.shift(3)
    establish(acc, callee.call_id)
    establish(acc, caller.call_id)
    clock.shift(42)
    hangup(acc, caller.call_id, source=HangupSource.ENDPOINT)
    ended = hangup(acc, callee.call_id, source=HangupSource.PLATFORM)

    received = assert_events(acc, caller.call_id, ["CALL_RECEIVED", "CALL_ESTABLISHED", "CALL_FINISHED"])
    started = assert_events(acc, callee.call_id, ["CALL_STARTED", "CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED"])

    call = started[0]["properties"]["call"]
    assert call["endpoint"] == {"type": "WEBRTC", "identity": "bob", "displayName": "Bob"}
    assert (call["from"], call["to"], call["state"], call["direction"]) == ("alice", "bob", "CALLING", "OUTBOUND")
    assert call["media"]["video"]["camera"] is True
    assert call["parentCallId"] == caller.call_id
    assert started[0]["properties"]["apiBaseUrl"] == get_settings().public_base_url
    assert received[0]["properties"]["call"]["endpoint"]["identity"] == "alice"
    assert started[2]["properties"]["call"]["ringDuration"] == 3

    log = started[-1]["properties"]["callLog"]
    assert log["state"] == "FINISHED"
    assert log["errorCode"] == {
        "id": 10000,
        "name": "NORMAL_HANGUP",
        "description": "The call has ended with hangup initiated by caller, callee or API.",
    }
    assert log["duration"] == 42
    assert log["hangupSource"] == "PLATFORM"
    assert log["hasCameraVideo"] is True
    assert {"startTime", "answerTime", "endTime"} <= set(log)
    assert received[-1]["properties"]["callLog"]["hangupSource"] == "ENDPOINT"

    stored = get_call(acc, callee.call_id)
    assert stored == ended
    assert (stored.state, stored.error_code, stored.duration, stored.node_id) == (
        "FINISHED",
        "NORMAL_HANGUP",
        42,
        "node-1",
    )
    item = CallLeg.get(acc, callee.call_id)
    assert stored.end_time is not None
    assert item.expires_at == (stored.end_time + HISTORY_RETENTION).replace(microsecond=0)


def test_both_legs_and_their_first_events_are_created_together(account):
    acc = account.account_id
    caller, callee = start_webrtc_call(
        acc, "carol", None, "dave", None, calls_configuration_id="cfg-1", application_id="app", custom_data={"k": "v"}
    )
    (first_caller,) = events(acc, caller.call_id)
    (first_callee,) = events(acc, callee.call_id)
    assert (first_caller["sequence"], first_callee["sequence"]) == (1, 1)
    for body in (first_caller, first_callee):
        assert_valid_event(body)
        assert body["callsConfigurationId"] == "cfg-1"
        assert body["platform"] == {"applicationId": "app"}
        assert body["properties"]["call"]["customData"] == {"k": "v"}
        assert "displayName" not in body["properties"]["call"]["endpoint"]


def test_early_media_then_answer(account):
    acc = account.account_id
    _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    ringing(acc, callee.call_id)
    pre_establish(acc, callee.call_id)
    establish(acc, callee.call_id)
    hangup(acc, callee.call_id)
    assert_events(
        acc,
        callee.call_id,
        ["CALL_STARTED", "CALL_RINGING", "CALL_PRE_ESTABLISHED", "CALL_ESTABLISHED", "CALL_FINISHED"],
    )


# --- calls that are never answered ----------------------------------------------------------------------------


def test_a_declined_call_ends_busy_with_rejected_on_both_legs(account):
    acc = account.account_id
    caller, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    ringing(acc, callee.call_id)
    declined = hangup(acc, callee.call_id, "REJECTED", source=HangupSource.ENDPOINT)
    hangup(acc, caller.call_id, "REJECTED", source=HangupSource.PLATFORM)
    assert (declined.state, declined.error_code, declined.duration) == ("BUSY", "REJECTED", 0)
    assert_events(acc, callee.call_id, ["CALL_STARTED", "CALL_RINGING", "CALL_FINISHED"])
    assert_events(acc, caller.call_id, ["CALL_RECEIVED", "CALL_FINISHED"])
    for call_id in (caller.call_id, callee.call_id):
        log = _ended(acc, call_id)
        assert (log["state"], log["errorCode"]["name"], log["duration"]) == ("BUSY", "REJECTED", 0)
        assert "answerTime" not in log


@pytest.mark.parametrize(("code", "state"), [("BUSY", "BUSY"), ("NO_ANSWER", "NO_ANSWER"), ("CANCELLED", "CANCELLED")])
def test_unanswered_ends_are_finished_events_with_their_state(account, code, state):
    acc = account.account_id
    _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    ringing(acc, callee.call_id)
    clock.shift(30)
    hangup(acc, callee.call_id, code)
    assert_events(acc, callee.call_id, ["CALL_STARTED", "CALL_RINGING", "CALL_FINISHED"])
    log = _ended(acc, callee.call_id)
    assert (log["state"], log["errorCode"]["name"], log["ringDuration"]) == (state, code, 30)


def test_a_caller_hanging_up_while_it_rings_cancels_the_call(account):
    acc = account.account_id
    caller, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    ringing(acc, callee.call_id)
    cancelled = hangup(acc, caller.call_id)  # NORMAL_HANGUP before answer
    hangup(acc, callee.call_id, "CANCELLED")
    assert (cancelled.state, cancelled.error_code) == ("CANCELLED", "CANCELLED")
    assert _ended(acc, caller.call_id)["errorCode"]["name"] == "CANCELLED"
    assert get_call(acc, callee.call_id).state == "CANCELLED"


def test_failures_end_with_call_failed(account):
    acc = account.account_id
    caller, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    establish(acc, callee.call_id)
    establish(acc, caller.call_id)
    failed = fail(acc, callee.call_id, "MEDIA_ERROR", source=HangupSource.PLATFORM)
    assert (failed.state, failed.error_code) == ("FAILED", "MEDIA_ERROR")
    assert_events(acc, callee.call_id, ["CALL_STARTED", "CALL_ESTABLISHED", "CALL_FAILED"])
    assert _ended(acc, callee.call_id)["errorCode"]["id"] == 10103

    _, unreachable = start_webrtc_call(acc, "alice", None, "nobody", None)
    hangup(acc, unreachable.call_id, "DESTINATION_UNAVAILABLE")
    assert_events(acc, unreachable.call_id, ["CALL_STARTED", "CALL_FAILED"])
    assert get_call(acc, unreachable.call_id).state == "FAILED"


def test_wrong_error_codes_are_refused_and_change_nothing(account):
    acc = account.account_id
    caller, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    establish(acc, callee.call_id)
    with pytest.raises(InvalidErrorCode):
        hangup(acc, callee.call_id, "NOT_A_CODE")
    with pytest.raises(InvalidErrorCode):
        fail(acc, callee.call_id, "NORMAL_HANGUP")
    with pytest.raises(IllegalTransition):
        hangup(acc, callee.call_id, "NO_ANSWER")  # it was answered
    with pytest.raises(InvalidErrorCode):
        hangup(acc, caller.call_id, "MACHINE_DETECTED")  # inbound
    assert get_call(acc, callee.call_id).state == "ESTABLISHED"
    assert types(acc, callee.call_id) == ["CALL_STARTED", "CALL_ESTABLISHED"]


def test_bad_identities_are_a_400(account):
    with pytest.raises(BadRequest) as raised:
        start_webrtc_call(account.account_id, "", None, "bob", None)
    assert "caller.identity" in (raised.value.validation_errors or {})


# --- finished legs, races, tenants ----------------------------------------------------------------------------

CHANGES: dict[str, Callable[[str, str], CallRecord]] = {
    "ringing": ringing,
    "pre_establish": pre_establish,
    "establish": establish,
    "hangup": hangup,
    "hangup CANCELLED": lambda acc, call_id: hangup(acc, call_id, "CANCELLED"),
    "fail": lambda acc, call_id: fail(acc, call_id, "NETWORK_ERROR"),
}


def test_a_finished_leg_never_changes_again(account):
    acc = account.account_id
    _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    establish(acc, callee.call_id)
    finished = hangup(acc, callee.call_id)
    for name, change in CHANGES.items():
        with pytest.raises(IllegalTransition) as raised:
            change(acc, callee.call_id)
        assert raised.value.status == 409, name
    assert get_call(acc, callee.call_id) == finished
    assert types(acc, callee.call_id) == ["CALL_STARTED", "CALL_ESTABLISHED", "CALL_FINISHED"]


def _race(*changes: Callable[[], CallRecord]) -> list[CallRecord | AppError]:
    barrier = threading.Barrier(len(changes))
    results: list[CallRecord | AppError] = [None] * len(changes)  # type: ignore[list-item]

    def run(index: int, change: Callable[[], CallRecord]) -> None:
        barrier.wait()
        try:
            results[index] = change()
        except AppError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, change)) for i, change in enumerate(changes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_of_answer_and_cancel_racing_exactly_one_happens(account):
    acc = account.account_id
    for _ in range(4):
        _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
        ringing(acc, callee.call_id)
        answered, cancelled = _race(
            partial(establish, acc, callee.call_id),
            partial(hangup, acc, callee.call_id, "CANCELLED"),
        )
        winners = [r for r in (answered, cancelled) if isinstance(r, CallRecord)]
        losers = [r for r in (answered, cancelled) if isinstance(r, AppError)]
        assert len(winners) == 1 and len(losers) == 1, (answered, cancelled)
        assert isinstance(losers[0], IllegalTransition)
        assert get_call(acc, callee.call_id) == winners[0]
        expected = "CALL_ESTABLISHED" if winners[0].state == "ESTABLISHED" else "CALL_FINISHED"
        assert_events(acc, callee.call_id, ["CALL_STARTED", "CALL_RINGING", expected])


def test_the_same_change_racing_happens_once(account):
    acc = account.account_id
    _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    results = _race(*[lambda: establish(acc, callee.call_id)] * 3)
    assert sum(isinstance(r, CallRecord) for r in results) == 1
    assert sum(isinstance(r, IllegalTransition) for r in results) == 2
    assert types(acc, callee.call_id) == ["CALL_STARTED", "CALL_ESTABLISHED"]


def test_two_racing_ends_end_the_leg_once(account):
    acc = account.account_id
    _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    establish(acc, callee.call_id)
    finished, failed = _race(lambda: hangup(acc, callee.call_id), lambda: fail(acc, callee.call_id, "NETWORK_ERROR"))
    winners = [r for r in (finished, failed) if isinstance(r, CallRecord)]
    assert len(winners) == 1  # FINISHED and FAILED both end it: the second is refused
    assert get_call(acc, callee.call_id) == winners[0]
    assert types(acc, callee.call_id)[:2] == ["CALL_STARTED", "CALL_ESTABLISHED"]
    assert len(types(acc, callee.call_id)) == 3


def _read_stale_first(monkeypatch: pytest.MonkeyPatch, stale: CallRecord) -> None:
    """The next change reads `stale` (as if it read just before another change committed), then the truth."""
    reads = iter([stale])
    real = service.repository.get
    monkeypatch.setattr(service.repository, "get", lambda acc, call_id: next(reads, None) or real(acc, call_id))


def test_a_change_still_legal_after_losing_a_race_is_applied_after_the_winner(account, monkeypatch):
    acc = account.account_id
    _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    stale = get_call(acc, callee.call_id)
    rang = ringing(acc, callee.call_id)  # commits between the answer's read and its write
    _read_stale_first(monkeypatch, stale)
    answered = establish(acc, callee.call_id)
    assert (answered.state, answered.ring_time) == ("ESTABLISHED", rang.ring_time)
    assert_events(acc, callee.call_id, ["CALL_STARTED", "CALL_RINGING", "CALL_ESTABLISHED"])


def test_a_change_decided_before_a_node_took_the_leg_keeps_the_node(account, monkeypatch):
    """The node is written by `set_node` alone: a ring decided on the leg as it was before (no node) must not take
    the node away, or the dead-node reaper would count the live call as one no node ever took."""
    acc = account.account_id
    _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    stale = get_call(acc, callee.call_id)
    service.repository.set_node(acc, callee.call_id, "node-a")
    _read_stale_first(monkeypatch, stale)
    ringing(acc, callee.call_id)
    item = CallLeg.get(acc, callee.call_id, consistent_read=True)
    assert (item.state, item.node_id, item.live_node) == ("RINGING", "node-a", "node-a")
    hangup(acc, callee.call_id, "NORMAL_HANGUP")
    item = CallLeg.get(acc, callee.call_id, consistent_read=True)
    assert (item.node_id, item.live_node) == ("node-a", None)  # out of the live index, still naming its node


def test_a_change_no_longer_legal_after_losing_a_race_gets_the_domain_error(account, monkeypatch):
    acc = account.account_id
    _, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    stale = get_call(acc, callee.call_id)
    cancelled = hangup(acc, callee.call_id, "CANCELLED")
    _read_stale_first(monkeypatch, stale)
    with pytest.raises(IllegalTransition) as raised:
        establish(acc, callee.call_id)
    assert raised.value.status == 409 and "CANCELLED" in raised.value.text
    assert get_call(acc, callee.call_id) == cancelled
    assert types(acc, callee.call_id) == ["CALL_STARTED", "CALL_FINISHED"]


def test_another_accounts_call_is_unknown(account, other_account):
    acc = account.account_id
    caller, callee = start_webrtc_call(acc, "alice", None, "bob", None)
    for call_id in (caller.call_id, callee.call_id):
        with pytest.raises(CallNotFound) as raised:
            get_call(other_account.account_id, call_id)
        assert raised.value.status == 404
        for change in CHANGES.values():
            with pytest.raises(CallNotFound):
                change(other_account.account_id, call_id)
        assert events(other_account.account_id, call_id) == []
    assert get_call(acc, callee.call_id) == callee
    assert types(acc, callee.call_id) == ["CALL_STARTED"]


@pytest.mark.parametrize("call_id", ["", "no-such-call"])
def test_unknown_calls_are_404(account, call_id):
    with pytest.raises(CallNotFound):
        get_call(account.account_id, call_id)
    with pytest.raises(CallNotFound):
        hangup(account.account_id, call_id)


# --- other endpoint types fit the same record and views -------------------------------------------------------


def test_phone_and_sip_legs_render_as_valid_call_and_call_log(account):
    _, callee = start_webrtc_call(account.account_id, "alice", None, "bob", None)
    start = callee.start_time
    for endpoint in (
        PhoneEndpoint(phoneNumber="41793026727"),
        SipEndpoint(username="agent", sipTrunkId="trunk-1", customHeaders={"X-Case": "42"}),
    ):
        record = CallRecord(
            **{
                **callee.__dict__,
                "endpoint": endpoint,
                "state": CallState.FINISHED,
                "answer_time": start + timedelta(seconds=2),
                "end_time": start + timedelta(seconds=9),
                "error_code": "NORMAL_HANGUP",
            }
        )
        _validate(to_infobip(record), _schema_name("Call"))
        _validate_endpoint(to_infobip(record)["endpoint"], "Call")
        log = to_call_log(record)
        _validate(log, _schema_name("CallLog"))
        _validate_endpoint(log["endpoint"], "CallLog")
        assert log["duration"] == 7
