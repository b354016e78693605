"""WebRTC tokens: what is signed verifies; expired, tampered, re-signed and malformed tokens are refused distinctly."""

from __future__ import annotations

import base64
import json
import time

import pytest

from chalicelib.contract.tokens import (
    BadSignature,
    ExpiredToken,
    MalformedToken,
    TokenClaims,
    sign,
    verify,
)

KEY = b"k" * 32


def claims(**overrides) -> TokenClaims:
    now = int(time.time())
    values = {"acc": "account-1", "identity": "alice", "name": "Alice A.", "iat": now, "exp": now + 60, "jti": "t1"}
    return TokenClaims(**{**values, **overrides})


def test_round_trip():
    token = sign(claims(rec="ALWAYS"), KEY)
    verified = verify(token, KEY, now=time.time())
    assert (verified.identity, verified.acc, verified.rec) == ("alice", "account-1", "ALWAYS")


def test_the_sdk_can_read_identity_and_name_without_the_key():
    payload = sign(claims(), KEY).split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert decoded["identity"] == "alice" and decoded["name"] == "Alice A."


def test_expired_tokens_are_refused():
    token = sign(claims(exp=int(time.time()) - 120), KEY)
    with pytest.raises(ExpiredToken):
        verify(token, KEY, now=time.time())


def test_a_changed_payload_is_refused():
    header, _, signature = sign(claims(), KEY).split(".")
    forged = base64.urlsafe_b64encode(claims(identity="mallory").model_dump_json().encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignature):
        verify(f"{header}.{forged}.{signature}", KEY, now=time.time())


def test_another_key_is_refused():
    with pytest.raises(BadSignature):
        verify(sign(claims(), b"x" * 32), KEY, now=time.time())


def test_alg_none_is_refused():
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = sign(claims(), KEY).split(".")[1]
    with pytest.raises(MalformedToken):
        verify(f"{header}.{payload}.", KEY, now=time.time())


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "!!!.???.***"])
def test_garbage_is_malformed(token):
    with pytest.raises(MalformedToken):
        verify(token, KEY, now=time.time())
