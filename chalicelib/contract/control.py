"""The internal control API between the control plane and media nodes: versioned paths, pydantic bodies, and
request signing.

    GET  /internal/v1/status                      → NodeStatus
    POST /internal/v1/calls                       DialRequest → ActionResult     (ring an identity's devices; 404
                                                                                  when it has none on this node)
    POST /internal/v1/calls/{callId}/send-ringing   → ActionResult               (application calls: the caller
    POST /internal/v1/calls/{callId}/pre-answer     → ActionResult                hears ringing / gets early media /
    POST /internal/v1/calls/{callId}/answer         → ActionResult                is answered)
    POST /internal/v1/calls/{callId}/hangup       HangupRequest → ActionResult   (ends the call both legs are in)
    POST /internal/v1/calls/{callId}/play         PlayRequest → ActionResult     (play a file or URL, or say text:
                                                                                  PLAY_FINISHED / SAY_FINISHED)
    POST /internal/v1/calls/{callId}/stop-play    → ActionResult
    POST /internal/v1/calls/{callId}/capture-dtmf CaptureDtmfRequest → ActionResult  (DTMF_CAPTURED)
    POST /internal/v1/calls/{callId}/send-dtmf    SendDtmfRequest → ActionResult
    POST /internal/v1/calls/{callId}/start-media-stream  StartMediaStreamRequest → ActionResult
                                                  (MEDIA_STREAM_STARTED, then MEDIA_STREAM_FINISHED / _FAILED)
    POST /internal/v1/calls/{callId}/stop-media-stream   → ActionResult
    POST /internal/v1/calls/{callId}/application-transfer  ApplicationTransferTimerRequest → ActionResult
                                                  (time the transfer: report its timeout when it passes)
    POST /internal/v1/calls/{callId}/broadcast-text  BroadcastTextRequest → ActionResult  (to the call's SDK session;
                                                  404 when the call has none, e.g. it is not a WebRTC leg)
    POST /internal/v1/conferences/{conferenceId}/join       ConferenceJoinRequest → ActionResult
    POST /internal/v1/conferences/{conferenceId}/leave      ConferenceRequest → ActionResult   (the call stays up)
    POST /internal/v1/conferences/{conferenceId}/update     ConferenceUpdateRequest → ActionResult
    POST /internal/v1/conferences/{conferenceId}/play       ConferencePlayRequest → ActionResult (to everyone in it)
    POST /internal/v1/conferences/{conferenceId}/stop-play  ConferenceRequest → ActionResult
    POST /internal/v1/conferences/{conferenceId}/hangup     ConferenceRequest → ActionResult   (hangs up its calls)
    POST /internal/v1/dialogs/{dialogId}/open      DialogOpenRequest → ActionResult  (before the child is dialed;
                                                  `connectNow`: bridge two answered calls at once)
    POST /internal/v1/dialogs/{dialogId}/abandon   DialogAbandonRequest → ActionResult  (the child was not placed)
    POST /internal/v1/dialogs/{dialogId}/play      DialogPlayRequest → ActionResult   (to both calls)
    POST /internal/v1/dialogs/{dialogId}/stop-play DialogRequest → ActionResult
    POST /internal/v1/dialogs/{dialogId}/hangup    DialogRequest → ActionResult       (hangs up both calls)

An action the node cannot start answers 400 (bad content: an undecodable file, an unknown language) or 409 (the
call cannot take it now); a failure after it started is an ERROR event.

Every request carries X-Switchboard-Control-Timestamp (Unix seconds) and X-Switchboard-Control-Signature, an
HMAC-SHA256 (hex) with the deployment's control key over "<timestamp>\\n<METHOD>\\n<path>\\n<body>". Nodes refuse a
missing, wrong or stale (over TOLERANCE_SECONDS) signature. Keys are passed in: no settings, no AWS here.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CONTROL_PREFIX = "/internal/v1"
TIMESTAMP_HEADER = "X-Switchboard-Control-Timestamp"
SIGNATURE_HEADER = "X-Switchboard-Control-Signature"
TOLERANCE_SECONDS = 60


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class NodeStatus(_Body):
    nodeId: str
    status: Literal["UP", "DRAINING"]
    calls: int
    sessions: int
    roomSeats: int


class DialRequest(_Body):
    """Ring `identity` for the application call `callId`, whose record the control plane has created (CALLING)."""

    callId: str = Field(min_length=1, max_length=128)
    accountId: str = Field(min_length=1, max_length=128)
    identity: str = Field(min_length=3, max_length=64)
    fromIdentity: str | None = Field(default=None, max_length=128)
    fromDisplayName: str | None = Field(default=None, max_length=128)
    callsConfigurationId: str = Field(min_length=1, max_length=128)
    video: bool = False
    connectTimeoutSeconds: int = Field(default=60, ge=1, le=600)
    customData: dict[str, str] | None = None
    conferenceId: str | None = Field(default=None, max_length=128)  # join this conference when answered
    conferenceEndsAt: float | None = None  # the conference's end (Unix seconds): its maxDuration
    maxDurationSeconds: int | None = Field(default=None, ge=1, le=86400)  # from the answer, then hung up


class PlayContent(_Body):
    """What to play: an uploaded file, a file at a URL, or text to speak."""

    type: Literal["FILE", "URL", "TEXT"]
    fileId: str | None = Field(default=None, max_length=128)
    fileUrl: str | None = Field(default=None, max_length=2048)
    text: str | None = Field(default=None, max_length=4000)
    language: str | None = Field(default=None, max_length=16)
    speechRate: float | None = Field(default=None, ge=0.5, le=2.0)
    voiceGender: Literal["FEMALE", "MALE"] | None = None
    voiceName: str | None = Field(default=None, max_length=64)


class PlayRequest(_Body):
    """`say` is a play of TEXT content reported as SAY_FINISHED."""

    content: PlayContent
    report: Literal["PLAY_FINISHED", "SAY_FINISHED"] = "PLAY_FINISHED"
    loopCount: int = Field(default=1, ge=1, le=100)
    timeoutMs: int | None = Field(default=None, ge=1)
    offsetMs: int = Field(default=0, ge=0)
    stopOnTerminator: str | None = Field(default=None, max_length=12)  # digits that stop it (any digit if "")
    customData: dict[str, str] | None = None


class CaptureDtmfRequest(_Body):
    maxLength: int = Field(ge=1, le=255)
    timeoutMs: int = Field(ge=1, le=600_000)
    terminator: str | None = Field(default=None, max_length=1)
    digitTimeoutMs: int | None = Field(default=None, ge=1, le=600_000)
    customData: dict[str, str] | None = None


class SendDtmfRequest(_Body):
    dtmf: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Da-d*#wW]+$")


class StartMediaStreamRequest(_Body):
    """Stream the call's audio to a websocket host; with `replaceMedia` the host's audio is what the party hears.

    The control plane resolved the media-stream configuration: its URL (checked again by the node when it connects)
    and, for BASIC security, the `Authorization` header of the opening handshake (the control plane decrypts the
    credentials, so the node needs neither the table nor the data key). `customData` is the call's: the host gets
    it in the stream's first message."""

    mediaStreamConfigId: str = Field(min_length=1, max_length=128)
    url: str = Field(min_length=1, max_length=2048)
    authorization: str | None = Field(default=None, max_length=1024)
    replaceMedia: bool = False
    customData: dict[str, str] | None = None


