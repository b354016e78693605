"""Persistence for dialogs: the records and the only code that touches the `Dialog` model.

A dialog is one item; every change is staged into the outbox's transaction with the events it causes, on condition
that the item's `version` is the one read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.db.models import Dialog as DialogItem

HISTORY_RETENTION = timedelta(days=62)  # like calls and conferences: two months of history


@dataclass(frozen=True)
class DialogRecord:
    account_id: str
    dialog_id: str
    calls_configuration_id: str
    parent_call_id: str
    child_call_id: str
    start_time: datetime
    state: str = "CREATED"  # CREATED | PRE_ESTABLISHED | ESTABLISHED | FINISHED | FAILED
    max_duration: int = 28800
    application_id: str | None = None
    entity_id: str | None = None
    node_id: str | None = None
    establish_time: datetime | None = None
    end_time: datetime | None = None
    error_code: str | None = None
    hangup_source: str | None = None
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.end_time is not None


def _item(record: DialogRecord) -> DialogItem:
    return DialogItem(
        record.account_id,
        record.dialog_id,
        calls_configuration_id=record.calls_configuration_id,
        application_id=record.application_id,
        entity_id=record.entity_id,
        parent_call_id=record.parent_call_id,
        child_call_id=record.child_call_id,
        node_id=record.node_id,
        state=record.state,
        max_duration=record.max_duration,
        start_time=record.start_time,
        establish_time=record.establish_time,
        end_time=record.end_time,
        error_code=record.error_code,
        hangup_source=record.hangup_source,
        version=record.version,
        expires_at=(record.end_time or record.start_time) + HISTORY_RETENTION,
    )


def _record(item: DialogItem) -> DialogRecord:
    return DialogRecord(
        account_id=item.account_id,
        dialog_id=item.dialog_id,
        calls_configuration_id=item.calls_configuration_id,
        application_id=item.application_id,
        entity_id=item.entity_id,
        parent_call_id=item.parent_call_id,
        child_call_id=item.child_call_id,
        node_id=item.node_id,
        state=item.state,
        max_duration=int(item.max_duration),
        start_time=item.start_time,
        establish_time=item.establish_time,
        end_time=item.end_time,
        error_code=item.error_code,
        hangup_source=item.hangup_source,
        version=int(item.version),
    )


def get(account_id: str, dialog_id: str) -> DialogRecord | None:
    try:
        return _record(DialogItem.get(account_id, dialog_id, consistent_read=True))
    except DoesNotExist:
        return None


def of_account(account_id: str) -> list[DialogRecord]:
    return [_record(item) for item in DialogItem.query(account_id, consistent_read=True)]


def stage_new(transaction: TransactWrite, record: DialogRecord) -> None:
    transaction.save(_item(record), condition=DialogItem.dialog_id.does_not_exist())


def stage_change(transaction: TransactWrite, record: DialogRecord) -> None:
    """`record` is the new state with its version one above the version it was read at."""
    transaction.save(_item(record), condition=DialogItem.version == record.version - 1)
