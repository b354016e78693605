"""The SFTP destination's request and response, and the export queue's message. Switchboard's own API (Infobip
configures SFTP transfer in its portal): field names follow Infobip's style. Types are strict; unknown fields are
refused, so a misspelt field is a 400 rather than silently ignored."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_FINGERPRINT = re.compile(r"SHA256:([A-Za-z0-9+/]{43})=?(?![A-Za-z0-9+/])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Text = Annotated[str, StringConstraints(min_length=1, max_length=255)]


def normalise_fingerprint(value: str) -> str:
    """`SHA256:<43 base64 characters>` from a bare fingerprint or a whole `ssh-keygen -lf` line
    (`256 SHA256:... comment (ED25519)`). Raises ValueError otherwise."""
    match = _FINGERPRINT.search(value)
    if match is None:
        if value.strip().upper().startswith("MD5:") or re.search(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", value):
            raise ValueError("MD5 fingerprints are not accepted; give the SHA256 one (ssh-keygen -lf prints it)")
        raise ValueError("must be a SHA256 fingerprint as ssh-keygen -lf prints it, e.g. SHA256:<43 characters>")
    try:
        digest = base64.b64decode(match.group(1) + "=", validate=True)
    except binascii.Error as error:
        raise ValueError("the fingerprint is not valid base64") from error
    if len(digest) != 32:
        raise ValueError("a SHA256 fingerprint encodes 32 bytes")
    return f"SHA256:{match.group(1)}"


def check_host(value: str) -> str:
    """A DNS name or an IP address literal: no scheme, user, port or path."""
    candidate = value.removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        pass
    name = value.rstrip(".")
    if not name or len(name) > 253 or not all(_HOST_LABEL.match(label) for label in name.split(".")):
        raise ValueError("must be a host name or an IP address (no scheme, user, port or path)")
    return name.lower()


class SftpDestinationRequest(BaseModel):
    """A PUT creates or replaces the destination. The password may be left out when one is already stored (it is
    never shown, so a client cannot send it back); it is required when the destination is new."""

    model_config = ConfigDict(strict=True, extra="forbid")

    enabled: bool = True
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=22, ge=1, le=65535)
    path: str = Field(min_length=1, max_length=1024, description="remote directory, absolute or login-relative")
    username: Text
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    hostKeyFingerprint: str = Field(min_length=1, max_length=512)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return check_host(value)

    @field_validator("hostKeyFingerprint")
    @classmethod
    def _fingerprint(cls, value: str) -> str:
        return normalise_fingerprint(value)

    @field_validator("path", "username")
    @classmethod
    def _printable(cls, value: str) -> str:
        if _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value


class SftpDestination(BaseModel):
    """The destination as shown back: never the password."""

    enabled: bool
    host: str
    port: int
    path: str
    username: str
    hostKeyFingerprint: str
    createdAt: datetime
    updatedAt: datetime


class ExportMessage(BaseModel):
    """The export queue's message: which recording file to push."""

    model_config = ConfigDict(extra="ignore")

    accountId: str = Field(min_length=1)
    fileId: str = Field(min_length=1)
