"""`/calls/1/media-stream-configs`: media-stream configurations (Infobip's Calls API §2.14)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.api import RequestContext, route
from chalicelib.media_streams import service
from chalicelib.media_streams.schemas import MediaStreamConfigPage, MediaStreamConfigRequest, MediaStreamConfigResponse

blueprint = Blueprint(__name__)

CONFIGS = "/calls/1/media-stream-configs"
CONFIG = CONFIGS + "/{mediaStreamConfigId}"


@route(blueprint, CONFIGS)
def list_media_stream_configs(ctx: RequestContext) -> MediaStreamConfigPage:
    return service.list_configs(ctx.account_id, *ctx.paging())


@route(blueprint, CONFIGS, methods=["POST"], status=201)
def create_media_stream_config(ctx: RequestContext) -> MediaStreamConfigResponse:
    return service.create_config(ctx.account_id, ctx.body(MediaStreamConfigRequest))


@route(blueprint, CONFIG)
def get_media_stream_config(ctx: RequestContext, mediaStreamConfigId: str) -> MediaStreamConfigResponse:
    return service.read_config(ctx.account_id, mediaStreamConfigId)


@route(blueprint, CONFIG, methods=["PUT"])
def update_media_stream_config(ctx: RequestContext, mediaStreamConfigId: str) -> MediaStreamConfigResponse:
    return service.update_config(ctx.account_id, mediaStreamConfigId, ctx.body(MediaStreamConfigRequest))


@route(blueprint, CONFIG, methods=["DELETE"])
def delete_media_stream_config(ctx: RequestContext, mediaStreamConfigId: str) -> MediaStreamConfigResponse:
    return service.delete_config(ctx.account_id, mediaStreamConfigId)
