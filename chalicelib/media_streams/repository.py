"""Persistence for media-stream configurations: the only code that touches the `MediaStreamConfig` model.

Writes are conditional (create where no item has the key, update and delete where one still has it), so a
configuration deleted meanwhile is never written back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.db.models import MediaStreamConfig

_CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class StreamConfigRecord:
    account_id: str
    config_id: str
    type: str
    name: str
    url: str
    audio_encoding: str
    security_type: str | None  # None or BASIC
    credentials_sealed: str | None  # AES-GCM under the data key (`chalicelib.core.crypto`)
    created_at: datetime


def _record(item: MediaStreamConfig) -> StreamConfigRecord:
    return StreamConfigRecord(
        account_id=item.account_id,
        config_id=item.config_id,
        type=item.type,
        name=item.name,
        url=item.url,
        audio_encoding=item.audio_encoding,
        security_type=item.security_type,
        credentials_sealed=item.credentials_sealed,
        created_at=item.created_at,
    )


def create(record: StreamConfigRecord) -> bool:
    """Store a new configuration; False when the id is already taken."""
    item = MediaStreamConfig(
        record.account_id,
        record.config_id,
        type=record.type,
        name=record.name,
        url=record.url,
        audio_encoding=record.audio_encoding,
        security_type=record.security_type,
        credentials_sealed=record.credentials_sealed,
        created_at=record.created_at,
    )
    try:
        item.save(condition=MediaStreamConfig.config_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


def get(account_id: str, config_id: str) -> StreamConfigRecord | None:
    try:
        return _record(MediaStreamConfig.get(account_id, config_id))
    except DoesNotExist:
        return None


def list_all(account_id: str) -> list[StreamConfigRecord]:
    return [_record(item) for item in MediaStreamConfig.query(account_id)]


def replace(record: StreamConfigRecord) -> StreamConfigRecord | None:
    """Overwrite an existing configuration's settings (not its creation time); None when there is none."""
    fields = MediaStreamConfig
    actions: list[Action] = [
        fields.type.set(record.type),
        fields.name.set(record.name),
        fields.url.set(record.url),
        fields.audio_encoding.set(record.audio_encoding),
        fields.security_type.set(record.security_type) if record.security_type else fields.security_type.remove(),
        fields.credentials_sealed.set(record.credentials_sealed)
        if record.credentials_sealed
        else fields.credentials_sealed.remove(),
    ]
    item = MediaStreamConfig(record.account_id, record.config_id)
    try:
        item.update(actions=actions, condition=MediaStreamConfig.config_id.exists())
    except UpdateError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            return None
        raise
    return _record(item)


def delete(record: StreamConfigRecord) -> bool:
    """Delete a configuration; False when it was already gone."""
    try:
        MediaStreamConfig(record.account_id, record.config_id).delete(condition=MediaStreamConfig.config_id.exists())
    except DeleteError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True
