"""The Call Link status webhook (`call-link-status-webhook`): when a link's page session ends, its configuration's
webhook receives Infobip's `WebhookEventPayload`, through the event pipeline (outbox → fan-out → FIFO queue →
signed, retried delivery with dead letters), as a targeted event for that configuration.

What a session reports, by destination:

- WEBRTC: the page's call and its peer leg, read from the call records (the page only names the call; it must be
  this session's, from the session's identity): `caller` and `callee` as `DialogParticipant`s, the dialog, the
  hang-up source when the platform knows it (API, PLATFORM), the caller leg's error code, and the recording files
  made of either leg or the dialog.
- APPLICATION: the page's one leg to the application, as `caller` (callDetails type APPLICATION; the OpenAPI
  document lists the type but no details shape for it).
- ROOM: one event per link user leaving (a room is not a recorded call, so the link knows its own users, not the
  room's other members): `participants` holds that user with join and leave time. A session that never joined
  sends nothing.

A session that never placed a call, or a link whose configuration has no webhook (or no longer exists), sends
nothing. The event is written in the same transaction that marks the session ended, so a session ends once and
its event is published once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.call_link import repository
from chalicelib.call_link.configurations import webhook_target
from chalicelib.calls import repository as calls
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import HangupSource, WebRtcEndpoint
from chalicelib.calls.service import error_code_info
from chalicelib.core import clock
from chalicelib.db.models import CallLink, CallLinkSession, RecordingFile
from chalicelib.events import outbox
from chalicelib.events.envelope import NewEvent
from chalicelib.recordings import repository as recordings
from chalicelib.subscriptions.service import WebhookTarget

EVENT_TYPE = "CALL_LINK_STATUS"
CHANNEL = "CALL_LINK"
_FINAL_DIALOG_STATES = {"FINISHED", "FAILED", "CANCELLED", "NO_ANSWER", "BUSY"}
_HANGUP_SOURCES = {HangupSource.API: "API", HangupSource.PLATFORM: "PLATFORM"}


def _time(value: datetime | None) -> str | None:
    return clock.infobip_format(value) if value is not None else None


def _seconds(start: datetime | None, end: datetime | None) -> int:
    return max(0, round((end - start).total_seconds())) if start and end else 0


def _endpoint(record: CallRecord) -> dict[str, Any]:
    endpoint = record.endpoint
    if isinstance(endpoint, WebRtcEndpoint):
        return {"type": "WEBRTC", "identity": endpoint.identity, **_named(endpoint.displayName)}
    return {"type": "PHONE", "phoneNumber": getattr(endpoint, "phoneNumber", None) or record.to or ""}


def _named(display_name: str | None) -> dict[str, str]:
    return {"displayName": display_name} if display_name else {}


def _state(record: CallRecord) -> str:
    if record.state in _FINAL_DIALOG_STATES:
        return str(record.state)
    return "FINISHED" if record.answer_time is not None else "CANCELLED"  # reported before its record ended


def dialog_participant(record: CallRecord) -> dict[str, Any]:
    participant = {
        "callId": record.call_id,
        "endpoint": _endpoint(record),
        "startTime": _time(record.start_time),
        "joinTime": _time(record.answer_time),
        "leaveTime": _time(record.end_time),
        "ringDuration": record.ring_duration,
        "duration": record.duration if record.duration is not None else 0,
        "direction": str(record.direction),
        "state": _state(record),
        "type": "DIALOG",
    }
    return {key: value for key, value in participant.items() if value is not None}


def _file(item: RecordingFile) -> dict[str, str]:
    return {"id": item.file_id, "name": item.name, "fileFormat": item.file_format}


def _recording(account_id: str, records: Iterable[CallRecord]) -> dict[str, Any] | None:
    scopes = {("CALL", record.call_id) for record in records}
    scopes |= {("DIALOG", record.dialog_id) for record in records if record.dialog_id}
    files = [
        item
        for scope_type, scope_id in sorted(scopes)
        for item in recordings.of_scope(account_id, scope_type, scope_id)
        if item.status not in ("FAILED", "DELETED")
    ]
    if not files:
        return None
    return {
        "composedFiles": [_file(item) for item in files if item.composed],
        "callRecordings": [
            {"callId": item.call_id or item.scope_id, "file": _file(item)} for item in files if not item.composed
        ],
    }


def _session_call(session: CallLinkSession, call_id: str | None) -> CallRecord | None:
    """The page's call, if the record shows it is this session's (what the page says is not enough)."""
    record = calls.get(session.account_id, call_id) if call_id else None
    return record if record is not None and record.from_ == session.identity else None


def _call_details(link: CallLink, session: CallLinkSession, call: CallRecord | None, now: datetime) -> Any:
    """(callDetails, the legs it names, the error code name), or None when the session has nothing to report."""
    if link.destination_type == "ROOM":
        if session.established_at is None:
            return None
        participant = {
            "endpoint": {"type": "WEBRTC", "identity": session.identity, **_named(session.display_name)},
            "startTime": _time(session.created_at),
            "joinTime": _time(session.established_at),
            "leaveTime": _time(now),
            "duration": _seconds(session.established_at, now),
            "direction": "INBOUND",
            "state": "LEFT",
            "type": "CONFERENCE",
        }
        return {"type": "ROOM", "participants": [participant]}, [], "NORMAL_HANGUP"
    if call is None:
        return None
    details: dict[str, Any] = {"type": link.destination_type, "caller": dialog_participant(call)}
    legs = [call]
    peer = calls.get(call.account_id, call.peer_call_id) if call.peer_call_id else None
    if peer is not None:
        details["callee"] = dialog_participant(peer)
        legs.append(peer)
    if call.dialog_id:
        details["dialogId"] = call.dialog_id
    if call.hangup_source in _HANGUP_SOURCES:
        details["hangupSource"] = _HANGUP_SOURCES[call.hangup_source]
    return details, legs, call.error_code


def payload(link: CallLink, session: CallLinkSession, call: CallRecord | None, now: datetime) -> dict[str, Any] | None:
    """Infobip's `WebhookEventPayload` for the end of `session`, or None when there is nothing to report."""
    found = _call_details(link, session, call, now)
    if found is None:
        return None
    details, legs, error_code = found
    document = json.loads(link.document)
    body: dict[str, Any] = {"callLinkId": link.code, "callLinkConfigId": link.config_id, "callDetails": details}
    if document.get("customData"):
        body["customData"] = document["customData"]
    recording = _recording(link.account_id, legs)
    if recording is not None:
        body["recording"] = recording
    code = error_code_info(error_code)
    if code is not None:
        body["errorCode"] = code.wire()
    return body


