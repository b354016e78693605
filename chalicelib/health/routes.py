"""`GET /health`: 200 when the tables answer, 503 otherwise. Public."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.api import RequestContext, json_response, route
from chalicelib.db.models import Account

blueprint = Blueprint(__name__)


@route(blueprint, "/health", public=True)
def health(ctx: RequestContext) -> Response:
    try:
        Account.describe_table()
    except Exception:
        return json_response({"status": "DOWN"}, 503)
    return json_response({"status": "UP"})
