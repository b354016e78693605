"""`GET /sdk/v1/switchboard-rtc.js`: the browser SDK as an ES module. Public, cacheable, and loadable from any
origin (module scripts are fetched in CORS mode, so the integrator's page needs `Access-Control-Allow-Origin`)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.api import RequestContext, route
from chalicelib.sdkfiles import service

blueprint = Blueprint(__name__)


@route(blueprint, "/sdk/v1/switchboard-rtc.js", public=True)
def switchboard_rtc(ctx: RequestContext) -> Response:
    sdk = service.sdk_file("v1", "switchboard-rtc.js")
    headers: dict[str, str | list[str]] = {
        "Cache-Control": service.CACHE_CONTROL,
        "ETag": sdk.etag,
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if sdk.matches(ctx.request.headers.get("if-none-match")):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=sdk.body, status_code=200, headers={**headers, "Content-Type": sdk.content_type})
