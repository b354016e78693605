"""Secrets at rest: API keys hashed, passwords through a slow KDF, recoverable secrets encrypted.

- API keys are 192-bit random strings, so a plain SHA-256 is enough to store them (no dictionary to attack);
  the hash is also the lookup key.
- Account passwords use scrypt with a per-password salt.
- Webhook credentials must be usable later (to sign or authenticate a delivery), so they are encrypted with
  AES-GCM under the data key and never returned by the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.core.settings import key_material

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    encoded = f"{base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${encoded}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def _aead() -> AESGCM:
    return AESGCM(base64.b64decode(key_material("dataKey")))


def encrypt_secret(plaintext: str, context: str) -> str:
    """Encrypt with the data key; `context` (e.g. the owning account id) is bound as associated data."""
    nonce = os.urandom(12)
    sealed = _aead().encrypt(nonce, plaintext.encode(), context.encode())
    return "v1." + base64.b64encode(nonce + sealed).decode()


def decrypt_secret(token: str, context: str) -> str:
    raw = base64.b64decode(token.removeprefix("v1."))
    return _aead().decrypt(raw[:12], raw[12:], context.encode()).decode()


def new_key_material() -> str:
    return base64.b64encode(os.urandom(32)).decode()
