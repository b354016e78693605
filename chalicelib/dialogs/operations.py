"""The Calls API's dialog operations: the record changes here (`service`), the bridge is made on the media node that
has the parent (`MediaNodeClient.dialog`).

A new child call is rung on the parent's node (its identity must be connected there); two existing calls must be
on the same node. The node is told about the dialog before the child is dialed, so the child's ringing and answer
always find it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.calls import service as calls_service
from chalicelib.calls.operations import (
    broadcast_text,
    check_call_request,
    dial,
    node_client,
    node_errors,
    play_content,
    start_call,
)
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import CallDirection, CallRequest, CallState
from chalicelib.calls.schemas import PlayContent as CallPlayContent
from chalicelib.contract import control
from chalicelib.core.errors import AppError, Conflict
from chalicelib.dialogs import service
from chalicelib.dialogs.repository import DialogRecord
from chalicelib.dialogs.schemas import (
    DialogPlayRequest,
    DialogRequest,
    DialogSayRequest,
    DialogWithExistingCallsRequest,
)
from chalicelib.media_nodes.control import MediaNodeError
from chalicelib.recordings.schemas import DialogRecordingRequest

_ANSWERED = (CallState.ESTABLISHED,)
_WAITING_INBOUND = (CallState.CALLING, CallState.RINGING, CallState.PRE_ESTABLISHED, CallState.ESTABLISHED)


def _usable(call: CallRecord, states: tuple[CallState, ...], role: str) -> None:
    if call.is_terminal:
        raise Conflict(f"Call {call.call_id!r} has finished.")
    if call.state not in states:
        raise Conflict(f"The {role} call {call.call_id!r} is {call.state.value}: it must be answered first.")
    service.ensure_free(call)


def _parent(account_id: str, call_id: str) -> CallRecord:
    """An answered call, or an inbound call still waiting for the application (it is answered with the child)."""
    parent = calls_service.get_call(account_id, call_id)
    _usable(parent, _WAITING_INBOUND if parent.direction is CallDirection.INBOUND else _ANSWERED, "parent")
    return parent


def _open(record: DialogRecord, request: control.DialogOpenRequest) -> None:
    """Tell the parent's node; a node that cannot take it fails the dialog (and the call placed for it)."""
    try:
        with node_errors("dialog", "start"):
            node_client(record.node_id, "dialog").dialog(record.dialog_id, "open", request)
    except AppError:
        service.ended(record.account_id, record.dialog_id, "SERVICE_UNAVAILABLE", "PLATFORM", failed=True)
        raise


def _record(record: DialogRecord, recording: DialogRecordingRequest | None) -> None:
    """The create's `recording`, asked of the node once it has the dialog (before the child is dialed): it starts
    when the dialog is established; a node that refuses it says so with DIALOG_RECORDING_FAILED."""
    if recording is not None:
        from chalicelib.recordings import operations as recordings

        recordings.start_dialog_recording(record.account_id, record.dialog_id, recording, reporting=True)


def create(account_id: str, request: DialogRequest) -> dict[str, Any]:
    """`POST /calls/1/dialogs`: the parent and a new child call, rung on the parent's node."""
    parent = _parent(account_id, request.parentCallId)
    child_request = request.childCallRequest
    platform = parent.application_id or parent.entity_id
    call_request = CallRequest.model_validate(
        {
            **child_request.model_dump(by_alias=True, exclude_none=True),
            "callsConfigurationId": parent.calls_configuration_id,
            "parentCallId": parent.call_id,
            "platform": {"applicationId": parent.application_id, "entityId": parent.entity_id} if platform else None,
        }
    )
    check_call_request(account_id, call_request)
    node_client(parent.node_id)  # 503 before anything is created when the parent's node is gone
    child = start_call(account_id, call_request)
    try:
        record = service.create(account_id, parent, child, max_duration=request.maxDuration, node_id=parent.node_id)
    except Conflict:
        calls_service.fail(account_id, child.call_id, "CANCELLED")
        raise
    options = request.propagationOptions
    ringback = options.ringbackGeneration if options else None
    try:
        _open(
            record,
            control.DialogOpenRequest(
                accountId=account_id,
                parentCallId=parent.call_id,
                childCallId=child.call_id,
                propagateRinging=options.childCallRinging if options else False,
                ringback=bool(ringback and ringback.enabled),
                childHangup=options.childCallHangup if options else True,
                maxDurationSeconds=request.maxDuration,
            ),
        )
    except AppError:
        calls_service.fail(account_id, child.call_id, "SERVICE_UNAVAILABLE")
        raise
    _record(record, request.recording)
    placed = dial(account_id, child, call_request, node_id=parent.node_id)
    if placed.is_terminal:  # nobody could ring it: the dialog fails as if the child had ended so
        abandon = control.DialogAbandonRequest(accountId=account_id, errorCode=placed.error_code or "UNKNOWN")
        try:
            node_client(record.node_id, "dialog").dialog(record.dialog_id, "abandon", abandon)
        except (MediaNodeError, OSError, AppError):  # the node is gone or no longer has it: recorded here
            service.ended(account_id, record.dialog_id, abandon.errorCode, "CHILD_ENDPOINT", failed=True)
    return service.to_infobip(service.get_dialog(account_id, record.dialog_id))


