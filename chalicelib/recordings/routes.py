"""`/calls/1/recordings/*` (reads, download, delete, compose) and start/stop recording on calls, conferences and
dialogs."""

from __future__ import annotations

from typing import Any, TypeVar

from chalice import Blueprint, Response
from chalice.app import CaseInsensitiveMapping
from pydantic import BaseModel, ValidationError

from chalicelib.calls.schemas import ActionResponse
from chalicelib.core.api import RequestContext, route, validation_errors
from chalicelib.core.errors import BadRequest
from chalicelib.recordings import composition, download, operations, schemas, service

blueprint = Blueprint(__name__)
COMPLETED = ActionResponse(status="COMPLETED")
PENDING = ActionResponse(status="PENDING")
RECORDINGS = "/calls/1/recordings"
Q = TypeVar("Q", bound=BaseModel)


def _who(ctx: RequestContext) -> str:
    principal = ctx.principal
    assert principal is not None
    return f"{principal.scheme}:{principal.key_id or principal.account_id}"


def _query(ctx: RequestContext, model: type[Q]) -> Q:
    params = {k: v for k, v in (ctx.request.query_params or {}).items() if v != "" and k not in ("page", "size")}
    try:
        return model.model_validate(params)
    except ValidationError as error:
        raise BadRequest("Request is invalid.", validation_errors(error)) from None


# --- start / stop ---------------------------------------------------------------------------------------------


@route(blueprint, "/calls/1/calls/{callId}/start-recording", methods=["POST"])
def start_call_recording(ctx: RequestContext, callId: str) -> ActionResponse:
    request = ctx.body(schemas.RecordingStartRequest) if ctx.request.raw_body else schemas.RecordingStartRequest()
    recording = request.recording or schemas.RecordingRequest(recordingType="AUDIO")
    operations.start_call_recording(ctx.account_id, callId, recording)
    return PENDING  # CALL_RECORDING_STARTED once the node records


@route(blueprint, "/calls/1/calls/{callId}/stop-recording", methods=["POST"])
def stop_call_recording(ctx: RequestContext, callId: str) -> ActionResponse:
    operations.stop_call_recording(ctx.account_id, callId)
    return PENDING  # CALL_RECORDING_STOPPED, then CALL_RECORDING_READY once stored


@route(blueprint, "/calls/1/conferences/{conferenceId}/start-recording", methods=["POST"])
def start_conference_recording(ctx: RequestContext, conferenceId: str) -> ActionResponse:
    operations.start_conference_recording(ctx.account_id, conferenceId, ctx.body(schemas.ConferenceRecordingRequest))
    return PENDING


@route(blueprint, "/calls/1/conferences/{conferenceId}/stop-recording", methods=["POST"])
def stop_conference_recording(ctx: RequestContext, conferenceId: str) -> ActionResponse:
    operations.stop_conference_recording(ctx.account_id, conferenceId)
    return PENDING


@route(blueprint, "/calls/1/dialogs/{dialogId}/start-recording", methods=["POST"])
def start_dialog_recording(ctx: RequestContext, dialogId: str) -> ActionResponse:
    operations.start_dialog_recording(ctx.account_id, dialogId, ctx.body(schemas.DialogRecordingRequest))
    return PENDING  # DIALOG_RECORDING_STARTED once the node records (a dialog not established yet: from then)


@route(blueprint, "/calls/1/dialogs/{dialogId}/stop-recording", methods=["POST"])
def stop_dialog_recording(ctx: RequestContext, dialogId: str) -> ActionResponse:
    operations.stop_dialog_recording(ctx.account_id, dialogId)
    return PENDING


# --- reads ----------------------------------------------------------------------------------------------------


@route(blueprint, f"{RECORDINGS}/calls")
def list_call_recordings(ctx: RequestContext) -> schemas.CallRecordingPage:
    query = _query(ctx, schemas.CallRecordingQuery)
    return service.list_call_recordings(ctx.account_id, query, *ctx.paging())


@route(blueprint, f"{RECORDINGS}/calls/{{callId}}")
def get_call_recording(ctx: RequestContext, callId: str) -> schemas.CallRecording:
    return service.get_call_recording(ctx.account_id, callId)


