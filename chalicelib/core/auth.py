"""Who is calling: `Authorization: App <api key>` or `Basic base64(username:password)`.

API keys are looked up by their SHA-256. Basic passwords are checked with scrypt; a successful check is
remembered briefly (keyed by a hash of the credential and the stored password hash) so a client sending Basic on
every request does not pay the slow KDF each time, while a changed password or disabled account still takes
effect at once. Anything wrong is a 401 in the Infobip envelope.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.core.crypto import hash_api_key, verify_password
from chalicelib.core.errors import Unauthorized

_BASIC_CACHE_SECONDS = 300
_basic_cache: dict[str, tuple[str, float]] = {}
_basic_lock = threading.Lock()


@dataclass(frozen=True)
class Principal:
    account_id: str
    key_id: str | None
    scheme: str  # "App" | "Basic"


def authenticate(headers: Mapping[str, str]) -> Principal:
    header = headers.get("authorization") or headers.get("Authorization")
    if not header:
        raise Unauthorized("Missing Authorization header.")
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if not credential:
        raise Unauthorized("Invalid login details")
    scheme = scheme.lower()
    if scheme == "app":
        return _api_key(credential)
    if scheme == "basic":
        return _basic(credential)
    raise Unauthorized("Unsupported authorization scheme; use App or Basic.")


def _api_key(key: str) -> Principal:
    from chalicelib.accounts import repository  # the accounts domain owns the credential records

    record = repository.find_api_key(hash_api_key(key))
    if record is None or record.revoked_at is not None:
        raise Unauthorized("Invalid login details")
    account = repository.find_account(record.account_id)
    if account is None or not account.enabled:
        raise Unauthorized("Invalid login details")
    return Principal(account.account_id, record.key_id, "App")


def _basic(credential: str) -> Principal:
    from chalicelib.accounts import repository

    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Invalid login details") from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise Unauthorized("Invalid login details")
    account = repository.find_account_by_username(username)
    if account is None or not account.enabled or not account.password_hash:
        raise Unauthorized("Invalid login details")
    fingerprint = hashlib.sha256(f"{decoded}\0{account.password_hash}".encode()).hexdigest()
    now = time.monotonic()
    with _basic_lock:
        cached = _basic_cache.get(fingerprint)
    if cached is None or cached[1] < now:
        if not verify_password(password, account.password_hash):
            raise Unauthorized("Invalid login details")
        with _basic_lock:
            if len(_basic_cache) > 1024:
                _basic_cache.clear()
            _basic_cache[fingerprint] = (account.account_id, now + _BASIC_CACHE_SECONDS)
    return Principal(account.account_id, None, "Basic")
