"""`/accounts/1/...`: the calling account, its API keys and its recording settings."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.accounts import service
from chalicelib.accounts.schemas import (
    AccountInfo,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyInfo,
    ApiKeyPage,
    RecordingSettings,
    RecordingSettingsRequest,
)
from chalicelib.core.api import RequestContext, route

blueprint = Blueprint(__name__)


@route(blueprint, "/accounts/1/account")
def get_account(ctx: RequestContext) -> AccountInfo:
    return service.describe(ctx.account_id)


@route(blueprint, "/accounts/1/api-keys")
def list_api_keys(ctx: RequestContext) -> ApiKeyPage:
    return ApiKeyPage(results=service.list_api_keys(ctx.account_id))


@route(blueprint, "/accounts/1/api-keys", methods=["POST"], status=201)
def create_api_key(ctx: RequestContext) -> ApiKeyCreated:
    return service.issue_api_key(ctx.account_id, ctx.body(ApiKeyCreate).name)


@route(blueprint, "/accounts/1/api-keys/{keyId}", methods=["DELETE"])
def revoke_api_key(ctx: RequestContext, keyId: str) -> ApiKeyInfo:
    return service.revoke_api_key(ctx.account_id, keyId)


@route(blueprint, "/accounts/1/recording-settings")
def get_recording_settings(ctx: RequestContext) -> RecordingSettings:
    return service.recording_settings(ctx.account_id)


@route(blueprint, "/accounts/1/recording-settings", methods=["PUT"])
def replace_recording_settings(ctx: RequestContext) -> RecordingSettings:
    return service.replace_recording_settings(ctx.account_id, ctx.body(RecordingSettingsRequest))
