"""The outbound URL policy decides by address, after resolving names."""

from __future__ import annotations

import ipaddress

import pytest

from chalicelib.core.settings import reset_settings_cache
from chalicelib.core.urlpolicy import WEBSOCKET_SCHEMES, OutboundUrlRefused, address_allowed, check_url

REFUSED = [
    "10.1.2.3",
    "172.16.0.1",
    "192.168.0.10",
    "169.254.169.254",
    "169.254.1.1",
    "fd00:ec2::254",
    "fe80::1",
    "fc00::5",
    "100.64.0.1",
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "240.0.0.1",
    "::ffff:10.0.0.1",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700::1111"]
LOOPBACK = ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]


@pytest.mark.parametrize("address", REFUSED + LOOPBACK)
def test_private_loopback_link_local_and_metadata_are_refused_by_default(policy, address):
    assert not address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(policy, address):
    assert address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", LOOPBACK)
def test_loopback_switch_allows_only_loopback(policy, address):
    policy.setenv("SWITCHBOARD_ALLOW_LOOPBACK_URLS", "true")
    reset_settings_cache()
    assert address_allowed(ipaddress.ip_address(address))
    assert not address_allowed(ipaddress.ip_address("10.0.0.1"))


def test_private_switch_allows_everything(policy):
    policy.setenv("SWITCHBOARD_ALLOW_PRIVATE_URLS", "true")
    reset_settings_cache()
    assert all(address_allowed(ipaddress.ip_address(a)) for a in REFUSED + LOOPBACK)


def test_names_are_resolved_before_the_check(policy):
    with pytest.raises(OutboundUrlRefused, match="localhost"):
        check_url("http://localhost:8080/hook")


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http:///nohost", "http://[::1"]
)
def test_only_http_and_https_with_a_host(policy, url):
    with pytest.raises(OutboundUrlRefused):
        check_url(url)


def test_websocket_urls_are_checked_like_web_urls_where_asked_for(policy):
    assert check_url("wss://93.184.216.34/stream", schemes=WEBSOCKET_SCHEMES) == "wss://93.184.216.34/stream"
    assert check_url("ws://93.184.216.34:8080/", schemes=WEBSOCKET_SCHEMES) == "ws://93.184.216.34:8080/"
    with pytest.raises(OutboundUrlRefused, match="disallowed"):
        check_url("ws://10.0.0.1/stream", schemes=WEBSOCKET_SCHEMES)
    with pytest.raises(OutboundUrlRefused, match="ws or wss"):
        check_url("https://93.184.216.34/", schemes=WEBSOCKET_SCHEMES)
    with pytest.raises(OutboundUrlRefused, match="http or https"):
        check_url("wss://93.184.216.34/")
