"""Settings are read on first use; keys come from the environment or the keys secret (keys or a seed)."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import boto3

from chalicelib.core.crypto import decrypt_secret, encrypt_secret
from chalicelib.core.settings import derive_key, key_material, reset_settings_cache


def test_keys_are_derived_from_a_seed_secret(embedded_aws, monkeypatch):
    seed = secrets.token_urlsafe(48)
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"seed-{secrets.token_hex(4)}", SecretString=json.dumps({"seed": seed})
    )["ARN"]
    monkeypatch.delenv("SWITCHBOARD_DATA_KEY")
    monkeypatch.setenv("SWITCHBOARD_KEYS_SECRET_ID", arn)
    reset_settings_cache()
    try:
        assert key_material("dataKey") == derive_key(seed, "dataKey")
        assert len(base64.b64decode(key_material("tokenKey"))) == 32
        assert decrypt_secret(encrypt_secret("webhook password", "acct"), "acct") == "webhook password"
    finally:
        monkeypatch.undo()
        reset_settings_cache()


def test_importing_the_app_reads_no_settings():
    """Nothing happens at import time: a fresh interpreter imports app.py with no Switchboard environment at all."""
    import subprocess
    import sys

    code = (
        "import os; [os.environ.pop(k) for k in list(os.environ) if k.startswith(('SWITCHBOARD_', 'AWS_'))];"
        "import app; from chalicelib.core import settings; assert settings.get_settings.cache_info().currsize == 0"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=root)
    assert result.returncode == 0, result.stderr
