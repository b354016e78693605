"""The SDK files the platform serves: read once from the package on first use, with a strong ETag.

A versioned URL (`/sdk/v1/...`) is a promise: v1 keeps its API and gets only compatible fixes, so clients may cache
it for a while and revalidate with the ETag; an incompatible SDK is a new version, served beside the old.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from chalicelib.core.errors import NotFound

JAVASCRIPT = "text/javascript; charset=utf-8"
CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400"
FILES = {("v1", "switchboard-rtc.js"): "switchboard-rtc.js"}


@dataclass(frozen=True)
class SdkFile:
    body: str
    etag: str
    content_type: str = JAVASCRIPT

    def matches(self, if_none_match: str | None) -> bool:
        """Whether a client's `If-None-Match` already names this content (a weak `W/` prefix counts too)."""
        if not if_none_match:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


@functools.cache
def sdk_file(version: str, name: str) -> SdkFile:
    packaged = FILES.get((version, name))
    if packaged is None:
        raise NotFound(f"There is no SDK file {version}/{name}.")
    body = (resources.files("chalicelib.sdkfiles") / "static" / packaged).read_text(encoding="utf-8")
    digest = hashlib.sha256(body.encode()).hexdigest()[:32]
    return SdkFile(body=body, etag=f'"{digest}"')
