"""`GET /showcase` (the page) and `POST /showcase/token` (a demo token for the identity typed). Public, and absent
(404) in production."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.api import RequestContext, route
from chalicelib.showcase import service
from chalicelib.showcase.schemas import ShowcaseTokenRequest
from chalicelib.webrtc.schemas import TokenResponse

blueprint = Blueprint(__name__)
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}


@route(blueprint, "/showcase", public=True)
def showcase(ctx: RequestContext) -> Response:
    return Response(body=service.page(), status_code=200, headers=dict(PAGE_HEADERS))


@route(blueprint, "/showcase/token", methods=["POST"], public=True)
def showcase_token(ctx: RequestContext) -> TokenResponse:
    service.require_showcase()  # before the body: in production nothing here is parsed
    return service.mint_token(ctx.body(ShowcaseTokenRequest))
