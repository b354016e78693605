"""Call legs: create them, move them through Infobip's states, end them. Each change and its Calls API event are
written in one outbox transaction, so a webhook receiver sees exactly the changes that happened, in order.

Callers: the media node for 1:1 WebRTC calls (identity → identity) now; the Calls API routes later. Every function
takes the owning account, and another account's call is unknown (404).

Concurrency: a change is decided on the leg as read (`states`) and written on condition that the state has not
moved. When another change came first, the loser reads the leg again and decides again: if its change is still
legal from the new state it is applied after the winner (ringing, then answered), otherwise it gets the domain
error (409, e.g. answered vs. cancelled: exactly one of them happens).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from pynamodb.exceptions import TransactWriteError

from chalicelib.calls import repository, states
from chalicelib.calls.error_codes import lookup
from chalicelib.calls.errors import CallNotFound, IllegalTransition
from chalicelib.calls.records import CallMedia, CallRecord
from chalicelib.calls.schemas import (
    AudioMediaProperties,
    Call,
    CallDirection,
    CallLog,
    CallLogPage,
    CallPage,
    CallProperties,
    CallQuery,
    CallState,
    CallWithErrorCodeProperties,
    ErrorCodeInfo,
    HangupSource,
    MediaProperties,
    Platform,
    VideoMediaProperties,
    WebRtcEndpoint,
)
from chalicelib.core import clock, ids
from chalicelib.core.errors import BadRequest, Conflict
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.core.settings import get_settings
from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish

_MAX_ATTEMPTS = 4
_ENDING_EVENTS = frozenset({"CALL_FINISHED", "CALL_FAILED"})

# --- Infobip's views of a leg -------------------------------------------------------------------------------


def _time(value: Any) -> str | None:
    return clock.infobip_format(value) if value is not None else None


def _platform(record: CallRecord) -> Platform | None:
    if not (record.application_id or record.entity_id):
        return None
    return Platform(applicationId=record.application_id, entityId=record.entity_id)


def _media(media: CallMedia) -> MediaProperties:
    return MediaProperties(
        audio=AudioMediaProperties(muted=not media.audio, userMuted=False, deaf=False),
        video=VideoMediaProperties(camera=media.video, screenShare=False, blind=False),
    )


def _caller(record: CallRecord) -> dict[str, Any]:
    return {"from": record.from_}  # `from` is a keyword: passed by alias


def to_infobip(record: CallRecord) -> dict[str, Any]:
    """The leg as Infobip's `Call` object (REST responses and CallProperties)."""
    return _call(record).wire()


def _call(record: CallRecord) -> Call:
    return Call(
        id=record.call_id,
        endpoint=record.endpoint,
        to=record.to,
        direction=record.direction,
        state=record.state,
        media=_media(record.media),
        startTime=_time(record.start_time),
        answerTime=_time(record.answer_time),
        endTime=_time(record.end_time),
        parentCallId=record.parent_call_id,
        ringDuration=record.ring_duration,
        callsConfigurationId=record.calls_configuration_id,
        platform=_platform(record),
        conferenceId=record.conference_id,
        customData=record.custom_data,
        dialogId=record.dialog_id,
        **_caller(record),
    )


def error_code_info(name: str | None) -> ErrorCodeInfo | None:
    code = lookup(name) if name else None
    return ErrorCodeInfo(id=code.id, name=code.name, description=code.description) if code else None


def to_call_log(record: CallRecord) -> dict[str, Any]:
    """The leg as Infobip's `CallLog` (history and the CALL_FINISHED / CALL_FAILED payload)."""
    return _call_log(record).wire()


def _call_log(record: CallRecord) -> CallLog:
    return CallLog(
        callId=record.call_id,
        endpoint=record.endpoint,
        to=record.to,
        direction=record.direction,
        state=record.state,
        startTime=_time(record.start_time),
        answerTime=_time(record.answer_time),
        endTime=_time(record.end_time),
        parentCallId=record.parent_call_id,
        ringDuration=record.ring_duration,
        callsConfigurationIds=[record.calls_configuration_id] if record.calls_configuration_id else None,
        platform=_platform(record),
        conferenceIds=list(record.conference_ids) or None,
        duration=record.duration,
        hasCameraVideo=record.media.video,
        hasScreenshareVideo=False,
        errorCode=error_code_info(record.error_code),
        customData=record.custom_data,
        dialogId=record.dialog_id,
        hangupSource=record.hangup_source,
        **_caller(record),
    )


