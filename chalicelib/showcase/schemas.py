"""The demo token request: the WebRTC token request (reference §5), for at most an hour."""

from __future__ import annotations

from pydantic import Field

from chalicelib.webrtc.schemas import TokenRequest

SHOWCASE_TTL_SECONDS = 3600


class ShowcaseTokenRequest(TokenRequest):
    """`{identity, displayName?}`; the identity rules are the token endpoint's. Tokens minted without credentials
    live an hour at most."""

    timeToLive: int = Field(default=SHOWCASE_TTL_SECONDS, ge=1, le=SHOWCASE_TTL_SECONDS)
