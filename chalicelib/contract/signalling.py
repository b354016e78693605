"""The signalling websocket protocol between SDK clients and a media node (JSON text frames, one message each).

    client → node                                   node → client
    hello {token}             (first frame)          registered {identity, nodeId, version}
    call {requestId, to, video, recordingOptions?}   call_started {requestId, callId}
    call_application {requestId, callsConfigurationId, video, customData}   (the application answers via the API)
    accept {callId, recordingOptions?}               incoming_call {callId, from, fromDisplayName, video,
                                                                    callsConfigurationId?, customData?}
    decline {callId}                                 ringing {callId}
    hangup {callId}                                  answered_elsewhere {callId}
    data {callId, messageId, text, to?}              data {callId, messageId, from, text, direct}
    data_received {callId, messageId}                data_delivered {callId, messageId, to?, recipients, delivered}
                                                     broadcast_text {callId, text}   (from the application)
    join_room {requestId, room, video}               room_joined {requestId, callId, room, participants, videoSlots}
    rejoin_room {requestId, callId}  (after a drop)  room_joined (the same callId: the seat was kept)
    leave_room {callId}                              participant_joined|participant_left {callId, participant}
    media_state {callId, muted, camera, screenShare} participant_talking {callId, participant, talking}
    resume_call {requestId, callId}  (after a drop)  call_resumed {requestId, callId}  (1:1: the call went on)
                                                     participant_media_changed {callId, participant}
                                                     video_slots {callId, slots: [{mid, identity?}]}
    ping                                             established {callId}
                                                     media {callId, whipUrl, ticket}   (then WHIP offer/answer)
                                                     hangup {callId, errorCode}
                                                     network_quality {callId, networkQuality, mos}
                                                     remote_network_quality {callId, networkQuality}
                                                     remote_media {callId, muted, camera, screenShare}   (1:1)
                                                     remote_connection {callId, connected}   (1:1)
                                                     error {code, text, requestId?}
                                                     pong

Unknown fields are ignored; unknown types, bad JSON and oversized frames get an `error` and the session lives on.

`recordingOptions` {recordingType: UNDEFINED | AUDIO | AUDIO_AND_VIDEO} is Infobip's WebrtcCallOptions option: what
this party of a 1:1 call asks to be recorded. The node decides with the parties' tokens (`capabilities.recording`)
and the account's setting (`chalicelib.webrtc.recording_rules`); an application's call ignores it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_FRAME_BYTES = 16 * 1024


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- client → node -------------------------------------------------------------------------------------


class Hello(_Message):
    type: Literal["hello"] = "hello"
    token: str = Field(max_length=4096)


SdkRecordingType = Literal["UNDEFINED", "AUDIO", "AUDIO_AND_VIDEO"]


class RecordingOptions(_Message):
    """Infobip's `RecordingOptions` of a WebRTC call (the caller's on `call`, the callee's on `accept`)."""

    recordingType: SdkRecordingType = "UNDEFINED"


class Call(_Message):
    type: Literal["call"] = "call"
    requestId: str = Field(min_length=1, max_length=64)
    to: str = Field(min_length=3, max_length=64)
    video: bool = False
    recordingOptions: RecordingOptions | None = None


class CallApplication(_Message):
    """Call an application (a calls configuration): it learns about the call (CALL_RECEIVED) and handles it with the
    Calls API (send-ringing, pre-answer, answer, hangup, actions)."""

    type: Literal["call_application"] = "call_application"
    requestId: str = Field(min_length=1, max_length=64)
    callsConfigurationId: str = Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_-]+$")
    video: bool = False
    customData: dict[str, str] | None = Field(default=None, max_length=32)


class Accept(_Message):
    type: Literal["accept"] = "accept"
    callId: str = Field(max_length=128)
    recordingOptions: RecordingOptions | None = None


class Decline(_Message):
    type: Literal["decline"] = "decline"
    callId: str = Field(max_length=128)


class Hangup(_Message):
    type: Literal["hangup"] = "hangup"
    callId: str = Field(max_length=128)


class Ping(_Message):
    type: Literal["ping"] = "ping"


MAX_TEXT_CHARS = 4096


class SendData(_Message):
    """Text over the call: to everyone else in it, or to one participant (`to`, an identity)."""

    type: Literal["data"] = "data"
    callId: str = Field(max_length=128)
    messageId: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=MAX_TEXT_CHARS)
    to: str | None = Field(default=None, max_length=64)


