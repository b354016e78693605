"""Request and response models for account credentials and account settings (Switchboard's own API: Infobip
configures these in its portal and publishes no REST for them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    name: str = Field(min_length=1, max_length=128)


class ApiKeyInfo(BaseModel):
    id: str
    name: str
    prefix: str
    createdAt: datetime
    revokedAt: datetime | None = None


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(description="The key itself; shown only in this response.")


class ApiKeyPage(BaseModel):
    results: list[ApiKeyInfo]


class AccountInfo(BaseModel):
    accountId: str
    name: str
    username: str


class WebrtcRecordingSetting(BaseModel):
    """Whether the account may record WebRTC calls, and the richest media it records (names from Infobip's account
    recording configuration: `enabled`, `mediaType`)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    enabled: bool = False
    mediaType: Literal["AUDIO", "AUDIO_AND_VIDEO"] = "AUDIO"


class RecordingSettingsRequest(BaseModel):
    """A PUT replaces the settings; a field left out takes its default."""

    model_config = ConfigDict(strict=True, extra="forbid")

    webrtcRecording: WebrtcRecordingSetting = Field(default_factory=WebrtcRecordingSetting)
    autoCompose: bool = False


class RecordingSettings(BaseModel):
    webrtcRecording: WebrtcRecordingSetting
    autoCompose: bool
    updatedAt: datetime | None = None
