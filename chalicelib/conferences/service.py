"""Conferences: create them, move calls in and out (JOINING → JOINED → LEFT), follow their media, end them.

Every change and its events are one outbox transaction on the conference item (conditioned on its version) and,
when a call joins or leaves, on the call's leg (`conferenceId`). A conference finishes when its last participant
leaves (CONFERENCE_FINISHED) and is never reopened.

Callers: the Calls API operations (create, add, update) and the media node that mixes the conference (joined,
removed, media changed, talking, the outcome of playing into it). Every function takes the owning account; another
account's conference is unknown (404).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter
from pynamodb.exceptions import TransactWriteError

from chalicelib.calls import repository as calls_repository
from chalicelib.calls import service as calls_service
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import (
    AudioMediaProperties,
    CallEndpoint,
    MediaProperties,
    Platform,
    VideoMediaProperties,
)
from chalicelib.conferences import repository
from chalicelib.conferences.repository import ConferenceRecord, ParticipantRecord
from chalicelib.conferences.schemas import (
    MAX_PARTICIPANTS,
    Conference,
    ConferenceLog,
    ConferenceLogPage,
    ConferencePage,
    ConferenceProperties,
    ConferenceQuery,
    ConferenceWithErrorCodeProperties,
    Participant,
    ParticipantProperties,
    ParticipantSession,
    ParticipantWithReasonProperties,
)
from chalicelib.core import clock, ids
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.core.settings import get_settings
from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish

_MAX_ATTEMPTS = 4
_ENDPOINT: TypeAdapter[CallEndpoint] = TypeAdapter(CallEndpoint)
ACTION_EVENTS = frozenset({"PLAY_FINISHED", "SAY_FINISHED", "ERROR"})


class ConferenceNotFound(NotFound):
    def __init__(self, conference_id: str):
        super().__init__(f"Conference {conference_id!r} was not found.")


class ConferenceFinished(Conflict):
    def __init__(self, conference_id: str):
        super().__init__(f"Conference {conference_id!r} has finished; a finished conference is never reopened.")


# --- Infobip's views ----------------------------------------------------------------------------------------


def _time(value: Any) -> str | None:
    return clock.infobip_format(value) if value is not None else None


def _platform(record: ConferenceRecord) -> Platform | None:
    if not (record.application_id or record.entity_id):
        return None
    return Platform(applicationId=record.application_id, entityId=record.entity_id)


def _participant(p: ParticipantRecord) -> Participant:
    return Participant(
        callId=p.call_id,
        endpoint=_ENDPOINT.validate_python(json.loads(p.endpoint)),
        state=p.state,  # type: ignore[arg-type]
        joinTime=_time(p.join_time),
        leaveTime=_time(p.leave_time),
        media=MediaProperties(
            audio=AudioMediaProperties(muted=p.muted, userMuted=False, deaf=p.deaf),
            video=VideoMediaProperties(camera=False, screenShare=False, blind=False),
        ),
    )


def _conference(record: ConferenceRecord) -> Conference:
    """The live view: who is in it now (joining or joined)."""
    return Conference(
        id=record.conference_id,
        name=record.name,
        participants=[_participant(p) for p in record.present],
        callsConfigurationId=record.calls_configuration_id,
        platform=_platform(record),
    )


def to_infobip(record: ConferenceRecord) -> dict[str, Any]:
    return _conference(record).wire()


def _log(record: ConferenceRecord) -> ConferenceLog:
    duration = None
    if record.end_time is not None:
        duration = max(0, round((record.end_time - record.start_time).total_seconds()))
    return ConferenceLog(
        conferenceId=record.conference_id,
        name=record.name,
        platform=_platform(record),
        startTime=_time(record.start_time),
        endTime=_time(record.end_time),
        duration=duration,
        sessions=[
            ParticipantSession(callId=p.call_id, joinTime=_time(p.join_time), leaveTime=_time(p.leave_time))
            for p in record.participants
            if p.join_time is not None
        ],
        errorCode=calls_service.error_code_info(record.error_code),
    )


def _event(
    event_type: str, record: ConferenceRecord, properties: dict[str, Any] | None, call_id: str | None = None
) -> NewEvent:
    return NewEvent(
        event_type,
        call_id=call_id,
        conference_id=record.conference_id,
        calls_configuration_id=record.calls_configuration_id,
        application_id=record.application_id,
        entity_id=record.entity_id,
        properties=properties,
    )


def _participant_event(event_type: str, record: ConferenceRecord, p: ParticipantRecord, reason: str | None = None):
    if event_type in ("PARTICIPANT_JOINING", "PARTICIPANT_JOINED"):
        properties = ParticipantProperties(participant=_participant(p)).wire()
    else:
        properties = ParticipantWithReasonProperties(participant=_participant(p), reason=reason).wire()
    return _event(event_type, record, properties, call_id=p.call_id)


def _finished_event(record: ConferenceRecord) -> NewEvent:
    properties = ConferenceWithErrorCodeProperties(
        conference=_conference(record), errorCode=calls_service.error_code_info(record.error_code)
    ).wire()
    return _event("CONFERENCE_FINISHED", record, properties)


# --- creating and reading -----------------------------------------------------------------------------------


def create(
    account_id: str,
    calls_configuration_id: str,
    *,
    name: str | None = None,
    max_duration: int = 28800,
    application_id: str | None = None,
    entity_id: str | None = None,
) -> ConferenceRecord:
    conference_id = ids.uuid_id()
    record = ConferenceRecord(
        account_id=account_id,
        conference_id=conference_id,
        name=name or f"conference-{conference_id[:8]}",
        calls_configuration_id=calls_configuration_id,
        start_time=clock.now(),
        max_duration=max_duration,
        application_id=application_id,
        entity_id=entity_id,
    )
    properties = ConferenceProperties(conference=_conference(record), apiBaseUrl=get_settings().public_base_url).wire()
    publish(
        account_id,
        [_event("CONFERENCE_CREATED", record, properties)],
        lambda transaction: repository.stage_new(transaction, record),
    )
    return record


def ends_at(record: ConferenceRecord) -> float:
    """When the conference's maxDuration is up (Unix seconds): the node that mixes it hangs everyone up then."""
    return record.start_time.timestamp() + record.max_duration


