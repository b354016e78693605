"""Call links (`/call-link/1/links`): create, list, get, delete, and `resolve` for the page.

- Destinations: WEBRTC (an identity), ROOM (a room name, optional password stored with scrypt), APPLICATION (a
  calls configuration of the account: the call reaches it as CALL_RECEIVED). PHONE, CONVERSATIONS and VIBER are
  refused with a clear 400 until their issues exist. A ROOM link has no end-user identity and is never one-time.
- Without `callLinkConfigId` the account's default configuration is used (none: the system default); the
  configuration's subdomain is the link's.
- The short code is 8 base62 characters from the OS's secure RNG (~47 bits), taken by a conditional write: a
  collision is retried with a new code, never overwritten. The page is `<base>/<code>` (also `<base>/?<code>`);
  with a subdomain and a named host, `<scheme>://<subdomain>.<host>/<code>`.
- Links belong to an account: another account's code is a 404, like an unknown one.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalicelib.call_link import configurations, repository, subdomains, validity
from chalicelib.call_link.errors import CallLinkResourceNotFound, DestinationNotSupported, InvalidField
from chalicelib.call_link.schemas import (
    CallLink,
    CallLinkPage,
    CallLinkRequest,
    CallLinkResponse,
    RoomDestination,
    UnsupportedDestination,
)
from chalicelib.call_link.validity import LinkState, Window
from chalicelib.calls_configurations import service as calls_configurations
from chalicelib.calls_configurations.errors import CallsConfigurationNotFound
from chalicelib.core import clock, crypto, ids
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.core.settings import get_settings
from chalicelib.db.models import CallLink as LinkItem

CODE_LENGTH = 8
_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class ResolvedLink:
    item: LinkItem
    document: dict[str, Any]
    window: Window
    state: LinkState


def _not_found(code: str) -> CallLinkResourceNotFound:
    return CallLinkResourceNotFound("Call link", code)


def page_url(code: str, subdomain: str | None) -> str:
    base = get_settings().public_base_url.rstrip("/")
    parts = urlsplit(base)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        named = False
    except ValueError:
        named = host not in ("", "localhost")
    if subdomain and named:
        base = f"{parts.scheme}://{subdomain}.{parts.netloc}{parts.path}"
    return f"{base}/{code}"


def _check_destination(account_id: str, request: CallLinkRequest) -> None:
    destination = request.destination
    if isinstance(destination, UnsupportedDestination):
        raise DestinationNotSupported(destination.type)
    if isinstance(destination, RoomDestination):
        if request.identity is not None or request.displayName is not None:
            raise InvalidField("identity", "must not be set for a ROOM destination (each participant types a name)")
        if request.validityWindow is not None and request.validityWindow.oneTime:
            raise InvalidField("validityWindow.oneTime", "cannot be true for a ROOM destination")
    if destination.type == "APPLICATION":
        try:
            calls_configurations.get_configuration(account_id, destination.callsConfigurationId)
        except CallsConfigurationNotFound:
            raise InvalidField(
                "destination.callsConfigurationId", "names no calls configuration of this account"
            ) from None
    if request.displayName is not None and request.identity is None:
        raise InvalidField("displayName", "needs an identity as well")


def _document(request: CallLinkRequest, window: Window, config_id: str | None) -> dict[str, Any]:
    destination = request.destination.model_dump(mode="json", exclude_none=True, exclude={"password"})
    document: dict[str, Any] = {
        "identity": request.identity,
        "displayName": request.displayName,
        "showIdentity": request.showIdentity,
        "destination": destination,
        "customData": request.customData,
        "validityWindow": validity.to_document(window),
        "callLinkConfigId": config_id,
    }
    return {key: value for key, value in document.items() if value is not None}


def create_link(account_id: str, request: CallLinkRequest) -> CallLinkResponse:
    _check_destination(account_id, request)
    if request.callLinkConfigId:
        configurations.require_config(account_id, request.callLinkConfigId)
    config_id = request.callLinkConfigId or configurations.default_config_id(account_id)
    subdomain_id = configurations.effective_config(account_id, config_id).subdomainId
    subdomain = subdomains.find(account_id, subdomain_id) if subdomain_id else None
    created = clock.now()
    window = validity.window_of(request.validityWindow, created)
    password = getattr(request.destination, "password", None)
    for _ in range(_CODE_ATTEMPTS):
        code = ids.base62(CODE_LENGTH)
        item = LinkItem(
            code,
            account_id=account_id,
            document=json.dumps(_document(request, window, config_id)),
            destination_type=request.destination.type,
            password_hash=crypto.hash_password(password) if password else None,
            config_id=config_id,
            subdomain_id=subdomain.subdomain_id if subdomain else None,
            created_at=created,
        )
        if repository.create_link(item):
            return CallLinkResponse(id=code, url=page_url(code, subdomain.name if subdomain else None))
    raise RuntimeError("could not find a free call-link code")  # ~1e14 codes: unreachable short of a broken RNG


def _subdomain_name(item: LinkItem) -> str | None:
    found = subdomains.find(item.account_id, item.subdomain_id) if item.subdomain_id else None
    return found.name if found else None


def to_infobip(item: LinkItem, subdomain_name: str | None = None) -> CallLink:
    document = json.loads(item.document)
    return CallLink(id=item.code, url=page_url(item.code, subdomain_name), **document)


def _owned(account_id: str, code: str) -> LinkItem:
    item = repository.get_link(code) if 0 < len(code) <= 64 else None
    if item is None or item.account_id != account_id:
        raise _not_found(code)
    return item


def get_link(account_id: str, code: str) -> CallLink:
    item = _owned(account_id, code)
    return to_infobip(item, _subdomain_name(item))


def list_links(account_id: str, page: int, size: int) -> CallLinkPage:
    names = {item.subdomain_id: item.name for item in repository.list_subdomains(account_id)}
    items = sorted(repository.list_links(account_id), key=lambda item: (item.created_at, item.code), reverse=True)
    chosen, paging = page_of(items, page, size)
    results = [to_infobip(item, names.get(item.subdomain_id or "")) for item in chosen]
    return CallLinkPage(results=results, paging=PageInfo(**paging))


def delete_link(account_id: str, code: str) -> CallLink:
    item = _owned(account_id, code)
    view = to_infobip(item, _subdomain_name(item))
    if not repository.delete_link(item):
        raise _not_found(code)
    return view


def resolve(code: str) -> ResolvedLink | None:
    """The link behind a page's code and its state now; None for an unknown code or a link whose subdomain was
    deleted (the page is then a plain 404)."""
    item = repository.get_link(code) if 0 < len(code) <= 64 and code.isalnum() else None
    if item is None or not subdomains.is_live(item.account_id, item.subdomain_id):
        return None
    document = json.loads(item.document)
    window = validity.from_document(document["validityWindow"])
    return ResolvedLink(item, document, window, window.state(clock.now(), used=item.used_at is not None))
