"""HTTP clients for outbound calls (webhooks now; media streams and audio downloads later).

The transport enforces the outbound URL policy at connect time: it resolves the host itself, checks every
address, and connects to an address it checked, so a name cannot be re-pointed between check and connect.
TLS still verifies the certificate against the original host name. Proxies from the environment are ignored.

httpx has no public hook for the network backend, so `_install_backend` replaces the transport's connection
pool; `tests/unit/test_outbound.py` fails loudly if httpx changes that internal.
"""

from __future__ import annotations

import typing
from functools import lru_cache

import httpcore
import httpx

from chalicelib.core.urlpolicy import OutboundUrlRefused, resolve_allowed

_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30)


class OutboundPolicyError(httpcore.ConnectError):
    """The destination is not allowed by the outbound URL policy."""


class GuardedBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_allowed(host, port)
        except OutboundUrlRefused as error:
            raise OutboundPolicyError(error.text) from error
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error


def _install_backend(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=_LIMITS.max_connections,
        max_keepalive_connections=_LIMITS.max_keepalive_connections,
        keepalive_expiry=_LIMITS.keepalive_expiry,
        network_backend=GuardedBackend(),
    )
    return transport


def guarded_transport() -> httpx.HTTPTransport:
    return _install_backend(httpx.HTTPTransport(trust_env=False, limits=_LIMITS))


@lru_cache(maxsize=1)
def webhook_client() -> httpx.Client:
    """One client per container (connection reuse across invocations); timeouts are set per request."""
    return httpx.Client(
        transport=guarded_transport(),
        trust_env=False,
        follow_redirects=False,
        headers={"User-Agent": "Switchboard-Webhooks/1"},
    )