def get_conference(account_id: str, conference_id: str) -> ConferenceRecord:
    record = repository.get(account_id, conference_id) if conference_id else None
    if record is None:
        raise ConferenceNotFound(conference_id)
    return record


def _matches(record: ConferenceRecord, query: ConferenceQuery) -> bool:
    wanted: list[tuple[object, object]] = [
        (query.name, record.name),
        (query.callsConfigurationId, record.calls_configuration_id),
        (query.applicationId, record.application_id),
    ]
    if any(value is not None and value != actual for value, actual in wanted):
        return False
    if query.callId is not None and record.participant(query.callId) is None:
        return False
    if query.startTimeAfter is not None and not record.start_time > query.startTimeAfter:
        return False
    return query.endTimeBefore is None or (record.end_time is not None and record.end_time < query.endTimeBefore)


def _find(account_id: str, query: ConferenceQuery, *, finished: bool) -> list[ConferenceRecord]:
    found = [r for r in repository.of_account(account_id) if r.finished is finished and _matches(r, query)]
    return sorted(found, key=lambda r: (r.start_time, r.conference_id), reverse=True)


def list_conferences(account_id: str, query: ConferenceQuery, page: int, size: int) -> dict[str, Any]:
    items, paging = page_of(_find(account_id, query, finished=False), page, size)
    return ConferencePage(results=[_conference(r) for r in items], paging=PageInfo(**paging)).wire()


def list_history(account_id: str, query: ConferenceQuery, page: int, size: int) -> dict[str, Any]:
    items, paging = page_of(_find(account_id, query, finished=True), page, size)
    return ConferenceLogPage(results=[_log(r) for r in items], paging=PageInfo(**paging)).wire()


def get_history(account_id: str, conference_id: str) -> dict[str, Any]:
    record = get_conference(account_id, conference_id)
    if not record.finished:
        raise ConferenceNotFound(conference_id)
    return _log(record).wire()


