"""The media bucket: one S3 client and the configured bucket for every domain that keeps objects there (audio files,
recordings, Call Link images). Keys always start with what names the owning account; writes are encrypted (SSE-S3)
whatever the bucket's default."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3

from chalicelib.core.settings import get_settings


@lru_cache(maxsize=1)
def s3() -> Any:
    return boto3.client("s3")


def bucket() -> str:
    name = get_settings().bucket
    if not name:
        raise RuntimeError("no media bucket configured: set SWITCHBOARD_BUCKET")
    return name


def put(key: str, data: bytes, content_type: str) -> None:
    s3().put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type, ServerSideEncryption="AES256")


def read(key: str) -> bytes:
    body: bytes = s3().get_object(Bucket=bucket(), Key=key)["Body"].read()
    return body


def delete(key: str) -> None:
    s3().delete_object(Bucket=bucket(), Key=key)