def _event(event_type: str, record: CallRecord) -> NewEvent:
    properties: dict[str, Any]
    if event_type in _ENDING_EVENTS:
        properties = CallWithErrorCodeProperties.model_validate({"callLog": to_call_log(record)}).wire()
    else:
        properties = CallProperties.model_validate(
            {"call": to_infobip(record), "apiBaseUrl": get_settings().public_base_url}
        ).wire()
    return NewEvent(
        event_type,
        call_id=record.call_id,
        calls_configuration_id=record.calls_configuration_id,
        application_id=record.application_id,
        entity_id=record.entity_id,
        properties=properties,
    )


# --- creating legs ------------------------------------------------------------------------------------------


def _webrtc_endpoint(identity: str, name: str | None, field: str) -> WebRtcEndpoint:
    try:
        return WebRtcEndpoint(identity=identity, displayName=name or None)
    except ValidationError as error:
        raise BadRequest("Request is invalid.", {field: [e["msg"] for e in error.errors()]}) from error


def _create(account_id: str, legs: list[CallRecord]) -> None:
    events = [_event(states.creation_event(leg.direction), leg) for leg in legs]

    def writes(transaction: Any) -> None:
        for leg in legs:
            repository.stage_new(transaction, leg)

    try:
        publish(account_id, events, writes)
    except TransactWriteError as error:
        raise Conflict("A call with this id already exists.") from error


def start_webrtc_call(
    account_id: str,
    caller_identity: str,
    caller_name: str | None,
    callee_identity: str,
    callee_name: str | None,
    *,
    video: bool = False,
    node_id: str | None = None,
    calls_configuration_id: str | None = None,
    application_id: str | None = None,
    entity_id: str | None = None,
    custom_data: Mapping[str, str] | None = None,
) -> tuple[CallRecord, CallRecord]:
    """Both legs of a 1:1 WebRTC call, CALLING, with their events in one transaction.

    The caller's leg is INBOUND (the call reached the platform: CALL_RECEIVED); the callee's leg is OUTBOUND (the
    platform places it: CALL_STARTED) and names the caller's leg as its parent. Each names the other as its peer.
    Returns (caller leg, callee leg).
    """
    caller_endpoint = _webrtc_endpoint(caller_identity, caller_name, "caller.identity")
    callee_endpoint = _webrtc_endpoint(callee_identity, callee_name, "callee.identity")
    if custom_data is not None and not all(isinstance(v, str) for v in custom_data.values()):
        raise BadRequest("Request is invalid.", {"customData": ["values must be strings"]})
    caller_id, callee_id = ids.uuid_id(), ids.uuid_id()
    common: dict[str, Any] = {
        "account_id": account_id,
        "from_": caller_identity,
        "to": callee_identity,
        "state": states.INITIAL_STATE,
        "start_time": clock.now(),
        "media": CallMedia(audio=True, video=video),
        "calls_configuration_id": calls_configuration_id,
        "application_id": application_id,
        "entity_id": entity_id,
        "custom_data": dict(custom_data) if custom_data else None,
        "node_id": node_id,
    }
    caller = CallRecord(
        call_id=caller_id,
        endpoint=caller_endpoint,
        direction=CallDirection.INBOUND,
        peer_call_id=callee_id,
        **common,
    )
    callee = CallRecord(
        call_id=callee_id,
        endpoint=callee_endpoint,
        direction=CallDirection.OUTBOUND,
        peer_call_id=caller_id,
        parent_call_id=caller_id,
        **common,
    )
    _create(account_id, [caller, callee])
    return caller, callee


def _custom_data(custom_data: Mapping[str, str] | None) -> dict[str, str] | None:
    if custom_data is not None and not all(isinstance(v, str) for v in custom_data.values()):
        raise BadRequest("Request is invalid.", {"customData": ["values must be strings"]})
    return dict(custom_data) if custom_data else None


def start_application_call(
    account_id: str,
    caller_identity: str,
    caller_name: str | None,
    calls_configuration_id: str,
    *,
    video: bool = False,
    custom_data: Mapping[str, str] | None = None,
    node_id: str | None = None,
) -> CallRecord:
    """An SDK calling an application: one INBOUND leg (CALL_RECEIVED, routed by the calls configuration) that the
    application answers, rejects or acts on through the Calls API."""
    leg = CallRecord(
        account_id=account_id,
        call_id=ids.uuid_id(),
        endpoint=_webrtc_endpoint(caller_identity, caller_name, "caller.identity"),
        from_=caller_identity,
        to=calls_configuration_id,
        direction=CallDirection.INBOUND,
        state=states.INITIAL_STATE,
        start_time=clock.now(),
        media=CallMedia(audio=True, video=video),
        calls_configuration_id=calls_configuration_id,
        custom_data=_custom_data(custom_data),
        node_id=node_id,
    )
    _create(account_id, [leg])
    return leg