# --- changing a conference ----------------------------------------------------------------------------------

Change = tuple[ConferenceRecord, list[NewEvent], list[Callable[[Any], None]]]
Decision = Callable[[ConferenceRecord], Change]


def _change(account_id: str, conference_id: str, decide: Decision) -> ConferenceRecord:
    current = get_conference(account_id, conference_id)
    for _ in range(_MAX_ATTEMPTS):
        updated, events, writes = decide(current)
        if not events:
            return current
        updated = replace(updated, version=current.version + 1)

        def stage(transaction: Any, updated: ConferenceRecord = updated, writes: list[Any] = writes) -> None:
            repository.stage_change(transaction, updated)
            for write in writes:
                write(transaction)

        try:
            publish(account_id, events, stage)
        except TransactWriteError:
            latest = get_conference(account_id, conference_id)
            if latest.version == current.version:
                raise
            current = latest
            continue
        return updated
    raise Conflict("The conference is changing too fast; try again.")


def _with(record: ConferenceRecord, participant: ParticipantRecord) -> ConferenceRecord:
    """`record` with the call's latest session replaced by `participant` (or added)."""
    participants = list(record.participants)
    for index in range(len(participants) - 1, -1, -1):
        if participants[index].call_id == participant.call_id and participants[index].present:
            participants[index] = participant
            return replace(record, participants=tuple(participants))
    return replace(record, participants=(*participants, participant))


def _join_leg(account_id: str, call_id: str, conference_id: str) -> Callable[[Any], None]:
    return lambda transaction: calls_repository.stage_conference(transaction, account_id, call_id, conference_id)


def _leave_leg(account_id: str, call_id: str) -> Callable[[Any], None]:
    return lambda transaction: calls_repository.stage_conference(transaction, account_id, call_id, None)


def _finish_if_empty(
    record: ConferenceRecord, events: list[NewEvent], error_code: str = "NORMAL_HANGUP"
) -> ConferenceRecord:
    if record.present or record.finished:
        return record
    ended = replace(record, end_time=clock.now(), error_code=error_code)
    events.append(_finished_event(ended))
    return ended


def add_participant(account_id: str, conference_id: str, call: CallRecord, *, dialed: bool = False) -> ConferenceRecord:
    """The call starts joining (PARTICIPANT_JOINING); the node that mixes the conference reports when it joined.
    The conference is mixed on the node that has its first participant: a call on another node cannot join.

    `dialed`: a new call placed to join; it may have answered and joined already (then nothing changes)."""

    def decide(record: ConferenceRecord) -> Change:
        mine = record.participant(call.call_id)
        if dialed and mine is not None:
            return record, [], []
        if record.finished:
            raise ConferenceFinished(conference_id)
        if mine is not None and mine.present:
            raise Conflict(f"Call {call.call_id!r} is already in this conference.")
        if call.conference_id not in (None, conference_id):
            raise Conflict(
                f"Call {call.call_id!r} is in conference {call.conference_id!r}: remove it from there first."
            )
        if len(record.present) >= MAX_PARTICIPANTS:
            raise Conflict(f"A conference has at most {MAX_PARTICIPANTS} participants.")
        node_id = record.node_id if record.present else None
        if node_id is not None and call.node_id is not None and call.node_id != node_id:
            raise Conflict("The call is handled by another media node than the conference; it cannot join it.")
        participant = ParticipantRecord(call.call_id, json.dumps(call.endpoint.wire()), "JOINING")
        updated = replace(_with(record, participant), node_id=node_id or call.node_id)
        write = _join_leg(account_id, call.call_id, conference_id)
        return updated, [_participant_event("PARTICIPANT_JOINING", updated, participant)], [write]

    return _change(account_id, conference_id, decide)