class DataReceived(_Message):
    """The recipient's acknowledgement; the node tells the sender (data_delivered)."""

    type: Literal["data_received"] = "data_received"
    callId: str = Field(max_length=128)
    messageId: str = Field(min_length=1, max_length=64)


class JoinRoom(_Message):
    """`video`: this participant sends its camera (its offer's first video section) and receives the others' on the
    video slots that follow it (`room_joined.videoSlots` says how many the node fills)."""

    type: Literal["join_room"] = "join_room"
    requestId: str = Field(min_length=1, max_length=64)
    room: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.~-]+$")
    video: bool = False


class RejoinRoom(_Message):
    """Take back the seat `callId` after the connection dropped (within the node's grace period)."""

    type: Literal["rejoin_room"] = "rejoin_room"
    requestId: str = Field(min_length=1, max_length=64)
    callId: str = Field(max_length=128)


class MediaState(_Message):
    """What this participant sends now (after mute/unmute, camera on/off, screen share on/off); the others in the room
    hear about it. A seat that joined with video may offer one send-only video section after its camera's: its
    screen share, forwarded to the others' video slots while `screenShare` is on. In a 1:1 call the other party
    hears about it (`remote_media`); there the screen goes out in the camera's place, on the call's one video."""

    type: Literal["media_state"] = "media_state"
    callId: str = Field(max_length=128)
    muted: bool = False
    camera: bool = False
    screenShare: bool = False


class ResumeCall(_Message):
    """Take back the control of the established 1:1 call `callId` after the signalling connection dropped (its media
    never stopped), within the node's grace period (SWITCHBOARD_MEDIA_CALL_RECONNECT_GRACE_SECONDS)."""

    type: Literal["resume_call"] = "resume_call"
    requestId: str = Field(min_length=1, max_length=64)
    callId: str = Field(max_length=128)


class LeaveRoom(_Message):
    type: Literal["leave_room"] = "leave_room"
    callId: str = Field(max_length=128)


AnyClientMessage = (
    Hello
    | Call
    | CallApplication
    | Accept
    | Decline
    | Hangup
    | SendData
    | DataReceived
    | JoinRoom
    | RejoinRoom
    | ResumeCall
    | LeaveRoom
    | MediaState
    | Ping
)
ClientMessage = Annotated[AnyClientMessage, Field(discriminator="type")]
CLIENT_MESSAGE: TypeAdapter[AnyClientMessage] = TypeAdapter(ClientMessage)


# --- node → client -------------------------------------------------------------------------------------


class Registered(_Message):
    type: Literal["registered"] = "registered"
    identity: str
    nodeId: str
    version: int


class CallStarted(_Message):
    type: Literal["call_started"] = "call_started"
    requestId: str
    callId: str


class IncomingCall(_Message):
    type: Literal["incoming_call"] = "incoming_call"
    callId: str
    from_: str = Field(alias="from")
    fromDisplayName: str | None = None
    video: bool = False
    callsConfigurationId: str | None = None  # set when an application (the Calls API) places the call
    customData: dict[str, str] | None = None

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, serialize_by_alias=True)


class Ringing(_Message):
    type: Literal["ringing"] = "ringing"
    callId: str


class AnsweredElsewhere(_Message):
    type: Literal["answered_elsewhere"] = "answered_elsewhere"
    callId: str


class Established(_Message):
    type: Literal["established"] = "established"
    callId: str


class Media(_Message):
    type: Literal["media"] = "media"
    callId: str
    whipUrl: str
    ticket: str


class HungUp(_Message):
    type: Literal["hangup"] = "hangup"
    callId: str
    errorCode: str


NetworkQualityLevel = Literal["EXCELLENT", "GOOD", "FAIR", "POOR", "BAD"]


class NetworkQuality(_Message):
    """This side's link to the node changed level (Infobip's NetworkQuality; below GOOD the user should be warned)."""

    type: Literal["network_quality"] = "network_quality"
    callId: str
    networkQuality: NetworkQualityLevel
    mos: float


class RemoteNetworkQuality(_Message):
    """In a 1:1 call: the other side's link changed level."""

    type: Literal["remote_network_quality"] = "remote_network_quality"
    callId: str
    networkQuality: NetworkQualityLevel


