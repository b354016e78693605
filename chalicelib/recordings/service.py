"""Recording rules: the files the media node records, their events, and what the Calls API reads and deletes.

Lifecycle of a file: RECORDING (the node writes it) → UPLOADING (stopped, going to S3) → READY (stored and
downloadable) or FAILED; DELETED keeps the item as a tombstone. A recording (one start/stop) is READY when every
one of its files is settled: `*_RECORDING_READY` then (its files stored), `*_RECORDING_FAILED` when none could be.
A file cut short by the node (failure, shutdown) is stored as far as it got, with `interrupted` and a reason.

Reads group files as Infobip does: a call's recording lists every file recorded on the call; a conference's (and a
dialog's) has its composed files and one `CallRecording` per participant. Only READY files are listed; a FAILED
one counts in the recording's status. Every function takes the owning account: another account's ids are unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition

from chalicelib.calls.schemas import CallDirection, Platform, WebRtcEndpoint
from chalicelib.contract.control import StartRecordingRequest
from chalicelib.core import clock
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.db.models import RecordingFile
from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish
from chalicelib.recordings import repository, schemas
from chalicelib.recordings.errors import RecordingFileNotFound, RecordingFileUnavailable, RecordingNotFound

SETTLED = frozenset({"READY", "FAILED", "DELETED"})
EXTENSIONS = {"AUDIO": "WAV", "AUDIO_AND_VIDEO": "MP4"}


# --- Infobip's views ----------------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return clock.infobip_format(value) if value is not None else None


def to_file(item: RecordingFile) -> schemas.RecordingFile:
    return schemas.RecordingFile(
        id=item.file_id,
        name=item.name,
        fileFormat=item.file_format,  # type: ignore[arg-type]
        size=int(item.size) if item.size is not None else None,
        creationTime=_time(item.created_at),
        duration=int(item.duration) if item.duration is not None else None,
        startTime=_time(item.start_time),
        endTime=_time(item.end_time),
        location=item.location,  # type: ignore[arg-type]
        sftpUploadStatus=item.sftp_upload_status,  # type: ignore[arg-type]
        sftpUploadFailure=sftp_failure(item),
        customData=custom_data(item),
    )


def sftp_failure(item: RecordingFile) -> schemas.SftpUploadFailure | None:
    """The failure shown on a file whose SFTP export is FAILED (`chalicelib.recordings.export`)."""
    if item.sftp_upload_status != "FAILED" or not item.sftp_error_reason:
        return None
    next_attempt = item.sftp_next_attempt_at
    return schemas.SftpUploadFailure(
        reason=item.sftp_error_reason,
        message=item.sftp_error,
        attempts=int(item.sftp_attempts or 1),
        nextAttemptTime=clock.infobip_format(next_attempt) if next_attempt is not None else None,
    )


def custom_data(item: RecordingFile) -> dict[str, str] | None:
    return {str(k): str(v) for k, v in item.custom_data.as_dict().items()} if item.custom_data else None


def _platform(item: RecordingFile) -> Platform | None:
    if not (item.application_id or item.entity_id):
        return None
    return Platform(applicationId=item.application_id, entityId=item.entity_id)


def _status(items: Sequence[RecordingFile]) -> tuple[str, str | None]:
    failed = [item for item in items if item.status == "FAILED"]
    reasons = "; ".join(sorted({item.reason for item in items if item.reason}))
    if not failed:
        return "SUCCESSFUL", reasons or None
    return ("FAILED" if len(failed) == len(items) else "PARTIALLY_FAILED"), reasons or None


def _span(items: Sequence[RecordingFile]) -> tuple[str | None, str | None]:
    ends = [item.end_time for item in items if item.end_time is not None]
    return _time(min(item.start_time for item in items)), _time(max(ends)) if ends else None


def _leg(account_id: str, call_id: str) -> Any:
    from chalicelib.calls import repository as calls_repository

    return calls_repository.get(account_id, call_id)


def call_recording(account_id: str, call_id: str, items: Sequence[RecordingFile]) -> schemas.CallRecording:
    """`CallRecording` of `call_id` over `items` (settled, not deleted). A leg that is not on record (a node's own
    test legs) shows as a WEBRTC endpoint named by its id."""
    leg = _leg(account_id, call_id)
    status, reason = _status(items)
    start, end = _span(items)
    first = items[0]
    return schemas.CallRecording(
        callId=call_id,
        endpoint=leg.endpoint if leg is not None else WebRtcEndpoint(identity=call_id),
        direction=leg.direction if leg is not None else CallDirection.INBOUND,
        files=[to_file(item) for item in _listed(items)],
        status=status,  # type: ignore[arg-type]
        reason=reason,
        callsConfigurationId=first.calls_configuration_id,
        platform=_platform(first),
        startTime=start,
        endTime=end,
    )


def group_recording(account_id: str, scope_id: str, items: Sequence[RecordingFile]) -> schemas.ConferenceRecording:
    """A conference's (or dialog's) recording: composed files, and each participant's files as a CallRecording."""
    participants: dict[str, list[RecordingFile]] = {}
    for item in items:
        if not item.composed and item.call_id:
            participants.setdefault(item.call_id, []).append(item)
    start, end = _span(items)
    first = items[0]
    return schemas.ConferenceRecording(
        conferenceId=scope_id,
        conferenceName=_conference_name(account_id, first) if first.scope_type == "CONFERENCE" else None,
        callsConfigurationId=first.calls_configuration_id,
        platform=_platform(first),
        composedFiles=[to_file(item) for item in _listed(items) if item.composed],
        callRecordings=[call_recording(account_id, call_id, files) for call_id, files in participants.items()],
        startTime=start,
        endTime=end,
    )


