"""Request/response models with Infobip's names and limits (reference §3: CallsConfiguration*). Unknown fields are
ignored; types are strict."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from chalicelib.core.paging import PageInfo

ConfigurationId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_-]*$")]
ConfigurationName = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class CallsConfigurationUpdateRequest(Request):
    name: ConfigurationName | None = None


class CallsConfigurationCreateRequest(CallsConfigurationUpdateRequest):
    id: ConfigurationId | None = None  # generated when absent


class CallsConfigurationResponse(BaseModel):
    id: str
    name: str | None = None


class CallsConfigurationPage(BaseModel):
    results: list[CallsConfigurationResponse]
    paging: PageInfo
