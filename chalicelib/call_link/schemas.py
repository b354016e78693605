"""Infobip's Call Link request and response models (reference §6), with its field names and defaults.

Requests are strict and ignore unknown fields. Two extensions beyond the published document, both from the issue:
the layout `SPOTLIGHT` beside `GRID` and `SOLO`, and `validityWindow.timeZone` (an IANA zone, UTC by default) in
which `acceptableDays` and `acceptableHours` are read. `BROWSER_DETECT` is accepted as `BROWSER_DETECTED`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from chalicelib.core.paging import PageInfo

LanguageCode = Literal[
    "ar-AE",
    "de-DE",
    "en-US",
    "es-LA",
    "fr-FR",
    "hr-HR",
    "it-IT",
    "ja-JP",
    "pt-BR",
    "ru-RU",
    "sv-SE",
    "tr-TR",
    "zh-Hans",
    "zh-TW",
]
Layout = Literal["GRID", "SPOTLIGHT", "SOLO"]
DayOfWeek = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
HmacAlgorithm = Literal["HMAC_MD5", "HMAC_SHA_1", "HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"]
ImageType = Literal["LOGO", "BACKGROUND"]
MASKED = "********"  # what a response shows in place of a webhook credential

IDENTITY_PUNCTUATION = set("-_+=/.")
Text = Annotated[str, StringConstraints(max_length=500)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
ResourceId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
HEX_COLOUR = re.compile(r"#?[0-9A-Fa-f]{6}")


def check_identity(value: str, low: int = 3, high: int = 64) -> str:
    """Infobip's `^[\\p{L}\\p{N}\\-_+=/.]{low,high}$`: unicode letters and digits plus - _ + = / ."""
    if not low <= len(value) <= high:
        raise ValueError(f"must be {low} to {high} characters long")
    if not all(ch.isalpha() or ch.isdigit() or ch in IDENTITY_PUNCTUATION for ch in value):
        raise ValueError("may contain only letters, digits and - _ + = / .")
    return value


Identity = Annotated[str, AfterValidator(check_identity)]
RoomName = Annotated[str, AfterValidator(lambda value: check_identity(value, 3, 250))]
CallsConfigurationId = Annotated[str, AfterValidator(lambda value: check_identity(value, 1, 100))]


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


# --- configurations -------------------------------------------------------------------------------------


class InitialOptions(Request):
    audio: bool = True
    video: bool = True
    muted: bool = True
    settings: bool = True
    cameraFacingMode: Literal["FRONT", "BACK"] | None = None


class CallOptions(Request):
    mute: bool = True
    screenShare: bool = True
    camera: bool = True
    switchCameraFacingMode: bool = True
    dialPad: bool = False
    chat: bool = False
    settings: bool = True
    recordingIndicator: bool = False


class Images(Request):
    logoImageId: ResourceId | None = None
    backgroundImageId: ResourceId | None = None


class Messages(Request):
    welcomeText: Text = "Welcome to Call Link."
    inactiveText: Text = "This link is not active."
    expirationText: Text = "Link is expired."


class Colors(Request):
    primary: str = "148997"
    primaryText: str = "242424"
    background: str = "F9F9F9"

    @field_validator("primary", "primaryText", "background")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not HEX_COLOUR.fullmatch(value):
            raise ValueError("must be a colour as six hexadecimal digits, e.g. 148997")
        return value.removeprefix("#").upper()


class Localization(Request):
    type: Literal["PRESET", "BROWSER_DETECTED", "BROWSER_DETECT"]
    languageCode: LanguageCode | None = None

    @model_validator(mode="after")
    def _language_for_preset(self) -> Localization:
        if self.type == "BROWSER_DETECT":
            self.type = "BROWSER_DETECTED"
        if self.type == "PRESET" and self.languageCode is None:
            raise ValueError("a PRESET localization needs a languageCode")
        if self.type == "BROWSER_DETECTED":
            self.languageCode = None
        return self


class Theme(Request):
    images: Images | None = None
    messages: Messages = Field(default_factory=Messages)
    colors: Colors = Field(default_factory=Colors)
    layouts: list[Layout] = Field(default_factory=lambda: list[Layout](["GRID"]), min_length=1, max_length=3)
    localization: Localization | None = None

    @field_validator("layouts")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each layout may be listed once")
        return value


class SecurityConfig(Request):
    type: Literal["BASIC", "HMAC"]
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=255)
    secretKey: str | None = Field(default=None, max_length=255)
    algorithm: HmacAlgorithm | None = None

    @model_validator(mode="after")
    def _complete(self) -> SecurityConfig:
        if self.type == "BASIC" and not (self.username and self.password):
            raise ValueError("BASIC security needs a username and a password")
        if self.type == "HMAC" and not (self.secretKey and self.algorithm):
            raise ValueError("HMAC security needs a secretKey and an algorithm")
        return self


class Webhook(Request):
    url: str = Field(min_length=1, max_length=2048)
    securityConfig: SecurityConfig | None = None


class CallLinkConfigRequest(Request):
    """POST and PUT: what is absent is reset to its default."""

    name: Name
    initialOptions: InitialOptions = Field(default_factory=InitialOptions)
    callOptions: CallOptions = Field(default_factory=CallOptions)
    theme: Theme = Field(default_factory=Theme)
    isDefault: bool = False
    subdomainId: ResourceId | None = None
    webhook: Webhook | None = None


