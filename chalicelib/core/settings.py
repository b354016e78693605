"""The one settings model. Read from the environment on first use (never at import time) and cached.

Every deployment value lives here, so the CDK app and the local runner can check that each variable the
model requires is set on every function and task.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Stage = Literal["local", "dev", "prod"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore", frozen=True)

    stage: Stage = "local"
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    table_prefix: str = "switchboard-local-"
    # With AWS_ENDPOINT_URL set, boto3 and pynamodb talk to that endpoint (moto in local mode).
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    public_base_url: str = "http://127.0.0.1:8000"

    # Keys: given directly (tests), or a Secrets Manager secret holding either the keys themselves
    # {"dataKey": "<base64 32 bytes>", "tokenKey": "<base64 32 bytes>"} (the local stack) or a random "seed" string
    # both are derived from (deployments: CloudFormation generates the seed, so no post-deploy step exists).
    data_key: SecretStr | None = None
    token_key: SecretStr | None = None
    control_key: SecretStr | None = None
    keys_secret_id: str | None = None

    # Outbound URL policy for webhooks, media streams and audio downloads.
    allow_private_urls: bool = False
    allow_loopback_urls: bool = False

    # Event delivery.
    delivery_queue_url: str = ""
    dead_letter_queue_url: str = ""
    delivery_retry_window_seconds: int = 24 * 3600
    delivery_backoff_base_seconds: int = 5
    delivery_backoff_max_seconds: int = 900
    webhook_connect_timeout_ms: int = 5000
    webhook_read_timeout_ms: int = 10000
    delivery_log_retention_days: int = 7
    dead_letter_retention_days: int = 14
    outbox_retention_days: int = 3
    # Finished recordings waiting to be pushed to their account's SFTP destination.
    recording_export_queue_url: str = ""

    # The dead-node reaper (`chalicelib.media_nodes.reaper`; every minute on AWS, every `local_schedule_seconds` in
    # the local runner): a node silent this long is dead (three missed 10 s heartbeats); a live leg no node ever
    # took is stranded after `reaper_unassigned_after_seconds`; at most `reaper_max_items` legs and files per run.
    reaper_dead_after_seconds: int = 30
    reaper_unassigned_after_seconds: int = 300
    reaper_max_items: int = 200
    local_schedule_seconds: float = 5.0

    # The media bucket (recordings, uploaded audio files): set by the local runner and the stack.
    bucket: str = ""

    max_body_bytes: int = 1024 * 1024
    # The account the showcase's demo tokens belong to (local and dev only; `make run` sets it).
    showcase_account_id: str | None = None
    log_level: str = "INFO"

    def table_name(self, base: str) -> str:
        return f"{self.table_prefix}{base}"


REQUIRED_ENVIRONMENT = (
    "SWITCHBOARD_STAGE",
    "SWITCHBOARD_TABLE_PREFIX",
    "SWITCHBOARD_PUBLIC_BASE_URL",
    "SWITCHBOARD_DELIVERY_QUEUE_URL",
    "SWITCHBOARD_DEAD_LETTER_QUEUE_URL",
)
"""Variables every deployed function and task must carry (checked by the infrastructure tests)."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


@lru_cache(maxsize=1)
def _secret_keys(secret_id: str) -> dict[str, str]:
    import boto3  # local import: only deployments that use Secrets Manager pay for it

    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    keys: dict[str, str] = json.loads(value)
    return keys


KeyName = Literal["dataKey", "tokenKey", "controlKey"]


def key_material(name: KeyName) -> str:
    """Base64 key material by name, from the settings or from the keys secret.

    dataKey encrypts stored secrets, tokenKey signs WebRTC tokens, controlKey signs control-plane requests to media
    nodes."""
    settings = get_settings()
    direct = {"dataKey": settings.data_key, "tokenKey": settings.token_key, "controlKey": settings.control_key}[name]
    if direct is not None:
        return direct.get_secret_value()
    if settings.keys_secret_id:
        stored = _secret_keys(settings.keys_secret_id)
        if name in stored:
            return stored[name]
        if len(stored.get("seed", "")) >= 32:
            return derive_key(stored["seed"], name)
        raise RuntimeError(f"the keys secret has neither {name} nor a seed of at least 32 characters")
    raise RuntimeError(f"no {name} configured: set SWITCHBOARD_KEYS_SECRET_ID or the key itself")


def derive_key(seed: str, name: str) -> str:
    """A 32-byte key per purpose from one random seed (HMAC-SHA256 as the PRF, the purpose as its input)."""
    return base64.b64encode(hmac.new(seed.encode(), f"switchboard/{name}".encode(), hashlib.sha256).digest()).decode()


def reset_settings_cache() -> None:
    """For tests and the local runner, which change the environment between uses."""
    get_settings.cache_clear()
    _secret_keys.cache_clear()
