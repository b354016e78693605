"""Persistence for accounts, API keys and account settings (the only code that touches their models)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.db.models import Account, ApiKey, RecordingSettings


def find_account(account_id: str) -> Account | None:
    try:
        return Account.get(account_id)
    except DoesNotExist:
        return None


def find_account_by_username(username: str) -> Account | None:
    return next(iter(Account.by_username.query(username, limit=1)), None)


def create_account(account: Account) -> None:
    account.save(condition=Account.account_id.does_not_exist())


def find_api_key(key_hash: str) -> ApiKey | None:
    try:
        return ApiKey.get(key_hash)
    except DoesNotExist:
        return None


def save_api_key(record: ApiKey) -> None:
    record.save(condition=ApiKey.key_hash.does_not_exist())


def list_api_keys(account_id: str) -> list[ApiKey]:
    return list(ApiKey.by_account.query(account_id))


def find_api_key_by_id(account_id: str, key_id: str) -> ApiKey | None:
    return next(iter(ApiKey.by_account.query(account_id, ApiKey.key_id == key_id, limit=1)), None)


def revoke_api_key(record: ApiKey, when: datetime) -> None:
    record.update(actions=[ApiKey.revoked_at.set(when)])


def find_recording_settings(account_id: str) -> RecordingSettings | None:
    try:
        return RecordingSettings.get(account_id)
    except DoesNotExist:
        return None


def save_recording_settings(record: RecordingSettings) -> None:
    record.save()
