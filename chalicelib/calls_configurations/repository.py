"""Persistence for calls configurations: the only code that touches the `CallsConfiguration` model.

Ids are decided by conditional writes, never by a read before the write: a create succeeds only where no item has
the key, a rename only where one still has it. Of two racing creates of one id, exactly one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from chalicelib.db.models import CallsConfiguration

_CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class ConfigurationRecord:
    account_id: str
    configuration_id: str
    name: str | None
    created_at: datetime


def _record(item: CallsConfiguration) -> ConfigurationRecord:
    return ConfigurationRecord(item.account_id, item.configuration_id, item.name, item.created_at)


def create(record: ConfigurationRecord) -> bool:
    """Store a new configuration; False when the account already has one with this id."""
    item = CallsConfiguration(
        record.account_id, record.configuration_id, name=record.name, created_at=record.created_at
    )
    try:
        item.save(condition=CallsConfiguration.configuration_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


def get(account_id: str, configuration_id: str) -> ConfigurationRecord | None:
    try:
        return _record(CallsConfiguration.get(account_id, configuration_id))
    except DoesNotExist:
        return None


def list_all(account_id: str) -> list[ConfigurationRecord]:
    return [_record(item) for item in CallsConfiguration.query(account_id)]


def rename(account_id: str, configuration_id: str, name: str | None) -> ConfigurationRecord | None:
    """Set (or, with None, remove) the name of an existing configuration; None when there is none."""
    item = CallsConfiguration(account_id, configuration_id)
    action = CallsConfiguration.name.set(name) if name is not None else CallsConfiguration.name.remove()
    try:
        item.update(actions=[action], condition=CallsConfiguration.configuration_id.exists())
    except UpdateError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            return None
        raise
    return _record(item)


def delete(record: ConfigurationRecord) -> bool:
    """Delete a configuration; False when it was already gone."""
    try:
        CallsConfiguration(record.account_id, record.configuration_id).delete(
            condition=CallsConfiguration.configuration_id.exists()
        )
    except DeleteError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True
