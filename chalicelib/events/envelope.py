"""Infobip's event envelope, plus what every receiver needs: an event id and a per-call sequence number."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.events.catalogue import CALLS_EVENT_TYPE_SET, TARGETED_EVENT_TYPES


class Platform(BaseModel):
    applicationId: str | None = None
    entityId: str | None = None


class EventEnvelope(BaseModel):
    """The JSON body POSTed to a webhook. Extra top-level fields (e.g. `retryProperties`) are allowed."""

    model_config = ConfigDict(extra="allow")

    type: str
    eventId: str
    sequence: int
    timestamp: str
    callId: str | None = None
    conferenceId: str | None = None
    dialogId: str | None = None
    bulkId: str | None = None
    callsConfigurationId: str | None = None
    platform: Platform | None = None
    properties: dict[str, Any] | None = None


@dataclass(frozen=True)
class NewEvent:
    """What a domain service hands to the outbox; id, sequence and timestamp are assigned on publish.

    A targeted event (`target` = "<channel>/<id>", e.g. a Call Link configuration) goes to that one webhook rather
    than to matching subscriptions, and its webhook receives `payload` as the body instead of the envelope.
    """

    type: str
    call_id: str | None = None
    conference_id: str | None = None
    dialog_id: str | None = None
    bulk_id: str | None = None
    calls_configuration_id: str | None = None
    application_id: str | None = None
    entity_id: str | None = None
    properties: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    target: str | None = None
    payload: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.target is None and self.type not in CALLS_EVENT_TYPE_SET:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.target is not None and self.target.partition("/")[0] != TARGETED_EVENT_TYPES.get(self.type):
            raise ValueError(f"event type {self.type!r} cannot go to {self.target!r}")

    @property
    def stream(self) -> str:
        """The ordering scope: events of one call (else conference, dialog, bulk) keep their order."""
        return self.call_id or self.conference_id or self.dialog_id or self.bulk_id or "account"

    def envelope(self, event_id: str, sequence: int, timestamp: str) -> EventEnvelope:
        platform = None
        if self.application_id or self.entity_id:
            platform = Platform(applicationId=self.application_id, entityId=self.entity_id)
        return EventEnvelope(
            type=self.type,
            eventId=event_id,
            sequence=sequence,
            timestamp=timestamp,
            callId=self.call_id,
            conferenceId=self.conference_id,
            dialogId=self.dialog_id,
            bulkId=self.bulk_id,
            callsConfigurationId=self.calls_configuration_id,
            platform=platform,
            properties=self.properties,
            **self.extra,
        )


def encode(envelope: EventEnvelope) -> str:
    """The exact bytes a webhook receives (and the signature covers)."""
    return envelope.model_dump_json(exclude_none=True)