def create_with_existing_calls(
    account_id: str, parent_call_id: str, child_call_id: str, request: DialogWithExistingCallsRequest
) -> dict[str, Any]:
    """`POST /calls/1/dialogs/parent-call/{parentCallId}/child-call/{childCallId}`: two answered calls, bridged at
    once (DIALOG_CREATED, then DIALOG_ESTABLISHED)."""
    parent = calls_service.get_call(account_id, parent_call_id)
    child = calls_service.get_call(account_id, child_call_id)
    if parent_call_id == child_call_id:
        raise Conflict("A call cannot be in a dialog with itself.")
    _usable(parent, _ANSWERED, "parent")
    _usable(child, _ANSWERED, "child")
    if parent.node_id != child.node_id:
        raise Conflict("The calls are handled by different media nodes and cannot be bridged.")
    record = service.create(account_id, parent, child, max_duration=request.maxDuration, node_id=parent.node_id)
    options = request.propagationOptions
    _open(
        record,
        control.DialogOpenRequest(
            accountId=account_id,
            parentCallId=parent.call_id,
            childCallId=child.call_id,
            childHangup=options.childCallHangup if options else True,
            maxDurationSeconds=request.maxDuration,
            connectNow=True,
        ),
    )
    _record(record, request.recording)
    return service.to_infobip(service.get_dialog(account_id, record.dialog_id))


# --- operations on a dialog ---------------------------------------------------------------------------------


def _live(account_id: str, dialog_id: str) -> DialogRecord:
    record = service.get_dialog(account_id, dialog_id)
    if record.finished:
        raise service.DialogFinished(dialog_id)
    return record


def _on_node(record: DialogRecord, action: str, body: control._Body) -> None:
    with node_errors("dialog", action):
        node_client(record.node_id, "dialog").dialog(record.dialog_id, action, body)


def hangup(account_id: str, dialog_id: str) -> dict[str, Any]:
    """Hang up both calls (DIALOG_FINISHED, hangupSource API). A dialog its node no longer has ends here."""
    record = _live(account_id, dialog_id)
    try:
        _on_node(record, "hangup", control.DialogRequest(accountId=account_id))
    except Conflict:
        service.ended(account_id, dialog_id, "NORMAL_HANGUP", "API", failed=record.state != "ESTABLISHED")
    return service.to_infobip(service.get_dialog(account_id, dialog_id))


def _play(account_id: str, dialog_id: str, play: control.PlayRequest) -> None:
    record = _live(account_id, dialog_id)
    if record.state != "ESTABLISHED":
        raise Conflict(f"Dialog {dialog_id!r} is {record.state}: it plays to both calls once established.")
    _on_node(record, "play", control.DialogPlayRequest(accountId=account_id, play=play))


def play(account_id: str, dialog_id: str, request: DialogPlayRequest) -> None:
    content = play_content(account_id, request.content, "content")
    _play(account_id, dialog_id, control.PlayRequest(content=content, loopCount=request.loopCount))


def say(account_id: str, dialog_id: str, request: DialogSayRequest) -> None:
    text = CallPlayContent(
        type="TEXT",
        text=request.text,
        language=request.language,
        speechRate=request.speechRate,
        preferences=request.preferences,
    )
    content = play_content(account_id, text, "text")
    _play(
        account_id,
        dialog_id,
        control.PlayRequest(content=content, report="SAY_FINISHED", loopCount=request.loopCount),
    )


def stop_play(account_id: str, dialog_id: str) -> None:
    _on_node(_live(account_id, dialog_id), "stop-play", control.DialogRequest(accountId=account_id))


# --- text to the WebRTC calls -------------------------------------------------------------------------------


def broadcast(account_id: str, dialog_id: str, text: str) -> None:
    record = _live(account_id, dialog_id)
    broadcast_text(account_id, [record.parent_call_id, record.child_call_id], text)
