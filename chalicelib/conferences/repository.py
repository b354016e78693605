"""Persistence for conferences: the records and the only code that touches the `Conference` model.

A conference is one item with its participants; every change is staged into the outbox's transaction with the
events it causes, on condition that the item's `version` is the one read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.db.models import Conference as ConferenceItem
from chalicelib.db.models import ConferenceParticipant

HISTORY_RETENTION = timedelta(days=62)  # like calls: finished conferences are history for two months


@dataclass(frozen=True)
class ParticipantRecord:
    call_id: str
    endpoint: str  # the call's CallEndpoint as JSON
    state: str  # JOINING | JOINED | LEFT
    join_time: datetime | None = None
    leave_time: datetime | None = None
    muted: bool = False
    deaf: bool = False

    @property
    def present(self) -> bool:
        return self.state != "LEFT"


@dataclass(frozen=True)
class ConferenceRecord:
    account_id: str
    conference_id: str
    name: str
    calls_configuration_id: str
    start_time: datetime
    max_duration: int = 28800
    application_id: str | None = None
    entity_id: str | None = None
    node_id: str | None = None
    participants: tuple[ParticipantRecord, ...] = field(default_factory=tuple)
    end_time: datetime | None = None
    error_code: str | None = None
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.end_time is not None

    @property
    def present(self) -> list[ParticipantRecord]:
        return [p for p in self.participants if p.present]

    def participant(self, call_id: str) -> ParticipantRecord | None:
        """The call's latest session in the conference (a call removed and added again has several)."""
        return next((p for p in reversed(self.participants) if p.call_id == call_id), None)


def _item(record: ConferenceRecord) -> ConferenceItem:
    return ConferenceItem(
        record.account_id,
        record.conference_id,
        name=record.name,
        calls_configuration_id=record.calls_configuration_id,
        application_id=record.application_id,
        entity_id=record.entity_id,
        node_id=record.node_id,
        max_duration=record.max_duration,
        participants=[
            ConferenceParticipant(
                call_id=p.call_id,
                endpoint=p.endpoint,
                state=p.state,
                join_time=p.join_time,
                leave_time=p.leave_time,
                muted=p.muted,
                deaf=p.deaf,
            )
            for p in record.participants
        ],
        start_time=record.start_time,
        end_time=record.end_time,
        error_code=record.error_code,
        version=record.version,
        expires_at=(record.end_time or record.start_time) + HISTORY_RETENTION,
    )


def _record(item: ConferenceItem) -> ConferenceRecord:
    return ConferenceRecord(
        account_id=item.account_id,
        conference_id=item.conference_id,
        name=item.name,
        calls_configuration_id=item.calls_configuration_id,
        application_id=item.application_id,
        entity_id=item.entity_id,
        node_id=item.node_id,
        max_duration=int(item.max_duration),
        participants=tuple(
            ParticipantRecord(
                call_id=p.call_id,
                endpoint=p.endpoint,
                state=p.state,
                join_time=p.join_time,
                leave_time=p.leave_time,
                muted=bool(p.muted),
                deaf=bool(p.deaf),
            )
            for p in item.participants or []
        ),
        start_time=item.start_time,
        end_time=item.end_time,
        error_code=item.error_code,
        version=int(item.version),
    )


def get(account_id: str, conference_id: str) -> ConferenceRecord | None:
    try:
        return _record(ConferenceItem.get(account_id, conference_id, consistent_read=True))
    except DoesNotExist:
        return None


def of_account(account_id: str) -> list[ConferenceRecord]:
    return [_record(item) for item in ConferenceItem.query(account_id, consistent_read=True)]


def stage_new(transaction: TransactWrite, record: ConferenceRecord) -> None:
    transaction.save(_item(record), condition=ConferenceItem.conference_id.does_not_exist())


def stage_change(transaction: TransactWrite, record: ConferenceRecord) -> None:
    """`record` is the new state with its version one above the version it was read at."""
    transaction.save(_item(record), condition=ConferenceItem.version == record.version - 1)
