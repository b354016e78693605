"""`/accounts/1/recording-export/sftp`: the account's SFTP destination for finished recordings."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.api import RequestContext, route
from chalicelib.recording_export import service
from chalicelib.recording_export.schemas import SftpDestination, SftpDestinationRequest

blueprint = Blueprint(__name__)

SFTP = "/accounts/1/recording-export/sftp"


@route(blueprint, SFTP)
def get_sftp_destination(ctx: RequestContext) -> SftpDestination:
    return service.get_destination(ctx.account_id)


@route(blueprint, SFTP, methods=["PUT"])
def put_sftp_destination(ctx: RequestContext) -> SftpDestination:
    return service.put_destination(ctx.account_id, ctx.body(SftpDestinationRequest))


@route(blueprint, SFTP, methods=["DELETE"])
def delete_sftp_destination(ctx: RequestContext) -> SftpDestination:
    return service.delete_destination(ctx.account_id)
