"""Response models for the delivery log and dead letters (Switchboard additions to the Subscriptions API)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DeliveryAttemptView(BaseModel):
    eventId: str
    eventType: str
    sequence: int
    attempt: int
    outcome: str
    statusCode: int | None = None
    latencyMs: int | None = None
    error: str | None = None
    attemptedAt: datetime


class DeliveryLog(BaseModel):
    results: list[DeliveryAttemptView]


class DeadLetterView(BaseModel):
    eventId: str
    eventType: str
    sequence: int
    reason: str
    deadLetteredAt: datetime
    event: dict[str, object]


class DeadLetterPage(BaseModel):
    results: list[DeadLetterView]


class ReplayResult(BaseModel):
    replayed: int
    remaining: int
