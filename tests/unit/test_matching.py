"""Which subscriptions receive an event: its type is listed and, when criteria exist, one pair matches."""

from __future__ import annotations

from chalicelib.db.models import CriteriaPair, Subscription
from chalicelib.subscriptions.service import matching_subscriptions


def sub(name: str, events: list[str], criteria: list[dict[str, str]] | None = None) -> Subscription:
    return Subscription(
        "acct",
        f"VOICE_VIDEO#{name}",
        subscription_id=name,
        channel="VOICE_VIDEO",
        events=events,
        criteria=[CriteriaPair(**c) for c in criteria] if criteria else None,
        profile_id="p",
    )


def names(event_type: str, config: str | None, app: str | None = None, entity: str | None = None) -> list[str]:
    subscriptions = [
        sub("all", ["CALL_STARTED"]),
        sub("config-a", ["CALL_STARTED", "CALL_FINISHED"], [{"callsConfigurationId": "a"}]),
        sub("config-b-or-app", ["CALL_STARTED"], [{"callsConfigurationId": "b"}, {"applicationId": "app"}]),
        sub("config-and-entity", ["CALL_STARTED"], [{"callsConfigurationId": "a", "entityId": "e"}]),
    ]
    return [s.subscription_id for s in matching_subscriptions(subscriptions, event_type, config, app, entity)]


def test_type_must_be_listed():
    assert names("CALL_RINGING", "a") == []
    assert names("CALL_FINISHED", "a") == ["config-a"]


def test_no_criteria_matches_everything():
    assert "all" in names("CALL_STARTED", None)


def test_any_pair_may_match_and_all_keys_of_a_pair_must():
    assert names("CALL_STARTED", "a") == ["all", "config-a"]
    assert names("CALL_STARTED", "a", entity="e") == ["all", "config-a", "config-and-entity"]
    assert names("CALL_STARTED", "z", app="app") == ["all", "config-b-or-app"]
    assert names("CALL_STARTED", "b") == ["all", "config-b-or-app"]
