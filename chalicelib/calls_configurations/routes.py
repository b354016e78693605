"""`/calls/1/configurations`: calls configurations (Infobip's Calls API §2.1)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.calls_configurations import service
from chalicelib.calls_configurations.schemas import (
    CallsConfigurationCreateRequest,
    CallsConfigurationPage,
    CallsConfigurationResponse,
    CallsConfigurationUpdateRequest,
)
from chalicelib.core.api import RequestContext, route

blueprint = Blueprint(__name__)

CONFIGURATIONS = "/calls/1/configurations"
CONFIGURATION = CONFIGURATIONS + "/{callsConfigurationId}"


@route(blueprint, CONFIGURATIONS)
def list_configurations(ctx: RequestContext) -> CallsConfigurationPage:
    return service.list_configurations(ctx.account_id, *ctx.paging())


@route(blueprint, CONFIGURATIONS, methods=["POST"], status=201)
def create_configuration(ctx: RequestContext) -> CallsConfigurationResponse:
    return service.create_configuration(ctx.account_id, ctx.body(CallsConfigurationCreateRequest))


@route(blueprint, CONFIGURATION)
def get_configuration(ctx: RequestContext, callsConfigurationId: str) -> CallsConfigurationResponse:
    return service.read_configuration(ctx.account_id, callsConfigurationId)


@route(blueprint, CONFIGURATION, methods=["PUT"])
def update_configuration(ctx: RequestContext, callsConfigurationId: str) -> CallsConfigurationResponse:
    return service.update_configuration(ctx.account_id, callsConfigurationId, ctx.body(CallsConfigurationUpdateRequest))


@route(blueprint, CONFIGURATION, methods=["DELETE"])
def delete_configuration(ctx: RequestContext, callsConfigurationId: str) -> CallsConfigurationResponse:
    return service.delete_configuration(ctx.account_id, callsConfigurationId)
