"""Request and response models for account credentials (Switchboard's own API; Infobip has no equivalent)."""

from __future__ import annotations

from datetime import datetime

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