def _conference_name(account_id: str, item: RecordingFile) -> str | None:
    from chalicelib.conferences import repository as conferences_repository

    record = conferences_repository.get(account_id, item.scope_id)
    return record.name if record is not None else None


def _listed(items: Iterable[RecordingFile]) -> list[RecordingFile]:
    return sorted((item for item in items if item.status == "READY"), key=lambda item: (item.start_time, item.file_id))


# --- events -----------------------------------------------------------------------------------------------------


def recording_event(kind: str, item: RecordingFile, properties: dict[str, Any]) -> NewEvent:
    scope = item.scope_type
    return NewEvent(
        f"{scope}_{kind}",
        call_id=item.scope_id if scope == "CALL" else None,
        conference_id=item.scope_id if scope == "CONFERENCE" else None,
        dialog_id=item.scope_id if scope == "DIALOG" else None,
        calls_configuration_id=item.calls_configuration_id,
        application_id=item.application_id,
        entity_id=item.entity_id,
        properties={key: value for key, value in properties.items() if value is not None},
    )


def recording_view(item: RecordingFile, items: Sequence[RecordingFile], *, event: bool = False) -> dict[str, Any]:
    """The recording as the API answers it; `event`: as a webhook carries it (a dialog's `DialogRecording` names
    its application and entity instead of a `platform`)."""
    if item.scope_type == "CALL":
        return call_recording(item.account_id, item.scope_id, items).wire()
    group = group_recording(item.account_id, item.scope_id, items)
    if item.scope_type != "DIALOG":
        return group.wire()
    view = as_dialog(group).wire()
    if event:
        view.pop("platform", None)
        view.update({"applicationId": item.application_id, "entityId": item.entity_id})
        view = {key: value for key, value in view.items() if value is not None}
    return view


# --- what the media node records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedFile:
    file_id: str
    call_id: str | None  # the participant; None for a composed file
    start_time: datetime


def file_item(
    request: StartRecordingRequest, recording_id: str, planned: PlannedFile, node_id: str | None
) -> RecordingFile:
    file_format = EXTENSIONS[request.recordingType]
    return RecordingFile(
        request.accountId,
        planned.file_id,
        scope_type=request.scope,
        scope_id=request.scopeId,
        recording_id=recording_id,
        call_id=planned.call_id,
        composed=planned.call_id is None,
        status="RECORDING",
        name=f"{planned.file_id}.{file_format.lower()}",
        file_format=file_format,
        recording_type=request.recordingType,
        composition=request.composition,
        start_time=planned.start_time,
        created_at=clock.now(),
        location="HOSTED",
        custom_data=dict(request.customData) if request.customData else None,
        file_prefix=request.filePrefix,
        calls_configuration_id=request.callsConfigurationId,
        application_id=request.applicationId,
        entity_id=request.entityId,
        node_id=node_id,
    )


