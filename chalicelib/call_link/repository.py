"""Persistence for Call Link: the only code that touches its pynamodb models and its objects in the media bucket.

Every rule that two requests could race on is a conditional write, never a read before a write: a short code is
taken only where no link has it, a subdomain only in a free slot, the one-time mark only once, a WEBRTC
destination's caller lease only when free (or expired, or already this session's). Images are objects
`<accountId>/call-link/images/<imageId>.<png|jpg>`, written with SSE-S3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.core import objects
from chalicelib.db.base import transaction
from chalicelib.db.models import CallLink, CallLinkConfig, CallLinkImage, CallLinkSession, CallLinkSubdomain

_CONDITION_FAILED = "ConditionalCheckFailedException"
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


def _failed_condition(error: PutError | UpdateError | DeleteError) -> bool:
    return error.cause_response_code == _CONDITION_FAILED


# --- configurations -------------------------------------------------------------------------------------


def get_config(account_id: str, config_id: str) -> CallLinkConfig | None:
    try:
        return CallLinkConfig.get(account_id, config_id, consistent_read=True)
    except DoesNotExist:
        return None


def list_configs(account_id: str) -> list[CallLinkConfig]:
    return list(CallLinkConfig.query(account_id, consistent_read=True))


def save_config(item: CallLinkConfig, *, new: bool, unset_defaults: list[CallLinkConfig]) -> bool:
    """Create (`new`) or replace a configuration, and clear `is_default` on the others in the same transaction.
    False when the item was not there to replace (deleted meanwhile)."""
    condition = CallLinkConfig.config_id.does_not_exist() if new else CallLinkConfig.config_id.exists()
    if not unset_defaults:
        try:
            item.save(condition=condition)
        except PutError as error:
            if _failed_condition(error):
                return False
            raise
        return True
    with transaction() as staged:
        staged.save(item, condition=condition)
        for other in unset_defaults:
            staged.update(
                other, actions=[CallLinkConfig.is_default.set(False)], condition=CallLinkConfig.config_id.exists()
            )
    return True


def set_default(item: CallLinkConfig) -> None:
    item.update(actions=[CallLinkConfig.is_default.set(True)], condition=CallLinkConfig.config_id.exists())


def delete_config(item: CallLinkConfig) -> bool:
    try:
        item.delete(condition=CallLinkConfig.config_id.exists())
    except DeleteError as error:
        if _failed_condition(error):
            return False
        raise
    return True


# --- images ---------------------------------------------------------------------------------------------


def image_key(account_id: str, image_id: str, image_format: str) -> str:
    return f"{account_id}/call-link/images/{image_id}.{'png' if image_format == 'PNG' else 'jpg'}"


def put_image_object(key: str, data: bytes, image_format: str) -> None:
    objects.put(key, data, CONTENT_TYPES[image_format])


def read_image_object(key: str) -> bytes:
    return objects.read(key)


def delete_image_object(key: str) -> None:
    objects.delete(key)


def create_image(item: CallLinkImage) -> None:
    item.save(condition=CallLinkImage.image_id.does_not_exist())


def get_image(account_id: str, image_id: str) -> CallLinkImage | None:
    try:
        return CallLinkImage.get(account_id, image_id, consistent_read=True)
    except DoesNotExist:
        return None


def list_images(account_id: str) -> list[CallLinkImage]:
    return list(CallLinkImage.query(account_id, consistent_read=True))


def delete_image(item: CallLinkImage) -> bool:
    try:
        item.delete(condition=CallLinkImage.image_id.exists())
    except DeleteError as error:
        if _failed_condition(error):
            return False
        raise
    return True


# --- subdomains -----------------------------------------------------------------------------------------


def list_subdomains(account_id: str) -> list[CallLinkSubdomain]:
    return list(CallLinkSubdomain.query(account_id, consistent_read=True))


def take_slot(item: CallLinkSubdomain) -> bool:
    """Store the subdomain in `item.slot`; False when another subdomain has that slot."""
    try:
        item.save(condition=CallLinkSubdomain.slot.does_not_exist())
    except PutError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def delete_subdomain(item: CallLinkSubdomain) -> bool:
    try:
        item.delete(condition=CallLinkSubdomain.subdomain_id == item.subdomain_id)
    except DeleteError as error:
        if _failed_condition(error):
            return False
        raise
    return True


# --- links ----------------------------------------------------------------------------------------------


def create_link(item: CallLink) -> bool:
    """Store a new link; False when its code is taken (by any account)."""
    try:
        item.save(condition=CallLink.code.does_not_exist())
    except PutError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def get_link(code: str) -> CallLink | None:
    try:
        return CallLink.get(code, consistent_read=True)
    except DoesNotExist:
        return None


def list_links(account_id: str) -> list[CallLink]:
    return list(CallLink.by_account.query(account_id))


def delete_link(item: CallLink) -> bool:
    try:
        item.delete(condition=CallLink.account_id == item.account_id)
    except DeleteError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def _update(item: CallLink, actions: list[Any], condition: Any) -> bool:
    try:
        item.update(actions=actions, condition=(CallLink.code.exists()) & condition)
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def mark_used(item: CallLink, at: datetime) -> bool:
    """The one-time mark: True for the one write that set it."""
    return _update(item, [CallLink.used_at.set(at)], CallLink.used_at.does_not_exist())


def take_lease(item: CallLink, session: str, until: datetime, now: datetime) -> bool:
    free = CallLink.busy_session.does_not_exist() | (CallLink.busy_until < now) | (CallLink.busy_session == session)
    return _update(item, [CallLink.busy_session.set(session), CallLink.busy_until.set(until)], free)


def release_lease(item: CallLink, session: str) -> bool:
    actions = [CallLink.busy_session.remove(), CallLink.busy_until.remove()]
    return _update(item, actions, CallLink.busy_session == session)


def count_wrong_password(item: CallLink) -> int:
    """Add one wrong attempt and return the count now stored."""
    item.update(actions=[CallLink.failed_attempts.add(1)], condition=CallLink.code.exists())
    return int(item.failed_attempts)


def lock(item: CallLink, until: datetime) -> None:
    item.update(actions=[CallLink.locked_until.set(until), CallLink.failed_attempts.set(0)])


def clear_wrong_passwords(item: CallLink) -> None:
    if item.failed_attempts:
        item.update(actions=[CallLink.failed_attempts.set(0)], condition=CallLink.code.exists())


# --- sessions -------------------------------------------------------------------------------------------


def create_session(item: CallLinkSession) -> None:
    item.save(condition=CallLinkSession.session_key.does_not_exist())


def get_session(session_key: str) -> CallLinkSession | None:
    try:
        return CallLinkSession.get(session_key, consistent_read=True)
    except DoesNotExist:
        return None


def stage_session_end(staged: TransactWrite, item: CallLinkSession, at: datetime) -> None:
    """`ended_at`, once, inside a transaction (with the session's status event)."""
    staged.update(item, actions=[CallLinkSession.ended_at.set(at)], condition=CallLinkSession.ended_at.does_not_exist())


def mark_session(item: CallLinkSession, field: str, at: datetime) -> bool:
    """Set `established_at` or `ended_at` once; False when it was already set."""
    attribute = CallLinkSession.established_at if field == "established_at" else CallLinkSession.ended_at
    try:
        item.update(actions=[attribute.set(at)], condition=attribute.does_not_exist())
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True
