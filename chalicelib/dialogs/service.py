"""Dialogs: create them (DIALOG_CREATED), follow them (ESTABLISHED, FINISHED or FAILED), read them.

Every change and its events are one outbox transaction on the dialog item (conditioned on its version); creating a
dialog also names it on both legs (`dialogId`), on condition that neither is in a conference or another dialog, so
a dialog never takes a third party and a call is never in two.

Callers: the Calls API operations (create, read) and the media node that bridges the dialog (pre-established,
established, ended, the outcome of playing into it). Every function takes the owning account; another account's
dialog is unknown (404).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.calls import repository as calls_repository
from chalicelib.calls import service as calls_service
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import Call, Platform
from chalicelib.core import clock, ids
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.core.settings import get_settings
from chalicelib.db.base import transaction
from chalicelib.dialogs import repository
from chalicelib.dialogs.repository import DialogRecord
from chalicelib.dialogs.schemas import (
    LIVE_STATES,
    Dialog,
    DialogCreatedProperties,
    DialogLog,
    DialogLogPage,
    DialogPage,
    DialogProperties,
    DialogQuery,
    DialogWithErrorCodeProperties,
)
from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish

_MAX_ATTEMPTS = 4
ACTION_EVENTS = frozenset({"PLAY_FINISHED", "SAY_FINISHED", "ERROR"})


class DialogNotFound(NotFound):
    def __init__(self, dialog_id: str):
        super().__init__(f"Dialog {dialog_id!r} was not found.")


class DialogFinished(Conflict):
    def __init__(self, dialog_id: str):
        super().__init__(f"Dialog {dialog_id!r} has finished.")


# --- Infobip's views ----------------------------------------------------------------------------------------


def _time(value: Any) -> str | None:
    return clock.infobip_format(value) if value is not None else None


def _platform(record: DialogRecord) -> Platform | None:
    if not (record.application_id or record.entity_id):
        return None
    return Platform(applicationId=record.application_id, entityId=record.entity_id)


def _call(account_id: str, call_id: str, known: Mapping[str, CallRecord]) -> Call | None:
    leg = known.get(call_id) or calls_repository.get(account_id, call_id)
    return Call.model_validate(calls_service.to_infobip(leg)) if leg is not None else None


def _dialog(record: DialogRecord, known: Mapping[str, CallRecord] | None = None) -> Dialog:
    known = known or {}
    return Dialog(
        id=record.dialog_id,
        callsConfigurationId=record.calls_configuration_id,
        platform=_platform(record),
        state=record.state,  # type: ignore[arg-type]
        startTime=_time(record.start_time),
        establishTime=_time(record.establish_time),
        endTime=_time(record.end_time),
        parentCall=_call(record.account_id, record.parent_call_id, known),
        childCall=_call(record.account_id, record.child_call_id, known),
    )


def to_infobip(record: DialogRecord) -> dict[str, Any]:
    return _dialog(record).wire()


def _log(record: DialogRecord) -> DialogLog:
    duration = None
    if record.end_time is not None:
        duration = 0
        if record.establish_time is not None:
            duration = max(0, round((record.end_time - record.establish_time).total_seconds()))
    return DialogLog(
        dialogId=record.dialog_id,
        callsConfigurationId=record.calls_configuration_id,
        platform=_platform(record),
        state=record.state,  # type: ignore[arg-type]
        startTime=_time(record.start_time),
        establishTime=_time(record.establish_time),
        endTime=_time(record.end_time),
        parentCallId=record.parent_call_id,
        childCallId=record.child_call_id,
        duration=duration,
        errorCode=calls_service.error_code_info(record.error_code),
        hangupSource=record.hangup_source,  # type: ignore[arg-type]
    )


def _event(event_type: str, record: DialogRecord, properties: dict[str, Any] | None) -> NewEvent:
    return NewEvent(
        event_type,
        dialog_id=record.dialog_id,
        calls_configuration_id=record.calls_configuration_id,
        application_id=record.application_id,
        entity_id=record.entity_id,
        properties=properties,
    )


# --- creating and reading -----------------------------------------------------------------------------------


def live_dialog_of(call: CallRecord) -> DialogRecord | None:
    """The dialog the call is in now (None when it was never in one, or that one has ended)."""
    if call.dialog_id is None:
        return None
    record = repository.get(call.account_id, call.dialog_id)
    return record if record is not None and not record.finished else None


def ensure_free(call: CallRecord) -> None:
    """409 unless the call is in no conference and no live dialog: a dialog never takes a third party."""
    if call.conference_id is not None:
        raise Conflict(f"Call {call.call_id!r} is in conference {call.conference_id!r}: remove it from there first.")
    if live_dialog_of(call) is not None:
        raise Conflict(f"Call {call.call_id!r} is in dialog {call.dialog_id!r}; a dialog never takes a third party.")


def create(
    account_id: str,
    parent: CallRecord,
    child: CallRecord,
    *,
    max_duration: int,
    node_id: str | None,
) -> DialogRecord:
    """DIALOG_CREATED, with both legs named in it (409 when either is in a conference or another dialog now)."""
    for call in (parent, child):
        ensure_free(call)
    assert parent.calls_configuration_id is not None
    record = DialogRecord(
        account_id=account_id,
        dialog_id=ids.uuid_id(),
        calls_configuration_id=parent.calls_configuration_id,
        parent_call_id=parent.call_id,
        child_call_id=child.call_id,
        start_time=clock.now(),
        max_duration=max_duration,
        application_id=parent.application_id,
        entity_id=parent.entity_id,
        node_id=node_id,
    )
    known = {call.call_id: replace(call, dialog_id=record.dialog_id) for call in (parent, child)}
    properties = DialogCreatedProperties(
        dialog=_dialog(record, known), apiBaseUrl=get_settings().public_base_url
    ).wire()

    def stage(transaction: Any) -> None:
        repository.stage_new(transaction, record)
        for call in (parent, child):
            calls_repository.stage_dialog(transaction, account_id, call.call_id, record.dialog_id, call.dialog_id)

    try:
        publish(account_id, [_event("DIALOG_CREATED", record, properties)], stage)
    except TransactWriteError:
        raise Conflict("A call of the dialog joined a conference or another dialog meanwhile.") from None
    return record


def get_dialog(account_id: str, dialog_id: str) -> DialogRecord:
    record = repository.get(account_id, dialog_id) if dialog_id else None
    if record is None:
        raise DialogNotFound(dialog_id)
    return record


def _matches(record: DialogRecord, query: DialogQuery) -> bool:
    wanted: list[tuple[object, object]] = [
        (query.callsConfigurationId, record.calls_configuration_id),
        (query.applicationId, record.application_id),
        (query.state, record.state),
        (query.parentCallId, record.parent_call_id),
        (query.childCallId, record.child_call_id),
    ]
    if any(value is not None and value != actual for value, actual in wanted):
        return False
    if query.startTimeAfter is not None and not record.start_time > query.startTimeAfter:
        return False
    return query.endTimeBefore is None or (record.end_time is not None and record.end_time < query.endTimeBefore)


def _find(account_id: str, query: DialogQuery, *, finished: bool) -> list[DialogRecord]:
    found = [r for r in repository.of_account(account_id) if r.finished is finished and _matches(r, query)]
    return sorted(found, key=lambda r: (r.start_time, r.dialog_id), reverse=True)


def list_dialogs(account_id: str, query: DialogQuery, page: int, size: int) -> dict[str, Any]:
    items, paging = page_of(_find(account_id, query, finished=False), page, size)
    return DialogPage(results=[_dialog(r) for r in items], paging=PageInfo(**paging)).wire()


def list_history(account_id: str, query: DialogQuery, page: int, size: int) -> dict[str, Any]:
    items, paging = page_of(_find(account_id, query, finished=True), page, size)
    return DialogLogPage(results=[_log(r) for r in items], paging=PageInfo(**paging)).wire()


def get_history(account_id: str, dialog_id: str) -> dict[str, Any]:
    record = get_dialog(account_id, dialog_id)
    if not record.finished:
        raise DialogNotFound(dialog_id)
    return _log(record).wire()


# --- what the media node reports ----------------------------------------------------------------------------

Change = tuple[DialogRecord, list[NewEvent]]


def _change(account_id: str, dialog_id: str, decide: Callable[[DialogRecord], Change]) -> DialogRecord:
    current = get_dialog(account_id, dialog_id)
    for _ in range(_MAX_ATTEMPTS):
        updated, events = decide(current)
        if updated is current:
            return current
        updated = replace(updated, version=current.version + 1)

        def stage(transaction: Any, updated: DialogRecord = updated) -> None:
            repository.stage_change(transaction, updated)

        try:
            if events:
                publish(account_id, events, stage)
            else:  # a change of state Infobip has no event for
                with transaction() as write:
                    stage(write)
        except TransactWriteError:
            latest = get_dialog(account_id, dialog_id)
            if latest.version == current.version:
                raise
            current = latest
            continue
        return updated
    raise Conflict("The dialog is changing too fast; try again.")


def pre_established(account_id: str, dialog_id: str) -> DialogRecord:
    """The parent hears early media for the child (PRE_ESTABLISHED; Infobip has no event for it)."""

    def decide(record: DialogRecord) -> Change:
        if record.state != "CREATED":
            return record, []
        return replace(record, state="PRE_ESTABLISHED"), []

    return _change(account_id, dialog_id, decide)


def established(account_id: str, dialog_id: str) -> DialogRecord:
    """The child answered and the two calls are bridged (DIALOG_ESTABLISHED)."""

    def decide(record: DialogRecord) -> Change:
        if record.state not in ("CREATED", "PRE_ESTABLISHED"):
            return record, []
        updated = replace(record, state="ESTABLISHED", establish_time=clock.now())
        return updated, [_event("DIALOG_ESTABLISHED", updated, DialogProperties(dialog=_dialog(updated)).wire())]

    return _change(account_id, dialog_id, decide)


def ended(
    account_id: str, dialog_id: str, error_code: str, hangup_source: str, *, failed: bool = False
) -> DialogRecord:
    """A call of the dialog ended: DIALOG_FINISHED, or DIALOG_FAILED when it was never established."""

    def decide(record: DialogRecord) -> Change:
        if record.state not in LIVE_STATES:
            return record, []
        state = "FAILED" if failed or record.state != "ESTABLISHED" else "FINISHED"
        updated = replace(record, state=state, end_time=clock.now(), error_code=error_code, hangup_source=hangup_source)
        properties = DialogWithErrorCodeProperties(
            dialog=_dialog(updated),
            errorCode=calls_service.error_code_info(error_code),
            hangupSource=hangup_source,  # type: ignore[arg-type]
        ).wire()
        return updated, [_event(f"DIALOG_{state}", updated, properties)]

    return _change(account_id, dialog_id, decide)


def action_event(account_id: str, dialog_id: str, event_type: str, properties: Mapping[str, Any]) -> None:
    """The outcome of playing or saying into the dialog (PLAY_FINISHED, SAY_FINISHED, ERROR)."""
    if event_type not in ACTION_EVENTS:
        raise ValueError(f"{event_type} is not a dialog action event")
    record = get_dialog(account_id, dialog_id)
    properties = {key: value for key, value in properties.items() if value is not None}
    publish(account_id, [_event(event_type, record, properties)])