def recording_started(
    request: StartRecordingRequest, recording_id: str, files: Sequence[PlannedFile], node_id: str | None
) -> None:
    """The node started recording: the files' items (RECORDING) and *_RECORDING_STARTED."""
    items = [file_item(request, recording_id, planned, node_id) for planned in files]
    first = items[0]
    properties: dict[str, Any] = {
        "recordingType": request.recordingType,
        "filePrefix": request.filePrefix,
        "customData": request.customData,
    }
    if request.scope == "CALL":
        properties["fileId"] = first.file_id
        properties["maxDuration"] = request.maxDurationSeconds
    else:
        properties["composition"] = request.composition

    def writes(transaction: Any) -> None:
        for item in items:
            transaction.save(item)

    publish(request.accountId, [recording_event("RECORDING_STARTED", first, properties)], writes)


def participant_file_started(
    request: StartRecordingRequest, recording_id: str, planned: PlannedFile, node: str
) -> None:
    """A participant joined a recorded conference: its own file (no event: the recording has started)."""
    repository.save(file_item(request, recording_id, planned, node))


def recording_stopped(account_id: str, recording_id: str, end_time: datetime) -> None:
    """Recording ended (stop, the call's end, the node's): the files go to storage; *_RECORDING_STOPPED."""
    items = repository.of_recording(account_id, recording_id)
    if not items:
        return
    first = min(items, key=lambda item: item.start_time)
    properties: dict[str, Any] = {"startTime": _time(first.start_time), "endTime": _time(end_time)}
    if first.scope_type == "CALL":
        properties["fileId"] = first.file_id
    for item in items:
        if item.status == "RECORDING":
            item.status, item.end_time = "UPLOADING", item.end_time or end_time

    def writes(transaction: Any) -> None:
        for item in items:
            transaction.save(item)

    publish(account_id, [recording_event("RECORDING_STOPPED", first, properties)], writes)


def file_stored(
    account_id: str,
    file_id: str,
    *,
    object_key: str,
    size: int,
    duration: float,
    end_time: datetime,
    interrupted: str | None = None,
) -> None:
    """The file is in S3: READY (and the recording's READY event once all its files are settled)."""
    item = _item(account_id, file_id)
    item.status, item.object_key, item.size = "READY", object_key, size
    item.duration, item.end_time = round(duration), end_time
    if interrupted:
        item.interrupted, item.reason = True, interrupted
    _settle(item)


def file_failed(account_id: str, file_id: str, reason: str) -> None:
    item = _item(account_id, file_id)
    item.status, item.reason = "FAILED", reason
    item.end_time = item.end_time or clock.now()
    _settle(item)


def file_lost(account_id: str, file_id: str, reason: str) -> bool:
    """A file its media node can no longer store (the node stopped): FAILED with `reason`, on condition that it is
    still in the state read, so a file the node (or its successor, `recover()`) settled meanwhile keeps what it got.
    True when this call marked it."""
    item = repository.get(account_id, file_id)
    if item is None or item.status in SETTLED:
        return False
    unchanged = RecordingFile.status == item.status
    item.status, item.reason = "FAILED", reason
    item.end_time = item.end_time or clock.now()
    try:
        _settle(item, unchanged)
    except (PutError, TransactWriteError):
        return False
    return True


def _item(account_id: str, file_id: str) -> RecordingFile:
    item = repository.get(account_id, file_id)
    if item is None:
        raise RecordingFileNotFound(file_id)
    return item


def _settle(item: RecordingFile, condition: Condition | None = None) -> None:
    others = repository.of_recording(item.account_id, item.recording_id)
    siblings = [other for other in others if other.file_id != item.file_id] + [item]
    if any(other.status not in SETTLED for other in siblings):
        repository.save(item, condition)
        return
    settled = [other for other in siblings if other.status != "DELETED"]
    ready = [other for other in settled if other.status == "READY"]
    if ready:
        event = recording_event("RECORDING_READY", item, {"recording": recording_view(item, settled, event=True)})
    else:
        properties: dict[str, Any] = {"reason": item.reason, "recordingCustomData": custom_data(item)}
        if item.scope_type == "CALL":
            properties["fileId"] = item.file_id
        event = recording_event("RECORDING_FAILED", item, properties)
    publish(item.account_id, [event], lambda transaction: transaction.save(item, condition=condition))


