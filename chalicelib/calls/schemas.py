"""Infobip's call objects with Infobip's field names (reference §3 and §4, voice OpenAPI 3.210.0): `Call`, `CallLog`,
the `CallEndpoint` variants, `MediaProperties`, `ErrorCodeInfo`, and the event payloads that carry them.

`from` is a Python keyword, so those fields are `from_` with the alias `from`: dump with `by_alias=True`
(`wire()` does). Unknown fields are ignored on input, like everywhere in the API.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib.core.paging import PageInfo


class CallState(StrEnum):
    CALLING = "CALLING"
    RINGING = "RINGING"
    PRE_ESTABLISHED = "PRE_ESTABLISHED"
    ESTABLISHED = "ESTABLISHED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    NO_ANSWER = "NO_ANSWER"
    BUSY = "BUSY"


class CallDirection(StrEnum):
    """As seen by the platform: INBOUND calls come to it (the caller's leg), OUTBOUND calls it places."""

    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class CallEndpointType(StrEnum):
    PHONE = "PHONE"
    SIP = "SIP"
    WEBRTC = "WEBRTC"
    VIBER = "VIBER"
    WHATSAPP = "WHATSAPP"
    WEBSOCKET = "WEBSOCKET"


class HangupSource(StrEnum):
    ENDPOINT = "ENDPOINT"
    API = "API"
    PLATFORM = "PLATFORM"


class Schema(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON object as Infobip spells it (aliases, no nulls)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- endpoints: the caller of an inbound call, the callee of an outbound call ----------------------------------


class WebRtcEndpoint(Schema):
    type: Literal["WEBRTC"] = "WEBRTC"
    identity: str = Field(min_length=1)
    displayName: str | None = None


class PhoneEndpoint(Schema):
    type: Literal["PHONE"] = "PHONE"
    phoneNumber: str = Field(min_length=1)


class SipEndpoint(Schema):
    type: Literal["SIP"] = "SIP"
    username: str = Field(min_length=1)
    sipTrunkId: str = Field(min_length=1)
    customHeaders: dict[str, str] | None = None


class ViberEndpoint(Schema):
    type: Literal["VIBER"] = "VIBER"
    phoneNumber: str = Field(min_length=1)


class WhatsAppEndpoint(Schema):
    type: Literal["WHATSAPP"] = "WHATSAPP"
    phoneNumber: str = Field(min_length=1)


class WebsocketEndpoint(Schema):
    type: Literal["WEBSOCKET"] = "WEBSOCKET"
    websocketEndpointConfigId: str = Field(min_length=1)
    identifier: str | None = None


CallEndpoint = Annotated[
    WebRtcEndpoint | PhoneEndpoint | SipEndpoint | ViberEndpoint | WhatsAppEndpoint | WebsocketEndpoint,
    Field(discriminator="type"),
]


# --- media, platform, error code ----------------------------------------------------------------------------


class AudioMediaProperties(Schema):
    muted: bool | None = None
    userMuted: bool | None = None
    deaf: bool | None = None


class VideoMediaProperties(Schema):
    camera: bool | None = None
    screenShare: bool | None = None
    blind: bool | None = None


class MediaProperties(Schema):
    audio: AudioMediaProperties | None = None
    video: VideoMediaProperties | None = None


class Platform(Schema):
    applicationId: str | None = Field(default=None, max_length=255)
    entityId: str | None = Field(default=None, max_length=255)


class ErrorCodeInfo(Schema):
    id: int
    name: str
    description: str


# --- the call, live and as a log ----------------------------------------------------------------------------


class Call(Schema):
    id: str = Field(max_length=128)
    endpoint: CallEndpoint
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    direction: CallDirection
    state: CallState
    media: MediaProperties | None = None
    startTime: str | None = None
    answerTime: str | None = None
    endTime: str | None = None
    parentCallId: str | None = Field(default=None, max_length=128)
    ringDuration: int | None = None
    callsConfigurationId: str | None = None
    platform: Platform | None = None
    conferenceId: str | None = Field(default=None, max_length=128)
    customData: dict[str, str] | None = None
    dialogId: str | None = Field(default=None, max_length=128)
    externalId: str | None = None


class CallLog(Schema):
    callId: str = Field(max_length=128)
    endpoint: CallEndpoint
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    direction: CallDirection
    state: CallState
    startTime: str | None = None
    answerTime: str | None = None
    endTime: str | None = None
    parentCallId: str | None = Field(default=None, max_length=128)
    ringDuration: int | None = None
    callsConfigurationIds: list[str] | None = None
    platform: Platform | None = None
    conferenceIds: list[str] | None = None
    duration: int | None = None
    hasCameraVideo: bool | None = None
    hasScreenshareVideo: bool | None = None
    errorCode: ErrorCodeInfo | None = None
    customData: dict[str, str] | None = None
    dialogId: str | None = Field(default=None, max_length=128)
    hangupSource: HangupSource | None = None
    externalId: str | None = None


class CallPage(Schema):
    results: list[Call]
    paging: PageInfo


class CallLogPage(Schema):
    results: list[CallLog]
    paging: PageInfo


# --- event payloads (the envelope's `properties`) -------------------------------------------------------------


class CallProperties(Schema):
    """CALL_RECEIVED, CALL_STARTED, CALL_RINGING, CALL_PRE_ESTABLISHED, CALL_ESTABLISHED (and later others)."""

    call: Call
    apiBaseUrl: str | None = None


class CallWithErrorCodeProperties(Schema):
    """CALL_FINISHED and CALL_FAILED."""

    callLog: CallLog


# --- Calls API requests -------------------------------------------------------------------------------------

PublicErrorCode = Literal[
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
]


class CallRequest(Schema):
    """POST /calls/1/calls."""

    endpoint: CallEndpoint
    from_: str | None = Field(default=None, alias="from", max_length=128)
    fromDisplayName: str | None = Field(default=None, max_length=128)
    connectTimeout: int | None = Field(default=None, ge=1, le=60)
    recording: dict[str, Any] | None = None
    machineDetection: dict[str, Any] | None = None
    maxDuration: int | None = Field(default=None, ge=1, le=28800)
    customData: dict[str, str] | None = None
    callsConfigurationId: str = Field(min_length=1, max_length=128)
    platform: Platform | None = None
    parentCallId: str | None = Field(default=None, max_length=128)
    externalId: str | None = Field(default=None, max_length=128)


def _query_datetime(value: Any) -> Any:
    """Infobip's `2026-01-15T11:59:30.000+0000`, also with microseconds (Infobip's Python client sends
    `%Y-%m-%dT%H:%M:%S.%f%z`) or another ISO-8601 offset. A `+` sent unencoded arrives as a space: taken back."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace(" ", "+")
    if "T" not in text:
        raise ValueError("must be a date and time, e.g. 2026-01-15T11:59:30.000+0000")
    parsed = datetime.fromisoformat(text)  # its ValueError says what is wrong
    if parsed.tzinfo is None:
        raise ValueError("must have a UTC offset, e.g. 2026-01-15T11:59:30.000+0000")
    return parsed


class CallQuery(Schema):
    """The filters of `GET /calls/1/calls` and `GET /calls/1/calls/history` (paging is read separately).

    `conferenceId` matches the legs that are or were in that conference, `dialogId` the two legs of that dialog.
    Legs are never in a bulk yet, so `bulkId` is accepted and matches no leg.
    """

    type: CallEndpointType | None = None
    callsConfigurationId: str | None = None
    applicationId: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    direction: CallDirection | None = None
    status: CallState | None = None
    startTimeAfter: Annotated[datetime | None, BeforeValidator(_query_datetime)] = None
    conferenceId: str | None = None
    dialogId: str | None = None
    bulkId: str | None = None


class AnswerRequest(Schema):
    customData: dict[str, str] | None = None
    recording: dict[str, Any] | None = None


class PreAnswerRequest(Schema):
    ringing: bool = False
    customData: dict[str, str] | None = None


class HangupRequest(Schema):
    errorCode: PublicErrorCode = "NORMAL_HANGUP"


class ActionResponse(Schema):
    status: Literal["PENDING", "IN_PROGRESS", "COMPLETED", "FAILED"]


class VoicePreferences(Schema):
    voiceGender: Literal["FEMALE", "MALE"] | None = None
    voiceName: str | None = Field(default=None, max_length=64)


class PlayContent(Schema):
    """PublicPlayContent: FILE, URL or TEXT (RECORDING and TTY are refused until recordings and TTY exist)."""

    type: Literal["FILE", "URL", "RECORDING", "TEXT", "TTY"]
    fileId: str | None = Field(default=None, max_length=128)
    fileUrl: str | None = Field(default=None, max_length=2048)
    text: str | None = Field(default=None, max_length=2000)
    language: str | None = Field(default=None, max_length=16)
    speechRate: float | None = Field(default=None, ge=0.5, le=2.0)
    preferences: VoicePreferences | None = None


class Termination(Schema):
    type: Literal["DTMF"]
    terminator: str | None = Field(default=None, max_length=12, pattern=r"^[0-9A-Da-d*#]*$")


class PlayRequest(Schema):
    loopCount: int = Field(default=1, ge=1, le=100)
    timeout: int | None = Field(default=None, ge=1)
    offset: int = Field(default=0, ge=0)
    content: PlayContent
    stopOn: Termination | None = None
    customData: dict[str, str] | None = None


class SayRequest(Schema):
    text: str = Field(min_length=1, max_length=2000)
    language: str = Field(min_length=2, max_length=16)
    speechRate: float | None = Field(default=None, ge=0.5, le=2.0)
    loopCount: int = Field(default=1, ge=1, le=100)
    preferences: VoicePreferences | None = None
    stopOn: Termination | None = None
    customData: dict[str, str] | None = None


class CaptureDtmfRequest(Schema):
    maxLength: int = Field(ge=1, le=255)
    timeout: int = Field(ge=1, le=600_000)
    terminator: str | None = Field(default=None, max_length=1, pattern=r"^[0-9A-Da-d*#]$")
    digitTimeout: int | None = Field(default=None, ge=1, le=600_000)
    playContent: PlayContent | None = None
    customData: dict[str, str] | None = None


class SendDtmfRequest(Schema):
    dtmf: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Da-d*#wW]+$")
    customData: dict[str, str] | None = None


class StopPlayRequest(Schema):
    customData: dict[str, str] | None = None


class MediaStreamMultiChannel(Schema):
    enabled: bool


class MediaStreamAudioProperties(Schema):
    mediaStreamConfigId: str = Field(min_length=1, max_length=128)
    replaceMedia: bool = False
    multiChannel: MediaStreamMultiChannel | None = None  # refused when enabled: a call's audio is streamed mono


class MediaStream(Schema):
    audioProperties: MediaStreamAudioProperties  # optional in Infobip's schema, but nothing streams without it


class StartMediaStreamRequest(Schema):
    mediaStream: MediaStream


# --- application transfer (reference §2.4, §3 ApplicationTransferRequest, §4 APPLICATION_TRANSFER_*) -------------


class RecordingTransferOptions(Schema):
    continueCallRecording: bool = False


class ApplicationTransferPropagationOptions(Schema):
    recordingTransferOptions: RecordingTransferOptions | None = None


class ApplicationTransferRequest(Schema):
    """POST /calls/1/calls/{callId}/application-transfer. `platform` is the destination's; `customData` becomes
    the call's when the destination accepts. Infobip's document sets no bounds on `timeout`: one second to an
    hour here (what a media node times)."""

    destinationCallsConfigurationId: str = Field(min_length=1, max_length=128)
    platform: Platform | None = None
    timeout: int = Field(default=30, ge=1, le=3600)
    customData: dict[str, str] | None = None
    propagationOptions: ApplicationTransferPropagationOptions | None = None


class ApplicationTransferRequestedProperties(Schema):
    """APPLICATION_TRANSFER_REQUESTED, to the destination configuration's subscriptions."""

    sourceCallsConfigurationId: str | None = None
    sourceApplicationId: str
    transferId: str
    call: Call


class ApplicationTransferFailedProperties(Schema):
    """APPLICATION_TRANSFER_FAILED, to the requester (rejected, timed out)."""

    sourceCallsConfigurationId: str | None = None
    destinationCallsConfigurationId: str | None = None
    sourceApplicationId: str
    destinationApplicationId: str
    transferId: str


class ApplicationTransferFinishedProperties(ApplicationTransferFailedProperties):
    """APPLICATION_TRANSFER_FINISHED, to the requester: `call` as it is now, owned by the destination."""

    call: Call
