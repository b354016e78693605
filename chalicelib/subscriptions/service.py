"""Subscription rules.

- Only the VOICE_VIDEO channel is served; other channels are a clear 400.
- A subscription's profile is either an existing one (`{profileId}`) or defined inline (with a webhook, and
  optionally security defined inline or referenced); inline definitions are created with the subscription in one
  transaction.
- Two subscriptions of an account may not share an event type for the same criteria (the seed requires no overlap).
- Credentials are encrypted with the data key, bound to the account; they are never returned.
- Webhook URLs must pass the outbound URL policy when saved (and again at every delivery).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.core import clock
from chalicelib.core.crypto import decrypt_secret, encrypt_secret
from chalicelib.core.errors import BadRequest, Conflict, NotFound
from chalicelib.core.paging import page_of
from chalicelib.core.urlpolicy import check_url
from chalicelib.db.models import CriteriaPair, NotificationProfile, SecuritySetting, Subscription
from chalicelib.subscriptions import repository
from chalicelib.subscriptions.schemas import (
    CHANNELS,
    SUPPORTED_CHANNELS,
    ApplicationEntityPair,
    CredentialsView,
    IdOnlyProfileResponse,
    IdOnlySecurityResponse,
    IdOnlySubscriptionResponse,
    NoIdProfileRequest,
    NoIdSecurityRequest,
    NoIdSubscriptionRequest,
    PageInfo,
    ProfilePage,
    ProfileRequest,
    ProfileResponse,
    ProfileSettings,
    SecurityPage,
    SecurityRequest,
    SecurityResponse,
    SubscriptionPage,
    SubscriptionRequest,
    SubscriptionResponse,
    WebhookView,
)

MASK = "********"
_SETTING_FIELDS = tuple(
    name for name in ProfileSettings.model_fields if name not in ("connectTimeout", "readTimeout", "headers")
)


def check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise BadRequest("Request is invalid.", {"channel": [f"unknown channel {channel!r}"]})
    if channel not in SUPPORTED_CHANNELS:
        raise BadRequest(f"Channel {channel} is not served by Switchboard; use VOICE_VIDEO.")


# --- security settings --------------------------------------------------------------------------------


def _seal(account_id: str, request: NoIdSecurityRequest) -> str | None:
    if request.credentials is None:
        return None
    payload = request.credentials.model_dump(exclude_none=True)
    return encrypt_secret(json.dumps(payload), account_id)


def _credentials(record: SecuritySetting) -> dict[str, str]:
    if not record.credentials_sealed:
        return {}
    payload: dict[str, str] = json.loads(decrypt_secret(record.credentials_sealed, record.account_id))
    return payload


def _security_record(account_id: str, request: SecurityRequest) -> SecuritySetting:
    return SecuritySetting(
        account_id,
        request.authId,
        type=request.type or "NONE",
        credentials_sealed=_seal(account_id, request),
        created_at=clock.now(),
    )


def security_view(record: SecuritySetting) -> SecurityResponse:
    credentials = _credentials(record)
    view = None
    if credentials:
        view = CredentialsView(
            username=credentials.get("username"),
            password=MASK if "password" in credentials else None,
            secretKey=MASK if "secretKey" in credentials else None,
            algorithm=credentials.get("algorithm") or ("HMAC_SHA_256" if record.type == "HMAC" else None),
        )
    return SecurityResponse(
        authId=record.auth_id, type=None if record.type == "NONE" else record.type, credentials=view
    )


def create_security(account_id: str, request: SecurityRequest) -> IdOnlySecurityResponse:
    repository.create_all(security=_security_record(account_id, request))
    return IdOnlySecurityResponse(authId=request.authId)


def _require_security(account_id: str, auth_id: str) -> SecuritySetting:
    record = repository.get_security(account_id, auth_id)
    if record is None:
        raise NotFound(f"Security settings {auth_id!r} were not found.")
    return record


def get_security(account_id: str, auth_id: str) -> SecurityResponse:
    return security_view(_require_security(account_id, auth_id))


def list_security(account_id: str, page: int, size: int) -> SecurityPage:
    records = sorted(repository.list_security(account_id), key=lambda r: r.created_at, reverse=True)
    items, paging = page_of(records, page, size)
    return SecurityPage(results=[security_view(r) for r in items], paging=PageInfo(**paging))


def update_security(account_id: str, auth_id: str, request: NoIdSecurityRequest) -> IdOnlySecurityResponse:
    record = _require_security(account_id, auth_id)
    record.type = request.type or "NONE"
    record.credentials_sealed = _seal(account_id, request)
    repository.replace(record)
    return IdOnlySecurityResponse(authId=auth_id)


def delete_security(account_id: str, auth_id: str) -> IdOnlySecurityResponse:
    record = _require_security(account_id, auth_id)
    users = [p.profile_id for p in repository.list_profiles(account_id) if p.auth_id == auth_id]
    if users:
        raise Conflict(f"Security settings {auth_id!r} are used by profiles {', '.join(sorted(users))}.")
    repository.delete(record)
    return IdOnlySecurityResponse(authId=auth_id)


# --- notification profiles ----------------------------------------------------------------------------


def _apply_profile(
    record: NotificationProfile,
    request: ProfileSettings,
    notify_url: str | None,
    content_type: str | None,
    auth_id: str | None,
    field_prefix: str = "",
) -> None:
    record.notify_url = check_url(notify_url, f"{field_prefix}webhook.notifyUrl") if notify_url else None
    record.content_type = content_type
    record.auth_id = auth_id
    record.connect_timeout_ms = request.connectTimeout
    record.read_timeout_ms = request.readTimeout
    record.headers = request.headers
    options = {name: getattr(request, name) for name in _SETTING_FIELDS if getattr(request, name) is not None}
    record.options = options or None


def _new_profile(
    account_id: str, request: ProfileRequest, field_prefix: str = ""
) -> tuple[NotificationProfile, SecuritySetting | None]:
    """A profile defined inline; `field_prefix` places its fields in error messages ("profile." in a subscription)."""
    if request.webhook is None:
        raise BadRequest("Request is invalid.", {f"{field_prefix}webhook": ["a new profile needs a webhook"]})
    security = None
    auth_id = None
    if request.security is not None:
        auth_id = request.security.authId
        if request.security.type is not None:
            security = _security_record(account_id, request.security)
        else:
            _require_security(account_id, auth_id)
    record = NotificationProfile(account_id, request.profileId, created_at=clock.now())
    _apply_profile(record, request, request.webhook.notifyUrl, request.webhook.contentType, auth_id, field_prefix)
    return record, security


def _profile_ids(record: NotificationProfile) -> IdOnlyProfileResponse:
    security = IdOnlySecurityResponse(authId=record.auth_id) if record.auth_id else None
    return IdOnlyProfileResponse(profileId=record.profile_id, security=security)


def profile_view(record: NotificationProfile) -> ProfileResponse:
    webhook = WebhookView(notifyUrl=record.notify_url, contentType=record.content_type) if record.notify_url else None
    options: dict[str, Any] = dict(record.options.as_dict()) if record.options else {}
    extra = {name: (int(value) if isinstance(value, float) else value) for name, value in options.items()}
    return ProfileResponse.model_validate(
        {
            **extra,
            "profileId": record.profile_id,
            "webhook": webhook,
            "security": IdOnlySecurityResponse(authId=record.auth_id) if record.auth_id else None,
            "connectTimeout": int(record.connect_timeout_ms) if record.connect_timeout_ms else None,
            "readTimeout": int(record.read_timeout_ms) if record.read_timeout_ms else None,
            "headers": dict(record.headers.as_dict()) if record.headers else None,
        }
    )


def create_profile(account_id: str, request: ProfileRequest) -> IdOnlyProfileResponse:
    record, security = _new_profile(account_id, request)
    repository.create_all(security=security, profile=record)
    return _profile_ids(record)


def _require_profile(account_id: str, profile_id: str) -> NotificationProfile:
    record = repository.get_profile(account_id, profile_id)
    if record is None:
        raise NotFound(f"Notification profile {profile_id!r} was not found.")
    return record


def get_profile(account_id: str, profile_id: str) -> ProfileResponse:
    return profile_view(_require_profile(account_id, profile_id))


def list_profiles(account_id: str, page: int, size: int) -> ProfilePage:
    records = sorted(repository.list_profiles(account_id), key=lambda r: r.created_at, reverse=True)
    items, paging = page_of(records, page, size)
    return ProfilePage(results=[profile_view(r) for r in items], paging=PageInfo(**paging))


def update_profile(account_id: str, profile_id: str, request: NoIdProfileRequest) -> IdOnlyProfileResponse:
    record = _require_profile(account_id, profile_id)
    auth_id = request.security.authId if request.security else None
    if auth_id:
        _require_security(account_id, auth_id)
    webhook = request.webhook
    _apply_profile(
        record,
        request,
        webhook.notifyUrl if webhook else record.notify_url,
        webhook.contentType if webhook else record.content_type,
        auth_id,
    )
    repository.replace(record)
    return _profile_ids(record)


def delete_profile(account_id: str, profile_id: str) -> IdOnlyProfileResponse:
    record = _require_profile(account_id, profile_id)
    users = [
        record.subscription_id
        for channel in SUPPORTED_CHANNELS
        for record in repository.list_subscriptions(account_id, channel)
        if record.profile_id == profile_id
    ]
    if users:
        raise Conflict(f"Profile {profile_id!r} is used by subscriptions {', '.join(sorted(users))}.")
    repository.delete(record)
    return _profile_ids(record)


# --- subscriptions ------------------------------------------------------------------------------------

Pair = tuple[str | None, str | None, str | None]


def _pairs(criteria: Iterable[dict[str, str | None]] | None) -> set[Pair]:
    return {
        (c.get("applicationId") or None, c.get("entityId") or None, c.get("callsConfigurationId") or None)
        for c in criteria or ()
    }


def _stored_criteria(record: Subscription) -> list[dict[str, str | None]]:
    return [dict(c.as_dict()) for c in record.criteria or ()]


def _check_overlap(
    account_id: str, channel: str, subscription_id: str, events: list[str], criteria: list[dict[str, str | None]]
) -> None:
    mine = _pairs(criteria) or {(None, None, None)}
    wanted = set(events)
    for other in repository.list_subscriptions(account_id, channel):
        if other.subscription_id == subscription_id:
            continue
        theirs = _pairs(_stored_criteria(other)) or {(None, None, None)}
        shared_events = wanted & set(other.events)
        if mine & theirs and shared_events:
            raise Conflict(
                f"Subscription {other.subscription_id!r} already receives {', '.join(sorted(shared_events))} "
                "for the same criteria.",
            )


def _criteria_payload(criteria: list[ApplicationEntityPair] | None) -> list[dict[str, str | None]]:
    return [c.model_dump(exclude_none=True) for c in criteria or ()]


def _apply_subscription(record: Subscription, request: NoIdSubscriptionRequest, profile_id: str) -> None:
    record.name = request.name
    record.events = list(dict.fromkeys(request.events))
    record.criteria = [CriteriaPair(**pair) for pair in _criteria_payload(request.criteria)] or None
    record.resources = request.resources or None
    record.users = request.users or None
    record.profile_id = profile_id


def create_subscription(account_id: str, channel: str, request: SubscriptionRequest) -> IdOnlySubscriptionResponse:
    check_channel(channel)
    if repository.get_subscription(account_id, channel, request.subscriptionId) is not None:
        raise Conflict(f"Subscription {request.subscriptionId!r} already exists.")
    _check_overlap(
        account_id, channel, request.subscriptionId, list(request.events), _criteria_payload(request.criteria)
    )
    profile_request = request.profile
    profile = security = None
    if profile_request.webhook is not None or profile_request.security is not None:
        profile, security = _new_profile(account_id, profile_request, "profile.")
        ids = _profile_ids(profile)
    else:
        ids = _profile_ids(_require_profile(account_id, profile_request.profileId))
    record = Subscription(
        account_id,
        repository.subscription_key(channel, request.subscriptionId),
        channel=channel,
        subscription_id=request.subscriptionId,
        created_at=clock.now(),
    )
    _apply_subscription(record, request, profile_request.profileId)
    repository.create_all(security=security, profile=profile, subscription=record)
    return IdOnlySubscriptionResponse(subscriptionId=request.subscriptionId, profile=ids)


def _require_subscription(account_id: str, channel: str, subscription_id: str) -> Subscription:
    check_channel(channel)
    record = repository.get_subscription(account_id, channel, subscription_id)
    if record is None:
        raise NotFound(f"Subscription {subscription_id!r} was not found.")
    return record


def require_subscription(account_id: str, channel: str, subscription_id: str) -> Subscription:
    return _require_subscription(account_id, channel, subscription_id)


def _subscription_view(record: Subscription, profiles: dict[str, NotificationProfile]) -> SubscriptionResponse:
    profile = profiles.get(record.profile_id)
    return SubscriptionResponse(
        subscriptionId=record.subscription_id,
        name=record.name,
        profile=_profile_ids(profile) if profile else IdOnlyProfileResponse(profileId=record.profile_id),
        events=list(record.events),
        criteria=[ApplicationEntityPair(**c) for c in _stored_criteria(record)],
        resources=list(record.resources or ()),
        users=list(record.users or ()),
    )


def get_subscription(account_id: str, channel: str, subscription_id: str) -> SubscriptionResponse:
    record = _require_subscription(account_id, channel, subscription_id)
    profile = repository.get_profile(account_id, record.profile_id)
    return _subscription_view(record, {profile.profile_id: profile} if profile else {})


def list_subscriptions(
    account_id: str, channel: str, page: int, size: int, filters: dict[str, str | None]
) -> SubscriptionPage:
    check_channel(channel)
    records = sorted(repository.list_subscriptions(account_id, channel), key=lambda r: r.created_at, reverse=True)
    wanted = {name: value for name, value in filters.items() if value}

    def keep(record: Subscription) -> bool:
        criteria = _stored_criteria(record)
        for name, value in wanted.items():
            if name == "resource" and value not in (record.resources or ()):
                return False
            if name == "user" and value not in (record.users or ()):
                return False
            if name not in ("resource", "user") and not any(c.get(name) == value for c in criteria):
                return False
        return True

    items, paging = page_of([r for r in records if keep(r)], page, size)
    profiles = {p.profile_id: p for p in repository.list_profiles(account_id)} if items else {}
    return SubscriptionPage(results=[_subscription_view(r, profiles) for r in items], paging=PageInfo(**paging))


def update_subscription(
    account_id: str, channel: str, subscription_id: str, request: NoIdSubscriptionRequest
) -> IdOnlySubscriptionResponse:
    record = _require_subscription(account_id, channel, subscription_id)
    profile = _require_profile(account_id, request.profile.profileId)
    _check_overlap(account_id, channel, subscription_id, list(request.events), _criteria_payload(request.criteria))
    _apply_subscription(record, request, profile.profile_id)
    repository.replace(record)
    return IdOnlySubscriptionResponse(subscriptionId=subscription_id, profile=_profile_ids(profile))


def delete_subscription(account_id: str, channel: str, subscription_id: str) -> IdOnlySubscriptionResponse:
    record = _require_subscription(account_id, channel, subscription_id)
    repository.delete(record)
    return IdOnlySubscriptionResponse(
        subscriptionId=subscription_id, profile=IdOnlyProfileResponse(profileId=record.profile_id)
    )


# --- what the event pipeline needs --------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    content_type: str
    headers: dict[str, str]
    connect_timeout_ms: int | None
    read_timeout_ms: int | None
    security_type: str  # NONE | BASIC | HMAC
    credentials: dict[str, str]


def matching_subscriptions(
    subscriptions: Iterable[Subscription],
    event_type: str,
    calls_configuration_id: str | None,
    application_id: str | None,
    entity_id: str | None,
) -> list[Subscription]:
    """Subscriptions that want this event: the type is listed and, if criteria exist, one pair matches."""
    actual = {"callsConfigurationId": calls_configuration_id, "applicationId": application_id, "entityId": entity_id}
    matched = []
    for record in subscriptions:
        if event_type not in record.events:
            continue
        criteria = _stored_criteria(record)
        if not criteria or any(all(actual.get(k) == v for k, v in pair.items() if v) for pair in criteria):
            matched.append(record)
    return matched


def webhook_target(account_id: str, channel: str, subscription_id: str) -> WebhookTarget | None:
    """Where and how to deliver for a subscription now; None when it (or its profile) no longer exists."""
    record = repository.get_subscription(account_id, channel, subscription_id)
    if record is None:
        return None
    profile = repository.get_profile(account_id, record.profile_id)
    if profile is None or not profile.notify_url:
        return None
    security = repository.get_security(account_id, profile.auth_id) if profile.auth_id else None
    return WebhookTarget(
        url=profile.notify_url,
        content_type=profile.content_type or "application/json",
        headers=dict(profile.headers.as_dict()) if profile.headers else {},
        connect_timeout_ms=int(profile.connect_timeout_ms) if profile.connect_timeout_ms else None,
        read_timeout_ms=int(profile.read_timeout_ms) if profile.read_timeout_ms else None,
        security_type=security.type if security else "NONE",
        credentials=_credentials(security) if security else {},
    )
