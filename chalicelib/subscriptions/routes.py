"""`/subscriptions/1/...`: subscriptions, notification profiles and security settings."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.api import RequestContext, json_response, route
from chalicelib.subscriptions import service
from chalicelib.subscriptions.schemas import (
    IdOnlyProfileResponse,
    IdOnlySecurityResponse,
    IdOnlySubscriptionResponse,
    NoIdProfileRequest,
    NoIdSecurityRequest,
    NoIdSubscriptionRequest,
    ProfilePage,
    ProfileRequest,
    ProfileResponse,
    SecurityPage,
    SecurityRequest,
    SecurityResponse,
    SubscriptionPage,
    SubscriptionRequest,
    SubscriptionResponse,
)

blueprint = Blueprint(__name__)

SUBSCRIPTIONS = "/subscriptions/1/subscription/{channel}"
SUBSCRIPTION = SUBSCRIPTIONS + "/{subscriptionId}"


def _created(
    body: IdOnlySubscriptionResponse | IdOnlyProfileResponse | IdOnlySecurityResponse, location: str
) -> Response:
    return json_response(body, 201, {"Location": location})


@route(blueprint, SUBSCRIPTIONS)
def list_subscriptions(ctx: RequestContext, channel: str) -> SubscriptionPage:
    page, size = ctx.paging()
    names = ("applicationId", "entityId", "callsConfigurationId", "resource", "user")
    filters = {name: ctx.query(name) for name in names}
    return service.list_subscriptions(ctx.account_id, channel, page, size, filters)


@route(blueprint, SUBSCRIPTIONS, methods=["POST"])
def create_subscription(ctx: RequestContext, channel: str) -> Response:
    created = service.create_subscription(ctx.account_id, channel, ctx.body(SubscriptionRequest))
    return _created(created, f"/subscriptions/1/subscription/{channel}/{created.subscriptionId}")


@route(blueprint, SUBSCRIPTION)
def get_subscription(ctx: RequestContext, channel: str, subscriptionId: str) -> SubscriptionResponse:
    return service.get_subscription(ctx.account_id, channel, subscriptionId)


@route(blueprint, SUBSCRIPTION, methods=["PUT"])
def update_subscription(ctx: RequestContext, channel: str, subscriptionId: str) -> IdOnlySubscriptionResponse:
    return service.update_subscription(ctx.account_id, channel, subscriptionId, ctx.body(NoIdSubscriptionRequest))


@route(blueprint, SUBSCRIPTION, methods=["DELETE"])
def delete_subscription(ctx: RequestContext, channel: str, subscriptionId: str) -> IdOnlySubscriptionResponse:
    return service.delete_subscription(ctx.account_id, channel, subscriptionId)


@route(blueprint, "/subscriptions/1/profiles")
def list_profiles(ctx: RequestContext) -> ProfilePage:
    return service.list_profiles(ctx.account_id, *ctx.paging())


@route(blueprint, "/subscriptions/1/profiles", methods=["POST"])
def create_profile(ctx: RequestContext) -> Response:
    created = service.create_profile(ctx.account_id, ctx.body(ProfileRequest))
    return _created(created, f"/subscriptions/1/profiles/{created.profileId}")


@route(blueprint, "/subscriptions/1/profiles/{profileId}")
def get_profile(ctx: RequestContext, profileId: str) -> ProfileResponse:
    return service.get_profile(ctx.account_id, profileId)


@route(blueprint, "/subscriptions/1/profiles/{profileId}", methods=["PUT"])
def update_profile(ctx: RequestContext, profileId: str) -> IdOnlyProfileResponse:
    return service.update_profile(ctx.account_id, profileId, ctx.body(NoIdProfileRequest))


@route(blueprint, "/subscriptions/1/profiles/{profileId}", methods=["DELETE"])
def delete_profile(ctx: RequestContext, profileId: str) -> IdOnlyProfileResponse:
    return service.delete_profile(ctx.account_id, profileId)


@route(blueprint, "/subscriptions/1/security")
def list_security(ctx: RequestContext) -> SecurityPage:
    return service.list_security(ctx.account_id, *ctx.paging())


@route(blueprint, "/subscriptions/1/security", methods=["POST"])
def create_security(ctx: RequestContext) -> Response:
    created = service.create_security(ctx.account_id, ctx.body(SecurityRequest))
    return _created(created, f"/subscriptions/1/security/{created.authId}")


@route(blueprint, "/subscriptions/1/security/{authId}")
def get_security(ctx: RequestContext, authId: str) -> SecurityResponse:
    return service.get_security(ctx.account_id, authId)


@route(blueprint, "/subscriptions/1/security/{authId}", methods=["PUT"])
def update_security(ctx: RequestContext, authId: str) -> IdOnlySecurityResponse:
    return service.update_security(ctx.account_id, authId, ctx.body(NoIdSecurityRequest))


@route(blueprint, "/subscriptions/1/security/{authId}", methods=["DELETE"])
def delete_security(ctx: RequestContext, authId: str) -> IdOnlySecurityResponse:
    return service.delete_security(ctx.account_id, authId)
