"""Call Link configurations (`/call-link/1/configs`): the options, theme and webhook a link's page uses.

- One configuration is the default: the account's first, until another is created or updated with
  `isDefault: true` (the others lose the flag in the same transaction). Deleting the default hands the flag to the
  oldest remaining one. An account without any has the system default (`SYSTEM_DEFAULT`), Infobip's defaults.
- PUT replaces the configuration (what is absent returns to its default); PATCH changes only what is present.
- Image and subdomain ids must name the account's own images (of the matching type) and subdomains.
- The webhook URL passes the outbound URL policy; a BASIC password or HMAC key is encrypted with the data key and
  shown as `********`, never in clear.
- Layouts: the first listed is the initial one; with a single layout the page offers no switch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.call_link import repository
from chalicelib.call_link.errors import CallLinkResourceNotFound, InvalidField
from chalicelib.call_link.schemas import (
    MASKED,
    CallLinkConfig,
    CallLinkConfigPage,
    CallLinkConfigPatch,
    CallLinkConfigRequest,
    CallOptions,
    InitialOptions,
    SecurityConfig,
    Theme,
    Webhook,
)
from chalicelib.core import clock, crypto, ids
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.core.urlpolicy import check_url
from chalicelib.db.models import CallLinkConfig as ConfigItem

SYSTEM_DEFAULT_ID = "system-default"
SYSTEM_DEFAULT = CallLinkConfig(
    id=SYSTEM_DEFAULT_ID,
    name="System default",
    isDefault=True,
    initialOptions=InitialOptions(),
    callOptions=CallOptions(),
    theme=Theme(),
)


@dataclass(frozen=True)
class WebhookTarget:
    """Where a configuration's Call Link status events go, with the credential in clear (for delivery only)."""

    url: str
    security_type: str  # NONE | BASIC | HMAC
    credentials: dict[str, str]


def _not_found(config_id: str) -> CallLinkResourceNotFound:
    return CallLinkResourceNotFound("Call link configuration", config_id)


def _document(item: ConfigItem) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(item.document)
    return document


def to_infobip(item: ConfigItem) -> CallLinkConfig:
    document = _document(item)
    webhook = document.get("webhook")
    if webhook and webhook.get("securityConfig"):
        security = dict(webhook["securityConfig"])
        security.update({"password": MASKED} if security["type"] == "BASIC" else {"secretKey": MASKED})
        webhook = {**webhook, "securityConfig": security}
    return CallLinkConfig(
        id=item.config_id,
        name=item.name,
        isDefault=bool(item.is_default),
        initialOptions=InitialOptions.model_validate(document["initialOptions"]),
        callOptions=CallOptions.model_validate(document["callOptions"]),
        theme=Theme.model_validate(document["theme"]),
        subdomainId=document.get("subdomainId"),
        webhook=Webhook.model_validate(webhook) if webhook else None,
    )


def _check_references(account_id: str, request: CallLinkConfigRequest) -> None:
    images = request.theme.images
    for field, image_id, image_type in (
        ("theme.images.logoImageId", images and images.logoImageId, "LOGO"),
        ("theme.images.backgroundImageId", images and images.backgroundImageId, "BACKGROUND"),
    ):
        if image_id:
            image = repository.get_image(account_id, image_id)
            if image is None:
                raise InvalidField(field, f"names no image of this account ({image_id[:128]!r})")
            if image.type != image_type:
                raise InvalidField(field, f"names a {image.type} image, not a {image_type} one")
    if request.subdomainId and not any(
        item.subdomain_id == request.subdomainId for item in repository.list_subdomains(account_id)
    ):
        raise InvalidField("subdomainId", f"names no subdomain of this account ({request.subdomainId!r})")
    if request.webhook:
        check_url(request.webhook.url, "webhook.url")


def _seal(account_id: str, config_id: str, security: SecurityConfig | None) -> tuple[dict[str, Any] | None, str | None]:
    """The security settings as stored in the document (no secret) and the sealed secret."""
    if security is None:
        return None, None
    secret = security.password if security.type == "BASIC" else security.secretKey
    assert secret is not None  # the schema requires it
    public: dict[str, Any] = {"type": security.type}
    public.update({"username": security.username} if security.type == "BASIC" else {"algorithm": security.algorithm})
    return public, crypto.encrypt_secret(secret, f"{account_id}/call-link-config/{config_id}")


