"""`/calls/1/conferences` and the connect operations (`/calls/1/connect`, `/calls/1/calls/{callId}/connect`).

`/calls/1/conferences/history` is a literal path beside `/calls/1/conferences/{conferenceId}`; like the calls'
history, the literal segment wins in API Gateway and in Chalice's local router."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.calls.schemas import ActionResponse
from chalicelib.conferences import operations, service
from chalicelib.conferences.schemas import (
    AddExistingCallRequest,
    AddNewCallRequest,
    ConferencePlayRequest,
    ConferenceQuery,
    ConferenceRequest,
    ConferenceSayRequest,
    ConnectRequest,
    ConnectWithNewCallRequest,
    UpdateCallRequest,
    UpdateRequest,
)
from chalicelib.core.api import RequestContext, route, validation_errors
from chalicelib.core.errors import BadRequest
from chalicelib.dialogs.schemas import BroadcastTextRequest

blueprint = Blueprint(__name__)
COMPLETED = ActionResponse(status="COMPLETED")
PENDING = ActionResponse(status="PENDING")
BASE = "/calls/1/conferences"


def _query(ctx: RequestContext) -> ConferenceQuery:
    params = {name: value for name, value in (ctx.request.query_params or {}).items() if value != ""}
    try:
        return ConferenceQuery.model_validate(params)
    except ValidationError as error:
        raise BadRequest("Request is invalid.", validation_errors(error)) from None


@route(blueprint, "/calls/1/connect", methods=["POST"])
def connect(ctx: RequestContext) -> dict[str, Any]:
    return operations.connect(ctx.account_id, ctx.body(ConnectRequest))


@route(blueprint, "/calls/1/calls/{callId}/connect", methods=["POST"])
def connect_with_new_call(ctx: RequestContext, callId: str) -> dict[str, Any]:
    return operations.connect_with_new_call(ctx.account_id, callId, ctx.body(ConnectWithNewCallRequest))


@route(blueprint, BASE, methods=["POST"], status=201)
def create_conference(ctx: RequestContext) -> dict[str, Any]:
    return operations.create_conference(ctx.account_id, ctx.body(ConferenceRequest))


@route(blueprint, BASE)
def list_conferences(ctx: RequestContext) -> dict[str, Any]:
    return service.list_conferences(ctx.account_id, _query(ctx), *ctx.paging())


@route(blueprint, f"{BASE}/history")
def list_conference_history(ctx: RequestContext) -> dict[str, Any]:
    return service.list_history(ctx.account_id, _query(ctx), *ctx.paging())


@route(blueprint, f"{BASE}/{{conferenceId}}")
def get_conference(ctx: RequestContext, conferenceId: str) -> dict[str, Any]:
    return service.to_infobip(service.get_conference(ctx.account_id, conferenceId))


@route(blueprint, f"{BASE}/{{conferenceId}}", methods=["PATCH"])
def update_conference(ctx: RequestContext, conferenceId: str) -> ActionResponse:
    operations.update_all(ctx.account_id, conferenceId, ctx.body(UpdateRequest))
    return COMPLETED


@route(blueprint, f"{BASE}/{{conferenceId}}/history")
def get_conference_history(ctx: RequestContext, conferenceId: str) -> dict[str, Any]:
    return service.get_history(ctx.account_id, conferenceId)


@route(blueprint, f"{BASE}/{{conferenceId}}/call", methods=["POST"])
def add_new_call(ctx: RequestContext, conferenceId: str) -> dict[str, Any]:
    return operations.add_new_call(ctx.account_id, conferenceId, ctx.body(AddNewCallRequest))


@route(blueprint, f"{BASE}/{{conferenceId}}/call/{{callId}}", methods=["PUT"])
def add_existing_call(ctx: RequestContext, conferenceId: str, callId: str) -> dict[str, Any]:
    request = ctx.body(AddExistingCallRequest) if ctx.request.raw_body else AddExistingCallRequest()
    return operations.add_existing_call(ctx.account_id, conferenceId, callId, request)


@route(blueprint, f"{BASE}/{{conferenceId}}/call/{{callId}}", methods=["DELETE"])
def remove_call(ctx: RequestContext, conferenceId: str, callId: str) -> ActionResponse:
    operations.remove_call(ctx.account_id, conferenceId, callId)
    return COMPLETED


@route(blueprint, f"{BASE}/{{conferenceId}}/call/{{callId}}", methods=["PATCH"])
def update_call(ctx: RequestContext, conferenceId: str, callId: str) -> ActionResponse:
    operations.update_call(ctx.account_id, conferenceId, callId, ctx.body(UpdateCallRequest))
    return COMPLETED


@route(blueprint, f"{BASE}/{{conferenceId}}/hangup", methods=["POST"])
def hangup(ctx: RequestContext, conferenceId: str) -> dict[str, Any]:
    return operations.hangup(ctx.account_id, conferenceId)


@route(blueprint, f"{BASE}/{{conferenceId}}/play", methods=["POST"])
def play(ctx: RequestContext, conferenceId: str) -> ActionResponse:
    operations.play(ctx.account_id, conferenceId, ctx.body(ConferencePlayRequest))
    return PENDING


@route(blueprint, f"{BASE}/{{conferenceId}}/say", methods=["POST"])
def say(ctx: RequestContext, conferenceId: str) -> ActionResponse:
    operations.say(ctx.account_id, conferenceId, ctx.body(ConferenceSayRequest))
    return PENDING


@route(blueprint, f"{BASE}/{{conferenceId}}/broadcast-webrtc-text", methods=["POST"])
def broadcast_webrtc_text(ctx: RequestContext, conferenceId: str) -> ActionResponse:
    operations.broadcast(ctx.account_id, conferenceId, ctx.body(BroadcastTextRequest).text)
    return COMPLETED


@route(blueprint, f"{BASE}/{{conferenceId}}/stop-play", methods=["POST"])
def stop_play(ctx: RequestContext, conferenceId: str) -> ActionResponse:
    operations.stop_play(ctx.account_id, conferenceId)
    return COMPLETED
