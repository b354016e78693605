"""`/webrtc/1/token`."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.api import RequestContext, route
from chalicelib.webrtc import service
from chalicelib.webrtc.schemas import TokenRequest, TokenResponse

blueprint = Blueprint(__name__)


@route(blueprint, "/webrtc/1/token", methods=["POST"])
def generate_token(ctx: RequestContext) -> TokenResponse:
    return service.mint_token(ctx.account_id, ctx.body(TokenRequest))