def _item(
    account_id: str, config_id: str, request: CallLinkConfigRequest, created: Any, previous: ConfigItem | None
) -> ConfigItem:
    webhook: dict[str, Any] | None = None
    sealed = None
    if request.webhook:
        security = request.webhook.securityConfig
        if security is not None and previous is not None and MASKED in (security.password, security.secretKey):
            # the masked value read back from a GET keeps the stored secret
            sealed = previous.webhook_secret_sealed
            public: dict[str, Any] | None = {
                k: v for k, v in security.model_dump(exclude_none=True).items() if k in ("type", "username")
            }
            assert public is not None
            if security.type == "HMAC":
                public["algorithm"] = security.algorithm
        else:
            public, sealed = _seal(account_id, config_id, security)
        webhook = {"url": request.webhook.url, **({"securityConfig": public} if public else {})}
    document = {
        "initialOptions": request.initialOptions.model_dump(mode="json", exclude_none=True),
        "callOptions": request.callOptions.model_dump(mode="json"),
        "theme": request.theme.model_dump(mode="json", exclude_none=True),
        "subdomainId": request.subdomainId,
        "webhook": webhook,
    }
    return ConfigItem(
        account_id,
        config_id,
        name=request.name,
        is_default=request.isDefault,
        document=json.dumps({k: v for k, v in document.items() if v is not None}),
        webhook_secret_sealed=sealed,
        created_at=created,
    )


def _write(account_id: str, item: ConfigItem, *, new: bool) -> CallLinkConfig:
    others = [other for other in repository.list_configs(account_id) if other.config_id != item.config_id]
    if not others:
        item.is_default = True  # an account's only configuration is its default
    elif not item.is_default and not any(other.is_default for other in others):
        item.is_default = True  # the default was deleted meanwhile: never leave the account without one
    unset = [other for other in others if other.is_default] if item.is_default else []
    if not repository.save_config(item, new=new, unset_defaults=unset):
        raise _not_found(item.config_id)
    return to_infobip(item)


def create_config(account_id: str, request: CallLinkConfigRequest) -> CallLinkConfig:
    _check_references(account_id, request)
    config_id = ids.uuid_id()
    return _write(account_id, _item(account_id, config_id, request, clock.now(), None), new=True)


def _existing(account_id: str, config_id: str) -> ConfigItem:
    item = repository.get_config(account_id, config_id) if len(config_id) <= 128 else None
    if item is None:
        raise _not_found(config_id)
    return item


def get_config(account_id: str, config_id: str) -> CallLinkConfig:
    return to_infobip(_existing(account_id, config_id))


def list_configs(account_id: str, page: int, size: int) -> CallLinkConfigPage:
    items = sorted(repository.list_configs(account_id), key=lambda item: (item.created_at, item.config_id))
    chosen, paging = page_of(items, page, size)
    return CallLinkConfigPage(results=[to_infobip(item) for item in chosen], paging=PageInfo(**paging))


def replace_config(account_id: str, config_id: str, request: CallLinkConfigRequest) -> CallLinkConfig:
    previous = _existing(account_id, config_id)
    _check_references(account_id, request)
    item = _item(account_id, config_id, request, previous.created_at, previous)
    if previous.is_default and not request.isDefault:
        item.is_default = True  # the default stays until another takes the flag
    return _write(account_id, item, new=False)


def patch_config(account_id: str, config_id: str, patch: CallLinkConfigPatch) -> CallLinkConfig:
    previous = _existing(account_id, config_id)
    current = to_infobip(previous).model_dump(exclude_none=True)
    current.pop("id")
    current.update(patch.model_dump(exclude_unset=True, exclude_none=True))
    request = CallLinkConfigRequest.model_validate(current)
    _check_references(account_id, request)
    item = _item(account_id, config_id, request, previous.created_at, previous)
    if previous.is_default:
        item.is_default = True
    return _write(account_id, item, new=False)


def delete_config(account_id: str, config_id: str) -> CallLinkConfig:
    item = _existing(account_id, config_id)
    if not repository.delete_config(item):
        raise _not_found(config_id)
    if item.is_default:
        remaining = sorted(repository.list_configs(account_id), key=lambda other: (other.created_at, other.config_id))
        if remaining:
            repository.set_default(remaining[0])
    return to_infobip(item)


def effective_config(account_id: str, config_id: str | None) -> CallLinkConfig:
    """The configuration a link's page uses: its own if it still exists, else the system default."""
    item = repository.get_config(account_id, config_id) if config_id else None
    return to_infobip(item) if item is not None else SYSTEM_DEFAULT


def default_config_id(account_id: str) -> str | None:
    defaults = [item for item in repository.list_configs(account_id) if item.is_default]
    return defaults[0].config_id if defaults else None


def require_config(account_id: str, config_id: str) -> None:
    if repository.get_config(account_id, config_id) is None:
        raise InvalidField("callLinkConfigId", f"names no configuration of this account ({config_id[:128]!r})")


def webhook_target(account_id: str, config_id: str | None) -> WebhookTarget | None:
    item = repository.get_config(account_id, config_id) if config_id else None
    webhook = _document(item).get("webhook") if item is not None else None
    if not webhook or item is None:
        return None
    security = webhook.get("securityConfig")
    if not security or not item.webhook_secret_sealed:
        return WebhookTarget(webhook["url"], "NONE", {})
    secret = crypto.decrypt_secret(item.webhook_secret_sealed, f"{account_id}/call-link-config/{config_id}")
    if security["type"] == "BASIC":
        return WebhookTarget(webhook["url"], "BASIC", {"username": security["username"], "password": secret})
    return WebhookTarget(webhook["url"], "HMAC", {"secretKey": secret, "algorithm": security["algorithm"]})
