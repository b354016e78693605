"""Webhook signatures: what the platform sends verifies, and each tampering fails with its own error."""

from __future__ import annotations

import time

import pytest

from chalicelib.events import signing

BODY = b'{"type":"CALL_STARTED","callId":"c1"}'


def test_sign_then_verify():
    now = int(time.time())
    header = signing.sign("secret", now, BODY)
    assert header.startswith("sha256=")
    signing.verify("secret", str(now), BODY, header)


@pytest.mark.parametrize("algorithm", sorted(signing.ALGORITHMS))
def test_every_infobip_hmac_algorithm_round_trips(algorithm):
    now = int(time.time())
    signing.verify("k", str(now), BODY, signing.sign("k", now, BODY, algorithm))


def test_a_changed_body_fails():
    now = int(time.time())
    with pytest.raises(signing.SignatureMismatch):
        signing.verify("secret", str(now), BODY + b" ", signing.sign("secret", now, BODY))


def test_a_wrong_secret_fails():
    now = int(time.time())
    with pytest.raises(signing.SignatureMismatch):
        signing.verify("other", str(now), BODY, signing.sign("secret", now, BODY))


def test_a_replayed_old_signature_fails():
    old = int(time.time()) - 3600
    with pytest.raises(signing.StaleTimestamp):
        signing.verify("secret", str(old), BODY, signing.sign("secret", old, BODY))


def test_the_timestamp_is_covered():
    now = int(time.time())
    with pytest.raises(signing.SignatureMismatch):
        signing.verify("secret", str(now + 1), BODY, signing.sign("secret", now, BODY))


@pytest.mark.parametrize("header", ["", "sha256", "rot13=abc", "sha256="])
def test_missing_or_malformed_headers(header):
    now = str(int(time.time()))
    with pytest.raises((signing.MissingSignature, signing.MalformedSignature)):
        signing.verify("secret", now, BODY, header)
