"""A room as the SDK sees it: a call whose far end is everyone else in the room.

Joined with video, the room's media session offers the camera and then `video_slot_count` receive-only video
sections (the node says how many); the node says which participant each shows (`video_slots`), and what a slot
decodes counts for that participant: `video_of(identity)`. A slot can also show a participant's screen share
(`screen_of(identity)`); this side shares one with `screen_share(source)`: the media session offers a send-only video
section for it after the camera's (before the slots), so sharing never renegotiates.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from chalicelib.contract import signalling as sig
from switchboard_rtc.call import Call
from switchboard_rtc.video import VideoSink

if TYPE_CHECKING:
    from switchboard_rtc.client import RtcClient

ParticipantEvent = sig.ParticipantJoined | sig.ParticipantLeft | sig.ParticipantTalking | sig.ParticipantMediaChanged
RoomEvent = ParticipantEvent | sig.VideoSlots


class RoomCall(Call):
    FOLLOWS_REMOTE_MEDIA = False  # the others' cameras and screens arrive on video slots (`video_of`, `screen_of`)

    def __init__(self, client: RtcClient, call_id: str, room: str, participants: list[sig.Participant]) -> None:
        super().__init__(client, call_id, room, incoming=False)
        self.room = room
        self.participants: dict[str, sig.Participant] = {p.identity: p for p in participants}
        self.talking: set[str] = set()
        self.events: asyncio.Queue[RoomEvent] = asyncio.Queue()
        self.video_slot_count = 0  # receive-only video sections to offer (room_joined.videoSlots)
        self.video_slots: dict[str, str | None] = {}  # mid -> the identity whose camera it shows
        self.screen_slots: dict[str, str] = {}  # mid -> the identity whose screen share it shows
        self.videos: dict[str, VideoSink] = {}  # identity -> what was decoded of its camera (kept after it goes)
        self.screens: dict[str, VideoSink] = {}  # identity -> what was decoded of its screen share
        self.slot_frames: dict[str, int] = {}  # mid -> frames decoded on that slot, whoever it showed
        self._slot_transceivers: list[RTCRtpTransceiver] = []
        self._watching: set[asyncio.Future[None]] = set()
        self._camera_on = False
        self._screen_source: MediaStreamTrack | None = None
        self._screen_sender: object | None = None
        self._state_sends: set[asyncio.Future[None]] = set()
        self.on_established()

    def mute(self, muted: bool = True) -> None:
        """Stop (or resume) sending audio; the others in the room get participant_media_changed."""
        super().mute(muted)  # which sends this seat's media state

    def camera_video(self, source: MediaStreamTrack | None) -> None:
        """Send the camera from `source`, or none (camera off: the others stop seeing it and get
        participant_media_changed). The room must have been joined with video."""
        super().camera_video(source)  # which sends this seat's media state

    def screen_share(self, source: MediaStreamTrack | None) -> None:
        """Share a screen from `source` beside the camera, or stop (None): the others see it on one of their video
        slots (`screen_of`) and get participant_media_changed. The room must have been joined with video."""
        if not self.video:
            raise RuntimeError("screen share needs a room joined with video")
        self._screen_source = source
        if self._screen_sender is not None:
            self._screen_sender.replaceTrack(source)  # type: ignore[attr-defined]
        self._send_media_state()

    def video_of(self, identity: str) -> VideoSink | None:
        """What this side decodes of `identity`'s camera while one of the slots shows it (None otherwise)."""
        return self.videos.get(identity) if identity in self.video_slots.values() else None

    def screen_of(self, identity: str) -> VideoSink | None:
        """What this side decodes of `identity`'s screen share while one of the slots shows it (None otherwise)."""
        return self.screens.get(identity) if identity in self.screen_slots.values() else None

    def _send_media_state(self) -> None:
        state = sig.MediaState(
            callId=self.id,
            muted=self.muted(),
            camera=self.video and self._camera_on,
            screenShare=self.video and self._screen_source is not None,
        )
        task = asyncio.ensure_future(self.client.send(state))
        self._state_sends.add(task)
        task.add_done_callback(self._state_sends.discard)

    async def leave(self) -> None:
        await self.client.send(sig.LeaveRoom(callId=self.id))
        await self.on_hangup("NORMAL_HANGUP")

    async def hangup(self) -> None:
        await self.leave()

    def on_participant(self, event: ParticipantEvent) -> None:
        identity = event.participant.identity
        match event:
            case sig.ParticipantJoined():
                self.participants[identity] = event.participant
            case sig.ParticipantLeft():
                self.participants.pop(identity, None)
                self.talking.discard(identity)
            case sig.ParticipantTalking():
                (self.talking.add if event.talking else self.talking.discard)(identity)
            case sig.ParticipantMediaChanged():
                self.participants[identity] = event.participant
        self.events.put_nowait(event)

    def on_video_slots(self, message: sig.VideoSlots) -> None:
        self.video_slots = {slot.mid: slot.identity if slot.source == "camera" else None for slot in message.slots}
        self.screen_slots = {s.mid: s.identity for s in message.slots if s.source == "screen" and s.identity}
        self.events.put_nowait(message)

    # --- the video slots of each media session ---------------------------------------------------------

    def on_joined(self, video_source: MediaStreamTrack | None, video_slots: int) -> None:
        """The node seated us (again): joined with video when there is a `video_source`."""
        if video_source is not None:
            self.video, self.video_source, self._camera_on = True, video_source, True
        self.video_slot_count = video_slots

    def _configuration(self) -> RTCConfiguration:
        configuration = super()._configuration()
        if self.video:  # aiortc's balanced bundling drops every video section after the second
            configuration.bundlePolicy = RTCBundlePolicy.MAX_BUNDLE
        return configuration

    def _prepare_media(self, pc: RTCPeerConnection) -> None:
        for task in self._watching:
            task.cancel()
        self.video_slots, self.screen_slots = {}, {}
        if not self.video:
            return
        if not self._camera_on and self._video_sender is not None:
            self._video_sender.replaceTrack(None)  # type: ignore[attr-defined]  # the camera stays off
        screen = pc.addTransceiver(self._screen_source or "video", direction="sendonly")
        self._screen_sender = screen.sender
        self._slot_transceivers = [
            pc.addTransceiver("video", direction="recvonly") for _ in range(self.video_slot_count)
        ]

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            slot = next((t for t in self._slot_transceivers if t.receiver.track is track), None)
            if slot is not None and slot.mid is not None:
                task = asyncio.ensure_future(self._watch(slot.mid, track))
                self._watching.add(task)
                task.add_done_callback(self._watching.discard)

    async def _watch(self, mid: str, track: MediaStreamTrack) -> None:
        """Decode one slot; each frame counts for whoever the slot shows now."""
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                self.slot_frames[mid] = self.slot_frames.get(mid, 0) + 1
                if not isinstance(frame, VideoFrame):
                    continue
                if (identity := self.video_slots.get(mid)) is not None:
                    self.videos.setdefault(identity, VideoSink()).take(frame)
                elif (identity := self.screen_slots.get(mid)) is not None:
                    self.screens.setdefault(identity, VideoSink()).take(frame)

    async def close_media(self) -> None:
        for task in list(self._watching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().close_media()
