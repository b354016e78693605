"""`/calls/1/files`: upload (multipart/form-data, one part named `file`), list, get and delete audio files."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.api import RequestContext, route
from chalicelib.files import service
from chalicelib.files.errors import AudioFileTooLarge
from chalicelib.files.multipart import parse_form, single_part
from chalicelib.files.schemas import File, FilePage

blueprint = Blueprint(__name__)

FILES = "/calls/1/files"
FILE = FILES + "/{fileId}"


@route(blueprint, FILES, methods=["POST"])
def upload_file(ctx: RequestContext) -> File:
    raw = ctx.request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    if len(body) > service.MAX_REQUEST_BYTES:
        raise AudioFileTooLarge(service.MAX_FILE_BYTES)
    part = single_part(parse_form(ctx.request.headers.get("content-type"), body), "file")
    return service.upload_file(ctx.account_id, part.filename, part.content)


@route(blueprint, FILES)
def list_files(ctx: RequestContext) -> FilePage:
    page, size = ctx.paging()
    return service.list_files(ctx.account_id, page, size)


@route(blueprint, FILE)
def get_file(ctx: RequestContext, fileId: str) -> File:
    return service.get_file(ctx.account_id, fileId)


@route(blueprint, FILE, methods=["DELETE"])
def delete_file(ctx: RequestContext, fileId: str) -> File:
    return service.delete_file(ctx.account_id, fileId)
