"""Webhook signatures: HMAC over `<timestamp>.<exact body>`, sent with the event id and sequence.

Headers on every delivery:
    X-Switchboard-Event-Id    the event's id (de-duplicate on it: delivery is at least once)
    X-Switchboard-Sequence    the event's number within its call/conference/dialog (order on it)
    X-Switchboard-Timestamp   Unix seconds when this attempt was signed
    X-Switchboard-Signature   "<algorithm>=<hex digest>", present when the subscription's security is HMAC

`verify` is what a receiver runs; it raises a distinct error for each way a delivery can be wrong.
"""

from __future__ import annotations

import hmac
import time

EVENT_ID_HEADER = "X-Switchboard-Event-Id"
SEQUENCE_HEADER = "X-Switchboard-Sequence"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
SIGNATURE_HEADER = "X-Switchboard-Signature"

ALGORITHMS = {
    "HMAC_MD5": "md5",
    "HMAC_SHA_1": "sha1",
    "HMAC_SHA_224": "sha224",
    "HMAC_SHA_256": "sha256",
    "HMAC_SHA_384": "sha384",
    "HMAC_SHA_512": "sha512",
}


class SignatureError(Exception):
    pass


class MissingSignature(SignatureError):
    pass


class MalformedSignature(SignatureError):
    pass


class StaleTimestamp(SignatureError):
    pass


class SignatureMismatch(SignatureError):
    pass


def sign(secret: str, timestamp: int, body: bytes, algorithm: str = "HMAC_SHA_256") -> str:
    digest_name = ALGORITHMS[algorithm]
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, digest_name)
    return f"{digest_name}={mac.hexdigest()}"


def verify(
    secret: str, timestamp: str | None, body: bytes, signature: str | None, tolerance_seconds: int = 300
) -> None:
    if not signature or not timestamp:
        raise MissingSignature("no signature or timestamp header")
    digest_name, _, digest = signature.partition("=")
    if digest_name not in ALGORITHMS.values() or not digest or not timestamp.isdigit():
        raise MalformedSignature(f"cannot read signature {signature!r}")
    if abs(time.time() - int(timestamp)) > tolerance_seconds:
        raise StaleTimestamp("timestamp outside the tolerance window")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, digest_name).hexdigest()
    if not hmac.compare_digest(expected, digest):
        raise SignatureMismatch("signature does not match the body")
