"""Persistence for call legs: the only code that touches the `CallLeg` model.

Writes are not executed here but staged into the outbox's transaction (`stage_*`), so a leg and its events are
committed together. Every change is conditioned on the state it was read in: of two racing changes one commits
and the other's transaction is cancelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import TypeAdapter
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.calls.records import CallMedia, CallRecord
from chalicelib.calls.schemas import CallDirection, CallEndpoint, CallState, HangupSource
from chalicelib.db.models import CallLeg

HISTORY_RETENTION = timedelta(days=62)
"""Finished legs are the calls history: kept two months (at most 62 days) after they end."""

_ENDPOINT: TypeAdapter[CallEndpoint] = TypeAdapter(CallEndpoint)

UNASSIGNED = "-"
"""`live_node` of a live leg no media node has taken yet (the `live-by-node` index keeps live legs only)."""


def expires_at(record: CallRecord) -> datetime:
    """Two months after the end; a live leg gets the same from its start, so a leg nobody ends still goes."""
    return (record.end_time or record.start_time) + HISTORY_RETENTION


def _item(record: CallRecord) -> CallLeg:
    return CallLeg(
        record.account_id,
        record.call_id,
        endpoint=record.endpoint.wire(),
        endpoint_type=record.endpoint.type,
        from_id=record.from_,
        to_id=record.to,
        direction=record.direction.value,
        state=record.state.value,
        audio=record.media.audio,
        video=record.media.video,
        start_time=record.start_time,
        ring_time=record.ring_time,
        answer_time=record.answer_time,
        end_time=record.end_time,
        error_code=record.error_code,
        hangup_source=record.hangup_source.value if record.hangup_source else None,
        calls_configuration_id=record.calls_configuration_id,
        application_id=record.application_id,
        entity_id=record.entity_id,
        custom_data=dict(record.custom_data) if record.custom_data else None,
        peer_call_id=record.peer_call_id,
        parent_call_id=record.parent_call_id,
        node_id=record.node_id,
        conference_id=record.conference_id,
        conference_ids=list(record.conference_ids) or None,
        dialog_id=record.dialog_id,
        live_node=None if record.is_terminal else (record.node_id or UNASSIGNED),
        expires_at=expires_at(record),
    )


def _record(item: CallLeg) -> CallRecord:
    return CallRecord(
        account_id=item.account_id,
        call_id=item.call_id,
        endpoint=_ENDPOINT.validate_python(item.endpoint.as_dict()),
        from_=item.from_id,
        to=item.to_id,
        direction=CallDirection(item.direction),
        state=CallState(item.state),
        start_time=item.start_time,
        media=CallMedia(audio=bool(item.audio), video=bool(item.video)),
        ring_time=item.ring_time,
        answer_time=item.answer_time,
        end_time=item.end_time,
        error_code=item.error_code,
        hangup_source=HangupSource(item.hangup_source) if item.hangup_source else None,
        calls_configuration_id=item.calls_configuration_id,
        application_id=item.application_id,
        entity_id=item.entity_id,
        custom_data=dict(item.custom_data.as_dict()) if item.custom_data else None,
        peer_call_id=item.peer_call_id,
        parent_call_id=item.parent_call_id,
        node_id=item.node_id,
        conference_id=item.conference_id,
        conference_ids=tuple(str(conference) for conference in item.conference_ids or ()),
        dialog_id=item.dialog_id,
    )


def get(account_id: str, call_id: str) -> CallRecord | None:
    try:
        return _record(CallLeg.get(account_id, call_id, consistent_read=True))
    except DoesNotExist:
        return None


def of_account(account_id: str) -> list[CallRecord]:
    """Every leg of the account, live and finished: one query of the account's partition (callers filter)."""
    return [_record(item) for item in CallLeg.query(account_id, consistent_read=True)]


def stage_new(transaction: TransactWrite, record: CallRecord) -> None:
    transaction.save(_item(record), condition=CallLeg.call_id.does_not_exist())


# Conferences write these on the leg (`stage_conference`); a change of the leg's own state leaves them alone, so a
# call ending while it joins a conference loses neither write. Likewise the application transfer
# (`calls.transfer_repository`) owns the leg's ownership (which application gets its events) and its transfer: a
# change decided on a leg read before a transfer was accepted never hands the call back.
_WRITTEN_ELSEWHERE = frozenset(
    {"conference_id", "conference_ids", "dialog_id", "calls_configuration_id", "application_id", "entity_id"}
    | {"application_transfer"}
    # The node is named at creation or by `set_node` alone: a change decided on a leg read before `set_node` must
    # not take the node away again (the reaper would count a live call as one no node took).
    | {"node_id", "live_node"}
)


def stage_change(transaction: TransactWrite, record: CallRecord, previous: CallState) -> None:
    item = _item(record)
    actions: list[Action] = []
    for name, attribute in CallLeg.get_attributes().items():
        if attribute.is_hash_key or attribute.is_range_key or name in _WRITTEN_ELSEWHERE:
            continue
        value = getattr(item, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if record.is_terminal:  # out of the live index
        actions.append(CallLeg.live_node.remove())
    transaction.update(item, actions=actions, condition=CallLeg.state == previous.value)


def stage_conference(transaction: TransactWrite, account_id: str, call_id: str, conference_id: str | None) -> None:
    """The leg joins `conference_id` (also kept in its list of conferences) or, with None, leaves its conference."""
    actions: list[Action]
    if conference_id is None:
        actions = [CallLeg.conference_id.remove()]
    else:
        joined = (CallLeg.conference_ids | []).append([conference_id])
        actions = [CallLeg.conference_id.set(conference_id), CallLeg.conference_ids.set(joined)]
    transaction.update(CallLeg(account_id, call_id), actions=actions, condition=CallLeg.call_id.exists())


def stage_dialog(
    transaction: TransactWrite, account_id: str, call_id: str, dialog_id: str, previous: str | None
) -> None:
    """The leg enters `dialog_id`, on condition that it is in no conference and still names `previous` (the dialog
    it was in, which the caller saw ended; None: never in one), so two dialogs can never both take it."""
    unchanged = CallLeg.dialog_id.does_not_exist() if previous is None else CallLeg.dialog_id == previous
    transaction.update(
        CallLeg(account_id, call_id),
        actions=[CallLeg.dialog_id.set(dialog_id)],
        condition=CallLeg.call_id.exists() & CallLeg.conference_id.does_not_exist() & unchanged,
    )


def set_node(account_id: str, call_id: str, node_id: str) -> None:
    """Name the media node that handles the leg (an update of that attribute alone: the state is untouched). A live
    leg is indexed under the node from now on; one that ended meanwhile only names it."""
    leg = CallLeg(account_id, call_id)
    try:
        leg.update(
            actions=[CallLeg.node_id.set(node_id), CallLeg.live_node.set(node_id)],
            condition=CallLeg.live_node.exists(),
        )
    except UpdateError:
        leg.update(actions=[CallLeg.node_id.set(node_id)], condition=CallLeg.call_id.exists())


def live_legs() -> Iterator[tuple[str, str, str, datetime]]:
    """Every live leg of every account as (live node, account, call id, start time), from the sparse `live-by-node`
    index: it holds only legs that have not ended, so reading it costs what is live, not the history. Eventually
    consistent: read a leg again (`get`) before acting on it."""
    for item in CallLeg.by_live_node.scan():
        yield str(item.live_node), item.account_id, item.call_id, item.start_time
