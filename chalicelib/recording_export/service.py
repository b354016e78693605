"""SFTP destination rules.

- One destination per account. A PUT creates or replaces it; the password may be left out of a replacement and
  the stored one is kept. It is encrypted with the data key, bound to the account, and never returned; `connection_for`
  is the one place that decrypts it, for the exporter.
- The host must pass the outbound policy when saved (private networks refused unless the operator allows them;
  loopback in local mode), and again when the exporter connects (`sftp.upload` dials the address it checked).
- The host-key fingerprint is stored as `SHA256:...`; the exporter compares the server's key with it before it sends
  any credential.
- A destination belongs to its account; there is nothing to address another account's by.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core import clock
from chalicelib.core.crypto import decrypt_secret, encrypt_secret
from chalicelib.core.errors import BadRequest
from chalicelib.core.urlpolicy import OutboundUrlRefused, resolve_allowed
from chalicelib.recording_export import repository
from chalicelib.recording_export.errors import DestinationNotFound
from chalicelib.recording_export.repository import SftpDestinationRecord
from chalicelib.recording_export.schemas import SftpDestination, SftpDestinationRequest


@dataclass(frozen=True)
class SftpConnection:
    """Everything the exporter needs to deliver a file, the password in clear (never logged, never returned)."""

    host: str
    port: int
    path: str
    username: str
    password: str
    host_key_fingerprint: str

    def __repr__(self) -> str:
        return f"SftpConnection({self.username}@{self.host}:{self.port}{self.path!r})"


def _sealing_context(account_id: str) -> str:
    return f"{account_id}/recording-export/sftp"


def _view(record: SftpDestinationRecord) -> SftpDestination:
    return SftpDestination(
        enabled=record.enabled,
        host=record.host,
        port=record.port,
        path=record.path,
        username=record.username,
        hostKeyFingerprint=record.host_key_fingerprint,
        createdAt=record.created_at,
        updatedAt=record.updated_at,
    )


def _check_host_allowed(host: str, port: int) -> None:
    try:
        resolve_allowed(host, port)
    except OutboundUrlRefused as error:
        raise BadRequest("Request is invalid.", {"host": [error.text]}) from None


def get_destination(account_id: str) -> SftpDestination:
    record = repository.get_sftp(account_id)
    if record is None:
        raise DestinationNotFound()
    return _view(record)


def put_destination(account_id: str, request: SftpDestinationRequest) -> SftpDestination:
    existing = repository.get_sftp(account_id)
    if request.password is not None:
        sealed = encrypt_secret(request.password, _sealing_context(account_id))
    elif existing is not None:
        sealed = existing.password_sealed
    else:
        raise BadRequest("Request is invalid.", {"password": ["required when the destination is new"]})
    _check_host_allowed(request.host, request.port)
    now = clock.now()
    record = SftpDestinationRecord(
        account_id=account_id,
        enabled=request.enabled,
        host=request.host,
        port=request.port,
        path=request.path,
        username=request.username,
        password_sealed=sealed,
        host_key_fingerprint=request.hostKeyFingerprint,
        created_at=existing.created_at if existing else now,
        updated_at=now,
    )
    repository.save_sftp(record)
    return _view(record)


def delete_destination(account_id: str) -> SftpDestination:
    record = repository.get_sftp(account_id)
    if record is None or not repository.delete_sftp(account_id):
        raise DestinationNotFound()
    return _view(record)


def connection_for(account_id: str) -> SftpConnection | None:
    """The account's enabled destination with its password decrypted, or None when there is none or it is off."""
    record = repository.get_sftp(account_id)
    if record is None or not record.enabled:
        return None
    return SftpConnection(
        host=record.host,
        port=record.port,
        path=record.path,
        username=record.username,
        password=decrypt_secret(record.password_sealed, _sealing_context(account_id)),
        host_key_fingerprint=record.host_key_fingerprint,
    )


def exports_enabled(account_id: str) -> bool:
    """Whether the account's finished recordings are to be pushed (an enabled destination; nothing decrypted)."""
    record = repository.get_sftp(account_id)
    return record is not None and record.enabled