# --- reads ----------------------------------------------------------------------------------------------------


def visible(items: Iterable[RecordingFile]) -> list[RecordingFile]:
    return [item for item in items if item.status in ("READY", "FAILED")]


def _by_scope(account_id: str, scope_type: str) -> dict[str, list[RecordingFile]]:
    groups: dict[str, list[RecordingFile]] = {}
    for item in visible(repository.of_account(account_id)):
        if item.scope_type == scope_type:
            groups.setdefault(item.scope_id, []).append(item)
    return groups


def _in_window(items: Sequence[RecordingFile], after: datetime | None, before: datetime | None) -> bool:
    if after is not None and min(item.start_time for item in items) <= after:
        return False
    ends = [item.end_time for item in items if item.end_time is not None]
    return before is None or (bool(ends) and max(ends) < before)


def list_call_recordings(
    account_id: str, query: schemas.CallRecordingQuery, page: int, size: int
) -> schemas.CallRecordingPage:
    views = []
    for call_id, items in _by_scope(account_id, "CALL").items():
        if query.callId is not None and call_id != query.callId:
            continue
        if not _in_window(items, query.startTimeAfter, query.endTimeBefore):
            continue
        view = call_recording(account_id, call_id, items)
        wanted = [
            (query.callsConfigurationId, view.callsConfigurationId),
            (query.applicationId, view.platform.applicationId if view.platform else None),
            (query.entityId, view.platform.entityId if view.platform else None),
            (query.direction, view.direction),
            (query.endpointType, view.endpoint.type),
            (query.endpointIdentifier, _identifier(view.endpoint)),
        ]
        if any(value is not None and value != actual for value, actual in wanted):
            continue
        views.append(view)
    views.sort(key=lambda view: (view.startTime or "", view.callId), reverse=True)
    results, paging = page_of(views, page, size)
    return schemas.CallRecordingPage(results=results, paging=PageInfo(**paging))


def _identifier(endpoint: Any) -> str | None:
    for name in ("identity", "phoneNumber", "username", "identifier"):
        value = getattr(endpoint, name, None)
        if value:
            return str(value)
    return None


def get_call_recording(account_id: str, call_id: str) -> schemas.CallRecording:
    items = visible(repository.of_scope(account_id, "CALL", call_id))
    if not items:
        raise RecordingNotFound("call", call_id)
    return call_recording(account_id, call_id, items)


def list_group_recordings(
    account_id: str, scope_type: str, query: schemas.ConferenceRecordingQuery, page: int, size: int
) -> schemas.ConferenceRecordingPage:
    results, paging = page_of(_group_views(account_id, scope_type, query), page, size)
    return schemas.ConferenceRecordingPage(results=results, paging=PageInfo(**paging))


def _group_views(
    account_id: str, scope_type: str, query: schemas.ConferenceRecordingQuery
) -> list[schemas.ConferenceRecording]:
    """The scope's recordings that pass the query's filters, newest first."""
    views = []
    for scope_id, items in _by_scope(account_id, scope_type).items():
        if query.conferenceId is not None and scope_id != query.conferenceId:
            continue
        if query.callId is not None and all(item.call_id != query.callId for item in items):
            continue
        if query.composition is not None and all(item.composition is not query.composition for item in items):
            continue
        if not _in_window(items, query.startTimeAfter, query.endTimeBefore):
            continue
        view = group_recording(account_id, scope_id, items)
        wanted = [
            (query.callsConfigurationId, view.callsConfigurationId),
            (query.applicationId, view.platform.applicationId if view.platform else None),
            (query.entityId, view.platform.entityId if view.platform else None),
            (query.conferenceName, view.conferenceName),
        ]
        if any(value is not None and value != actual for value, actual in wanted):
            continue
        views.append(view)
    views.sort(key=lambda view: (view.startTime or "", view.conferenceId), reverse=True)
    return views


def get_group_recording(account_id: str, scope_type: str, scope_id: str) -> schemas.ConferenceRecording:
    items = visible(repository.of_scope(account_id, scope_type, scope_id))
    if not items:
        raise RecordingNotFound(scope_type.lower(), scope_id)
    return group_recording(account_id, scope_id, items)


