"""Media-stream configuration rules.

- The URL is a `ws://` or `wss://` URL that passes the outbound URL policy when saved (private networks refused
  unless the operator allows them; loopback allowed in local mode). Credentials belong in `securityConfig`, never
  in the URL, because the URL is shown back.
- BASIC credentials are encrypted with the data key, bound to the account and the configuration, and never
  returned; `connection_for` is the one place that decrypts them, for the media node that opens the stream.
- A PUT replaces the whole configuration: without `securityConfig` the stream is opened without credentials.
- Configurations belong to an account: another account's id is unknown (404).
"""

from __future__ import annotations

import base64
import json
from typing import NamedTuple
from urllib.parse import urlsplit

from chalicelib.core import clock, ids
from chalicelib.core.crypto import decrypt_secret, encrypt_secret
from chalicelib.core.errors import BadRequest
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.core.urlpolicy import WEBSOCKET_SCHEMES, check_url
from chalicelib.media_streams import repository
from chalicelib.media_streams.errors import MediaStreamConfigNotFound
from chalicelib.media_streams.repository import StreamConfigRecord
from chalicelib.media_streams.schemas import (
    MediaStreamConfigPage,
    MediaStreamConfigRequest,
    MediaStreamConfigResponse,
    UrlSecurityConfig,
)


class MediaStreamConnection(NamedTuple):
    """What the media node needs to open a stream: the websocket URL and the headers of its opening handshake."""

    url: str
    headers: dict[str, str]


def _check_stream_url(url: str) -> str:
    check_url(url, "url", WEBSOCKET_SCHEMES)
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise BadRequest("Request is invalid.", {"url": ["put credentials in securityConfig, not in the URL"]})
    if parts.fragment:
        raise BadRequest("Request is invalid.", {"url": ["a websocket URL has no fragment"]})
    return url


def _sealing_context(account_id: str, config_id: str) -> str:
    return f"{account_id}/media-stream-configs/{config_id}"


def _seal(account_id: str, config_id: str, security: UrlSecurityConfig | None) -> str | None:
    if security is None:
        return None
    payload = {"username": security.username, "password": security.password}
    return encrypt_secret(json.dumps(payload), _sealing_context(account_id, config_id))


def _record(account_id: str, config_id: str, request: MediaStreamConfigRequest) -> StreamConfigRecord:
    security = request.securityConfig
    return StreamConfigRecord(
        account_id=account_id,
        config_id=config_id,
        type=request.type,
        name=request.name,
        url=_check_stream_url(request.url),
        audio_encoding=request.audioEncoding or "RAW",
        security_type=security.type if security else None,
        credentials_sealed=_seal(account_id, config_id, security),
        created_at=clock.now(),
    )


def _view(record: StreamConfigRecord) -> MediaStreamConfigResponse:
    return MediaStreamConfigResponse(
        id=record.config_id, type=record.type, name=record.name, url=record.url, audioEncoding=record.audio_encoding
    )


def create_config(account_id: str, request: MediaStreamConfigRequest) -> MediaStreamConfigResponse:
    record = _record(account_id, ids.uuid_id(), request)
    if not repository.create(record):
        raise RuntimeError("a generated media-stream configuration id was already taken")
    return _view(record)


def get_config(account_id: str, config_id: str) -> StreamConfigRecord:
    """The account's configuration, or `MediaStreamConfigNotFound` (404)."""
    record = repository.get(account_id, config_id)
    if record is None:
        raise MediaStreamConfigNotFound(config_id)
    return record


def read_config(account_id: str, config_id: str) -> MediaStreamConfigResponse:
    return _view(get_config(account_id, config_id))


def list_configs(account_id: str, page: int, size: int) -> MediaStreamConfigPage:
    records = sorted(repository.list_all(account_id), key=lambda r: (r.created_at, r.config_id), reverse=True)
    items, paging = page_of(records, page, size)
    return MediaStreamConfigPage(results=[_view(r) for r in items], paging=PageInfo(**paging))


def update_config(account_id: str, config_id: str, request: MediaStreamConfigRequest) -> MediaStreamConfigResponse:
    updated = repository.replace(_record(account_id, config_id, request))
    if updated is None:
        raise MediaStreamConfigNotFound(config_id)
    return _view(updated)


def delete_config(account_id: str, config_id: str) -> MediaStreamConfigResponse:
    record = get_config(account_id, config_id)
    if not repository.delete(record):
        raise MediaStreamConfigNotFound(config_id)
    return _view(record)


def connection_for(account_id: str, config_id: str) -> MediaStreamConnection:
    """The URL and handshake headers (`Authorization: Basic ...` when the configuration has credentials).

    The URL passed the policy when it was saved; whoever connects must still dial through the policy
    (`urlpolicy.resolve_allowed`), so a name that now resolves elsewhere is refused at connect time.
    """
    record = get_config(account_id, config_id)
    headers: dict[str, str] = {}
    if record.security_type == "BASIC" and record.credentials_sealed:
        credentials = json.loads(decrypt_secret(record.credentials_sealed, _sealing_context(account_id, config_id)))
        token = base64.b64encode(f"{credentials['username']}:{credentials['password']}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return MediaStreamConnection(record.url, headers)
