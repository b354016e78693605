"""Identifier generation. Every id comes from the OS's secure RNG."""

from __future__ import annotations

import secrets
import string
import uuid

BASE62 = string.digits + string.ascii_letters


def uuid_id() -> str:
    return str(uuid.uuid4())


def base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def event_id() -> str:
    return uuid_id()
