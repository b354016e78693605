"""`/calls/1/calls`: create a call, list and read calls and their history, and handle a call (send-ringing,
pre-answer, answer, hangup, media actions).

`/calls/1/calls/history` is a literal path beside `/calls/1/calls/{callId}`: API Gateway and Chalice's local
router both prefer the literal segment, so it is never read as a call id (a test holds them to it)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.calls import operations, service, transfers
from chalicelib.calls.schemas import (
    ActionResponse,
    AnswerRequest,
    ApplicationTransferRequest,
    CallQuery,
    CallRequest,
    CaptureDtmfRequest,
    HangupRequest,
    PlayRequest,
    PreAnswerRequest,
    SayRequest,
    SendDtmfRequest,
    StartMediaStreamRequest,
    StopPlayRequest,
)
from chalicelib.core.api import RequestContext, route, validation_errors
from chalicelib.core.errors import BadRequest

blueprint = Blueprint(__name__)
COMPLETED = ActionResponse(status="COMPLETED")
PENDING = ActionResponse(status="PENDING")  # the outcome arrives as an event (PLAY_FINISHED, DTMF_CAPTURED, ...)


@route(blueprint, "/calls/1/calls", methods=["POST"], status=201)
def create_call(ctx: RequestContext) -> dict[str, Any]:
    from chalicelib.recordings import operations as recordings

    request = ctx.body(CallRequest)
    recording = recordings.call_recording_options(request.recording)
    record = operations.create_call(ctx.account_id, request)
    if recording is not None and not record.is_terminal:
        recordings.start_call_recording(ctx.account_id, record.call_id, recording)  # starts once it is answered
    return service.to_infobip(record)


def _query(ctx: RequestContext) -> CallQuery:
    params = {name: value for name, value in (ctx.request.query_params or {}).items() if value != ""}
    try:
        return CallQuery.model_validate(params)
    except ValidationError as error:
        raise BadRequest("Request is invalid.", validation_errors(error)) from None


@route(blueprint, "/calls/1/calls")
def list_calls(ctx: RequestContext) -> dict[str, Any]:
    return service.list_calls(ctx.account_id, _query(ctx), *ctx.paging())


@route(blueprint, "/calls/1/calls/history")
def list_call_logs(ctx: RequestContext) -> dict[str, Any]:
    return service.list_call_logs(ctx.account_id, _query(ctx), *ctx.paging())


@route(blueprint, "/calls/1/calls/{callId}/history")
def get_call_log(ctx: RequestContext, callId: str) -> dict[str, Any]:
    return service.get_call_log(ctx.account_id, callId)


@route(blueprint, "/calls/1/calls/{callId}")
def get_call(ctx: RequestContext, callId: str) -> dict[str, Any]:
    return service.to_infobip(service.get_call(ctx.account_id, callId))


@route(blueprint, "/calls/1/calls/{callId}/send-ringing", methods=["POST"])
def send_ringing(ctx: RequestContext, callId: str) -> ActionResponse:
    operations.application_action(ctx.account_id, callId, "send-ringing")
    return COMPLETED


@route(blueprint, "/calls/1/calls/{callId}/pre-answer", methods=["POST"])
def pre_answer(ctx: RequestContext, callId: str) -> ActionResponse:
    if ctx.request.raw_body:
        ctx.body(PreAnswerRequest)  # checked; its options (ringing tone, custom data) are not applied yet
    operations.application_action(ctx.account_id, callId, "pre-answer")
    return COMPLETED


@route(blueprint, "/calls/1/calls/{callId}/answer", methods=["POST"])
def answer(ctx: RequestContext, callId: str) -> ActionResponse:
    from chalicelib.recordings import operations as recordings

    request = ctx.body(AnswerRequest) if ctx.request.raw_body else AnswerRequest()
    recording = recordings.call_recording_options(request.recording)
    operations.application_action(ctx.account_id, callId, "answer")
    if recording is not None:
        recordings.start_call_recording(ctx.account_id, callId, recording)
    return COMPLETED


@route(blueprint, "/calls/1/calls/{callId}/hangup", methods=["POST"])
def hangup(ctx: RequestContext, callId: str) -> dict[str, Any]:
    request = ctx.body(HangupRequest) if ctx.request.raw_body else HangupRequest()
    return service.to_infobip(operations.hangup(ctx.account_id, callId, request.errorCode))


@route(blueprint, "/calls/1/calls/{callId}/play", methods=["POST"])
def play(ctx: RequestContext, callId: str) -> ActionResponse:
    operations.play(ctx.account_id, callId, ctx.body(PlayRequest))
    return PENDING


@route(blueprint, "/calls/1/calls/{callId}/say", methods=["POST"])
def say(ctx: RequestContext, callId: str) -> ActionResponse:
    operations.say(ctx.account_id, callId, ctx.body(SayRequest))
    return PENDING


@route(blueprint, "/calls/1/calls/{callId}/stop-play", methods=["POST"])
def stop_play(ctx: RequestContext, callId: str) -> ActionResponse:
    if ctx.request.raw_body:
        ctx.body(StopPlayRequest)
    operations.stop_play(ctx.account_id, callId)
    return COMPLETED


@route(blueprint, "/calls/1/calls/{callId}/capture/dtmf", methods=["POST"])
def capture_dtmf(ctx: RequestContext, callId: str) -> ActionResponse:
    operations.capture_dtmf(ctx.account_id, callId, ctx.body(CaptureDtmfRequest))
    return PENDING


@route(blueprint, "/calls/1/calls/{callId}/send-dtmf", methods=["POST"])
def send_dtmf(ctx: RequestContext, callId: str) -> ActionResponse:
    operations.send_dtmf(ctx.account_id, callId, ctx.body(SendDtmfRequest))
    return COMPLETED


@route(blueprint, "/calls/1/calls/{callId}/start-media-stream", methods=["POST"])
def start_media_stream(ctx: RequestContext, callId: str) -> ActionResponse:
    operations.start_media_stream(ctx.account_id, callId, ctx.body(StartMediaStreamRequest))
    return PENDING  # MEDIA_STREAM_STARTED once the host accepted it, MEDIA_STREAM_FAILED if it did not


@route(blueprint, "/calls/1/calls/{callId}/stop-media-stream", methods=["POST"])
def stop_media_stream(ctx: RequestContext, callId: str) -> ActionResponse:
    operations.stop_media_stream(ctx.account_id, callId)
    return COMPLETED


@route(blueprint, "/calls/1/calls/{callId}/application-transfer", methods=["POST"])
def application_transfer(ctx: RequestContext, callId: str) -> ActionResponse:
    transfers.request(ctx.account_id, callId, ctx.body(ApplicationTransferRequest))
    return PENDING  # APPLICATION_TRANSFER_FINISHED or _FAILED once the destination answers or the timeout passes


@route(blueprint, "/calls/1/calls/{callId}/application-transfer/{transferId}/accept", methods=["POST"])
def accept_application_transfer(ctx: RequestContext, callId: str, transferId: str) -> ActionResponse:
    transfers.accept(ctx.account_id, callId, transferId)
    return COMPLETED


@route(blueprint, "/calls/1/calls/{callId}/application-transfer/{transferId}/reject", methods=["POST"])
def reject_application_transfer(ctx: RequestContext, callId: str, transferId: str) -> ActionResponse:
    transfers.reject(ctx.account_id, callId, transferId)
    return COMPLETED
