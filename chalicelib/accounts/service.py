"""Account rules: creating accounts, issuing and revoking API keys, the account's recording settings.

A key is `sbk_` + 40 base62 characters (~238 bits); only its SHA-256 is stored. It is returned once, at creation;
afterwards only its id and its first 8 characters (the prefix) are ever shown.

Recording settings: the WebRTC recording setting (`enabled`, `mediaType`) that the WebRTC recording table reads
(`chalicelib.webrtc.recording_rules`) and the composition preference (`autoCompose`), the default for recordings
that do not say. Until an account saves them it has the defaults: WebRTC recording off, AUDIO, no composition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.accounts import repository
from chalicelib.accounts.schemas import (
    AccountInfo,
    ApiKeyCreated,
    ApiKeyInfo,
    RecordingSettings,
    RecordingSettingsRequest,
    WebrtcRecordingSetting,
)
from chalicelib.core import clock, ids
from chalicelib.core.crypto import hash_api_key, hash_password
from chalicelib.core.errors import BadRequest, Conflict, NotFound
from chalicelib.db import models
from chalicelib.db.models import Account, ApiKey
from chalicelib.webrtc.recording_rules import AccountWebrtcRecording

KEY_PREFIX = "sbk_"
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


@dataclass(frozen=True)
class NewAccount:
    account: AccountInfo
    api_key: ApiKeyCreated


def new_api_key_secret() -> str:
    return KEY_PREFIX + ids.base62(40)


def _info(record: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=record.key_id,
        name=record.name,
        prefix=record.prefix,
        createdAt=record.created_at,
        revokedAt=record.revoked_at,
    )


def issue_api_key(account_id: str, name: str, secret: str | None = None) -> ApiKeyCreated:
    """Issue a key; `secret` lets an operator install a known key (the local development key)."""
    secret = secret or new_api_key_secret()
    if len(secret) < 20:
        raise BadRequest("API keys must be at least 20 characters long.")
    record = ApiKey(
        hash_api_key(secret),
        key_id=ids.uuid_id(),
        account_id=account_id,
        name=name,
        prefix=secret[:8],
        created_at=clock.now(),
    )
    repository.save_api_key(record)
    return ApiKeyCreated(**_info(record).model_dump(), key=secret)


def create_account(name: str, username: str, password: str | None, key_secret: str | None = None) -> NewAccount:
    if not _USERNAME.match(username):
        raise BadRequest("Username must be 3-64 characters of letters, digits, _ . @ -.")
    if repository.find_account_by_username(username) is not None:
        raise Conflict(f"Username {username!r} is taken.")
    account = Account(
        ids.uuid_id(),
        name=name,
        username=username,
        enabled=True,
        created_at=clock.now(),
        password_hash=hash_password(password) if password else None,
    )
    repository.create_account(account)
    key = issue_api_key(account.account_id, "initial", key_secret)
    return NewAccount(AccountInfo(accountId=account.account_id, name=name, username=username), key)


def ensure_account_with_key(name: str, username: str, password: str | None, key_secret: str) -> AccountInfo:
    """Idempotent: the account owning `key_secret` if it exists, else a new account with that key."""
    existing = repository.find_api_key(hash_api_key(key_secret))
    if existing is not None:
        account = repository.find_account(existing.account_id)
        assert account is not None
        return AccountInfo(accountId=account.account_id, name=account.name, username=account.username)
    return create_account(name, username, password, key_secret).account


def describe(account_id: str) -> AccountInfo:
    account = repository.find_account(account_id)
    if account is None:
        raise NotFound()
    return AccountInfo(accountId=account.account_id, name=account.name, username=account.username)


def list_api_keys(account_id: str) -> list[ApiKeyInfo]:
    records = sorted(repository.list_api_keys(account_id), key=lambda record: record.created_at)
    return [_info(record) for record in records]


def revoke_api_key(account_id: str, key_id: str) -> ApiKeyInfo:
    record = repository.find_api_key_by_id(account_id, key_id)
    if record is None:
        raise NotFound("API key was not found.")
    if record.revoked_at is None:
        repository.revoke_api_key(record, clock.now())
    return _info(record)


# --- recording settings -------------------------------------------------------------------------------


def _settings_view(record: models.RecordingSettings | None) -> RecordingSettings:
    if record is None:
        return RecordingSettings(webrtcRecording=WebrtcRecordingSetting(), autoCompose=False)
    webrtc = WebrtcRecordingSetting.model_validate(
        {"enabled": record.webrtc_enabled, "mediaType": record.webrtc_media_type}
    )
    return RecordingSettings(webrtcRecording=webrtc, autoCompose=record.auto_compose, updatedAt=record.updated_at)


def recording_settings(account_id: str) -> RecordingSettings:
    return _settings_view(repository.find_recording_settings(account_id))


def replace_recording_settings(account_id: str, request: RecordingSettingsRequest) -> RecordingSettings:
    record = models.RecordingSettings(
        account_id,
        webrtc_enabled=request.webrtcRecording.enabled,
        webrtc_media_type=request.webrtcRecording.mediaType,
        auto_compose=request.autoCompose,
        updated_at=clock.now(),
    )
    repository.save_recording_settings(record)
    return _settings_view(record)


def webrtc_recording(account_id: str) -> AccountWebrtcRecording:
    """The account's row key into the WebRTC recording table."""
    webrtc = recording_settings(account_id).webrtcRecording
    return AccountWebrtcRecording(enabled=webrtc.enabled, media_type=webrtc.mediaType)


def auto_compose(account_id: str) -> bool:
    """The account's composition preference: compose recordings whose request does not say."""
    return recording_settings(account_id).autoCompose
