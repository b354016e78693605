"""Application transfer: an application hands a live call to another application (calls configuration) of the
same account, which accepts or rejects it within a timeout.

    request ──► PENDING ──► accept ──► FINISHED   the call now belongs to the destination
                   │
                   └──► reject | timeout ──► FAILED   the call stays where it was

- APPLICATION_TRANSFER_REQUESTED goes to the destination configuration's subscriptions (with the destination's
  `platform`, when the request names one); APPLICATION_TRANSFER_FINISHED and _FAILED go to the requester's.
- Ownership: an accepted transfer moves the call's `callsConfigurationId` (and `platform`, and `customData` when the
  request carried it). Events are routed by the leg as stored (`chalicelib.events.fanout` matches subscriptions on
  the event's configuration, application and entity), so every later event of the call reaches the new
  application only. API actions stay bounded by the account, not the application, as with any other call.
- The timeout is timed by the media node that has the call, as the connect timeout is: the node reports it back
  (`time_out`), and a report for a transfer already answered changes nothing. The timer outlives the call, so a
  transfer of a call that ended before anyone answered still ends FAILED for its requester.
- One pending transfer per call: a second request while one is pending is a 409, as is answering a transfer that is
  no longer pending or a call that has ended. An unknown call, another account's call or an unknown transfer is a
  404; an unknown destination configuration too (like `callsConfigurationId` of a new call).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.calls import service, transfer_repository
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import (
    ApplicationTransferFailedProperties,
    ApplicationTransferFinishedProperties,
    ApplicationTransferRequest,
    ApplicationTransferRequestedProperties,
)
from chalicelib.calls.transfer_repository import TransferRecord
from chalicelib.contract import control
from chalicelib.core import clock, ids
from chalicelib.core.errors import BadRequest, Conflict, NotFound
from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish
from chalicelib.media_nodes.control import MediaNodeError

REJECTED, TIMEOUT, MEDIA_UNAVAILABLE = "REJECTED", "TIMEOUT", "MEDIA_UNAVAILABLE"


class TransferNotFound(NotFound):
    def __init__(self, call_id: str, transfer_id: str):
        super().__init__(f"Call {call_id!r} has no application transfer {transfer_id!r}.")


# --- events -------------------------------------------------------------------------------------------------


def _source_application(transfer: TransferRecord) -> str:
    """Infobip requires an application id; a configuration without a platform application is its own application
    (the SDK sends `applicationId` and `callsConfigurationId` with the same value)."""
    return transfer.source_application_id or transfer.source_calls_configuration_id


def _destination_application(transfer: TransferRecord) -> str:
    return transfer.destination_application_id or transfer.destination_calls_configuration_id


def _call(record: CallRecord) -> dict[str, Any]:
    return service.to_infobip(record)


def _requested(record: CallRecord, transfer: TransferRecord) -> NewEvent:
    properties = ApplicationTransferRequestedProperties.model_validate(
        {
            "sourceCallsConfigurationId": transfer.source_calls_configuration_id,
            "sourceApplicationId": _source_application(transfer),
            "transferId": transfer.transfer_id,
            "call": _call(record),
        }
    )
    return NewEvent(
        "APPLICATION_TRANSFER_REQUESTED",
        call_id=record.call_id,
        calls_configuration_id=transfer.destination_calls_configuration_id,
        application_id=transfer.destination_application_id,
        entity_id=transfer.destination_entity_id,
        properties=properties.wire(),
    )


def _answered(record: CallRecord, transfer: TransferRecord, *, accepted: bool) -> NewEvent:
    fields: dict[str, Any] = {
        "sourceCallsConfigurationId": transfer.source_calls_configuration_id,
        "destinationCallsConfigurationId": transfer.destination_calls_configuration_id,
        "sourceApplicationId": _source_application(transfer),
        "destinationApplicationId": _destination_application(transfer),
        "transferId": transfer.transfer_id,
    }
    if accepted:
        properties = ApplicationTransferFinishedProperties.model_validate({**fields, "call": _call(record)}).wire()
    else:
        properties = ApplicationTransferFailedProperties.model_validate(fields).wire()
    return NewEvent(  # to the requester, whatever the call's owner is now
        "APPLICATION_TRANSFER_FINISHED" if accepted else "APPLICATION_TRANSFER_FAILED",
        call_id=record.call_id,
        calls_configuration_id=transfer.source_calls_configuration_id,
        application_id=transfer.source_application_id,
        entity_id=transfer.source_entity_id,
        properties=properties,
    )


# --- requesting -----------------------------------------------------------------------------------------------


def _new_transfer(record: CallRecord, request: ApplicationTransferRequest) -> TransferRecord:
    from chalicelib.calls_configurations.service import get_configuration

    if record.is_terminal:
        raise Conflict("A finished call cannot be transferred.")
    source = record.calls_configuration_id
    if not source:
        raise Conflict("The call is not handled by an application (it has no calls configuration) to transfer from.")
    destination = request.destinationCallsConfigurationId
    if destination == source:
        raise BadRequest(
            "Request is invalid.",
            {"destinationCallsConfigurationId": ["the call is already handled by this calls configuration"]},
        )
    get_configuration(record.account_id, destination)  # 404 when the application does not exist in the account
    platform = request.platform
    return TransferRecord(
        transfer_id=ids.uuid_id(),
        state="PENDING",
        source_calls_configuration_id=source,
        source_application_id=record.application_id,
        source_entity_id=record.entity_id,
        destination_calls_configuration_id=destination,
        destination_application_id=platform.applicationId if platform else None,
        destination_entity_id=platform.entityId if platform else None,
        custom_data=dict(request.customData) if request.customData else None,
        timeout=request.timeout,
        requested_at=clock.now(),
    )


def _why_not_requested(account_id: str, call_id: str) -> Conflict:
    """The request's condition failed: say which part (the call ended, a transfer is pending, it changed hands)."""
    record = service.get_call(account_id, call_id)
    if record.is_terminal:
        return Conflict("A finished call cannot be transferred.")
    pending = transfer_repository.latest(account_id, call_id)
    if pending is not None and pending.state == "PENDING":
        return Conflict(f"The call has a pending application transfer ({pending.transfer_id}); wait for its answer.")
    return Conflict("The call changed applications meanwhile; try again.")


