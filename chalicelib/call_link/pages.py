"""The public side of Call Link: `GET /<code>` and `GET /?<code>` (the page), its images, and the session the page
starts (`POST /call-link/page/<code>/session`) and reports to (`.../session/report`, with the session's secret in
`X-Call-Link-Session`). No API credentials: the code is the capability.

A code no link has is a plain 404 page for browsers; other clients (no `text/html` in `Accept`) get Infobip's JSON
404, as for any unknown path.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.call_link import images, links, sessions
from chalicelib.call_link.configurations import effective_config
from chalicelib.call_link.errors import CallLinkResourceNotFound
from chalicelib.call_link.page import not_found, render
from chalicelib.call_link.schemas import SessionReport, SessionRequest
from chalicelib.core.api import RequestContext, json_response, route
from chalicelib.core.errors import not_found_body

blueprint = Blueprint(__name__)

PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
SESSION = "/call-link/page/{code}/session"


def _page(ctx: RequestContext, code: str | None) -> Response:
    accept_language = ctx.request.headers.get("accept-language")
    link = links.resolve(code) if code else None
    if link is not None:
        return Response(body=render(link, accept_language), status_code=200, headers=dict(PAGE_HEADERS))
    if "text/html" not in (ctx.request.headers.get("accept") or ""):
        return json_response(not_found_body(), 404)
    return Response(body=not_found(accept_language), status_code=404, headers=dict(PAGE_HEADERS))


@route(blueprint, "/", public=True)
def page_by_query(ctx: RequestContext) -> Response:
    """`/?<code>`: the code is the query string's one bare key (the SMS-friendly form)."""
    params: dict[str, str] = dict(ctx.request.query_params or {})
    bare = [key for key, value in params.items() if value == ""]
    return _page(ctx, bare[0] if len(bare) == 1 else None)


@route(blueprint, "/{code}", public=True)
def page(ctx: RequestContext, code: str) -> Response:
    return _page(ctx, code)


@route(blueprint, "/call-link/page/{code}/images/{kind}", public=True)
def page_image(ctx: RequestContext, code: str, kind: str) -> Response:
    link = links.resolve(code)
    theme_images = effective_config(link.item.account_id, link.item.config_id).theme.images if link else None
    image_id = None
    if theme_images is not None:
        image_id = {"logo": theme_images.logoImageId, "background": theme_images.backgroundImageId}.get(kind)
    opened = images.open_image(link.item.account_id, image_id) if link and image_id else None
    if opened is None:
        raise CallLinkResourceNotFound("Image", kind)
    body, content_type = opened
    headers: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "Cache-Control": "private, max-age=300",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=body, status_code=200, headers=headers)


@route(blueprint, SESSION, methods=["POST"], public=True, status=201)
def start_session(ctx: RequestContext, code: str) -> Response:
    started = sessions.start_session(code, ctx.body(SessionRequest))
    return json_response(started, 201, {"Cache-Control": "no-store"})


@route(blueprint, SESSION + "/report", methods=["POST"], public=True)
def report(ctx: RequestContext, code: str) -> dict[str, str]:
    secret = ctx.request.headers.get("x-call-link-session")
    return sessions.report(code, secret, ctx.body(SessionReport))