def end_session(link: CallLink, session: CallLinkSession, call_id: str | None, now: datetime) -> bool:
    """Mark the session ended and, in the same transaction, publish its status event when the link's configuration
    has a webhook. False when the session had already ended."""
    has_webhook = link.config_id is not None and webhook_target(link.account_id, link.config_id) is not None
    call = _session_call(session, call_id) if link.destination_type != "ROOM" else None
    body = payload(link, session, call, now) if has_webhook else None
    if body is None:
        return repository.mark_session(session, "ended_at", now)
    event = NewEvent(
        type=EVENT_TYPE,
        call_id=call.call_id if call is not None else None,
        target=f"{CHANNEL}/{link.config_id}",
        payload=body,
    )
    try:
        outbox.publish(link.account_id, [event], lambda staged: repository.stage_session_end(staged, session, now))
    except TransactWriteError:
        return False  # another report ended it first
    return True


def delivery_target(account_id: str, config_id: str) -> WebhookTarget | None:
    """The configuration's webhook as the delivery function posts to it (None once it or its webhook is gone)."""
    target = webhook_target(account_id, config_id)
    if target is None:
        return None
    return WebhookTarget(
        url=target.url,
        content_type="application/json",
        headers={},
        connect_timeout_ms=None,
        read_timeout_ms=None,
        security_type=target.security_type,
        credentials=target.credentials,
    )