def start_outbound_call(
    account_id: str,
    callee_identity: str,
    calls_configuration_id: str,
    *,
    from_: str | None = None,
    from_display_name: str | None = None,
    custom_data: Mapping[str, str] | None = None,
    parent_call_id: str | None = None,
    application_id: str | None = None,
    entity_id: str | None = None,
) -> CallRecord:
    """An application's call to a WebRTC identity: one OUTBOUND leg (CALL_STARTED). The media node that has the
    identity's devices rings them and records what follows (`node_id` is set when a node takes it)."""
    leg = CallRecord(
        account_id=account_id,
        call_id=ids.uuid_id(),
        endpoint=_webrtc_endpoint(callee_identity, None, "endpoint.identity"),
        from_=from_ or from_display_name or calls_configuration_id,
        to=callee_identity,
        direction=CallDirection.OUTBOUND,
        state=states.INITIAL_STATE,
        start_time=clock.now(),
        calls_configuration_id=calls_configuration_id,
        application_id=application_id,
        entity_id=entity_id,
        custom_data=_custom_data(custom_data),
        parent_call_id=parent_call_id,
    )
    _create(account_id, [leg])
    return leg


# --- what happened on a leg -------------------------------------------------------------------------------


ACTION_EVENTS = {
    "PLAY_FINISHED",
    "SAY_FINISHED",
    "DTMF_CAPTURED",
    "ERROR",
    "MEDIA_STREAM_STARTED",
    "MEDIA_STREAM_FINISHED",
    "MEDIA_STREAM_FAILED",
}


def action_event(account_id: str, call_id: str, event_type: str, properties: Mapping[str, Any]) -> None:
    """An action's outcome on the leg (PLAY_FINISHED, SAY_FINISHED, DTMF_CAPTURED, ERROR), routed like the leg's
    other events (its calls configuration, application, entity) and ordered with them."""
    if event_type not in ACTION_EVENTS:
        raise ValueError(f"{event_type} is not an action event")
    record = get_call(account_id, call_id)
    publish(
        account_id,
        [
            NewEvent(
                event_type,
                call_id=call_id,
                calls_configuration_id=record.calls_configuration_id,
                application_id=record.application_id,
                entity_id=record.entity_id,
                properties={key: value for key, value in properties.items() if value is not None},
            )
        ],
    )


# --- reading legs -------------------------------------------------------------------------------------------


def get_call(account_id: str, call_id: str) -> CallRecord:
    record = repository.get(account_id, call_id) if call_id else None
    if record is None:
        raise CallNotFound(call_id)
    return record