def as_dialog(view: schemas.ConferenceRecording) -> schemas.DialogRecording:
    return schemas.DialogRecording(
        dialogId=view.conferenceId,
        callsConfigurationId=view.callsConfigurationId,
        platform=view.platform,
        composedFiles=view.composedFiles,
        callRecordings=view.callRecordings,
        startTime=view.startTime,
        endTime=view.endTime,
    )


def list_dialog_recordings(
    account_id: str, query: schemas.DialogRecordingQuery, page: int, size: int
) -> schemas.DialogRecordingPage:
    """Dialogs' recordings, filtered as conferences' are, and by a recorded party's endpoint type / identifier."""
    group_query = schemas.ConferenceRecordingQuery(
        conferenceId=query.dialogId,
        callsConfigurationId=query.callsConfigurationId,
        applicationId=query.applicationId,
        entityId=query.entityId,
        callId=query.callId,
        startTimeAfter=query.startTimeAfter,
        endTimeBefore=query.endTimeBefore,
        composition=query.composition,
    )
    views = [
        as_dialog(view)
        for view in _group_views(account_id, "DIALOG", group_query)
        if _has_party(view, query.callEndpointType, query.callEndpointIdentifier)
    ]
    results, paging = page_of(views, page, size)
    return schemas.DialogRecordingPage(results=results, paging=PageInfo(**paging))


def _has_party(view: schemas.ConferenceRecording, endpoint_type: str | None, identifier: str | None) -> bool:
    if endpoint_type is None and identifier is None:
        return True
    return any(
        (endpoint_type is None or party.endpoint.type == endpoint_type)
        and (identifier is None or _identifier(party.endpoint) == identifier)
        for party in view.callRecordings
    )


def get_dialog_recording(account_id: str, dialog_id: str) -> schemas.DialogRecording:
    return as_dialog(get_group_recording(account_id, "DIALOG", dialog_id))


def downloadable(account_id: str, file_id: str) -> RecordingFile:
    """A file whose media can be read now (404 unknown or deleted; 409 not stored here)."""
    item = repository.get(account_id, file_id) if 0 < len(file_id) <= 128 else None
    if item is None or item.status == "DELETED":
        raise RecordingFileNotFound(file_id)
    if item.location == "SFTP":
        raise RecordingFileUnavailable(f"Recording file {file_id!r} was moved to SFTP and is no longer stored here.")
    if item.status != "READY" or item.location != "HOSTED" or not item.object_key:
        raise RecordingFileUnavailable(f"Recording file {file_id!r} has no stored media to download.")
    return item


# --- deleting (tombstones) ------------------------------------------------------------------------------------


def tombstone(item: RecordingFile, who: str, reason: str) -> None:
    if item.object_key and item.location == "HOSTED":
        repository.delete_object(item.object_key)
    item.status, item.deleted_at, item.deleted_by, item.deleted_reason = "DELETED", clock.now(), who, reason
    repository.save(item)


def delete_file(account_id: str, file_id: str, who: str) -> schemas.RecordingFile:
    item = repository.get(account_id, file_id) if 0 < len(file_id) <= 128 else None
    if item is None or item.status not in ("READY", "FAILED"):
        raise RecordingFileNotFound(file_id)
    view = to_file(item)
    tombstone(item, who, "file deleted")
    return view


def delete_recordings(account_id: str, scope_type: str, scope_id: str, who: str) -> dict[str, Any]:
    """Delete every file of the scope's recording; returns the recording as it was, and tells the webhook."""
    items = visible(repository.of_scope(account_id, scope_type, scope_id))
    if not items:
        raise RecordingNotFound(scope_type.lower(), scope_id)
    view = recording_view(items[0], items)
    for item in items:
        tombstone(item, who, f"{scope_type.lower()} recordings deleted")
    publish(account_id, [recording_event("RECORDING_DELETED", items[0], {})])
    return view


def tombstones(account_id: str, scope_type: str | None = None, scope_id: str | None = None) -> list[RecordingFile]:
    """The audit trail: deleted files (who, when, why), newest first."""
    found = [
        item
        for item in repository.of_account(account_id)
        if item.status == "DELETED"
        and (scope_type is None or item.scope_type == scope_type)
        and (scope_id is None or item.scope_id == scope_id)
    ]
    return sorted(found, key=lambda item: item.deleted_at or item.created_at, reverse=True)
