"""The delivery message: one (subscription, event) pair on the FIFO delivery queue."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class DeliveryMessage(BaseModel):
    accountId: str
    channel: str
    subscriptionId: str
    eventId: str
    eventType: str
    sequence: int
    stream: str
    body: str
    firstEnqueuedAt: int  # epoch ms; the retry window counts from here
    replay: int = 0

    @property
    def group_id(self) -> str:
        """One FIFO group per subscription and call: a call's events stay in order, calls never block each other."""
        return _digest(self.accountId, self.channel, self.subscriptionId, self.stream)

    @property
    def deduplication_id(self) -> str:
        return _digest(self.eventId, self.channel, self.subscriptionId, str(self.replay))

    @property
    def log_key(self) -> str:
        return delivery_log_key(self.accountId, self.channel, self.subscriptionId)


def delivery_log_key(account_id: str, channel: str, subscription_id: str) -> str:
    return f"{account_id}#{channel}#{subscription_id}"
