"""Infobip's conference objects and requests with Infobip's field names (reference §2.5-2.6, §3, §4): `Conference`,
`Participant`, `ConferenceLog`, the connect / add / update requests and the conference event payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from chalicelib.calls.schemas import (
    Call,
    CallEndpoint,
    ErrorCodeInfo,
    MediaProperties,
    Platform,
    PlayContent,
    Schema,
    VoicePreferences,
    _query_datetime,
)
from chalicelib.core.paging import PageInfo

MAX_PARTICIPANTS = 15
ParticipantState = Literal["JOINING", "JOINED", "LEFT"]


class Participant(Schema):
    callId: str = Field(max_length=128)
    endpoint: CallEndpoint
    state: ParticipantState
    joinTime: str | None = None
    leaveTime: str | None = None
    media: MediaProperties | None = None


class Conference(Schema):
    id: str = Field(max_length=128)
    name: str
    participants: list[Participant]
    callsConfigurationId: str | None = None
    platform: Platform | None = None


class ConferencePage(Schema):
    results: list[Conference]
    paging: PageInfo


class ParticipantSession(Schema):
    callId: str = Field(max_length=128)
    joinTime: str | None = None
    leaveTime: str | None = None


class ConferenceLog(Schema):
    conferenceId: str = Field(max_length=128)
    name: str
    platform: Platform | None = None
    startTime: str | None = None
    endTime: str | None = None
    duration: int | None = None
    sessions: list[ParticipantSession]
    errorCode: ErrorCodeInfo | None = None


class ConferenceLogPage(Schema):
    results: list[ConferenceLog]
    paging: PageInfo


class ConferenceAndCall(Schema):
    conference: Conference
    call: Call


# --- event payloads ---------------------------------------------------------------------------------------


class ConferenceProperties(Schema):
    """CONFERENCE_CREATED."""

    conference: Conference
    apiBaseUrl: str | None = None


class ConferenceWithErrorCodeProperties(Schema):
    """CONFERENCE_FINISHED."""

    conference: Conference
    errorCode: ErrorCodeInfo | None = None


class ParticipantProperties(Schema):
    """PARTICIPANT_JOINING, PARTICIPANT_JOINED."""

    participant: Participant


class ParticipantWithReasonProperties(Schema):
    """PARTICIPANT_JOIN_FAILED, PARTICIPANT_REMOVED."""

    participant: Participant
    reason: str | None = None


# --- requests ---------------------------------------------------------------------------------------------


def _no_recording(value: Any) -> Any:
    if value is not None:
        raise ValueError("recording is not available yet")
    return value


class ConferenceRequest(Schema):
    """POST /calls/1/conferences."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    recording: Annotated[dict[str, Any] | None, BeforeValidator(_no_recording)] = None
    maxDuration: int = Field(default=28800, ge=1, le=28800)
    callsConfigurationId: str = Field(min_length=1, max_length=128)
    platform: Platform | None = None


class ActionConferenceRequest(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    recording: Annotated[dict[str, Any] | None, BeforeValidator(_no_recording)] = None
    maxDuration: int = Field(default=28800, ge=1, le=28800)


class ActionCallRequest(Schema):
    """A new call placed to join a conference."""

    endpoint: CallEndpoint
    from_: str | None = Field(default=None, alias="from", max_length=128)
    fromDisplayName: str | None = Field(default=None, max_length=128)
    connectTimeout: int | None = Field(default=None, ge=1, le=60)
    recording: Annotated[dict[str, Any] | None, BeforeValidator(_no_recording)] = None
    machineDetection: dict[str, Any] | None = None
    maxDuration: int = Field(default=28800, ge=1, le=28800)
    customData: dict[str, str] | None = None


class ConnectRequest(Schema):
    """POST /calls/1/connect: the calls meet in a new conference."""

    callIds: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        min_length=2, max_length=MAX_PARTICIPANTS
    )
    conferenceRequest: ActionConferenceRequest | None = None

    @field_validator("callIds")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("call ids must be unique")
        return value


class ConnectWithNewCallRequest(Schema):
    """POST /calls/1/calls/{callId}/connect."""

    callRequest: ActionCallRequest
    connectOnEarlyMedia: bool = False
    ringbackGeneration: dict[str, Any] | None = None
    conferenceRequest: ActionConferenceRequest | None = None


class AddNewCallRequest(Schema):
    """POST /calls/1/conferences/{conferenceId}/call."""

    callRequest: ActionCallRequest
    connectOnEarlyMedia: bool = False
    ringbackGeneration: dict[str, Any] | None = None
    role: dict[str, Any] | None = None


class AddExistingCallRequest(Schema):
    """PUT /calls/1/conferences/{conferenceId}/call/{callId}."""

    connectOnEarlyMedia: bool = False
    ringbackGeneration: dict[str, Any] | None = None
    role: dict[str, Any] | None = None
    customData: dict[str, str] | None = None


class UpdateRequest(Schema):
    """PATCH /calls/1/conferences/{conferenceId}: every participant."""

    muted: bool | None = None
    deaf: bool | None = None
    blind: bool | None = None


class UpdateCallRequest(UpdateRequest):
    """PATCH /calls/1/conferences/{conferenceId}/call/{callId}: one participant."""

    role: dict[str, Any] | None = None


class ConferencePlayRequest(Schema):
    loopCount: int = Field(default=1, ge=1, le=100)
    content: PlayContent


class ConferenceSayRequest(Schema):
    text: str = Field(min_length=1, max_length=2000)
    language: str = Field(min_length=2, max_length=16)
    speechRate: float | None = Field(default=None, ge=0.5, le=2.0)
    loopCount: int = Field(default=1, ge=1, le=100)
    preferences: VoicePreferences | None = None


class ConferenceQuery(Schema):
    """The filters of `GET /calls/1/conferences` and its history (paging is read separately)."""

    name: str | None = None
    callId: str | None = None
    callsConfigurationId: str | None = None
    applicationId: str | None = None
    startTimeAfter: Annotated[datetime | None, BeforeValidator(_query_datetime)] = None
    endTimeBefore: Annotated[datetime | None, BeforeValidator(_query_datetime)] = None
