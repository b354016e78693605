"""Outbound URL policy: webhooks, media streams and audio downloads never reach private networks unless the
operator allows it.

Only http and https (ws and wss for media streams). Host names are resolved and every address checked: loopback,
private, link-local (which includes the cloud metadata address), CGNAT, multicast, reserved and unspecified
addresses are refused unless `SWITCHBOARD_ALLOW_PRIVATE_URLS` is set; loopback alone can be allowed with
`SWITCHBOARD_ALLOW_LOOPBACK_URLS` (local mode). `check_url` validates at configuration time; `resolve_allowed` is
used again at connect time by the guarded transport, which connects to the address it checked (no second lookup to
rebind).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from chalicelib.core.errors import BadRequest
from chalicelib.core.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class OutboundUrlRefused(BadRequest):
    pass


def _normalise(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_allowed(address: IPAddress) -> bool:
    settings = get_settings()
    address = _normalise(address)
    if address.is_loopback:
        return settings.allow_loopback_urls or settings.allow_private_urls
    restricted = (
        address in _METADATA
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
    )
    return settings.allow_private_urls or not restricted


def resolve_allowed(host: str, port: int) -> list[str]:
    """Resolve `host` and return its addresses; refuse if any of them is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OutboundUrlRefused(f"host {host!r} cannot be resolved") from error
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address_allowed(address):
            raise OutboundUrlRefused(f"host {host!r} resolves to a disallowed address {address}")
        addresses.append(str(address))
    if not addresses:
        raise OutboundUrlRefused(f"host {host!r} has no addresses")
    return addresses


HTTP_SCHEMES = ("http", "https")
WEBSOCKET_SCHEMES = ("ws", "wss")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def check_url(url: str, field: str = "url", schemes: tuple[str, ...] = HTTP_SCHEMES) -> str:
    """Validate an outbound URL now (scheme, host, resolved addresses). Returns it unchanged."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
    except ValueError as error:
        raise OutboundUrlRefused(f"{field} is not a valid URL", {field: [str(error)]}) from error
    if parts.scheme not in schemes:
        allowed = " or ".join(schemes)
        raise OutboundUrlRefused(f"{field} must use {allowed}", {field: [f"scheme must be {allowed}"]})
    if not parts.hostname:
        raise OutboundUrlRefused(f"{field} has no host", {field: ["missing host"]})
    try:
        resolve_allowed(parts.hostname, port)
    except OutboundUrlRefused as error:
        raise OutboundUrlRefused(error.text, {field: [error.text]}) from error
    return url