class HangupRequest(_Body):
    errorCode: str = Field(default="NORMAL_HANGUP", max_length=64)


class ApplicationTransferTimerRequest(_Body):
    """The call's application transfer `transferId` waits for an answer: when `timeoutSeconds` pass, the node reports
    it (`chalicelib.calls.transfers.time_out`, which leaves an answered transfer alone), even if the call ended."""

    accountId: str = Field(min_length=1, max_length=128)
    transferId: str = Field(min_length=1, max_length=128)
    timeoutSeconds: int = Field(ge=1, le=3600)


# --- conferences: mixed on the node that has their calls ------------------------------------------------------


class ConferenceJoinRequest(_Body):
    """Mix the call into the conference (PARTICIPANT_JOINED once it is); a call not answered yet joins when it is."""

    accountId: str = Field(min_length=1, max_length=128)
    callId: str = Field(min_length=1, max_length=128)
    muted: bool = False
    deaf: bool = False
    endsAt: float | None = None  # the conference's end (Unix seconds): its maxDuration


class ConferenceUpdateRequest(_Body):
    """Mute / deafen one participant (`callId`) or, without it, every participant; None leaves a flag as it is."""

    accountId: str = Field(min_length=1, max_length=128)
    callId: str | None = Field(default=None, max_length=128)
    muted: bool | None = None
    deaf: bool | None = None


