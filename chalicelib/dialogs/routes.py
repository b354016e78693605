"""`/calls/1/dialogs`: create (with a new child call or two existing calls), read, hang up, play / say / stop-play,
and text to the WebRTC calls (`broadcast-webrtc-text`, `send-message`).

`/calls/1/dialogs/history` is a literal path beside `/calls/1/dialogs/{dialogId}`; the literal segment wins in API
Gateway and in Chalice's local router."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.calls.schemas import ActionResponse
from chalicelib.core.api import RequestContext, route, validation_errors
from chalicelib.core.errors import BadRequest
from chalicelib.dialogs import operations, service
from chalicelib.dialogs.schemas import (
    BroadcastTextRequest,
    DialogPlayRequest,
    DialogQuery,
    DialogRequest,
    DialogSayRequest,
    DialogWithExistingCallsRequest,
    SendMessageRequest,
)

blueprint = Blueprint(__name__)
COMPLETED = ActionResponse(status="COMPLETED")
PENDING = ActionResponse(status="PENDING")
BASE = "/calls/1/dialogs"


def _query(ctx: RequestContext) -> DialogQuery:
    params = {name: value for name, value in (ctx.request.query_params or {}).items() if value != ""}
    try:
        return DialogQuery.model_validate(params)
    except ValidationError as error:
        raise BadRequest("Request is invalid.", validation_errors(error)) from None


@route(blueprint, BASE, methods=["POST"], status=201)
def create_dialog(ctx: RequestContext) -> dict[str, Any]:
    return operations.create(ctx.account_id, ctx.body(DialogRequest))


@route(blueprint, f"{BASE}/parent-call/{{parentCallId}}/child-call/{{childCallId}}", methods=["POST"], status=201)
def create_dialog_with_existing_calls(ctx: RequestContext, parentCallId: str, childCallId: str) -> dict[str, Any]:
    request = ctx.body(DialogWithExistingCallsRequest) if ctx.request.raw_body else DialogWithExistingCallsRequest()
    return operations.create_with_existing_calls(ctx.account_id, parentCallId, childCallId, request)


@route(blueprint, BASE)
def list_dialogs(ctx: RequestContext) -> dict[str, Any]:
    return service.list_dialogs(ctx.account_id, _query(ctx), *ctx.paging())


@route(blueprint, f"{BASE}/history")
def list_dialog_history(ctx: RequestContext) -> dict[str, Any]:
    return service.list_history(ctx.account_id, _query(ctx), *ctx.paging())


@route(blueprint, f"{BASE}/{{dialogId}}")
def get_dialog(ctx: RequestContext, dialogId: str) -> dict[str, Any]:
    return service.to_infobip(service.get_dialog(ctx.account_id, dialogId))


@route(blueprint, f"{BASE}/{{dialogId}}/history")
def get_dialog_history(ctx: RequestContext, dialogId: str) -> dict[str, Any]:
    return service.get_history(ctx.account_id, dialogId)


@route(blueprint, f"{BASE}/{{dialogId}}/hangup", methods=["POST"])
def hangup(ctx: RequestContext, dialogId: str) -> dict[str, Any]:
    return operations.hangup(ctx.account_id, dialogId)


@route(blueprint, f"{BASE}/{{dialogId}}/play", methods=["POST"])
def play(ctx: RequestContext, dialogId: str) -> ActionResponse:
    operations.play(ctx.account_id, dialogId, ctx.body(DialogPlayRequest))
    return PENDING


@route(blueprint, f"{BASE}/{{dialogId}}/say", methods=["POST"])
def say(ctx: RequestContext, dialogId: str) -> ActionResponse:
    operations.say(ctx.account_id, dialogId, ctx.body(DialogSayRequest))
    return PENDING


@route(blueprint, f"{BASE}/{{dialogId}}/stop-play", methods=["POST"])
def stop_play(ctx: RequestContext, dialogId: str) -> ActionResponse:
    operations.stop_play(ctx.account_id, dialogId)
    return COMPLETED


@route(blueprint, f"{BASE}/{{dialogId}}/broadcast-webrtc-text", methods=["POST"])
def broadcast_webrtc_text(ctx: RequestContext, dialogId: str) -> ActionResponse:
    operations.broadcast(ctx.account_id, dialogId, ctx.body(BroadcastTextRequest).text)
    return COMPLETED


@route(blueprint, f"{BASE}/{{dialogId}}/send-message", methods=["POST"])
def send_message(ctx: RequestContext, dialogId: str) -> ActionResponse:
    operations.broadcast(ctx.account_id, dialogId, ctx.body(SendMessageRequest).message)
    return COMPLETED
