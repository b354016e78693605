"""Minting WebRTC tokens for an account's identities (signed with the deployment's token key)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from chalicelib.contract.tokens import TokenClaims, sign
from chalicelib.core import clock, ids
from chalicelib.core.settings import key_material
from chalicelib.media_nodes.service import live_nodes
from chalicelib.webrtc.schemas import TokenRequest, TokenResponse


def token_key() -> bytes:
    return base64.b64decode(key_material("tokenKey"))


def mint_token(account_id: str, request: TokenRequest) -> TokenResponse:
    issued = int(clock.epoch())
    expires = issued + request.timeToLive
    nodes = live_nodes()
    claims = TokenClaims(
        acc=account_id,
        location=nodes[0].public_url if nodes else None,
        identity=request.identity,
        name=request.displayName,
        rec=request.capabilities.recording if request.capabilities else None,
        iat=issued,
        exp=expires,
        jti=ids.uuid_id(),
    )
    expiration = datetime.fromtimestamp(expires, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return TokenResponse(token=sign(claims, token_key()), expirationTime=expiration)
