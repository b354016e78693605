"""Infobip's call error codes (`ErrorCodeInfo` in `CallLog.errorCode`): id, name, description, and what each means
for a call leg.

Names and numeric ids are Infobip's: the hangup enum `PublicErrorCode` of the Calls API (NORMAL_HANGUP ...
SERVICE_UNAVAILABLE) plus the rest of the WebRTC SDK's `ApplicationErrorCode` list, whose ids (10000 = NORMAL_HANGUP,
the same example the Calls API's `ErrorCodeInfo` schema gives) we use for every code.

Each code also says which terminal `CallState` it ends a leg in, and in which phase it may be used, after the
rules the Calls API attaches to `PublicErrorCode`: NORMAL_HANGUP and MACHINE_DETECTED need an established call;
NO_ANSWER, BUSY, CANCELLED, REJECTED and the destination/request errors mean the call could not be established.
Failures of the device, the network or the platform may end a call in any phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chalicelib.calls.schemas import CallState


class Phase(StrEnum):
    ANSWERED = "ANSWERED"  # only an established call may end with this code
    UNANSWERED = "UNANSWERED"  # only a call that was never established
    ANY = "ANY"


@dataclass(frozen=True)
class ErrorCode:
    id: int
    name: str
    state: CallState  # the terminal state a leg ending with this code is in
    phase: Phase
    description: str

    @property
    def is_failure(self) -> bool:
        return self.state is CallState.FAILED


_FINISHED, _FAILED, _BUSY, _NO_ANSWER, _CANCELLED = (
    CallState.FINISHED,
    CallState.FAILED,
    CallState.BUSY,
    CallState.NO_ANSWER,
    CallState.CANCELLED,
)
_ANSWERED, _UNANSWERED, _ANY = Phase.ANSWERED, Phase.UNANSWERED, Phase.ANY
_CODES = (
    ErrorCode(
        10000,
        "NORMAL_HANGUP",
        _FINISHED,
        _ANSWERED,
        "The call has ended with hangup initiated by caller, callee or API.",
    ),
    ErrorCode(10001, "ANSWERED_ELSEWHERE", _CANCELLED, _UNANSWERED, "The call was answered on another device."),
    ErrorCode(10002, "MACHINE_DETECTED", _FINISHED, _ANSWERED, "An answering machine answered the call."),
    ErrorCode(10003, "HUMAN_DETECTED", _FINISHED, _ANSWERED, "A human answered the call."),
    ErrorCode(10100, "DEVICE_FORBIDDEN", _FAILED, _ANY, "Access to the media device was refused."),
    ErrorCode(10101, "DEVICE_NOT_FOUND", _FAILED, _ANY, "The media device was not found."),
    ErrorCode(10102, "DEVICE_UNAVAILABLE", _FAILED, _ANY, "The media device is not available."),
    ErrorCode(10103, "MEDIA_ERROR", _FAILED, _ANY, "Media could not be set up or was lost."),
    ErrorCode(10104, "FORBIDDEN_DISPLAY_SURFACE", _FAILED, _ANY, "The display surface may not be shared."),
    ErrorCode(10105, "SCREEN_SHARING_CONTROL_UNSUPPORTED", _FAILED, _ANY, "Screen sharing control is not supported."),
    ErrorCode(10200, "NO_ANSWER", _NO_ANSWER, _UNANSWERED, "The callee did not answer in time."),
    ErrorCode(10201, "BUSY", _BUSY, _UNANSWERED, "The callee is busy."),
    ErrorCode(10202, "CANCELLED", _CANCELLED, _UNANSWERED, "The call was cancelled before it was answered."),
    ErrorCode(10203, "REJECTED", _BUSY, _UNANSWERED, "The callee rejected the call."),
    ErrorCode(10300, "FORBIDDEN", _FAILED, _UNANSWERED, "The call is not allowed."),
    ErrorCode(10301, "INSUFFICIENT_FUNDS", _FAILED, _UNANSWERED, "The account has insufficient funds."),
    ErrorCode(10302, "UNAUTHENTICATED", _FAILED, _UNANSWERED, "The caller is not authenticated."),
    ErrorCode(10303, "DESTINATION_NOT_FOUND", _FAILED, _UNANSWERED, "The destination was not found."),
    ErrorCode(10304, "DESTINATION_UNAVAILABLE", _FAILED, _UNANSWERED, "The destination is not available."),
    ErrorCode(10305, "INVALID_DESTINATION", _FAILED, _UNANSWERED, "The destination is invalid."),
    ErrorCode(10306, "INVALID_REQUEST", _FAILED, _UNANSWERED, "The call request is invalid."),
    ErrorCode(10307, "REQUEST_TIMEOUT", _FAILED, _UNANSWERED, "The call request timed out."),
    ErrorCode(10308, "NETWORK_ERROR", _FAILED, _ANY, "The call was lost because of a network error."),
    ErrorCode(10309, "SERVICE_UNAVAILABLE", _FAILED, _ANY, "The service is not available."),
    ErrorCode(10310, "UNKNOWN", _FAILED, _ANY, "The call ended for an unknown reason."),
    ErrorCode(10311, "FEATURE_UNAVAILABLE", _FAILED, _ANY, "The requested feature is not available."),
    ErrorCode(10400, "URL_NOT_FOUND", _FAILED, _ANY, "The application URL was not found."),
    ErrorCode(10401, "URL_UNREACHABLE", _FAILED, _ANY, "The application URL could not be reached."),
    ErrorCode(10402, "INVALID_RESPONSE", _FAILED, _ANY, "The application URL returned an invalid response."),
)

ERROR_CODES: dict[str, ErrorCode] = {code.name: code for code in _CODES}

HANGUP_ERROR_CODES = (
    "NORMAL_HANGUP",
    "MACHINE_DETECTED",
    "NO_ANSWER",
    "BUSY",
    "CANCELLED",
    "REJECTED",
    "FORBIDDEN",
    "DESTINATION_NOT_FOUND",
    "DESTINATION_UNAVAILABLE",
    "INVALID_DESTINATION",
    "INVALID_REQUEST",
    "REQUEST_TIMEOUT",
    "SERVICE_UNAVAILABLE",
)
"""The codes the Calls API's hangup request accepts (`PublicErrorCode`), in the document's order."""


def lookup(name: str) -> ErrorCode | None:
    return ERROR_CODES.get(name)
