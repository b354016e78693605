"""The media node's settings (prefix SWITCHBOARD_MEDIA_), read once at start-up. The shared SWITCHBOARD_* settings
(tables, keys) are the control plane's, read by `chalicelib.core.settings`."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_MEDIA_", extra="ignore")

    node_id: str = Field(default_factory=lambda: f"node-{uuid.uuid4().hex[:12]}")
    host: str = "127.0.0.1"
    port: int = 8100
    public_url: str | None = None  # how clients reach this node; default http://<host>:<port>
    internal_url: str | None = None  # how the control plane reaches this node; default the public URL
    ice_servers: list[dict[str, Any]] = []  # never aiortc's default public STUN server
    ring_timeout_seconds: float = 60.0
    ticket_ttl_seconds: int = 60
    quality_interval_seconds: float = 2.0
    room_limit: int = 15
    room_video_slots: int = 8  # the most cameras a room participant sees (the others' beyond it are not shown)
    reconnect_grace_seconds: float = 10.0  # how long a dropped participant's room seat is kept
    call_reconnect_grace_seconds: float = 20.0  # how long a 1:1 call waits for a party's dropped signalling
    capacity: int = 200
    recordings_dir: str | None = None  # recordings in progress; set a persistent one to store a crash's leftovers
    passthrough: bool = True  # 1:1 audio skips decode/encode while the legs share a codec and no action needs it

    def base_url(self, bound_port: int) -> str:
        return (self.public_url or f"http://{self.host}:{bound_port}").rstrip("/")

    def internal_base_url(self, bound_port: int) -> str:
        return (self.internal_url or self.base_url(bound_port)).rstrip("/")