class CallLinkConfigPatch(Request):
    """PATCH: only what is present changes."""

    name: Name | None = None
    initialOptions: InitialOptions | None = None
    callOptions: CallOptions | None = None
    theme: Theme | None = None
    isDefault: bool | None = None
    subdomainId: ResourceId | None = None
    webhook: Webhook | None = None


class CallLinkConfig(BaseModel):
    id: str
    name: str
    isDefault: bool
    initialOptions: InitialOptions
    callOptions: CallOptions
    theme: Theme
    subdomainId: str | None = None
    webhook: Webhook | None = None


class CallLinkConfigPage(BaseModel):
    results: list[CallLinkConfig]
    paging: PageInfo


# --- images and subdomains ------------------------------------------------------------------------------


class ImageResponse(BaseModel):
    id: str
    name: str
    type: ImageType
    size: int


class ImagePage(BaseModel):
    results: list[ImageResponse]
    paging: PageInfo


SUBDOMAIN_NAME = r"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?$"


class SubdomainRequest(Request):
    name: Annotated[str, StringConstraints(pattern=SUBDOMAIN_NAME)]


class Subdomain(BaseModel):
    id: str
    name: str


# --- links ----------------------------------------------------------------------------------------------


class HangupRestriction(Request):
    minRingingTime: int | None = Field(default=None, ge=0, le=600)


class WebRtcDestination(Request):
    type: Literal["WEBRTC"]
    identity: Identity
    displayName: Annotated[str, StringConstraints(max_length=100)] | None = None
    hangupRestriction: HangupRestriction | None = None


class RoomDestination(Request):
    type: Literal["ROOM"]
    roomName: RoomName
    displayName: Annotated[str, StringConstraints(max_length=100)] | None = None
    password: str | None = None
    chat: bool | None = None  # Switchboard: chat in this room even if the configuration has none

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w\- ]{4,20}", value):
            raise ValueError("must be 4 to 20 letters, digits, spaces, - or _")
        return value


class ApplicationDestination(Request):
    type: Literal["APPLICATION"]
    callsConfigurationId: CallsConfigurationId


class UnsupportedDestination(Request):
    """PHONE, CONVERSATIONS and VIBER parse, so that the service can refuse them with a clear reason."""

    type: Literal["PHONE", "CONVERSATIONS", "VIBER"]


Destination = Annotated[
    WebRtcDestination | RoomDestination | ApplicationDestination | UnsupportedDestination,
    Field(discriminator="type"),
]


class TimeOfDay(Request):
    hour: int = Field(ge=0, le=23)
    minute: int = Field(ge=0, le=59)


class AcceptableHours(Request):
    start: TimeOfDay = Field(default_factory=lambda: TimeOfDay(hour=0, minute=0))
    end: TimeOfDay = Field(default_factory=lambda: TimeOfDay(hour=23, minute=59))


class ValidityWindow(Request):
    oneTime: bool = False
    startTime: AwareDatetime | None = None
    endTime: AwareDatetime | None = None
    acceptableHours: AcceptableHours | None = None
    acceptableDays: list[DayOfWeek] | None = Field(default=None, min_length=1, max_length=7)
    timeZone: str | None = Field(default=None, max_length=64)

    @field_validator("startTime", "endTime", mode="before")
    @classmethod
    def _datetime_text(cls, value: object) -> object:
        # Infobip writes `2023-01-01T08:00:00.000+0000`; ISO 8601 with `Z` or `+00:00` is accepted too
        if not isinstance(value, str):
            return value
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date-time such as 2023-01-01T08:00:00.000+0000") from None

    @field_validator("timeZone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("must be an IANA time zone, e.g. Europe/Zagreb") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ValidityWindow:
        if self.startTime and self.endTime and self.endTime <= self.startTime:
            raise ValueError("endTime must be after startTime")
        return self


class CallLinkRequest(Request):
    identity: Identity | None = None
    displayName: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    showIdentity: bool = True
    destination: Destination
    customData: dict[str, Annotated[str, StringConstraints(max_length=1000)]] | None = Field(
        default=None, max_length=50
    )
    validityWindow: ValidityWindow | None = None
    callLinkConfigId: ResourceId | None = None


class CallLinkResponse(BaseModel):
    id: str
    url: str


class CallLink(BaseModel):
    id: str
    url: str
    identity: str | None = None
    displayName: str | None = None
    showIdentity: bool = True
    destination: dict[str, object]
    customData: dict[str, str] | None = None
    validityWindow: dict[str, object] | None = None
    callLinkConfigId: str | None = None


class CallLinkPage(BaseModel):
    results: list[CallLink]
    paging: PageInfo


# --- the page's session ---------------------------------------------------------------------------------


class SessionRequest(Request):
    displayName: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    password: Annotated[str, StringConstraints(max_length=64)] | None = None


class SessionResponse(BaseModel):
    sessionId: str
    token: str
    identity: str
    displayName: str | None = None
    expirationTime: str


class SessionReport(Request):
    status: Literal["ESTABLISHED", "FINISHED", "HEARTBEAT"]
    callId: ResourceId | None = None
