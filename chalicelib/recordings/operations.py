"""Start and stop recording on the media node that has the call, mixes the conference or bridges the dialog (signed
internal API).

The node records, writes the file items and the `*_RECORDING_*` events itself (it knows when media really starts
and when files are stored); here the request is checked and routed. A call not answered yet starts recording once
its media is up (the recording options of a call create or answer).
"""

from __future__ import annotations

from typing import Literal

from chalicelib.calls import service as calls_service
from chalicelib.calls.operations import MediaUnavailable, node_client, node_text
from chalicelib.contract import control
from chalicelib.core.errors import AppError, BadRequest, Conflict
from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish
from chalicelib.media_nodes.control import MediaNodeClient, MediaNodeError
from chalicelib.recordings import schemas


class RecordingClient(MediaNodeClient):
    """The node client's recording requests (`/internal/v1/recordings/start|stop`)."""

    def recording(self, action: str, request: control._Body) -> control.ActionResult:
        if action not in ("start", "stop"):
            raise ValueError(f"unknown recording action {action}")
        body = request.model_dump_json(exclude_none=True).encode()
        return control.ActionResult.model_validate_json(self._request("POST", f"/recordings/{action}", body).content)


def _client(node_id: str | None, what: str) -> RecordingClient:
    base = node_client(node_id, what)
    return RecordingClient(base._base, base._key)


def _send(client: RecordingClient, action: str, body: control._Body, what: str) -> None:
    try:
        client.recording(action, body)
    except MediaNodeError as error:
        if error.status in (404, 409):
            raise Conflict(f"The {what} cannot {action} recording now: {node_text(error)}") from error
        if error.status == 400:
            raise BadRequest("Request is invalid.", {"recording": [node_text(error)]}) from error
        raise MediaUnavailable("The media node could not carry out the request.") from error
    except OSError as error:
        raise MediaUnavailable(f"The media node handling this {what} is not reachable.") from error


def start_call_recording(
    account_id: str,
    call_id: str,
    recording: schemas.RecordingRequest | schemas.CallRecordingRequest,
) -> None:
    record = calls_service.get_call(account_id, call_id)
    if record.is_terminal:
        raise Conflict("A finished call is never recorded.")
    channels: Literal["MONO", "STEREO"] = getattr(recording, "channels", None) or "MONO"
    max_duration = getattr(recording, "maxDuration", None)
    body = control.StartRecordingRequest(
        accountId=account_id,
        scope="CALL",
        scopeId=call_id,
        recordingType=recording.recordingType,
        composition=True,
        channels=channels,
        customData=recording.customData,
        filePrefix=recording.filePrefix,
        maxDurationSeconds=max_duration,
        callsConfigurationId=record.calls_configuration_id,
        applicationId=record.application_id,
        entityId=record.entity_id,
        onDemand=True,
    )
    _send(_client(record.node_id, "call"), "start", body, "call")


def stop_call_recording(account_id: str, call_id: str) -> None:
    record = calls_service.get_call(account_id, call_id)
    if record.is_terminal:
        raise Conflict("A finished call records nothing.")
    body = control.StopRecordingRequest(accountId=account_id, scope="CALL", scopeId=call_id)
    _send(_client(record.node_id, "call"), "stop", body, "call")


def start_conference_recording(
    account_id: str, conference_id: str, recording: schemas.ConferenceRecordingRequest
) -> None:
    from chalicelib.conferences import service as conferences_service

    record = conferences_service.get_conference(account_id, conference_id)
    if record.finished:
        raise conferences_service.ConferenceFinished(conference_id)
    composition = recording.conferenceComposition
    body = control.StartRecordingRequest(
        accountId=account_id,
        scope="CONFERENCE",
        scopeId=conference_id,
        recordingType=recording.recordingType,
        composition=bool(composition and composition.enabled),
        customData=recording.customData,
        filePrefix=recording.filePrefix,
        callsConfigurationId=record.calls_configuration_id,
        applicationId=record.application_id,
        entityId=record.entity_id,
    )
    _send(_client(record.node_id if record.present else None, "conference"), "start", body, "conference")


def stop_conference_recording(account_id: str, conference_id: str) -> None:
    from chalicelib.conferences import service as conferences_service

    record = conferences_service.get_conference(account_id, conference_id)
    if record.finished:
        raise conferences_service.ConferenceFinished(conference_id)
    body = control.StopRecordingRequest(accountId=account_id, scope="CONFERENCE", scopeId=conference_id)
    _send(_client(record.node_id if record.present else None, "conference"), "stop", body, "conference")


def start_dialog_recording(
    account_id: str, dialog_id: str, recording: schemas.DialogRecordingRequest, *, reporting: bool = False
) -> None:
    """Record the dialog on its node: at once when established, else from when it is (the `recording` of a create).
    `reporting`: a node that refuses is told by DIALOG_RECORDING_FAILED rather than an error (the dialog goes on)."""
    from chalicelib.dialogs import service as dialogs_service

    record = dialogs_service.get_dialog(account_id, dialog_id)
    if record.finished:
        raise dialogs_service.DialogFinished(dialog_id)
    composition = recording.dialogComposition
    body = control.StartRecordingRequest(
        accountId=account_id,
        scope="DIALOG",
        scopeId=dialog_id,
        recordingType=recording.recordingType,
        composition=bool(composition and composition.enabled),
        customData=recording.customData,
        filePrefix=recording.filePrefix,
        callsConfigurationId=record.calls_configuration_id,
        applicationId=record.application_id,
        entityId=record.entity_id,
    )
    try:
        _send(_client(record.node_id, "dialog"), "start", body, "dialog")
    except AppError as error:
        if not reporting:
            raise
        failed = NewEvent(
            "DIALOG_RECORDING_FAILED",
            dialog_id=dialog_id,
            calls_configuration_id=record.calls_configuration_id,
            application_id=record.application_id,
            entity_id=record.entity_id,
            properties={
                "reason": f"the recording could not start: {error.text}",
                "recordingCustomData": body.customData,
            },
        )
        publish(account_id, [failed])


def stop_dialog_recording(account_id: str, dialog_id: str) -> None:
    from chalicelib.dialogs import service as dialogs_service

    record = dialogs_service.get_dialog(account_id, dialog_id)
    if record.finished:
        raise dialogs_service.DialogFinished(dialog_id)
    body = control.StopRecordingRequest(accountId=account_id, scope="DIALOG", scopeId=dialog_id)
    _send(_client(record.node_id, "dialog"), "stop", body, "dialog")


def call_recording_options(raw: dict[str, object] | None) -> schemas.CallRecordingRequest | None:
    """The `recording` of a call create or answer, checked (400 naming the field when it is wrong)."""
    if raw is None:
        return None
    from pydantic import ValidationError

    from chalicelib.core.api import validation_errors

    try:
        return schemas.CallRecordingRequest.model_validate(raw)
    except ValidationError as error:
        details = {f"recording.{path}": messages for path, messages in validation_errors(error).items()}
        raise BadRequest("Request is invalid.", details) from None
