"""Request bodies used across tests."""

from __future__ import annotations

import json
from typing import Any

JSON = {"Content-Type": "application/json"}


def subscription(
    subscription_id: str,
    url: str,
    events: list[str] | None = None,
    *,
    criteria: list[dict[str, str]] | None = None,
    profile_id: str | None = None,
    security: dict[str, Any] | None = None,
) -> dict[str, Any]:
    profile: dict[str, Any] = {"profileId": profile_id or f"{subscription_id}-profile", "webhook": {"notifyUrl": url}}
    if security is not None:
        profile["security"] = security
    body: dict[str, Any] = {
        "subscriptionId": subscription_id,
        "name": f"{subscription_id} name",
        "events": events or ["CALL_STARTED", "CALL_FINISHED"],
        "profile": profile,
    }
    if criteria is not None:
        body["criteria"] = criteria
    return body


def hmac_security(auth_id: str, secret: str) -> dict[str, Any]:
    return {"authId": auth_id, "type": "HMAC", "credentials": {"secretKey": secret, "algorithm": "HMAC_SHA_256"}}


def dumps(body: Any) -> str:
    return json.dumps(body)
