"""The guarded transport checks the address it connects to, even for IP literals and names that resolve late.

It replaces a private attribute of httpx's transport (`_pool`); the first test fails loudly if httpx changes it.
"""

from __future__ import annotations

import http.server
import threading

import httpcore
import httpx
import pytest

from chalicelib.core.outbound import GuardedBackend, OutboundPolicyError, guarded_transport
from chalicelib.core.settings import reset_settings_cache


@pytest.fixture
def local_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_the_transport_uses_the_guarded_backend():
    transport = guarded_transport()
    pool = transport._pool
    assert isinstance(pool, httpcore.ConnectionPool), "httpx changed HTTPTransport._pool: revisit core/outbound.py"
    assert isinstance(pool._network_backend, GuardedBackend), "httpcore changed ConnectionPool: revisit outbound.py"


def test_loopback_is_refused_at_connect_time(policy, local_server):
    with httpx.Client(transport=guarded_transport()) as client, pytest.raises(httpx.ConnectError) as raised:
        client.get(local_server)
    assert isinstance(raised.value.__cause__, OutboundPolicyError) or "disallowed" in str(raised.value)


def test_names_are_refused_by_what_they_resolve_to(policy, local_server):
    with httpx.Client(transport=guarded_transport()) as client, pytest.raises(httpx.ConnectError):
        client.get(local_server.replace("127.0.0.1", "localhost"))


def test_allowed_destinations_connect(policy, local_server):
    policy.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "true")
    reset_settings_cache()
    with httpx.Client(transport=guarded_transport()) as client:
        assert client.get(local_server).status_code == 204
