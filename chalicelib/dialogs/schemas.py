"""Infobip's dialog objects and requests with Infobip's field names (reference §2.7-2.8, §3, §4): `Dialog`
(`DialogResponse`), `DialogLogResponse`, the create / play / say / broadcast requests and the DIALOG_* payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from chalicelib.calls.schemas import (
    Call,
    CallEndpoint,
    ErrorCodeInfo,
    Platform,
    PlayContent,
    Schema,
    VoicePreferences,
    _query_datetime,
)
from chalicelib.core.paging import PageInfo
from chalicelib.recordings.schemas import DialogRecordingRequest

DialogState = Literal["CREATED", "PRE_ESTABLISHED", "ESTABLISHED", "FINISHED", "FAILED"]
HangupSource = Literal["API", "PARENT_ENDPOINT", "CHILD_ENDPOINT", "PLATFORM"]
LIVE_STATES = frozenset({"CREATED", "PRE_ESTABLISHED", "ESTABLISHED"})
MAX_DURATION = 28800


class Dialog(Schema):
    """`DialogResponse` (the API's answers) and the `Dialog` of the events: the same fields."""

    id: str = Field(max_length=128)
    callsConfigurationId: str | None = None
    platform: Platform | None = None
    state: DialogState
    startTime: str | None = None
    establishTime: str | None = None
    endTime: str | None = None
    parentCall: Call | None = None
    childCall: Call | None = None


class DialogPage(Schema):
    results: list[Dialog]
    paging: PageInfo


class DialogLog(Schema):
    dialogId: str = Field(max_length=128)
    callsConfigurationId: str | None = None
    platform: Platform | None = None
    state: DialogState
    startTime: str | None = None
    establishTime: str | None = None
    endTime: str | None = None
    parentCallId: str | None = None
    childCallId: str | None = None
    duration: int | None = None
    errorCode: ErrorCodeInfo | None = None
    hangupSource: HangupSource | None = None


class DialogLogPage(Schema):
    results: list[DialogLog]
    paging: PageInfo


# --- event payloads ---------------------------------------------------------------------------------------


class DialogCreatedProperties(Schema):
    dialog: Dialog
    apiBaseUrl: str | None = None


class DialogProperties(Schema):
    dialog: Dialog


class DialogWithErrorCodeProperties(Schema):
    dialog: Dialog
    errorCode: ErrorCodeInfo | None = None
    hangupSource: HangupSource | None = None


# --- requests ---------------------------------------------------------------------------------------------


class DialogCallRequest(Schema):
    """The child call placed for the dialog (its calls configuration is the parent's)."""

    endpoint: CallEndpoint
    from_: str | None = Field(default=None, alias="from", max_length=128)
    fromDisplayName: str | None = Field(default=None, max_length=128)
    connectTimeout: int | None = Field(default=None, ge=1, le=60)
    machineDetection: dict[str, Any] | None = None
    customData: dict[str, str] | None = None


class RingbackGeneration(Schema):
    enabled: bool = False


class DialogPropagationOptions(Schema):
    childCallHangup: bool = True
    childCallRinging: bool = False
    ringbackGeneration: RingbackGeneration | None = None


class DialogRequest(Schema):
    """POST /calls/1/dialogs."""

    parentCallId: str = Field(min_length=1, max_length=128)
    childCallRequest: DialogCallRequest
    recording: DialogRecordingRequest | None = None
    maxDuration: int = Field(default=MAX_DURATION, ge=1, le=MAX_DURATION)
    propagationOptions: DialogPropagationOptions | None = None


class DialogWithExistingCallsRequest(Schema):
    """POST /calls/1/dialogs/parent-call/{parentCallId}/child-call/{childCallId} (`maxDuration` and
    `propagationOptions` are in Infobip's Python client's model of it, though not in the published document)."""

    recording: DialogRecordingRequest | None = None
    maxDuration: int = Field(default=MAX_DURATION, ge=1, le=MAX_DURATION)
    propagationOptions: DialogPropagationOptions | None = None


class DialogPlayRequest(Schema):
    loopCount: int = Field(default=1, ge=1, le=100)
    content: PlayContent


class DialogSayRequest(Schema):
    text: str = Field(min_length=1, max_length=2000)
    language: str = Field(min_length=2, max_length=16)
    speechRate: float | None = Field(default=None, ge=0.5, le=2.0)
    loopCount: int = Field(default=1, ge=1, le=100)
    preferences: VoicePreferences | None = None


class BroadcastTextRequest(Schema):
    """`broadcast-webrtc-text` (dialogs and conferences)."""

    text: str = Field(min_length=1, max_length=4096)


class SendMessageRequest(Schema):
    """`send-message` (dialogs): the same as a broadcast, named `message`."""

    message: str = Field(min_length=1, max_length=4096)


class DialogQuery(Schema):
    """The filters of `GET /calls/1/dialogs` and its history (paging is read separately)."""

    callsConfigurationId: str | None = None
    applicationId: str | None = None
    state: DialogState | None = None
    parentCallId: str | None = None
    childCallId: str | None = None
    startTimeAfter: Annotated[datetime | None, BeforeValidator(_query_datetime)] = None
    endTimeBefore: Annotated[datetime | None, BeforeValidator(_query_datetime)] = None
