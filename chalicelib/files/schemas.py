"""Infobip's `File` and `FilePage` (reference §3), with its field names. Responses only: the upload is a form."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from chalicelib.core.paging import PageInfo

FileFormat = Literal["MP3", "WAV", "MP4"]  # Infobip's enum; uploads are WAV or MP3


class File(BaseModel):
    id: str
    name: str
    fileFormat: FileFormat
    size: int  # bytes
    creationTime: str  # yyyy-MM-dd'T'HH:mm:ss.SSSZ
    expirationTime: str
    duration: int  # whole seconds


class FilePage(BaseModel):
    results: list[File]
    paging: PageInfo