@route(blueprint, f"{RECORDINGS}/calls/{{callId}}", methods=["DELETE"])
def delete_call_recordings(ctx: RequestContext, callId: str) -> dict[str, Any]:
    return service.delete_recordings(ctx.account_id, "CALL", callId, _who(ctx))


@route(blueprint, f"{RECORDINGS}/conferences")
def list_conference_recordings(ctx: RequestContext) -> schemas.ConferenceRecordingPage:
    query = _query(ctx, schemas.ConferenceRecordingQuery)
    return service.list_group_recordings(ctx.account_id, "CONFERENCE", query, *ctx.paging())


@route(blueprint, f"{RECORDINGS}/conferences/{{conferenceId}}")
def get_conference_recording(ctx: RequestContext, conferenceId: str) -> schemas.ConferenceRecording:
    return service.get_group_recording(ctx.account_id, "CONFERENCE", conferenceId)


@route(blueprint, f"{RECORDINGS}/conferences/{{conferenceId}}", methods=["DELETE"])
def delete_conference_recordings(ctx: RequestContext, conferenceId: str) -> dict[str, Any]:
    return service.delete_recordings(ctx.account_id, "CONFERENCE", conferenceId, _who(ctx))


@route(blueprint, f"{RECORDINGS}/conferences/{{conferenceId}}/compose", methods=["POST"])
def compose_conference_recording(ctx: RequestContext, conferenceId: str) -> ActionResponse:
    request = ctx.body(schemas.OnDemandComposition) if ctx.request.raw_body else schemas.OnDemandComposition()
    composition.compose_recording(ctx.account_id, "CONFERENCE", conferenceId, request, _who(ctx))
    return COMPLETED  # CONFERENCE_COMPOSITION_FINISHED / _FAILED tell the outcome


@route(blueprint, f"{RECORDINGS}/dialogs")
def list_dialog_recordings(ctx: RequestContext) -> schemas.DialogRecordingPage:
    query = _query(ctx, schemas.DialogRecordingQuery)
    return service.list_dialog_recordings(ctx.account_id, query, *ctx.paging())


@route(blueprint, f"{RECORDINGS}/dialogs/{{dialogId}}")
def get_dialog_recording(ctx: RequestContext, dialogId: str) -> schemas.DialogRecording:
    return service.get_dialog_recording(ctx.account_id, dialogId)


@route(blueprint, f"{RECORDINGS}/dialogs/{{dialogId}}", methods=["DELETE"])
def delete_dialog_recordings(ctx: RequestContext, dialogId: str) -> dict[str, Any]:
    return service.delete_recordings(ctx.account_id, "DIALOG", dialogId, _who(ctx))


@route(blueprint, f"{RECORDINGS}/dialogs/{{dialogId}}/compose", methods=["POST"])
def compose_dialog_recording(ctx: RequestContext, dialogId: str) -> ActionResponse:
    request = ctx.body(schemas.OnDemandComposition) if ctx.request.raw_body else schemas.OnDemandComposition()
    composition.compose_recording(ctx.account_id, "DIALOG", dialogId, request, _who(ctx))
    return COMPLETED  # DIALOG_COMPOSITION_FINISHED / _FAILED tell the outcome


# --- files ----------------------------------------------------------------------------------------------------


@route(blueprint, f"{RECORDINGS}/files/{{fileId}}")
def download_recording_file(ctx: RequestContext, fileId: str) -> Response:
    result = download.download(ctx.account_id, fileId, ctx.request.headers.get("range"))
    if result.body:
        _accepts_octet_stream(ctx)
    return Response(body=result.body, status_code=result.status, headers=result.headers)


def _accepts_octet_stream(ctx: RequestContext) -> None:
    """Chalice refuses a binary response unless the request's Accept names a binary type, and Infobip's own client
    asks for `application/json` first on this operation (it reads the raw bytes whatever the type): the download is
    octet-stream whatever the client prefers. (On API Gateway, `application/octet-stream` must also be among the
    API's binary media types for the bytes to arrive decoded.)"""
    headers = dict(ctx.request.headers)
    headers["accept"] = "application/octet-stream"
    ctx.request.headers = CaseInsensitiveMapping(headers)


@route(blueprint, f"{RECORDINGS}/files/{{fileId}}", methods=["DELETE"])
def delete_recording_file(ctx: RequestContext, fileId: str) -> schemas.RecordingFile:
    return service.delete_file(ctx.account_id, fileId, _who(ctx))
