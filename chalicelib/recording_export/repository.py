"""Persistence for export destinations: the only code that touches the `RecordingExportDestination` model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.db.models import RecordingExportDestination

SFTP = "SFTP"


@dataclass(frozen=True)
class SftpDestinationRecord:
    account_id: str
    enabled: bool
    host: str
    port: int
    path: str
    username: str
    password_sealed: str  # AES-GCM under the data key (`chalicelib.core.crypto`)
    host_key_fingerprint: str
    created_at: datetime
    updated_at: datetime


def get_sftp(account_id: str) -> SftpDestinationRecord | None:
    try:
        item = RecordingExportDestination.get(account_id, SFTP)
    except DoesNotExist:
        return None
    return SftpDestinationRecord(
        account_id=item.account_id,
        enabled=item.enabled,
        host=item.host,
        port=int(item.port),
        path=item.path,
        username=item.username,
        password_sealed=item.password_sealed,
        host_key_fingerprint=item.host_key_fingerprint,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def save_sftp(record: SftpDestinationRecord) -> None:
    RecordingExportDestination(
        record.account_id,
        SFTP,
        enabled=record.enabled,
        host=record.host,
        port=record.port,
        path=record.path,
        username=record.username,
        password_sealed=record.password_sealed,
        host_key_fingerprint=record.host_key_fingerprint,
        created_at=record.created_at,
        updated_at=record.updated_at,
    ).save()


def delete_sftp(account_id: str) -> bool:
    """Delete the destination; False when there was none."""
    try:
        item = RecordingExportDestination.get(account_id, SFTP)
    except DoesNotExist:
        return False
    item.delete()
    return True