def _matches(record: CallRecord, query: CallQuery) -> bool:
    if query.bulkId:
        return False  # no leg is in a bulk yet
    if query.dialogId is not None and query.dialogId != record.dialog_id:
        return False
    if query.conferenceId is not None and query.conferenceId not in (record.conference_id, *record.conference_ids):
        return False
    wanted: list[tuple[object, object]] = [
        (query.type, record.endpoint.type),
        (query.callsConfigurationId, record.calls_configuration_id),
        (query.applicationId, record.application_id),
        (query.from_, record.from_),
        (query.to, record.to),
        (query.direction, record.direction),
        (query.status, record.state),
    ]
    if any(value is not None and value != actual for value, actual in wanted):
        return False
    if query.startTimeAfter is None:
        return True
    shown = record.start_time.replace(microsecond=record.start_time.microsecond // 1000 * 1000)
    return shown > query.startTimeAfter  # at the milliseconds Infobip shows: a startTime read back excludes its call


def _find(account_id: str, query: CallQuery, *, finished: bool) -> list[CallRecord]:
    """The account's live (or finished) legs that match, newest first.

    One query of the account's CallLeg partition, filtered here: an account has few live legs, and its history
    is bounded by the retention (`repository.HISTORY_RETENTION`). An index per filter is not worth it until an
    account's history outgrows one query.
    """
    found = [r for r in repository.of_account(account_id) if r.is_terminal is finished and _matches(r, query)]
    return sorted(found, key=lambda r: (r.start_time, r.call_id), reverse=True)


def list_calls(account_id: str, query: CallQuery, page: int, size: int) -> dict[str, Any]:
    """`GET /calls/1/calls`: the live legs (not in a terminal state) as Infobip's `CallPage`."""
    items, paging = page_of(_find(account_id, query, finished=False), page, size)
    return CallPage(results=[_call(r) for r in items], paging=PageInfo(**paging)).wire()


def list_call_logs(account_id: str, query: CallQuery, page: int, size: int) -> dict[str, Any]:
    """`GET /calls/1/calls/history`: the finished legs as Infobip's `CallLogPage`."""
    items, paging = page_of(_find(account_id, query, finished=True), page, size)
    return CallLogPage(results=[_call_log(r) for r in items], paging=PageInfo(**paging)).wire()


def get_call_log(account_id: str, call_id: str) -> dict[str, Any]:
    """`GET /calls/1/calls/{callId}/history`: a finished leg's `CallLog`; a live leg has no history yet (404)."""
    record = get_call(account_id, call_id)
    if not record.is_terminal:
        raise CallNotFound(call_id)
    return to_call_log(record)


# --- changing a leg -----------------------------------------------------------------------------------------

Decision = Callable[[CallRecord], tuple[CallRecord, str]]


def _stage_change(record: CallRecord, previous: CallState) -> Callable[[Any], None]:
    return lambda transaction: repository.stage_change(transaction, record, previous)


def _change(account_id: str, call_id: str, decide: Decision) -> CallRecord:
    """Apply `decide` to the leg as stored; on a lost race, decide again on what won (see the module docstring)."""
    current = get_call(account_id, call_id)
    for _ in range(_MAX_ATTEMPTS):
        updated, event_type = decide(current)  # raises the domain error when the change is not legal now
        try:
            publish(account_id, [_event(event_type, updated)], _stage_change(updated, current.state))
        except TransactWriteError:
            latest = get_call(account_id, call_id)
            if latest.state is current.state:
                raise  # not our condition: let the outbox's error surface
            current = latest
            continue
        return updated
    raise IllegalTransition(current.state, "changed", "The call is changing too fast; try again.")


def _move(target: CallState) -> Decision:
    def decide(record: CallRecord) -> tuple[CallRecord, str]:
        event_type = states.transition_event(record.state, target)
        now = clock.now()
        changes: dict[str, Any] = {"state": target}
        if target in (states.RINGING, states.PRE_ESTABLISHED) and record.ring_time is None:
            changes["ring_time"] = now
        if target is states.ESTABLISHED:
            changes["answer_time"] = now
        return replace(record, **changes), event_type

    return decide


def _end(error_code: str, source: HangupSource | None, ending: Callable[..., states.Ending]) -> Decision:
    def decide(record: CallRecord) -> tuple[CallRecord, str]:
        end = ending(record.state, record.direction, error_code)
        updated = replace(
            record, state=end.state, end_time=clock.now(), error_code=end.error_code.name, hangup_source=source
        )
        return updated, end.event

    return decide


def ringing(account_id: str, call_id: str) -> CallRecord:
    """The callee's device rings (CALL_RINGING)."""
    return _change(account_id, call_id, _move(states.RINGING))


def pre_establish(account_id: str, call_id: str) -> CallRecord:
    """Early media flows before answer (CALL_PRE_ESTABLISHED)."""
    return _change(account_id, call_id, _move(states.PRE_ESTABLISHED))


def establish(account_id: str, call_id: str) -> CallRecord:
    """The leg is answered (CALL_ESTABLISHED)."""
    return _change(account_id, call_id, _move(states.ESTABLISHED))


def hangup(
    account_id: str, call_id: str, error_code: str = "NORMAL_HANGUP", *, source: HangupSource | None = None
) -> CallRecord:
    """End the leg; the error code decides the terminal state and event (see `states.hangup_ending`):
    NORMAL_HANGUP → FINISHED (CANCELLED before answer), BUSY/REJECTED → BUSY, NO_ANSWER, CANCELLED, failures → FAILED.
    """
    return _change(account_id, call_id, _end(error_code, source, states.hangup_ending))


def fail(account_id: str, call_id: str, error_code: str, *, source: HangupSource | None = None) -> CallRecord:
    """End the leg as FAILED (CALL_FAILED) with a failure code such as MEDIA_ERROR or SERVICE_UNAVAILABLE."""
    return _change(account_id, call_id, _end(error_code, source, states.failure_ending))
