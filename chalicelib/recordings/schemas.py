"""Infobip's recording schemas (reference §3): requests to record, and the recordings and files as listed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from chalicelib.calls.schemas import CallDirection, CallEndpoint, CallEndpointType, Platform, Schema, _query_datetime
from chalicelib.core.paging import PageInfo

RecordingType = Literal["AUDIO", "AUDIO_AND_VIDEO"]
FILE_PREFIX = r"^[a-zA-Z0-9_\-]*$"

# --- requests -----------------------------------------------------------------------------------------------


class RecordingRequest(Schema):
    """`POST /calls/1/calls/{callId}/start-recording`'s `recording` (RecordingRequest)."""

    recordingType: RecordingType
    maxSilence: int | None = Field(default=None, ge=1)
    beep: bool | None = None
    maxDuration: int | None = Field(default=None, ge=1, le=28800)
    customData: dict[str, str] | None = None
    filePrefix: str | None = Field(default=None, min_length=1, max_length=214, pattern=FILE_PREFIX)


class RecordingStartRequest(Schema):
    recording: RecordingRequest | None = None


class CallRecordingRequest(Schema):
    """The `recording` of a call create (CallRecordingRequest) or answer (CallRecordingRequest_2)."""

    recordingType: RecordingType
    customData: dict[str, str] | None = None
    filePrefix: str | None = Field(default=None, min_length=1, max_length=214, pattern=FILE_PREFIX)
    channels: Literal["MONO", "STEREO"] | None = None


class ConferenceComposition(Schema):
    enabled: bool = False


class ConferenceRecordingRequest(Schema):
    recordingType: RecordingType
    conferenceComposition: ConferenceComposition | None = None
    customData: dict[str, str] | None = None
    filePrefix: str | None = Field(default=None, min_length=1, max_length=214, pattern=FILE_PREFIX)


class DialogRecordingComposition(Schema):
    enabled: bool = False


class DialogRecordingRequest(Schema):
    """`POST /calls/1/dialogs/{dialogId}/start-recording`, and the `recording` of a dialog create."""

    recordingType: RecordingType
    dialogComposition: DialogRecordingComposition | None = None
    customData: dict[str, str] | None = None
    filePrefix: str | None = Field(default=None, min_length=1, max_length=214, pattern=FILE_PREFIX)


class MultiChannel(Schema):
    enabled: bool


class OnDemandComposition(Schema):
    deleteCallRecordings: bool = True
    multiChannel: MultiChannel | None = None


# --- what is listed -------------------------------------------------------------------------------------------


class SftpUploadFailure(Schema):
    """Switchboard's addition to a file (Infobip shows only `sftpUploadStatus`), present while its SFTP export is
    FAILED: the reason code (`chalicelib.recording_export.errors`), a sentence, the attempts so far and when the next
    one comes (absent: no further attempt, the account's destination must change)."""

    reason: str
    message: str | None = None
    attempts: int
    nextAttemptTime: str | None = None


class RecordingFile(Schema):
    """PublicRecordingFile (and RecordingFile in events)."""

    id: str
    name: str
    fileFormat: Literal["MP3", "WAV", "MP4"]
    size: int | None = None
    creationTime: str | None = None
    duration: int | None = None
    startTime: str | None = None
    endTime: str | None = None
    location: Literal["SFTP", "HOSTED"] | None = None
    sftpUploadStatus: Literal["UPLOADING", "UPLOADED", "FAILED"] | None = None
    sftpUploadFailure: SftpUploadFailure | None = None
    customData: dict[str, str] | None = None


class CallRecording(Schema):
    callId: str
    endpoint: CallEndpoint
    direction: CallDirection | None = None
    files: list[RecordingFile] = []
    status: Literal["SUCCESSFUL", "PARTIALLY_FAILED", "FAILED"] | None = None
    reason: str | None = None
    callsConfigurationId: str | None = None
    platform: Platform | None = None
    startTime: str | None = None
    endTime: str | None = None


class ConferenceRecording(Schema):
    conferenceId: str
    conferenceName: str | None = None
    callsConfigurationId: str | None = None
    platform: Platform | None = None
    composedFiles: list[RecordingFile] = []
    callRecordings: list[CallRecording] = []
    startTime: str | None = None
    endTime: str | None = None


class DialogRecording(Schema):
    """PublicDialogRecording: the composed files and each party's files."""

    dialogId: str
    callsConfigurationId: str | None = None
    platform: Platform | None = None
    composedFiles: list[RecordingFile] = []
    callRecordings: list[CallRecording] = []
    startTime: str | None = None
    endTime: str | None = None


class CallRecordingPage(Schema):
    results: list[CallRecording]
    paging: PageInfo


class ConferenceRecordingPage(Schema):
    results: list[ConferenceRecording]
    paging: PageInfo


class DialogRecordingPage(Schema):
    results: list[DialogRecording]
    paging: PageInfo


QueryTime = Annotated[datetime | None, BeforeValidator(_query_datetime)]


class CallRecordingQuery(Schema):
    callId: str | None = None
    callsConfigurationId: str | None = None
    applicationId: str | None = None
    entityId: str | None = None
    endpointIdentifier: str | None = None
    startTimeAfter: QueryTime = None
    endTimeBefore: QueryTime = None
    direction: CallDirection | None = None
    endpointType: str | None = None
    location: str | None = None


class ConferenceRecordingQuery(Schema):
    conferenceId: str | None = None
    callsConfigurationId: str | None = None
    applicationId: str | None = None
    entityId: str | None = None
    conferenceName: str | None = None
    callId: str | None = None
    startTimeAfter: QueryTime = None
    endTimeBefore: QueryTime = None
    composition: bool | None = None
    location: str | None = None


class DialogRecordingQuery(Schema):
    dialogId: str | None = None
    callsConfigurationId: str | None = None
    applicationId: str | None = None
    entityId: str | None = None
    callId: str | None = None
    callEndpointType: CallEndpointType | None = None
    callEndpointIdentifier: str | None = None
    startTimeAfter: QueryTime = None
    endTimeBefore: QueryTime = None
    composition: bool | None = None
    location: str | None = None
