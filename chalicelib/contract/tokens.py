"""WebRTC tokens: HS256 JWTs minted by `POST /webrtc/1/token` and verified by the media nodes.

Claims (Infobip's SDK decodes `identity` and `name` itself, without verifying):
    iss  "switchboard"          ver  contract version
    acc  owning account id      identity, name (display name)
    rec  recording capability (ALWAYS | ON_DEMAND | DISABLED), when the token set one
    location  the media node to connect to (its public URL), when one was live at minting; Infobip's SDK also
              reads a `location` claim to pick its signalling host
    iat, exp  Unix seconds      jti  token id

`verify` raises a distinct error for each way a token can be wrong, so the media node can answer clearly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.contract import CONTRACT_VERSION

ISSUER: Literal["switchboard"] = "switchboard"
RecordingCapability = Literal["ALWAYS", "ON_DEMAND", "DISABLED"]


class TokenError(Exception):
    """Base of every token refusal."""


class MalformedToken(TokenError):
    pass


class BadSignature(TokenError):
    pass


class ExpiredToken(TokenError):
    pass


class TokenClaims(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    iss: Literal["switchboard"] = ISSUER
    ver: int = CONTRACT_VERSION
    acc: str
    identity: str
    name: str | None = None
    rec: RecordingCapability | None = None
    location: str | None = None
    iat: int
    exp: int
    jti: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HEADER = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())


def _signature(key: bytes, signing_input: str) -> str:
    return _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def sign(claims: TokenClaims, key: bytes) -> str:
    payload = _b64(claims.model_dump_json(exclude_none=True).encode())
    signing_input = f"{_HEADER}.{payload}"
    return f"{signing_input}.{_signature(key, signing_input)}"


def unverified_claims(token: str) -> TokenClaims:
    """What a client may read from its own token without the key (e.g. `location`); never trust it on a server."""
    try:
        return TokenClaims.model_validate_json(_unb64(token.split(".")[1]))
    except (IndexError, ValidationError, ValueError, binascii.Error) as error:
        raise MalformedToken("the token claims are not readable") from error


def verify(token: str, key: bytes, now: float, leeway_seconds: int = 30) -> TokenClaims:
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("a token has three dot-separated parts")
    header_b64, payload_b64, signature = parts
    try:
        header = json.loads(_unb64(header_b64))
    except (ValueError, binascii.Error) as error:
        raise MalformedToken("the token header is not base64url JSON") from error
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise MalformedToken("only HS256 tokens are accepted")
    if not hmac.compare_digest(_signature(key, f"{header_b64}.{payload_b64}"), signature):
        raise BadSignature("the token signature does not match")
    try:
        claims = TokenClaims.model_validate_json(_unb64(payload_b64))
    except (ValidationError, ValueError, binascii.Error) as error:
        raise MalformedToken("the token claims are not valid") from error
    if claims.exp + leeway_seconds < now:
        raise ExpiredToken("the token has expired")
    return claims
