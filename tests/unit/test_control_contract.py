"""Control-plane -> media-node request signing: what is signed verifies; any change, another key or age fails."""

from __future__ import annotations

import time

from chalicelib.contract import control

KEY = b"k" * 32
PATH = "/internal/v1/calls/c1/hangup"
BODY = b'{"errorCode":"NORMAL_HANGUP"}'


def headers(key: bytes = KEY, timestamp: int | None = None) -> dict[str, str]:
    return control.signed_headers(key, timestamp if timestamp is not None else int(time.time()), "POST", PATH, BODY)


def test_a_signed_request_verifies():
    assert control.verify(KEY, headers(), "POST", PATH, BODY, time.time())


def test_body_path_method_key_and_age_are_all_covered():
    now = time.time()
    assert not control.verify(KEY, headers(), "POST", PATH, BODY + b" ", now)
    assert not control.verify(KEY, headers(), "POST", "/internal/v1/calls/c2/hangup", BODY, now)
    assert not control.verify(KEY, headers(), "GET", PATH, BODY, now)
    assert not control.verify(KEY, headers(key=b"x" * 32), "POST", PATH, BODY, now)
    assert not control.verify(KEY, headers(timestamp=int(now) - 120), "POST", PATH, BODY, now)
    assert not control.verify(KEY, {}, "POST", PATH, BODY, now)
