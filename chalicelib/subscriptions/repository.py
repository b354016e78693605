"""Persistence for subscriptions, notification profiles and security settings."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core.errors import Conflict
from chalicelib.db.base import transaction
from chalicelib.db.models import NotificationProfile, SecuritySetting, Subscription


def subscription_key(channel: str, subscription_id: str) -> str:
    return f"{channel}#{subscription_id}"


def get_security(account_id: str, auth_id: str) -> SecuritySetting | None:
    try:
        return SecuritySetting.get(account_id, auth_id)
    except DoesNotExist:
        return None


def list_security(account_id: str) -> list[SecuritySetting]:
    return list(SecuritySetting.query(account_id))


def get_profile(account_id: str, profile_id: str) -> NotificationProfile | None:
    try:
        return NotificationProfile.get(account_id, profile_id)
    except DoesNotExist:
        return None


def list_profiles(account_id: str) -> list[NotificationProfile]:
    return list(NotificationProfile.query(account_id))


def get_subscription(account_id: str, channel: str, subscription_id: str) -> Subscription | None:
    try:
        return Subscription.get(account_id, subscription_key(channel, subscription_id))
    except DoesNotExist:
        return None


def list_subscriptions(account_id: str, channel: str) -> list[Subscription]:
    return list(Subscription.query(account_id, Subscription.subscription_key.startswith(f"{channel}#")))


def create_all(
    security: SecuritySetting | None = None,
    profile: NotificationProfile | None = None,
    subscription: Subscription | None = None,
) -> None:
    """Create new records atomically; any id already taken is a 409."""
    try:
        with transaction() as writes:
            if security is not None:
                writes.save(security, condition=SecuritySetting.auth_id.does_not_exist())
            if profile is not None:
                writes.save(profile, condition=NotificationProfile.profile_id.does_not_exist())
            if subscription is not None:
                writes.save(subscription, condition=Subscription.subscription_key.does_not_exist())
    except TransactWriteError as error:
        raise Conflict("A resource with this id already exists.") from error


def replace(record: SecuritySetting | NotificationProfile | Subscription) -> None:
    record.save()


def delete(record: SecuritySetting | NotificationProfile | Subscription) -> None:
    record.delete()
