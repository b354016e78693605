"""Our event catalogue is Infobip's: compared with the published OpenAPI documents."""

from __future__ import annotations

from chalicelib.events.catalogue import CALLS_EVENT_TYPES, SUBSCRIBABLE_VOICE_VIDEO_EVENTS
from tests.support.openapi import load


def _enum(document: str, suffix: str) -> list[str]:
    schemas = load(document)["components"]["schemas"]
    (values,) = [schema["enum"] for name, schema in schemas.items() if name.endswith(suffix)]
    return list(values)


def test_calls_event_types_match_the_voice_document():
    assert list(CALLS_EVENT_TYPES) == _enum("infobip-voice-openapi.json", ".EventType")


def test_subscribable_events_match_the_subscriptions_document():
    assert sorted(SUBSCRIBABLE_VOICE_VIDEO_EVENTS) == sorted(
        _enum("infobip-subscriptions-api-openapi.json", ".SimpleVoiceVideoEvents")
    )


def test_every_calls_event_can_be_subscribed_to():
    assert set(CALLS_EVENT_TYPES) <= set(SUBSCRIBABLE_VOICE_VIDEO_EVENTS)
