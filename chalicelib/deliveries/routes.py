"""Delivery log, dead letters and replay, under the subscription they belong to."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.api import RequestContext, route
from chalicelib.deliveries import service
from chalicelib.deliveries.schemas import DeadLetterPage, DeliveryLog, ReplayResult

blueprint = Blueprint(__name__)

BASE = "/subscriptions/1/subscription/{channel}/{subscriptionId}"


@route(blueprint, BASE + "/deliveries")
def delivery_log(ctx: RequestContext, channel: str, subscriptionId: str) -> DeliveryLog:
    limit = ctx.query_int("limit", 50, 1, 500)
    return service.delivery_log(ctx.account_id, channel, subscriptionId, limit)


@route(blueprint, BASE + "/dead-letters")
def dead_letters(ctx: RequestContext, channel: str, subscriptionId: str) -> DeadLetterPage:
    return service.dead_letters(ctx.account_id, channel, subscriptionId)


@route(blueprint, BASE + "/dead-letters/replay", methods=["POST"])
def replay(ctx: RequestContext, channel: str, subscriptionId: str) -> ReplayResult:
    return service.replay(ctx.account_id, channel, subscriptionId)
