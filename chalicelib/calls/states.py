"""The call leg's state machine as data: which state may follow which, and the event each change produces.
Pure: no I/O, so it is tested on its own (tests/unit/test_call_states.py) and the service only applies it.

    create ──► CALLING ──► RINGING ──► PRE_ESTABLISHED ──► ESTABLISHED ──► FINISHED | FAILED
                  │           │              │
                  └───────────┴──────────────┴──► BUSY | NO_ANSWER | CANCELLED | FAILED

Any of CALLING, RINGING and PRE_ESTABLISHED may skip ahead (a callee can answer without ringing first); nothing
goes back, and a terminal state (FINISHED, FAILED, CANCELLED, NO_ANSWER, BUSY) never changes again. No state
follows itself, so every change is exactly one event and "the state I read" is a sufficient write condition.

Events, decided from the reference (§4 and the `PublicErrorCode` rules of the Calls API):
- Creating a leg: an INBOUND leg (a call that reached the platform, e.g. the caller's leg of a WebRTC call)
  produces CALL_RECEIVED, as Infobip announces every inbound call; an OUTBOUND leg (a call the platform places)
  produces CALL_STARTED. Both carry `CallProperties` (`{"call": Call, "apiBaseUrl": ...}`).
- RINGING → CALL_RINGING, PRE_ESTABLISHED (early media) → CALL_PRE_ESTABLISHED, ESTABLISHED → CALL_ESTABLISHED.
- The end of a leg carries its `CallLog` (`{"callLog": ...}`) with the error code that says why. Infobip's terminal
  states are outcomes, not failures: FINISHED (ended after answer), BUSY, NO_ANSWER and CANCELLED all produce
  CALL_FINISHED; only FAILED (the platform, network, device or destination could not set up or keep the call)
  produces CALL_FAILED. So the event of an ending follows from the terminal state alone.

Ending a leg takes an error code; the code decides the terminal state (`error_codes`) and must fit the phase,
after Infobip's hangup rules: NORMAL_HANGUP and MACHINE_DETECTED need an established call (MACHINE_DETECTED an
OUTBOUND one); NO_ANSWER, BUSY, CANCELLED, REJECTED (→ BUSY: the callee refused it) and the destination errors need
a call that was never established. One exception, for the endpoints' sake: a NORMAL_HANGUP before answer is what a
caller hanging up while it rings or a platform abandoning a callee sends, and it ends the leg as CANCELLED with
error code CANCELLED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.calls.error_codes import ErrorCode, Phase, lookup
from chalicelib.calls.errors import IllegalTransition, InvalidErrorCode
from chalicelib.calls.schemas import CallDirection, CallState

CALLING, RINGING, PRE_ESTABLISHED, ESTABLISHED = (
    CallState.CALLING,
    CallState.RINGING,
    CallState.PRE_ESTABLISHED,
    CallState.ESTABLISHED,
)
FINISHED, FAILED, CANCELLED, NO_ANSWER, BUSY = (
    CallState.FINISHED,
    CallState.FAILED,
    CallState.CANCELLED,
    CallState.NO_ANSWER,
    CallState.BUSY,
)

TERMINAL_STATES = frozenset({FINISHED, FAILED, CANCELLED, NO_ANSWER, BUSY})
_UNANSWERED_ENDS = frozenset({BUSY, NO_ANSWER, CANCELLED, FAILED})

TRANSITIONS: Mapping[CallState, frozenset[CallState]] = {
    CALLING: frozenset({RINGING, PRE_ESTABLISHED, ESTABLISHED}) | _UNANSWERED_ENDS,
    RINGING: frozenset({PRE_ESTABLISHED, ESTABLISHED}) | _UNANSWERED_ENDS,
    PRE_ESTABLISHED: frozenset({ESTABLISHED}) | _UNANSWERED_ENDS,
    ESTABLISHED: frozenset({FINISHED, FAILED}),
    **{state: frozenset() for state in TERMINAL_STATES},
}

EVENT_ON_ENTER: Mapping[CallState, str] = {
    RINGING: "CALL_RINGING",
    PRE_ESTABLISHED: "CALL_PRE_ESTABLISHED",
    ESTABLISHED: "CALL_ESTABLISHED",
    FINISHED: "CALL_FINISHED",
    BUSY: "CALL_FINISHED",
    NO_ANSWER: "CALL_FINISHED",
    CANCELLED: "CALL_FINISHED",
    FAILED: "CALL_FAILED",
}

CREATION_EVENT: Mapping[CallDirection, str] = {
    CallDirection.INBOUND: "CALL_RECEIVED",
    CallDirection.OUTBOUND: "CALL_STARTED",
}

INITIAL_STATE = CALLING


def is_terminal(state: CallState) -> bool:
    return state in TERMINAL_STATES


def creation_event(direction: CallDirection) -> str:
    return CREATION_EVENT[direction]


def transition_event(current: CallState, target: CallState) -> str:
    """The event of moving `current` → `target`; IllegalTransition (409) when the table does not allow it."""
    if target not in TRANSITIONS[current]:
        reason = "A finished call never changes." if is_terminal(current) else None
        raise IllegalTransition(current, target, reason)
    return EVENT_ON_ENTER[target]


@dataclass(frozen=True)
class Ending:
    state: CallState
    error_code: ErrorCode
    event: str


def _code(name: str) -> ErrorCode:
    code = lookup(name)
    if code is None:
        raise InvalidErrorCode(name, "is not a call error code")
    return code


def hangup_ending(current: CallState, direction: CallDirection, error_code: str) -> Ending:
    """How a leg in `current` ends with `error_code`: its terminal state, the code recorded and the event."""
    code = _code(error_code)
    answered = current is ESTABLISHED
    if code.name == "NORMAL_HANGUP" and not answered and not is_terminal(current):
        code = _code("CANCELLED")
    if code.name == "MACHINE_DETECTED" and direction is not CallDirection.OUTBOUND:
        raise InvalidErrorCode(error_code, "can only end an OUTBOUND call")
    if not is_terminal(current):
        if code.phase is Phase.ANSWERED and not answered:
            raise IllegalTransition(current, code.state, f"{code.name} needs an established call.")
        if code.phase is Phase.UNANSWERED and answered:
            raise IllegalTransition(current, code.state, f"{code.name} is for calls that were never established.")
    return Ending(code.state, code, transition_event(current, code.state))


def failure_ending(current: CallState, direction: CallDirection, error_code: str) -> Ending:
    """Like `hangup_ending`, for codes that are failures only (the leg ends FAILED with CALL_FAILED)."""
    if not _code(error_code).is_failure:
        raise InvalidErrorCode(error_code, "is not a failure; end the call with a hangup")
    return hangup_ending(current, direction, error_code)
