"""Request/response models with Infobip's field names and limits (reference §7). Unknown fields are ignored."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.events.catalogue import SUBSCRIBABLE_VOICE_VIDEO_EVENTS

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.~-]+$")]
VoiceVideoEvent = Literal[SUBSCRIBABLE_VOICE_VIDEO_EVENTS]  # type: ignore[valid-type]
HmacAlgorithm = Literal["HMAC_MD5", "HMAC_SHA_1", "HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"]
CredentialsType = Literal["BASIC", "HMAC", "OAUTH", "CUSTOM"]

CHANNELS = (
    "AGENT_OS",
    "APPLE_MESSAGES_FOR_BUSINESS",
    "BLOCKLIST",
    "CUSTOMER_ENGAGEMENT",
    "EMAIL",
    "FACEBOOK",
    "KAKAO_ALIM",
    "KAKAO_BRAND_MESSAGE",
    "LINE",
    "MMS",
    "MOBILE_IDENTITY",
    "MOBILE_PUSH",
    "NUMBER_LOOKUP",
    "OPEN_CHANNEL",
    "RCS",
    "REGISTRATION",
    "SMS",
    "VIBER",
    "VOICE_VIDEO",
    "WEB_PUSH",
    "WHATSAPP",
    "ZALO",
)
SUPPORTED_CHANNELS = ("VOICE_VIDEO",)


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


# --- security settings --------------------------------------------------------------------------------


class Credentials(Request):
    """Union of the credential payloads; which fields are required depends on the settings' type."""

    username: str | None = Field(default=None, min_length=1, max_length=255)
    password: str | None = Field(default=None, min_length=1, max_length=255)
    secretKey: str | None = Field(default=None, min_length=1, max_length=255)
    algorithm: HmacAlgorithm | None = None


class NoIdSecurityRequest(Request):
    type: CredentialsType | None = None
    credentials: Credentials | None = None

    @model_validator(mode="after")
    def _credentials_match_type(self) -> NoIdSecurityRequest:
        if self.type in ("OAUTH", "CUSTOM"):
            raise ValueError(f"security type {self.type} is not supported; use BASIC or HMAC")
        if self.type == "BASIC" and not (self.credentials and self.credentials.username and self.credentials.password):
            raise ValueError("BASIC security needs credentials.username and credentials.password")
        if self.type == "HMAC" and not (self.credentials and self.credentials.secretKey):
            raise ValueError("HMAC security needs credentials.secretKey")
        if self.type is None and self.credentials is not None:
            raise ValueError("credentials need a type")
        return self


class SecurityRequest(NoIdSecurityRequest):
    authId: Identifier


class IdOnlySecurityResponse(BaseModel):
    authId: str


class CredentialsView(BaseModel):
    """Credentials as shown back: user names and algorithms, never a password or key."""

    username: str | None = None
    password: str | None = None
    secretKey: str | None = None
    algorithm: str | None = None


class SecurityResponse(BaseModel):
    authId: str
    type: str | None = None
    credentials: CredentialsView | None = None


# --- notification profiles ----------------------------------------------------------------------------


class Webhook(Request):
    notifyUrl: str = Field(min_length=1, max_length=512)
    contentType: str | None = Field(default=None, max_length=255)


class IdOnlySecurityRequest(Request):
    authId: Identifier


class ProfileSettings(Request):
    clientCertificateId: str | None = Field(default=None, max_length=255)
    maxBucketSize: int | None = Field(default=None, ge=1, le=2000)
    windowSize: int | None = Field(default=None, ge=20, le=10000)
    connectTimeout: int | None = Field(default=None, ge=300, le=30000)
    readTimeout: int | None = Field(default=None, ge=1000, le=90000)
    enabledSSLProtocols: list[Literal["TLSv1.2", "TLSv1.3"]] | None = None
    headers: dict[str, str] | None = None
    responseRegex: str | None = None
    responseBodyRegex: str | None = None
    rateLimit: int | None = Field(default=None, ge=1, le=5000)


class NoIdProfileRequest(ProfileSettings):
    webhook: Webhook | None = None
    security: IdOnlySecurityRequest | None = None


class ProfileRequest(ProfileSettings):
    profileId: Identifier
    webhook: Webhook | None = None
    security: SecurityRequest | None = None


class IdOnlyProfileRequest(Request):
    profileId: Identifier


class IdOnlyProfileResponse(BaseModel):
    profileId: str
    security: IdOnlySecurityResponse | None = None


class WebhookView(BaseModel):
    notifyUrl: str
    contentType: str | None = None


class ProfileResponse(BaseModel):
    profileId: str
    webhook: WebhookView | None = None
    security: IdOnlySecurityResponse | None = None
    clientCertificateId: str | None = None
    maxBucketSize: int | None = None
    windowSize: int | None = None
    connectTimeout: int | None = None
    readTimeout: int | None = None
    enabledSSLProtocols: list[str] | None = None
    headers: dict[str, str] | None = None
    responseRegex: str | None = None
    responseBodyRegex: str | None = None
    rateLimit: int | None = None


# --- subscriptions ------------------------------------------------------------------------------------


class ApplicationEntityPair(Request):
    applicationId: str | None = Field(default=None, max_length=255)
    entityId: str | None = Field(default=None, max_length=255)
    callsConfigurationId: str | None = Field(default=None, max_length=255)


class NoIdSubscriptionRequest(Request):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    events: list[VoiceVideoEvent] = Field(max_length=255)
    criteria: list[ApplicationEntityPair] | None = Field(default=None, max_length=255)
    resources: list[Annotated[str, StringConstraints(max_length=255)]] | None = Field(default=None, max_length=255)
    users: list[Annotated[str, StringConstraints(max_length=255)]] | None = Field(default=None, max_length=255)
    profile: IdOnlyProfileRequest


class SubscriptionRequest(NoIdSubscriptionRequest):
    subscriptionId: Identifier
    profile: ProfileRequest  # type: ignore[assignment]


class IdOnlySubscriptionResponse(BaseModel):
    subscriptionId: str
    profile: IdOnlyProfileResponse | None = None


class SubscriptionResponse(BaseModel):
    subscriptionId: str
    name: str | None = None
    profile: IdOnlyProfileResponse | None = None
    events: list[str]
    criteria: list[ApplicationEntityPair] = []
    resources: list[str] = []
    users: list[str] = []


class PageInfo(BaseModel):
    page: int
    size: int
    totalPages: int
    totalResults: int


class SubscriptionPage(BaseModel):
    results: list[SubscriptionResponse]
    paging: PageInfo


class ProfilePage(BaseModel):
    results: list[ProfileResponse]
    paging: PageInfo


class SecurityPage(BaseModel):
    results: list[SecurityResponse]
    paging: PageInfo