def request(account_id: str, call_id: str, body: ApplicationTransferRequest) -> TransferRecord:
    """Offer the call to `destinationCallsConfigurationId` (APPLICATION_TRANSFER_REQUESTED) and have the call's
    media node time the answer. Returns the pending transfer."""
    from chalicelib.calls.operations import MediaUnavailable, node_client

    record = service.get_call(account_id, call_id)
    transfer = _new_transfer(record, body)
    try:
        publish(
            account_id,
            [_requested(record, transfer)],
            lambda transaction: transfer_repository.stage_request(transaction, account_id, call_id, transfer),
        )
    except TransactWriteError as error:
        raise _why_not_requested(account_id, call_id) from error
    timer = control.ApplicationTransferTimerRequest(
        accountId=account_id, transferId=transfer.transfer_id, timeoutSeconds=transfer.timeout
    )
    try:
        node_client(record.node_id).action(call_id, "application-transfer", timer)
    except (MediaUnavailable, MediaNodeError, OSError) as error:
        _fail(account_id, call_id, transfer.transfer_id, MEDIA_UNAVAILABLE)  # nobody could ever time it out
        raise MediaUnavailable("The media node handling this call could not take the transfer.") from error
    return transfer


# --- answering ------------------------------------------------------------------------------------------------


def _pending(account_id: str, call_id: str, transfer_id: str) -> tuple[CallRecord, TransferRecord]:
    record = service.get_call(account_id, call_id)  # 404: unknown, or another account's
    transfer = transfer_repository.latest(account_id, call_id)
    if transfer is None or transfer.transfer_id != transfer_id:
        raise TransferNotFound(call_id, transfer_id)
    if transfer.state != "PENDING":
        raise Conflict(f"The application transfer is {transfer.state} already.")
    if record.is_terminal:
        raise Conflict("The call has ended: its transfer can no longer be accepted or rejected.")
    return record, transfer


def _answer_failed(account_id: str, call_id: str, transfer_id: str) -> Conflict:
    """The answer lost a race (another answer, the timeout, the call's end): the error for what won."""
    try:
        _pending(account_id, call_id, transfer_id)
    except Conflict as error:
        return error
    return Conflict("The application transfer changed meanwhile; try again.")


def accept(account_id: str, call_id: str, transfer_id: str) -> CallRecord:
    """The destination takes the call: it owns the call from now on (APPLICATION_TRANSFER_FINISHED to the
    requester, with the call as the destination now has it). Returns the call."""
    record, transfer = _pending(account_id, call_id, transfer_id)
    owned = replace(
        record,
        calls_configuration_id=transfer.destination_calls_configuration_id,
        application_id=transfer.destination_application_id,
        entity_id=transfer.destination_entity_id,
        custom_data=transfer.custom_data or record.custom_data,
    )
    try:
        publish(
            account_id,
            [_answered(owned, transfer, accepted=True)],
            lambda transaction: transfer_repository.stage_accept(transaction, account_id, call_id, transfer),
        )
    except TransactWriteError as error:
        raise _answer_failed(account_id, call_id, transfer_id) from error
    return owned


def reject(account_id: str, call_id: str, transfer_id: str) -> None:
    """The destination refuses the call, which stays with the requester (APPLICATION_TRANSFER_FAILED to it)."""
    _pending(account_id, call_id, transfer_id)
    if not _fail(account_id, call_id, transfer_id, REJECTED):
        raise _answer_failed(account_id, call_id, transfer_id)


def time_out(account_id: str, call_id: str, transfer_id: str) -> bool:
    """The media node's report that the transfer's timeout passed: FAILED if it is still pending (even when the
    call has ended meanwhile); a transfer already answered is left alone. True when it failed now."""
    return _fail(account_id, call_id, transfer_id, TIMEOUT)


def _fail(account_id: str, call_id: str, transfer_id: str, reason: str) -> bool:
    record = service.get_call(account_id, call_id)
    transfer = transfer_repository.latest(account_id, call_id)
    if transfer is None or transfer.transfer_id != transfer_id or transfer.state != "PENDING":
        return False
    try:
        publish(
            account_id,
            [_answered(record, transfer, accepted=False)],
            lambda transaction: transfer_repository.stage_fail(transaction, account_id, call_id, transfer_id, reason),
        )
    except TransactWriteError:
        return False  # answered meanwhile
    return True
