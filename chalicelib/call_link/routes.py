"""`/call-link/1/...`: configurations, images, subdomains and links (Infobip's Call Link API, reference §6)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.call_link import configurations, images, links, subdomains
from chalicelib.call_link.errors import CallLinkResourceNotFound, ImageTooLarge
from chalicelib.call_link.schemas import (
    CallLink,
    CallLinkConfig,
    CallLinkConfigPage,
    CallLinkConfigPatch,
    CallLinkConfigRequest,
    CallLinkPage,
    CallLinkRequest,
    CallLinkResponse,
    ImagePage,
    ImageResponse,
    Subdomain,
    SubdomainRequest,
)
from chalicelib.core.api import RequestContext, route
from chalicelib.files.multipart import parse_form, single_part

blueprint = Blueprint(__name__)

CONFIGS = "/call-link/1/configs"
CONFIG = CONFIGS + "/{id}"
IMAGES = "/call-link/1/images"
IMAGE = IMAGES + "/{id}"
UPLOAD = IMAGES + "/upload/{type}"
SUBDOMAINS = "/call-link/1/subdomains"
SUBDOMAIN = SUBDOMAINS + "/{id}"
LINKS = "/call-link/1/links"
LINK = LINKS + "/{id}"


# --- configurations -------------------------------------------------------------------------------------


@route(blueprint, CONFIGS)
def list_configs(ctx: RequestContext) -> CallLinkConfigPage:
    return configurations.list_configs(ctx.account_id, *ctx.paging())


@route(blueprint, CONFIGS, methods=["POST"], status=201)
def create_config(ctx: RequestContext) -> CallLinkConfig:
    return configurations.create_config(ctx.account_id, ctx.body(CallLinkConfigRequest))


@route(blueprint, CONFIG)
def get_config(ctx: RequestContext, id: str) -> CallLinkConfig:
    return configurations.get_config(ctx.account_id, id)


@route(blueprint, CONFIG, methods=["PUT"])
def replace_config(ctx: RequestContext, id: str) -> CallLinkConfig:
    return configurations.replace_config(ctx.account_id, id, ctx.body(CallLinkConfigRequest))


@route(blueprint, CONFIG, methods=["PATCH"])
def patch_config(ctx: RequestContext, id: str) -> CallLinkConfig:
    return configurations.patch_config(ctx.account_id, id, ctx.body(CallLinkConfigPatch))


@route(blueprint, CONFIG, methods=["DELETE"])
def delete_config(ctx: RequestContext, id: str) -> CallLinkConfig:
    return configurations.delete_config(ctx.account_id, id)


# --- images ---------------------------------------------------------------------------------------------


@route(blueprint, UPLOAD, methods=["POST"], status=201)
def upload_image(ctx: RequestContext, type: str) -> ImageResponse:
    if type not in ("LOGO", "BACKGROUND"):
        raise CallLinkResourceNotFound("Image type", type)  # Infobip documents 404 for the path's type
    raw = ctx.request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    if len(body) > images.MAX_REQUEST_BYTES:
        raise ImageTooLarge(images.MAX_IMAGE_BYTES)
    part = single_part(parse_form(ctx.request.headers.get("content-type"), body), "file")
    return images.upload_image(ctx.account_id, type, part.filename, part.content)


@route(blueprint, IMAGES)
def list_images(ctx: RequestContext) -> ImagePage:
    return images.list_images(ctx.account_id, *ctx.paging())


@route(blueprint, IMAGE)
def get_image(ctx: RequestContext, id: str) -> ImageResponse:
    return images.get_image(ctx.account_id, id)


@route(blueprint, IMAGE, methods=["DELETE"])
def delete_image(ctx: RequestContext, id: str) -> ImageResponse:
    return images.delete_image(ctx.account_id, id)


# --- subdomains -----------------------------------------------------------------------------------------


@route(blueprint, SUBDOMAINS)
def list_subdomains(ctx: RequestContext) -> list[dict[str, Any]]:
    return [item.model_dump() for item in subdomains.list_subdomains(ctx.account_id)]


@route(blueprint, SUBDOMAINS, methods=["POST"])
def create_subdomain(ctx: RequestContext) -> Subdomain:
    return subdomains.create_subdomain(ctx.account_id, ctx.body(SubdomainRequest))


@route(blueprint, SUBDOMAIN, methods=["DELETE"])
def delete_subdomain(ctx: RequestContext, id: str) -> Subdomain:
    return subdomains.delete_subdomain(ctx.account_id, id)


# --- links ----------------------------------------------------------------------------------------------


@route(blueprint, LINKS)
def list_links(ctx: RequestContext) -> CallLinkPage:
    return links.list_links(ctx.account_id, *ctx.paging())


@route(blueprint, LINKS, methods=["POST"], status=201)
def create_link(ctx: RequestContext) -> CallLinkResponse:
    return links.create_link(ctx.account_id, ctx.body(CallLinkRequest))


@route(blueprint, LINK)
def get_link(ctx: RequestContext, id: str) -> CallLink:
    return links.get_link(ctx.account_id, id)


@route(blueprint, LINK, methods=["DELETE"])
def delete_link(ctx: RequestContext, id: str) -> CallLink:
    return links.delete_link(ctx.account_id, id)