class RemoteMedia(_Message):
    """In a 1:1 call: what the other party sends now (after it muted or unmuted, turned its camera on or off, started
    or stopped sharing its screen). Its screen share arrives on the call's video, in its camera's place."""

    type: Literal["remote_media"] = "remote_media"
    callId: str
    muted: bool = False
    camera: bool = False
    screenShare: bool = False


class RemoteConnection(_Message):
    """In a 1:1 call: the other party's signalling connection dropped (`connected` false; its media may still flow
    and the node waits for it to resume the call) or came back (true)."""

    type: Literal["remote_connection"] = "remote_connection"
    callId: str
    connected: bool


class CallResumed(_Message):
    """The answer to `resume_call`: the call goes on, controlled from this connection. The node then sends the other
    party's media state (`remote_media`)."""

    type: Literal["call_resumed"] = "call_resumed"
    requestId: str
    callId: str


class DataMessage(_Message):
    type: Literal["data"] = "data"
    callId: str
    messageId: str
    from_: str = Field(alias="from")
    text: str
    direct: bool = False

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, serialize_by_alias=True)


class DataDelivered(_Message):
    """The text reached its recipients (each acknowledged it). In a 1:1 call that is the other party (`to`); in a room
    it is the participant named in `to` (a direct message) or everyone else in the room (a broadcast, `to` unset):
    the node answers once each of them acknowledged it or left, and lists in `recipients` those that did;
    `delivered` is false when nobody did (the room was empty, or they all left first)."""

    type: Literal["data_delivered"] = "data_delivered"
    callId: str
    messageId: str
    to: str | None = None
    recipients: list[str] = Field(default_factory=list)
    delivered: bool = True


class BroadcastText(_Message):
    """Text the application broadcast to the call (the Calls API's `broadcast-webrtc-text` on its dialog or
    conference); nothing acknowledges it."""

    type: Literal["broadcast_text"] = "broadcast_text"
    callId: str
    text: str


class Participant(_Message):
    identity: str
    displayName: str | None = None
    muted: bool = False
    camera: bool = False
    screenShare: bool = False


class RoomJoined(_Message):
    type: Literal["room_joined"] = "room_joined"
    requestId: str
    callId: str
    room: str
    participants: list[Participant]
    videoSlots: int = 0  # receive-only video sections to offer after the camera's (0: the seat has no video)


class ParticipantJoined(_Message):
    type: Literal["participant_joined"] = "participant_joined"
    callId: str
    participant: Participant


class ParticipantLeft(_Message):
    type: Literal["participant_left"] = "participant_left"
    callId: str
    participant: Participant


class ParticipantTalking(_Message):
    type: Literal["participant_talking"] = "participant_talking"
    callId: str
    participant: Participant
    talking: bool


class ParticipantMediaChanged(_Message):
    """A participant muted or unmuted, or turned its camera on or off (its new state is in `participant`)."""

    type: Literal["participant_media_changed"] = "participant_media_changed"
    callId: str
    participant: Participant


class VideoSlot(_Message):
    mid: str  # the offer's receive-only video section
    identity: str | None = None  # whose camera (or screen share) it shows now (None: nobody)
    source: Literal["camera", "screen"] = "camera"


class VideoSlots(_Message):
    """Which participant's camera or screen share each of this seat's video slots shows (all slots, after every
    change). A slot that changes participant starts at a keyframe; screen shares come first (one takes the last
    camera's slot when none is free), then cameras in joining order; those beyond the slots are not shown."""

    type: Literal["video_slots"] = "video_slots"
    callId: str
    slots: list[VideoSlot]


class Error(_Message):
    type: Literal["error"] = "error"
    code: str
    text: str
    requestId: str | None = None


class Pong(_Message):
    type: Literal["pong"] = "pong"


AnyNodeMessage = (
    Registered
    | CallStarted
    | IncomingCall
    | Ringing
    | AnsweredElsewhere
    | Established
    | Media
    | HungUp
    | NetworkQuality
    | RemoteNetworkQuality
    | RemoteMedia
    | RemoteConnection
    | CallResumed
    | DataMessage
    | DataDelivered
    | BroadcastText
    | RoomJoined
    | ParticipantJoined
    | ParticipantLeft
    | ParticipantTalking
    | ParticipantMediaChanged
    | VideoSlots
    | Error
    | Pong
)
NodeMessage = Annotated[AnyNodeMessage, Field(discriminator="type")]
NODE_MESSAGE: TypeAdapter[AnyNodeMessage] = TypeAdapter(NodeMessage)
