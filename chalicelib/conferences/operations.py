"""The Calls API's conference operations: the record changes here (`service`), the mixing happens on the media node
that has the calls (`MediaNodeClient.conference`).

A conference is mixed on one node: the node of its first participant. Every call in it must be on that node (a
call elsewhere is refused with 409); a new call placed into it is rung on that node.
"""

from __future__ import annotations

from typing import Any

from chalicelib.calls import service as calls_service
from chalicelib.calls.errors import CallNotFound
from chalicelib.calls.operations import broadcast_text, create_call, node_client, node_errors, play_content
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import CallRequest, CallState
from chalicelib.calls.schemas import PlayContent as CallPlayContent
from chalicelib.conferences import service
from chalicelib.conferences.repository import ConferenceRecord
from chalicelib.conferences.schemas import (
    MAX_PARTICIPANTS,
    ActionCallRequest,
    ActionConferenceRequest,
    AddExistingCallRequest,
    AddNewCallRequest,
    ConferenceAndCall,
    ConferencePlayRequest,
    ConferenceRequest,
    ConferenceSayRequest,
    ConnectRequest,
    ConnectWithNewCallRequest,
    UpdateCallRequest,
    UpdateRequest,
)
from chalicelib.contract import control
from chalicelib.core.errors import AppError, BadRequest, Conflict
from chalicelib.media_nodes.control import MediaNodeError


def _on_node(record: ConferenceRecord, action: str, body: control._Body) -> None:
    if record.finished:
        raise service.ConferenceFinished(record.conference_id)
    if not record.present:  # no node mixes it yet: nobody to update or play to (not an unavailable node, a 503)
        raise Conflict(f"The conference has no participants yet: nothing to {action.replace('-', ' ')}.")
    client = node_client(record.node_id, "conference")
    with node_errors("conference", action):
        client.conference(record.conference_id, action, body)


# --- creating and filling ---------------------------------------------------------------------------------


def create_conference(account_id: str, request: ConferenceRequest) -> dict[str, Any]:
    from chalicelib.calls_configurations.service import get_configuration

    get_configuration(account_id, request.callsConfigurationId)  # 404 when the application does not exist
    platform = request.platform
    record = service.create(
        account_id,
        request.callsConfigurationId,
        name=request.name,
        max_duration=request.maxDuration,
        application_id=platform.applicationId if platform else None,
        entity_id=platform.entityId if platform else None,
    )
    return service.to_infobip(record)


def _joinable(call: CallRecord, on_early_media: bool) -> None:
    from chalicelib.dialogs.service import live_dialog_of

    if call.is_terminal:
        raise Conflict(f"Call {call.call_id!r} has finished.")
    if live_dialog_of(call) is not None:
        raise Conflict(f"Call {call.call_id!r} is in dialog {call.dialog_id!r}; a dialog never takes a third party.")
    if call.state is CallState.ESTABLISHED or (on_early_media and call.state is CallState.PRE_ESTABLISHED):
        return
    raise Conflict(
        f"Call {call.call_id!r} is {call.state.value}: a call joins once answered "
        "(or on early media with connectOnEarlyMedia)."
    )


def _join(account_id: str, conference_id: str, call: CallRecord) -> None:
    """Add an existing call: JOINING here, then the node mixes it in (JOINED); a node that cannot take it ends the
    attempt as PARTICIPANT_JOIN_FAILED."""
    record = service.add_participant(account_id, conference_id, call)
    join = control.ConferenceJoinRequest(accountId=account_id, callId=call.call_id, endsAt=service.ends_at(record))
    try:
        node_client(call.node_id).conference(conference_id, "join", join)
    except (MediaNodeError, OSError, AppError) as error:
        service.left(account_id, conference_id, call.call_id, "The media node could not mix the call", failed=True)
        if isinstance(error, AppError):
            raise
        raise Conflict(f"Call {call.call_id!r} could not join the conference.") from error


def _dial_into(account_id: str, record: ConferenceRecord, request: ActionCallRequest) -> CallRecord:
    """A new call that joins the conference when answered (rung on the conference's node, if it has one)."""
    if len(record.present) >= MAX_PARTICIPANTS:
        raise Conflict(f"A conference has at most {MAX_PARTICIPANTS} participants.")
    call_request = CallRequest.model_validate(
        {
            **request.model_dump(by_alias=True, exclude_none=True),
            "callsConfigurationId": record.calls_configuration_id,
            "platform": {"applicationId": record.application_id, "entityId": record.entity_id}
            if record.application_id or record.entity_id
            else None,
        }
    )
    node_id = record.node_id if record.present else None
    call = create_call(
        account_id,
        call_request,
        conference_id=record.conference_id,
        conference_ends_at=service.ends_at(record),
        node_id=node_id,
    )
    if not call.is_terminal:
        service.add_participant(account_id, record.conference_id, call, dialed=True)
    return calls_service.get_call(account_id, call.call_id)


def _new_conference(account_id: str, call: CallRecord, request: ActionConferenceRequest | None) -> ConferenceRecord:
    if not call.calls_configuration_id:
        raise BadRequest("Request is invalid.", {"callIds": [f"call {call.call_id} has no calls configuration"]})
    request = request or ActionConferenceRequest()
    return service.create(
        account_id,
        call.calls_configuration_id,
        name=request.name,
        max_duration=request.maxDuration,
        application_id=call.application_id,
        entity_id=call.entity_id,
    )


