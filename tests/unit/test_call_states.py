"""The call leg's state machine and error codes, without I/O: legal changes, their events, how each error code ends
a leg, and that our enums and codes are Infobip's (compared with the OpenAPI document when it is available)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.calls import states
from chalicelib.calls.error_codes import ERROR_CODES, HANGUP_ERROR_CODES, Phase
from chalicelib.calls.errors import IllegalTransition, InvalidErrorCode
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import CallDirection, CallEndpointType, CallState, WebRtcEndpoint
from chalicelib.core.errors import to_status_and_body
from chalicelib.events.catalogue import CALLS_EVENT_TYPE_SET
from tests.support.openapi import load

S = CallState
IN, OUT = CallDirection.INBOUND, CallDirection.OUTBOUND
LIVE = [S.CALLING, S.RINGING, S.PRE_ESTABLISHED, S.ESTABLISHED]
UNANSWERED = [S.CALLING, S.RINGING, S.PRE_ESTABLISHED]
TERMINAL = [S.FINISHED, S.FAILED, S.CANCELLED, S.NO_ANSWER, S.BUSY]


def _voice_enum(suffix: str) -> list[str]:
    schemas = load("infobip-voice-openapi.json")["components"]["schemas"]
    enums = {tuple(schema["enum"]) for name, schema in schemas.items() if name.endswith(suffix)}
    assert len(enums) == 1, f"{suffix} is defined differently in the document: {enums}"
    return list(enums.pop())


# --- transitions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "event"),
    [
        (S.CALLING, S.RINGING, "CALL_RINGING"),
        (S.CALLING, S.PRE_ESTABLISHED, "CALL_PRE_ESTABLISHED"),
        (S.CALLING, S.ESTABLISHED, "CALL_ESTABLISHED"),
        (S.RINGING, S.PRE_ESTABLISHED, "CALL_PRE_ESTABLISHED"),
        (S.RINGING, S.ESTABLISHED, "CALL_ESTABLISHED"),
        (S.PRE_ESTABLISHED, S.ESTABLISHED, "CALL_ESTABLISHED"),
        (S.ESTABLISHED, S.FINISHED, "CALL_FINISHED"),
        (S.ESTABLISHED, S.FAILED, "CALL_FAILED"),
        (S.RINGING, S.BUSY, "CALL_FINISHED"),
        (S.RINGING, S.NO_ANSWER, "CALL_FINISHED"),
        (S.CALLING, S.CANCELLED, "CALL_FINISHED"),
        (S.PRE_ESTABLISHED, S.FAILED, "CALL_FAILED"),
    ],
)
def test_legal_changes_produce_their_event(current, target, event):
    assert states.transition_event(current, target) == event


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.RINGING, S.CALLING),
        (S.PRE_ESTABLISHED, S.RINGING),
        (S.ESTABLISHED, S.RINGING),
        (S.ESTABLISHED, S.PRE_ESTABLISHED),
        (S.ESTABLISHED, S.BUSY),
        (S.ESTABLISHED, S.NO_ANSWER),
        (S.ESTABLISHED, S.CANCELLED),
        (S.CALLING, S.FINISHED),  # FINISHED means ended after answer
        (S.RINGING, S.FINISHED),
    ],
)
def test_nothing_goes_back_and_answered_calls_end_only_finished_or_failed(current, target):
    with pytest.raises(IllegalTransition):
        states.transition_event(current, target)


@pytest.mark.parametrize("state", list(S))
def test_no_state_follows_itself(state):
    with pytest.raises(IllegalTransition):
        states.transition_event(state, state)


@pytest.mark.parametrize("terminal", TERMINAL)
@pytest.mark.parametrize("target", list(S))
def test_terminal_states_never_change(terminal, target):
    with pytest.raises(IllegalTransition) as raised:
        states.transition_event(terminal, target)
    assert "never changes" in raised.value.text


def test_an_illegal_change_is_a_409_conflict_in_infobips_envelope():
    with pytest.raises(IllegalTransition) as raised:
        states.transition_event(S.FINISHED, S.ESTABLISHED)
    status, body = to_status_and_body(raised.value)
    assert status == 409
    assert body["requestError"]["serviceException"]["messageId"] == "CONFLICT"
    assert "FINISHED" in body["requestError"]["serviceException"]["text"]


def test_every_live_state_can_end_and_every_terminal_state_is_reachable():
    for state in LIVE:
        assert states.TRANSITIONS[state] & set(TERMINAL), state
    reachable = {target for targets in states.TRANSITIONS.values() for target in targets}
    assert set(TERMINAL) <= reachable
    assert S.CALLING not in reachable  # only creation makes a CALLING leg


def test_the_table_covers_every_state_and_names_only_catalogued_events():
    assert set(states.TRANSITIONS) == set(S)
    assert set(states.TERMINAL_STATES) == set(TERMINAL)
    events = set(states.EVENT_ON_ENTER.values()) | set(states.CREATION_EVENT.values())
    assert events <= CALLS_EVENT_TYPE_SET
    for targets in states.TRANSITIONS.values():
        assert all(target in states.EVENT_ON_ENTER for target in targets)


def test_an_inbound_leg_is_received_and_an_outbound_leg_started():
    assert states.creation_event(IN) == "CALL_RECEIVED"
    assert states.creation_event(OUT) == "CALL_STARTED"
    assert states.INITIAL_STATE is S.CALLING


# --- ending a leg ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "direction", "code", "state", "recorded", "event"),
    [
        (S.ESTABLISHED, IN, "NORMAL_HANGUP", S.FINISHED, "NORMAL_HANGUP", "CALL_FINISHED"),
        (S.ESTABLISHED, OUT, "MACHINE_DETECTED", S.FINISHED, "MACHINE_DETECTED", "CALL_FINISHED"),
        (S.RINGING, IN, "NORMAL_HANGUP", S.CANCELLED, "CANCELLED", "CALL_FINISHED"),
        (S.CALLING, OUT, "NORMAL_HANGUP", S.CANCELLED, "CANCELLED", "CALL_FINISHED"),
        (S.PRE_ESTABLISHED, OUT, "CANCELLED", S.CANCELLED, "CANCELLED", "CALL_FINISHED"),
        (S.RINGING, OUT, "NO_ANSWER", S.NO_ANSWER, "NO_ANSWER", "CALL_FINISHED"),
        (S.RINGING, OUT, "BUSY", S.BUSY, "BUSY", "CALL_FINISHED"),
        (S.RINGING, OUT, "REJECTED", S.BUSY, "REJECTED", "CALL_FINISHED"),
        (S.CALLING, IN, "REJECTED", S.BUSY, "REJECTED", "CALL_FINISHED"),
        (S.RINGING, OUT, "ANSWERED_ELSEWHERE", S.CANCELLED, "ANSWERED_ELSEWHERE", "CALL_FINISHED"),
        (S.CALLING, OUT, "DESTINATION_NOT_FOUND", S.FAILED, "DESTINATION_NOT_FOUND", "CALL_FAILED"),
        (S.ESTABLISHED, OUT, "MEDIA_ERROR", S.FAILED, "MEDIA_ERROR", "CALL_FAILED"),
        (S.ESTABLISHED, IN, "SERVICE_UNAVAILABLE", S.FAILED, "SERVICE_UNAVAILABLE", "CALL_FAILED"),
    ],
)
def test_the_error_code_decides_the_end(current, direction, code, state, recorded, event):
    ending = states.hangup_ending(current, direction, code)
    assert (ending.state, ending.error_code.name, ending.event) == (state, recorded, event)


@pytest.mark.parametrize("code", ["NO_ANSWER", "BUSY", "CANCELLED", "REJECTED", "FORBIDDEN", "ANSWERED_ELSEWHERE"])
def test_codes_for_unanswered_calls_cannot_end_an_established_one(code):
    with pytest.raises(IllegalTransition) as raised:
        states.hangup_ending(S.ESTABLISHED, OUT, code)
    assert "never established" in raised.value.text


@pytest.mark.parametrize("current", UNANSWERED)
def test_machine_detection_needs_an_established_call(current):
    with pytest.raises(IllegalTransition):
        states.hangup_ending(current, OUT, "MACHINE_DETECTED")


def test_machine_detection_can_only_end_an_outbound_call():
    with pytest.raises(InvalidErrorCode) as raised:
        states.hangup_ending(S.ESTABLISHED, IN, "MACHINE_DETECTED")
    assert raised.value.status == 400


@pytest.mark.parametrize("terminal", TERMINAL)
@pytest.mark.parametrize("code", ["NORMAL_HANGUP", "CANCELLED", "MEDIA_ERROR"])
def test_a_finished_leg_cannot_be_ended_again(terminal, code):
    with pytest.raises(IllegalTransition):
        states.hangup_ending(terminal, IN, code)


def test_an_unknown_error_code_is_a_400_naming_the_field():
    with pytest.raises(InvalidErrorCode) as raised:
        states.hangup_ending(S.ESTABLISHED, IN, "HUNG_UP_ANGRILY")
    status, body = to_status_and_body(raised.value)
    assert status == 400
    assert "errorCode" in body["requestError"]["serviceException"]["validationErrors"]


def test_a_failure_needs_a_failure_code():
    assert states.failure_ending(S.ESTABLISHED, IN, "NETWORK_ERROR").event == "CALL_FAILED"
    assert states.failure_ending(S.RINGING, OUT, "DESTINATION_UNAVAILABLE").state is S.FAILED
    for code in ("NORMAL_HANGUP", "BUSY", "NO_ANSWER"):
        with pytest.raises(InvalidErrorCode):
            states.failure_ending(S.RINGING, OUT, code)


# --- the error-code table -------------------------------------------------------------------------------------


def test_error_codes_have_unique_ids_and_end_in_a_terminal_state():
    codes = list(ERROR_CODES.values())
    assert len({code.id for code in codes}) == len(codes)
    assert ERROR_CODES["NORMAL_HANGUP"].id == 10000  # the example of Infobip's ErrorCodeInfo schema
    for code in codes:
        assert code.state in states.TERMINAL_STATES, code
        assert code.description
        if code.phase is Phase.ANSWERED:
            assert code.state is S.FINISHED


def test_every_hangup_code_of_the_calls_api_is_known():
    assert set(HANGUP_ERROR_CODES) <= set(ERROR_CODES)
    assert list(HANGUP_ERROR_CODES) == _voice_enum(".PublicErrorCode")


def test_our_enums_are_infobips():
    assert [state.value for state in S] == _voice_enum(".CallState")
    assert [t.value for t in CallEndpointType] == _voice_enum(".CallEndpointType")
    assert [d.value for d in CallDirection] == _voice_enum(".CallDirection")


# --- derived values of a record -------------------------------------------------------------------------------


def _record(**changes) -> CallRecord:
    start = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
    base = CallRecord("acc", "call", WebRtcEndpoint(identity="alice"), "alice", "bob", OUT, S.CALLING, start_time=start)
    return CallRecord(**{**base.__dict__, **changes})


def test_duration_counts_from_answer_to_end_and_ring_duration_from_first_ring():
    start = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
    record = _record(
        state=S.FINISHED,
        ring_time=start + timedelta(seconds=1),
        answer_time=start + timedelta(seconds=4),
        end_time=start + timedelta(seconds=64),
    )
    assert (record.duration, record.ring_duration, record.is_terminal) == (60, 3, True)
    unanswered = _record(state=S.NO_ANSWER, ring_time=start, end_time=start + timedelta(seconds=30))
    assert (unanswered.duration, unanswered.ring_duration) == (0, 30)
    live = _record(state=S.RINGING, ring_time=start)
    assert (live.duration, live.ring_duration, live.is_terminal) == (None, None, False)