def joined(account_id: str, conference_id: str, call_id: str) -> ConferenceRecord:
    """The node mixes the call into the conference now (PARTICIPANT_JOINED)."""

    def decide(record: ConferenceRecord) -> Change:
        mine = record.participant(call_id)
        if mine is not None and mine.state == "JOINED":
            return record, [], []
        events, writes = [], []
        if mine is None or mine.state != "JOINING":
            # a call dialed into the conference that answered before its JOINING was recorded (see
            # `add_participant`'s `dialed`): it joins with both events, in order
            call = calls_service.get_call(account_id, call_id)
            mine = ParticipantRecord(call_id, json.dumps(call.endpoint.wire()), "JOINING")
            events.append(_participant_event("PARTICIPANT_JOINING", _with(record, mine), mine))
            writes.append(_join_leg(account_id, call_id, conference_id))
        participant = replace(mine, state="JOINED", join_time=clock.now())
        updated = _with(record, participant)
        events.append(_participant_event("PARTICIPANT_JOINED", updated, participant))
        return updated, events, writes

    return _change(account_id, conference_id, decide)


def left(
    account_id: str,
    conference_id: str,
    call_id: str,
    reason: str,
    *,
    failed: bool = False,
    error_code: str = "NORMAL_HANGUP",
) -> ConferenceRecord:
    """The call is out of the conference: removed, hung up, or (`failed`) it never joined (PARTICIPANT_JOIN_FAILED).
    The last one out finishes the conference, with `error_code` (the reaper's when the node mixing it died)."""

    def decide(record: ConferenceRecord) -> Change:
        mine = record.participant(call_id)
        if mine is None or not mine.present:
            return record, [], []
        participant = replace(mine, state="LEFT", leave_time=clock.now())
        event_type = "PARTICIPANT_JOIN_FAILED" if failed else "PARTICIPANT_REMOVED"
        updated = _with(record, participant)
        events = [_participant_event(event_type, updated, participant, reason)]
        updated = _finish_if_empty(updated, events, error_code)
        return updated, events, [_leave_leg(account_id, call_id)]

    return _change(account_id, conference_id, decide)


def media_changed(account_id: str, conference_id: str, call_id: str, muted: bool, deaf: bool) -> ConferenceRecord:
    """A participant is muted / deafened or no longer (PARTICIPANT_MEDIA_CHANGED)."""

    def decide(record: ConferenceRecord) -> Change:
        mine = record.participant(call_id)
        if mine is None or not mine.present or (mine.muted, mine.deaf) == (muted, deaf):
            return record, [], []
        participant = replace(mine, muted=muted, deaf=deaf)
        updated = _with(record, participant)
        media = _participant(participant).media
        assert media is not None
        return updated, [_event("PARTICIPANT_MEDIA_CHANGED", updated, media.wire(), call_id=call_id)], []

    return _change(account_id, conference_id, decide)


def talking(account_id: str, conference_id: str, call_id: str, started: bool) -> None:
    """Voice activity of a participant (PARTICIPANT_STARTED_TALKING / STOPPED_TALKING): events only, no state."""
    record = get_conference(account_id, conference_id)
    event_type = "PARTICIPANT_STARTED_TALKING" if started else "PARTICIPANT_STOPPED_TALKING"
    publish(account_id, [_event(event_type, record, None, call_id=call_id)])


def action_event(account_id: str, conference_id: str, event_type: str, properties: Mapping[str, Any]) -> None:
    """The outcome of playing or saying into the conference (PLAY_FINISHED, SAY_FINISHED, ERROR)."""
    if event_type not in ACTION_EVENTS:
        raise ValueError(f"{event_type} is not a conference action event")
    record = get_conference(account_id, conference_id)
    properties = {key: value for key, value in properties.items() if value is not None}
    publish(account_id, [_event(event_type, record, properties)])


def finish(account_id: str, conference_id: str, error_code: str = "NORMAL_HANGUP") -> ConferenceRecord:
    """End a conference nobody is in (hung up before anyone joined); with participants, the node ends it by hanging
    them up."""

    def decide(record: ConferenceRecord) -> Change:
        if record.finished or record.present:
            return record, [], []
        ended = replace(record, end_time=clock.now(), error_code=error_code)
        return ended, [_finished_event(ended)], []

    return _change(account_id, conference_id, decide)