def connect(account_id: str, request: ConnectRequest) -> dict[str, Any]:
    """`POST /calls/1/connect`: the calls meet in a new conference."""
    calls = [calls_service.get_call(account_id, call_id) for call_id in request.callIds]
    for call in calls:
        _joinable(call, on_early_media=False)
    if len({call.node_id for call in calls}) > 1:
        raise Conflict("The calls are handled by different media nodes and cannot be connected.")
    record = _new_conference(account_id, calls[0], request.conferenceRequest)
    for call in calls:
        _join(account_id, record.conference_id, call)
    return service.to_infobip(service.get_conference(account_id, record.conference_id))


def connect_with_new_call(account_id: str, call_id: str, request: ConnectWithNewCallRequest) -> dict[str, Any]:
    """`POST /calls/1/calls/{callId}/connect`: the call and a new call meet in a new conference."""
    call = calls_service.get_call(account_id, call_id)
    _joinable(call, request.connectOnEarlyMedia)
    record = _new_conference(account_id, call, request.conferenceRequest)
    _join(account_id, record.conference_id, call)
    new_call = _dial_into(account_id, service.get_conference(account_id, record.conference_id), request.callRequest)
    conference = service.get_conference(account_id, record.conference_id)
    return ConferenceAndCall.model_validate(
        {"conference": service.to_infobip(conference), "call": calls_service.to_infobip(new_call)}
    ).wire()


def add_existing_call(
    account_id: str, conference_id: str, call_id: str, request: AddExistingCallRequest
) -> dict[str, Any]:
    record = service.get_conference(account_id, conference_id)
    if record.finished:
        raise service.ConferenceFinished(conference_id)
    call = calls_service.get_call(account_id, call_id)
    _joinable(call, request.connectOnEarlyMedia)
    _join(account_id, conference_id, call)
    return service.to_infobip(service.get_conference(account_id, conference_id))


def add_new_call(account_id: str, conference_id: str, request: AddNewCallRequest) -> dict[str, Any]:
    record = service.get_conference(account_id, conference_id)
    if record.finished:
        raise service.ConferenceFinished(conference_id)
    new_call = _dial_into(account_id, record, request.callRequest)
    conference = service.get_conference(account_id, conference_id)
    return ConferenceAndCall.model_validate(
        {"conference": service.to_infobip(conference), "call": calls_service.to_infobip(new_call)}
    ).wire()


# --- participants -------------------------------------------------------------------------------------------


def _participant_of(record: ConferenceRecord, call_id: str) -> None:
    mine = record.participant(call_id)
    if mine is None or not mine.present:
        raise CallNotFound(call_id)


def remove_call(account_id: str, conference_id: str, call_id: str) -> None:
    """The call leaves the conference and stays up (back with its application)."""
    record = service.get_conference(account_id, conference_id)
    if record.finished:
        raise service.ConferenceFinished(conference_id)
    _participant_of(record, call_id)
    _on_node(record, "leave", control.ConferenceRequest(accountId=account_id, callId=call_id))


def update_call(account_id: str, conference_id: str, call_id: str, request: UpdateCallRequest) -> None:
    record = service.get_conference(account_id, conference_id)
    if not record.finished:
        _participant_of(record, call_id)
    _update(account_id, record, call_id, request)


def update_all(account_id: str, conference_id: str, request: UpdateRequest) -> None:
    _update(account_id, service.get_conference(account_id, conference_id), None, request)


def _update(account_id: str, record: ConferenceRecord, call_id: str | None, request: UpdateRequest) -> None:
    if request.blind is not None:
        raise BadRequest("Request is invalid.", {"blind": ["conferences carry audio only: there is no video to blind"]})
    body = control.ConferenceUpdateRequest(accountId=account_id, callId=call_id, muted=request.muted, deaf=request.deaf)
    _on_node(record, "update", body)


def hangup(account_id: str, conference_id: str) -> dict[str, Any]:
    """Hang up every call in the conference; it finishes when the last one is out."""
    record = service.get_conference(account_id, conference_id)
    if record.finished:
        raise service.ConferenceFinished(conference_id)
    if record.present:
        _on_node(record, "hangup", control.ConferenceRequest(accountId=account_id))
    else:
        service.finish(account_id, conference_id)
    return service.to_infobip(service.get_conference(account_id, conference_id))


# --- playing into it ----------------------------------------------------------------------------------------


def _play(account_id: str, conference_id: str, play: control.PlayRequest) -> None:
    record = service.get_conference(account_id, conference_id)
    if not record.finished and not record.present:
        raise Conflict("Nobody is in the conference to hear it.")
    _on_node(record, "play", control.ConferencePlayRequest(accountId=account_id, play=play))


def play(account_id: str, conference_id: str, request: ConferencePlayRequest) -> None:
    content = play_content(account_id, request.content, "content")
    _play(account_id, conference_id, control.PlayRequest(content=content, loopCount=request.loopCount))


def say(account_id: str, conference_id: str, request: ConferenceSayRequest) -> None:
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
        conference_id,
        control.PlayRequest(content=content, report="SAY_FINISHED", loopCount=request.loopCount),
    )


def broadcast(account_id: str, conference_id: str, text: str) -> None:
    """`broadcast-webrtc-text`: to every WebRTC participant in the conference now."""
    record = service.get_conference(account_id, conference_id)
    if record.finished:
        raise service.ConferenceFinished(conference_id)
    broadcast_text(account_id, [p.call_id for p in record.present], text)


def stop_play(account_id: str, conference_id: str) -> None:
    record = service.get_conference(account_id, conference_id)
    _on_node(record, "stop-play", control.ConferenceRequest(accountId=account_id))
