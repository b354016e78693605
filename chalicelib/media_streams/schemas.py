"""Request/response models with Infobip's names and limits (reference §3: MediaStreamConfig*, UrlSecurityConfig).
Unknown fields are ignored; types are strict.

Switchboard streams raw PCM to a websocket (`MEDIA_STREAMING`) and authenticates with BASIC credentials. The other
values Infobip defines are refused by name, so an integrator learns what is missing rather than that a value is
"invalid": `WEBSOCKET_ENDPOINT` (websocket endpoints as call parties), `HMAC` URL security, `BASE64` encoding.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.core.paging import PageInfo

MediaStreamConfigType = Literal["MEDIA_STREAMING", "WEBSOCKET_ENDPOINT"]
UrlSecurityConfigType = Literal["BASIC", "HMAC"]
HmacAlgorithm = Literal["HMAC_MD5", "HMAC_SHA_1", "HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"]
AudioEncoding = Literal["RAW", "BASE64"]


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class UrlSecurityConfig(Request):
    """Union of Infobip's BasicUrlSecurityConfig and HmacUrlSecurityConfig, told apart by `type`."""

    type: UrlSecurityConfigType
    username: str | None = Field(default=None, min_length=1, max_length=255)
    password: str | None = Field(default=None, min_length=1, max_length=255)
    secretKey: str | None = Field(default=None, min_length=1, max_length=255)
    algorithm: HmacAlgorithm | None = None

    @field_validator("type")
    @classmethod
    def _basic_only(cls, value: str) -> str:
        if value != "BASIC":
            raise ValueError(f"{value} security is not supported for media streams; use BASIC")
        return value

    @field_validator("username")
    @classmethod
    def _no_colon(cls, value: str | None) -> str | None:
        if value is not None and ":" in value:
            raise ValueError("a Basic user name cannot contain ':'")
        return value

    @model_validator(mode="after")
    def _basic_has_credentials(self) -> UrlSecurityConfig:
        if self.username is None or self.password is None:
            raise ValueError("BASIC security needs username and password")
        return self


class MediaStreamConfigRequest(Request):
    type: MediaStreamConfigType
    name: str = Field(min_length=0, max_length=128)
    url: str = Field(min_length=1, max_length=2048)
    securityConfig: UrlSecurityConfig | None = None
    audioEncoding: AudioEncoding | None = None  # in Infobip's request examples, though not in its request schema

    @field_validator("type")
    @classmethod
    def _media_streaming_only(cls, value: str) -> str:
        if value != "MEDIA_STREAMING":
            raise ValueError(f"{value} configurations are not supported; use MEDIA_STREAMING")
        return value

    @field_validator("audioEncoding")
    @classmethod
    def _raw_only(cls, value: str | None) -> str | None:
        if value not in (None, "RAW"):
            raise ValueError(f"{value} audio encoding is not supported; media is streamed RAW")
        return value


class MediaStreamConfigResponse(BaseModel):
    """Infobip's MediaStreamingConfigResponse. Credentials are not part of it: they are never shown again."""

    id: str
    type: str
    name: str
    url: str
    audioEncoding: str | None = None


class MediaStreamConfigPage(BaseModel):
    results: list[MediaStreamConfigResponse]
    paging: PageInfo