class ConferencePlayRequest(_Body):
    accountId: str = Field(min_length=1, max_length=128)
    play: PlayRequest


class ConferenceRequest(_Body):
    """Leave (remove one call), hang up, stop playing: the conference's account, and the call where one is meant."""

    accountId: str = Field(min_length=1, max_length=128)
    callId: str | None = Field(default=None, max_length=128)


# --- dialogs: bridged on the node that has the parent ----------------------------------------------------------


class DialogOpenRequest(_Body):
    """A parent call and its child (about to be dialed on the same node, or answered already with `connectNow`)."""

    accountId: str = Field(min_length=1, max_length=128)
    parentCallId: str = Field(min_length=1, max_length=128)
    childCallId: str = Field(min_length=1, max_length=128)
    propagateRinging: bool = False  # the child's ringing is the unanswered inbound parent's ringing
    ringback: bool = False  # the parent hears a generated ringback tone while the child rings (early media)
    childHangup: bool = True  # the parent is hung up when the child ends
    maxDurationSeconds: int = Field(default=28800, ge=1, le=86400)
    connectNow: bool = False


class DialogAbandonRequest(_Body):
    accountId: str = Field(min_length=1, max_length=128)
    errorCode: str = Field(default="DESTINATION_NOT_FOUND", max_length=64)


class DialogPlayRequest(_Body):
    accountId: str = Field(min_length=1, max_length=128)
    play: PlayRequest


class DialogRequest(_Body):
    accountId: str = Field(min_length=1, max_length=128)


class ActionResult(_Body):
    status: Literal["COMPLETED", "FAILED"]
    detail: str | None = None


def signature(key: bytes, timestamp: int, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}\n{method.upper()}\n{path}\n".encode() + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_headers(key: bytes, timestamp: int, method: str, path: str, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(key, timestamp, method, path, body)}


def verify(key: bytes, headers: dict[str, str], method: str, path: str, body: bytes, now: float) -> bool:
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit() or not given or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(key, int(timestamp), method, path, body), given)


class BroadcastTextRequest(_Body):
    """Text the application broadcasts to a call's SDK (`broadcast-webrtc-text` on its dialog or conference)."""

    text: str = Field(min_length=1, max_length=4096)


# --- recordings: recorded on the node that has the call, conference or dialog -------------------------------
#     POST /internal/v1/recordings/start   StartRecordingRequest → ActionResult  (*_RECORDING_STARTED)
#     POST /internal/v1/recordings/stop    StopRecordingRequest → ActionResult   (*_STOPPED, then *_READY / *_FAILED)
# 404 when the node has no such call / conference; 409 when it records already (one recording per scope at a time).


class StartRecordingRequest(_Body):
    """Record a call (its two parties, or an application call's party and what it hears), a conference or a
    dialog (`scope`, `scopeId`). Composition: one mixed file; otherwise one file per participant. A call that is not
    answered yet starts recording once its media is up. The routing fields are the scope's, for the events."""

    accountId: str = Field(min_length=1, max_length=128)
    scope: Literal["CALL", "CONFERENCE", "DIALOG"]
    scopeId: str = Field(min_length=1, max_length=128)
    recordingType: Literal["AUDIO", "AUDIO_AND_VIDEO"] = "AUDIO"
    composition: bool = True
    channels: Literal["MONO", "STEREO"] = "MONO"
    customData: dict[str, str] | None = None
    filePrefix: str | None = Field(default=None, max_length=214)
    maxDurationSeconds: int | None = Field(default=None, ge=1, le=28800)
    callsConfigurationId: str | None = Field(default=None, max_length=128)
    applicationId: str | None = Field(default=None, max_length=128)
    entityId: str | None = Field(default=None, max_length=128)
    # asked through the Calls API: on a 1:1 WebRTC call the WebRTC recording rules apply (some party's token must
    # allow recording and the account must have WebRTC recording enabled; `switchboard_media.recording.webrtc_rules`)
    onDemand: bool = False


class StopRecordingRequest(_Body):
    accountId: str = Field(min_length=1, max_length=128)
    scope: Literal["CALL", "CONFERENCE", "DIALOG"]
    scopeId: str = Field(min_length=1, max_length=128)
