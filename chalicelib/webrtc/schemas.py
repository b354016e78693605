"""Infobip's WebRTC token request and response (reference §5), plus the legacy fields official clients still send."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.contract.tokens import RecordingCapability

IDENTITY_PUNCTUATION = set("-_+=/.")
DEFAULT_TTL_SECONDS = 8 * 3600
MAX_TTL_SECONDS = 24 * 3600


class Capabilities(BaseModel):
    model_config = ConfigDict(strict=True)

    recording: RecordingCapability | None = None


class TokenRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    identity: str = Field(min_length=3, max_length=64)
    displayName: str | None = Field(default=None, min_length=1, max_length=50)
    timeToLive: int = Field(default=DEFAULT_TTL_SECONDS, ge=1, le=MAX_TTL_SECONDS)
    capabilities: Capabilities | None = None
    applicationId: str | None = None  # legacy: accepted and ignored

    @field_validator("identity")
    @classmethod
    def _identity_characters(cls, value: str) -> str:
        # Infobip's pattern ^[\p{L}\p{N}\-_+=/.]{3,64}$: unicode letters and digits plus - _ + = / .
        if not all(ch.isalpha() or ch.isdigit() or ch in IDENTITY_PUNCTUATION for ch in value):
            raise ValueError("identity may contain only letters, digits and - _ + = / .")
        return value


class TokenResponse(BaseModel):
    token: str
    expirationTime: str
