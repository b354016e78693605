"""A call as the SDK sees it: state, awaitables for its milestones, and its media session (WHIP to the node).

In a 1:1 call each side tells the node what it sends (muted, camera, screen share) and hears what the other sends;
the changes arrive as `CallEvent`s named as in Infobip's `infobip-rtc` ("remote-muted", "remote-screen-share-added",
...) on `call_events` and to `on(name, handler)`. A shared screen goes out in the camera's place, on the call's one
video: "remote-screen-share-added" carries the same received track as the camera's did. When the signalling
connection drops, an established 1:1 call goes on (its media never used that connection): "reconnecting", then
"reconnected" once the client has reconnected and resumed it; the other side hears "remote-disconnected" and
"remote-reconnected".
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from chalicelib.contract import signalling as sig
from switchboard_rtc.audio import AudioSink, MutableAudio, ToneSource
from switchboard_rtc.video import ColorSource, VideoSink

if TYPE_CHECKING:
    from switchboard_rtc.client import RtcClient


class CallEnded(Exception):
    def __init__(self, error_code: str) -> None:
        super().__init__(error_code)
        self.error_code = error_code


@dataclass(frozen=True)
class CallEvent:
    """Something that happened to a call, named as in `infobip-rtc`: "remote-muted", "remote-unmuted",
    "remote-camera-video-added" / "-removed", "remote-screen-share-added" / "-removed" (`track`: the received video),
    "remote-disconnected", "remote-reconnected", "reconnecting", "reconnected"."""

    name: str
    track: MediaStreamTrack | None = None


class Call:
    # what the other side of a 1:1 call sends changes with `remote_media`; a room's far end is everyone (see RoomCall)
    FOLLOWS_REMOTE_MEDIA = True

    def __init__(
        self,
        client: RtcClient,
        call_id: str,
        peer: str,
        *,
        incoming: bool,
        video: bool = False,
        peer_display_name: str | None = None,
    ) -> None:
        self.client = client
        self.id = call_id
        self.peer = peer
        self.peer_display_name = peer_display_name
        self.incoming = incoming
        self.video = video
        self.calls_configuration_id: str | None = None  # an application's call (the Calls API placed it)
        self.custom_data: dict[str, str] | None = None
        self.state = "RINGING" if incoming else "CALLING"
        self.error_code: str | None = None
        self.audio_source: MediaStreamTrack | None = None
        self.audio_sink: AudioSink | None = None
        self.video_source: MediaStreamTrack | None = None
        self.video_sink: VideoSink | None = None
        self.pc: RTCPeerConnection | None = None
        self._audio: MutableAudio | None = None
        self.network_quality: str | None = None
        self.remote_network_quality: str | None = None
        self.quality_changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()  # ("local"|"remote", level)
        self.messages: asyncio.Queue[sig.DataMessage] = asyncio.Queue()
        self.broadcasts: asyncio.Queue[sig.BroadcastText] = asyncio.Queue()  # text the application broadcast
        self._deliveries: dict[str, asyncio.Future[sig.DataDelivered]] = {}
        self._video_sender: object | None = None
        self._camera_on = video
        self._screen: MediaStreamTrack | None = None  # shared in the camera's place
        self.peer_is_identity = False  # a 1:1 call with another identity (it survives a signalling drop)
        self.remote_muted = False
        self.remote_camera = video
        self.remote_screen_share = False
        self.remote_connected = True
        self.remote_video: MediaStreamTrack | None = None  # the other side's camera or screen, as received
        self._remote_shown: str | None = None  # "camera-video" | "screen-share": what the events said it shows
        self.call_events: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._call_handlers: dict[str, list[Callable[[CallEvent], Any]]] = {}
        self._background: set[asyncio.Future[Any]] = set()
        self._hangup_when_resumed = False
        self._ringing = asyncio.Event()
        self._established = asyncio.Event()
        self._media_connected = asyncio.Event()
        self._ended = asyncio.Event()

    # --- what the application does --------------------------------------------------------------------

    async def accept(
        self,
        audio_source: MediaStreamTrack | None = None,
        audio_sink: AudioSink | None = None,
        video_source: MediaStreamTrack | None = None,
        video_sink: VideoSink | None = None,
        recording_type: sig.SdkRecordingType | None = None,
    ) -> None:
        """Answer. `recording_type`: what this side asks to be recorded, as for `call_webrtc` (1:1 calls only)."""
        options = None if recording_type is None else sig.RecordingOptions(recordingType=recording_type)
        self.audio_source, self.audio_sink = audio_source, audio_sink
        self.video_source, self.video_sink = video_source, video_sink
        await self.client.send(sig.Accept(callId=self.id, recordingOptions=options))

    def send_dtmf(self, digits: str) -> None:
        """Press `digits` (0-9, *, #, A-D): sent as in-band tones, which the node detects."""
        if self._audio is None:
            raise RuntimeError("the call has no media yet")
        self._audio.send_dtmf(digits)

    def mute(self, muted: bool = True) -> None:
        """Stop (or resume) sending audio: the far end hears silence (and, in a 1:1 call, "remote-muted")."""
        if self._audio is None:
            raise RuntimeError("the call has no media yet")
        self._audio.muted = muted
        self._send_media_state()

    def muted(self) -> bool:
        return self._audio is not None and self._audio.muted

    def camera_video(self, source: MediaStreamTrack | None) -> None:
        """Send video from `source`, or none (camera off) — on the video the call negotiated. While the screen is
        shared, the camera waits for its turn."""
        if self._video_sender is None:
            raise RuntimeError("the call did not negotiate video")
        if self._screen is None:
            self._video_sender.replaceTrack(source)  # type: ignore[attr-defined]
        self.video_source = source
        self._camera_on = source is not None
        self._send_media_state()

    def screen_share(self, source: MediaStreamTrack | None) -> None:
        """Share a screen from `source` in the camera's place, or stop (None) and send the camera again (if on). The
        other side gets "remote-screen-share-added" on the video it receives. The call must have video."""
        if self._video_sender is None:
            raise RuntimeError("screen share needs a call with video")
        self._screen = source
        camera = self.video_source if self._camera_on else None
        self._video_sender.replaceTrack(source or camera)  # type: ignore[attr-defined]
        self._send_media_state()

    def has_screen_share(self) -> bool:
        return self._screen is not None

    def on(self, event: str, handler: Callable[[CallEvent], Any]) -> None:
        """Call `handler` (a function or a coroutine function) with each `CallEvent` named `event`."""
        self._call_handlers.setdefault(event, []).append(handler)

    async def next_event(self, *names: str, timeout: float = 10) -> CallEvent:
        """The next call event (of `names`, when given), skipping others."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.call_events.get()
                if not names or event.name in names:
                    return event

    def _event(self, name: str, track: MediaStreamTrack | None = None) -> None:
        event = CallEvent(name, track)
        self.call_events.put_nowait(event)
        for handler in self._call_handlers.get(name, []):
            result = handler(event)
            if asyncio.iscoroutine(result):
                self._in_background(result)

    def _in_background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _send_media_state(self) -> None:
        """Tell the node what this side sends now (the other side of a 1:1 call hears about it)."""
        if self.is_ended or self.client.ws.closed:
            return  # after a reconnect, the call's state goes again with the next change
        state = sig.MediaState(
            callId=self.id,
            muted=self.muted(),
            camera=self.video and self._camera_on,
            screenShare=self.video and self._screen is not None,
        )
        self._in_background(self.client.send(state))

    async def decline(self) -> None:
        await self.client.send(sig.Decline(callId=self.id))

    async def hangup(self) -> None:
        """End the call. While the client reconnects, the node hears it once the call is resumed."""
        if self.client.ws.closed and self.peer_is_identity and not self.is_ended:
            self._hangup_when_resumed = True
            return
        await self.client.send(sig.Hangup(callId=self.id))

    async def ringing(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self._wait(self._ringing), timeout)

    async def established(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self._wait(self._established), timeout)

    async def media_connected(self, timeout: float = 15) -> None:
        await asyncio.wait_for(self._wait(self._media_connected), timeout)

    async def ended(self, timeout: float = 10) -> str:
        await asyncio.wait_for(self._ended.wait(), timeout)
        assert self.error_code is not None
        return self.error_code

    async def wait_ended(self) -> None:
        await self._ended.wait()

    async def _wait(self, milestone: asyncio.Event) -> None:
        waiter = asyncio.ensure_future(milestone.wait())
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({waiter, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            ended.cancel()
        if not milestone.is_set():
            raise CallEnded(self.error_code or "UNKNOWN")

    # --- what the node tells us -----------------------------------------------------------------------

    def on_ringing(self) -> None:
        self.state = "RINGING"
        self._ringing.set()

    def on_established(self) -> None:
        self.state = "ESTABLISHED"
        self._established.set()

    def on_remote_media(self, message: sig.RemoteMedia) -> None:
        """The other side of a 1:1 call now sends this: announce what changed."""
        if message.muted != self.remote_muted:
            self.remote_muted = message.muted
            self._event("remote-muted" if message.muted else "remote-unmuted")
        self.remote_camera, self.remote_screen_share = message.camera, message.screenShare
        self._show_remote_video()

    def _show_remote_video(self) -> None:
        """Announce what the received video shows now (the other side's camera, its screen, or nothing)."""
        if self.remote_video is None or self.is_ended:
            return
        shown = "screen-share" if self.remote_screen_share else "camera-video" if self.remote_camera else None
        if shown == self._remote_shown:
            return
        if self._remote_shown is not None:
            self._event(f"remote-{self._remote_shown}-removed")
        self._remote_shown = shown
        if shown is not None:
            self._event(f"remote-{shown}-added", self.remote_video)

    def on_remote_connection(self, connected: bool) -> None:
        if connected != self.remote_connected:
            self.remote_connected = connected
            self._event("remote-reconnected" if connected else "remote-disconnected")

    def on_reconnecting(self) -> None:
        self._event("reconnecting")

    def on_resumed(self) -> None:
        if self._hangup_when_resumed:
            self._in_background(self.client.send(sig.Hangup(callId=self.id)))
            return
        self._event("reconnected")
        self._send_media_state()  # what changed while the connection was down

    @property
    def is_ended(self) -> bool:
        return self._ended.is_set()

    def media_lost(self) -> None:
        """The connection dropped: media is down until a new media session connects."""
        self._media_connected.clear()

    async def on_media(self, message: sig.Media) -> None:
        if self.pc is not None:  # a new media session (after a reconnect): the old one is gone
            with contextlib.suppress(Exception):
                await self.pc.close()
            self._media_connected.clear()
        else:  # a video call starts with the cameras on (until a side says otherwise)
            self._camera_on = self.remote_camera = self.video
        self.pc = RTCPeerConnection(self._configuration())
        was_muted = self._audio is not None and self._audio.muted
        self._audio = MutableAudio(self.audio_source or ToneSource(0))
        self._audio.muted = was_muted
        self.pc.addTransceiver(self._audio, direction="sendrecv")
        if self.video:
            if self.video_source is None:
                self.video_source = ColorSource()
            self._video_sender = self.pc.addTransceiver(self.video_source, direction="sendrecv").sender
        self._prepare_media(self.pc)

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio" and self.audio_sink is not None:
                self.audio_sink.consume(track)
            elif track.kind == "video" and self.video_sink is not None:
                self.video_sink.consume(track)
            if track.kind == "video" and self.FOLLOWS_REMOTE_MEDIA:
                self.remote_video = track
                self._show_remote_video()

        @self.pc.on("connectionstatechange")
        def on_state() -> None:
            if self.pc is not None and self.pc.connectionState == "connected":
                self._media_connected.set()

        await self.pc.setLocalDescription(await self.pc.createOffer())
        headers = {"Authorization": f"Bearer {message.ticket}", "Content-Type": "application/sdp"}
        async with self.client.http.post(message.whipUrl, data=self.pc.localDescription.sdp, headers=headers) as r:
            if r.status != 201:
                raise aiohttp.ClientResponseError(r.request_info, r.history, status=r.status, message=await r.text())
            answer = await r.text()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    def _configuration(self) -> RTCConfiguration:
        return RTCConfiguration(iceServers=[RTCIceServer(**s) for s in self.client.ice_servers])

    def _prepare_media(self, pc: RTCPeerConnection) -> None:
        """What a kind of call adds to a new media session before its offer (a room: its video slots)."""

    async def send_text(self, text: str, to: str | None = None, timeout: float = 10) -> str:
        """Send text over the call (to the other party, or to `to`); returns the recipient once it has the text
        (`to` in a room, where a broadcast returns "": `deliver` tells who got it). Raises RtcError when the node
        refuses it (e.g. UNKNOWN_PARTICIPANT, BAD_MESSAGE for text over 4096 characters), TimeoutError without an
        answer."""
        return (await self.deliver(text, to, timeout)).to or ""

    async def deliver(self, text: str, to: str | None = None, timeout: float = 10) -> sig.DataDelivered:
        """As `send_text`, returning the node's acknowledgement: in a room, `recipients` who acknowledged the text
        (everyone else, or `to`'s devices) and `delivered` false when nobody did (e.g. the room was empty)."""
        message_id = uuid.uuid4().hex
        delivered: asyncio.Future[sig.DataDelivered] = asyncio.get_running_loop().create_future()
        self._deliveries[message_id] = delivered
        try:
            await self.client.send(sig.SendData(callId=self.id, messageId=message_id, text=text, to=to))
            return await asyncio.wait_for(delivered, timeout)
        finally:
            self._deliveries.pop(message_id, None)

    async def on_data(self, message: sig.DataMessage) -> None:
        await self.messages.put(message)
        await self.client.send(sig.DataReceived(callId=self.id, messageId=message.messageId))

    def on_delivered(self, message: sig.DataDelivered) -> None:
        future = self._deliveries.get(message.messageId)
        if future is not None and not future.done():
            future.set_result(message)

    def on_broadcast(self, message: sig.BroadcastText) -> None:
        self.broadcasts.put_nowait(message)

    def fail_delivery(self, message_id: str, error: Exception) -> bool:
        future = self._deliveries.get(message_id)
        if future is None or future.done():
            return False
        future.set_exception(error)
        return True

    def on_network_quality(self, level: str, remote: bool) -> None:
        if remote:
            self.remote_network_quality = level
        else:
            self.network_quality = level
        self.quality_changes.put_nowait(("remote" if remote else "local", level))

    async def on_hangup(self, error_code: str) -> None:
        self.state = "FINISHED" if self._established.is_set() else error_code
        self.error_code = error_code
        self._ended.set()
        await self.close_media()

    async def close_media(self) -> None:
        if self.audio_sink is not None:
            await self.audio_sink.stop()
        if self.video_sink is not None:
            await self.video_sink.stop()
        if self.pc is not None:
            with contextlib.suppress(Exception):
                await self.pc.close()
