"""Call legs with Infobip's states and the Calls API events (CALL_RECEIVED, CALL_STARTED, CALL_RINGING,
CALL_PRE_ESTABLISHED, CALL_ESTABLISHED, CALL_FINISHED, CALL_FAILED), written through the transactional outbox.

    states.py       the state machine as data (pure): legal changes and the event of each
    error_codes.py  Infobip's call error codes and the terminal state each ends a leg in
    records.py      CallRecord, the leg as callers see it
    schemas.py      Infobip's Call, CallLog, endpoints, ErrorCodeInfo and event payloads (pydantic)
    repository.py   the CallLeg table (staged into outbox transactions)
    service.py      the operations below

The media node uses the service for 1:1 WebRTC calls; the Calls API routes will build on the same functions.
"""

from chalicelib.calls.errors import CallNotFound, IllegalTransition, InvalidErrorCode
from chalicelib.calls.records import CallMedia, CallRecord
from chalicelib.calls.schemas import CallDirection, CallState, HangupSource
from chalicelib.calls.service import (
    establish,
    fail,
    get_call,
    hangup,
    pre_establish,
    ringing,
    start_application_call,
    start_outbound_call,
    start_webrtc_call,
    to_call_log,
    to_infobip,
)

__all__ = [
    "CallDirection",
    "CallMedia",
    "CallNotFound",
    "CallRecord",
    "CallState",
    "HangupSource",
    "IllegalTransition",
    "InvalidErrorCode",
    "establish",
    "fail",
    "get_call",
    "hangup",
    "pre_establish",
    "ringing",
    "start_application_call",
    "start_outbound_call",
    "start_webrtc_call",
    "to_call_log",
    "to_infobip",
]
