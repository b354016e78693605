"""Persistence for application transfers: the `application_transfer` map on the call's `CallLeg` item, and the
leg's ownership (`calls_configuration_id`, `application_id`, `entity_id`), which only an accepted transfer changes.

Writes are staged into the outbox transaction like the leg's own changes, each on a condition of the one item:
- a request needs a live leg, still owned by the application that asks, with no transfer pending;
- an accept needs that very transfer pending and the leg live; a rejection or a timeout needs it pending.
Of two racing answers (accept, reject, timeout) exactly one commits. The leg's own state changes never write these
attributes (`repository.stage_change` leaves them alone), so an ending that raced an accept cannot hand the call
back to its old application.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.calls.states import TERMINAL_STATES
from chalicelib.db.models import ApplicationTransferAttribute, CallLeg

TransferState = Literal["PENDING", "FINISHED", "FAILED"]
_TERMINAL = tuple(state.value for state in TERMINAL_STATES)
_TRANSFER = CallLeg.application_transfer


def _field(name: str) -> Path:
    """A field of the transfer map, as a document path for conditions and updates."""
    return Path([CallLeg.application_transfer.attr_name, name])


@dataclass(frozen=True)
class TransferRecord:
    transfer_id: str
    state: TransferState
    source_calls_configuration_id: str
    destination_calls_configuration_id: str
    timeout: int  # seconds
    requested_at: datetime
    source_application_id: str | None = None
    source_entity_id: str | None = None
    destination_application_id: str | None = None
    destination_entity_id: str | None = None
    custom_data: dict[str, str] | None = None  # the call's custom data once accepted
    reason: str | None = None  # why it failed: REJECTED, TIMEOUT, MEDIA_UNAVAILABLE


def _attribute(record: TransferRecord) -> ApplicationTransferAttribute:
    return ApplicationTransferAttribute(
        transfer_id=record.transfer_id,
        state=record.state,
        source_calls_configuration_id=record.source_calls_configuration_id,
        source_application_id=record.source_application_id,
        source_entity_id=record.source_entity_id,
        destination_calls_configuration_id=record.destination_calls_configuration_id,
        destination_application_id=record.destination_application_id,
        destination_entity_id=record.destination_entity_id,
        custom_data=dict(record.custom_data) if record.custom_data else None,
        timeout=record.timeout,
        requested_at=record.requested_at,
        reason=record.reason,
    )


def _record(value: ApplicationTransferAttribute) -> TransferRecord:
    custom = value.custom_data
    return TransferRecord(
        transfer_id=value.transfer_id,
        state=cast(TransferState, value.state),
        source_calls_configuration_id=value.source_calls_configuration_id,
        source_application_id=value.source_application_id,
        source_entity_id=value.source_entity_id,
        destination_calls_configuration_id=value.destination_calls_configuration_id,
        destination_application_id=value.destination_application_id,
        destination_entity_id=value.destination_entity_id,
        custom_data=dict(custom.as_dict()) if custom else None,
        timeout=int(value.timeout),
        requested_at=value.requested_at,
        reason=value.reason,
    )


def latest(account_id: str, call_id: str) -> TransferRecord | None:
    """The call's latest transfer (pending or answered); None for a call never transferred or unknown."""
    try:
        item = CallLeg.get(account_id, call_id, consistent_read=True, attributes_to_get=["application_transfer"])
    except DoesNotExist:
        return None
    return _record(item.application_transfer) if item.application_transfer is not None else None


def _live() -> Condition:
    return CallLeg.call_id.exists() & ~CallLeg.state.is_in(*_TERMINAL)


def _pending(transfer_id: str) -> Condition:
    return (_field("transfer_id") == transfer_id) & (_field("state") == "PENDING")


def stage_request(transaction: TransactWrite, account_id: str, call_id: str, record: TransferRecord) -> None:
    """A new pending transfer of a live call still owned by the requesting configuration, none pending before."""
    no_other = _TRANSFER.does_not_exist() | (_field("state") != "PENDING")
    owned = CallLeg.calls_configuration_id == record.source_calls_configuration_id
    transaction.update(
        CallLeg(account_id, call_id),
        actions=[_TRANSFER.set(_attribute(record))],
        condition=_live() & owned & no_other,
    )


def _set_or_remove(attribute: object, value: object) -> Action:
    return attribute.remove() if value is None else attribute.set(value)  # type: ignore[attr-defined]


def stage_accept(transaction: TransactWrite, account_id: str, call_id: str, record: TransferRecord) -> None:
    """The transfer is FINISHED and the call belongs to its destination (configuration, platform, custom data)."""
    actions = [
        _field("state").set("FINISHED"),
        CallLeg.calls_configuration_id.set(record.destination_calls_configuration_id),
        _set_or_remove(CallLeg.application_id, record.destination_application_id),
        _set_or_remove(CallLeg.entity_id, record.destination_entity_id),
    ]
    if record.custom_data:
        actions.append(CallLeg.custom_data.set(dict(record.custom_data)))
    transaction.update(CallLeg(account_id, call_id), actions=actions, condition=_live() & _pending(record.transfer_id))


def stage_fail(transaction: TransactWrite, account_id: str, call_id: str, transfer_id: str, reason: str) -> None:
    """The pending transfer FAILED (rejected, timed out); the call stays with its application."""
    transaction.update(
        CallLeg(account_id, call_id),
        actions=[_field("state").set("FAILED"), _field("reason").set(reason)],
        condition=CallLeg.call_id.exists() & _pending(transfer_id),
    )
