"""Per-leg media tickets: short-lived HMACs that authorise one WHIP offer for one leg on this node.

The node that issues a ticket is the node that checks it, so the key is a random per-process secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time


class Tickets:
    def __init__(self, ttl_seconds: int) -> None:
        self._key = os.urandom(32)
        self._ttl = ttl_seconds

    def issue(self, leg_id: str) -> str:
        expires = int(time.time()) + self._ttl
        mac = hmac.new(self._key, f"{leg_id}.{expires}".encode(), hashlib.sha256).hexdigest()
        return f"{expires}.{mac}"

    def check(self, leg_id: str, ticket: str) -> bool:
        expires, _, mac = ticket.partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return False
        expected = hmac.new(self._key, f"{leg_id}.{expires}".encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, mac)
