"""The connection to a media node: presence of one identity (one device), calls out and in."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from aiortc.mediastreams import MediaStreamTrack
from pydantic import BaseModel, ValidationError

from chalicelib.contract import signalling as sig
from chalicelib.contract.tokens import unverified_claims
from switchboard_rtc.audio import AudioSink
from switchboard_rtc.call import Call
from switchboard_rtc.room import RoomCall
from switchboard_rtc.video import ColorSource, VideoSink

log = logging.getLogger(__name__)


class RtcError(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, text


class RtcClient:
    """One device's connection. If the connection drops, it reconnects by itself (RECONNECT_ATTEMPTS, backing off),
    takes back its room seats (with new media) and resumes its established 1:1 calls (their media never stopped;
    the node waits SWITCHBOARD_MEDIA_CALL_RECONNECT_GRACE_SECONDS for them). Calls still ringing end (NETWORK_ERROR)."""

    RECONNECT_ATTEMPTS = 20

    def __init__(
        self,
        http: aiohttp.ClientSession,
        ws: aiohttp.ClientWebSocketResponse,
        identity: str,
        ice_servers: list[dict[str, Any]],
        node_url: str,
        token: str,
    ) -> None:
        self.http = http
        self.ws = ws
        self.identity = identity
        self.ice_servers = ice_servers
        self.node_url = node_url
        self.token = token
        self.calls: dict[str, Call] = {}
        self.incoming_calls: asyncio.Queue[Call] = asyncio.Queue()
        self.errors: asyncio.Queue[sig.Error] = asyncio.Queue()
        self._handlers: dict[str, list[Callable[[Any], Any]]] = {}
        self._pending: dict[str, asyncio.Future[str]] = {}
        self._room_media: dict[str, tuple[MediaStreamTrack | None, AudioSink | None, MediaStreamTrack | None]] = {}
        self._request_ids = (str(n) for n in itertools.count(1))
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._reader = asyncio.ensure_future(self._read())

    @staticmethod
    async def _open(
        http: aiohttp.ClientSession, node_url: str, token: str, timeout: float
    ) -> tuple[aiohttp.ClientWebSocketResponse, sig.Registered]:
        ws = await http.ws_connect(node_url.rstrip("/").replace("http", "ws", 1) + "/ws", heartbeat=20)
        await ws.send_str(sig.Hello(token=token).model_dump_json())
        first = sig.NODE_MESSAGE.validate_json((await ws.receive(timeout=timeout)).data)
        if isinstance(first, sig.Error):
            await ws.close()
            raise RtcError(first.code, first.text)
        assert isinstance(first, sig.Registered)
        return ws, first

    @classmethod
    async def connect(
        cls, node_url: str | None, token: str, ice_servers: list[dict[str, Any]] | None = None, timeout: float = 10
    ) -> RtcClient:
        """Connect to `node_url`, or (None) to the node the token names in its `location` claim."""
        if node_url is None:
            node_url = unverified_claims(token).location
            if node_url is None:
                raise RtcError("NO_MEDIA_NODE", "the token names no media node; pass node_url")
        http = aiohttp.ClientSession()
        try:
            ws, registered = await cls._open(http, node_url, token, timeout)
        except BaseException:
            await http.close()
            raise
        return cls(http, ws, registered.identity, ice_servers or [], node_url, token)

    async def _reconnect(self) -> None:
        for call in self.calls.values():
            if isinstance(call, RoomCall):
                call.media_lost()
            elif self._resumable(call):
                call.on_reconnecting()
        await self._emit("reconnecting", None)
        for attempt in range(self.RECONNECT_ATTEMPTS):
            await asyncio.sleep(min(0.25 * 2**attempt, 2.0))
            try:
                self.ws, _ = await self._open(self.http, self.node_url, self.token, timeout=5)
            except (aiohttp.ClientError, RtcError, TimeoutError, OSError):
                continue
            self._reader = asyncio.ensure_future(self._read())
            for call in list(self.calls.values()):
                if isinstance(call, RoomCall) and not call.is_ended:
                    await self._rejoin(call)
                elif self._resumable(call):
                    await self._resume(call)
                elif not call.is_ended:
                    await call.on_hangup("NETWORK_ERROR")
            await self._emit("reconnected", None)
            return
        for call in list(self.calls.values()):
            await call.on_hangup("NETWORK_ERROR")
        await self._emit("disconnected", None)

    async def _rejoin(self, room: RoomCall, timeout: float = 10) -> None:
        request_id = next(self._request_ids)
        rejoined: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = rejoined
        await self.send(sig.RejoinRoom(requestId=request_id, callId=room.id))
        try:
            await asyncio.wait_for(rejoined, timeout)
        except (RtcError, TimeoutError):
            await room.on_hangup("NETWORK_ERROR")
        finally:
            self._pending.pop(request_id, None)

    @staticmethod
    def _resumable(call: Call) -> bool:
        return call.peer_is_identity and call.state == "ESTABLISHED" and not call.is_ended

    async def _resume(self, call: Call, timeout: float = 10) -> None:
        """Take back the control of an established 1:1 call; it ends (NETWORK_ERROR) if the node no longer has it."""
        request_id = next(self._request_ids)
        resumed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = resumed
        ended = asyncio.ensure_future(call.wait_ended())  # the node may say how it ended while we were away
        try:
            await self.send(sig.ResumeCall(requestId=request_id, callId=call.id))
            either: set[asyncio.Future[Any]] = {resumed, ended}
            await asyncio.wait(either, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if resumed.done() and resumed.exception() is None:
                call.on_resumed()
            elif not call.is_ended:
                await call.on_hangup("NETWORK_ERROR")
        finally:
            ended.cancel()
            self._pending.pop(request_id, None)

    def on(self, event: str, handler: Callable[[Any], Any]) -> None:
        """Events: "incoming_call" (Call), "error" (sig.Error)."""
        self._handlers.setdefault(event, []).append(handler)

    async def send(self, message: BaseModel) -> None:
        await self.ws.send_str(message.model_dump_json(by_alias=True))

    async def call_webrtc(
        self,
        identity: str,
        audio_source: MediaStreamTrack | None = None,
        audio_sink: AudioSink | None = None,
        video: bool = False,
        video_source: MediaStreamTrack | None = None,
        video_sink: VideoSink | None = None,
        timeout: float = 10,
        recording_type: sig.SdkRecordingType | None = None,
    ) -> Call:
        """Call another identity. `recording_type` (UNDEFINED | AUDIO | AUDIO_AND_VIDEO): Infobip's
        `recordingOptions.recordingType`, what this side asks to be recorded (the token and the account decide)."""
        request_id = next(self._request_ids)
        options = None if recording_type is None else sig.RecordingOptions(recordingType=recording_type)
        message = sig.Call(requestId=request_id, to=identity, video=video, recordingOptions=options)
        call = await self._start(message, identity, audio_source, audio_sink, video, video_source, video_sink, timeout)
        call.peer_is_identity = True
        return call

    async def call_application(
        self,
        calls_configuration_id: str,
        audio_source: MediaStreamTrack | None = None,
        audio_sink: AudioSink | None = None,
        video: bool = False,
        custom_data: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Call:
        """Call an application: it receives CALL_RECEIVED and answers (or not) through the Calls API."""
        request_id = next(self._request_ids)
        message = sig.CallApplication(
            requestId=request_id, callsConfigurationId=calls_configuration_id, video=video, customData=custom_data
        )
        return await self._start(message, calls_configuration_id, audio_source, audio_sink, video, None, None, timeout)

    async def _start(
        self,
        message: sig.Call | sig.CallApplication,
        peer: str,
        audio_source: MediaStreamTrack | None,
        audio_sink: AudioSink | None,
        video: bool,
        video_source: MediaStreamTrack | None,
        video_sink: VideoSink | None,
        timeout: float,
    ) -> Call:
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending[message.requestId] = started
        await self.send(message)
        try:
            call_id = await asyncio.wait_for(started, timeout)
        finally:
            self._pending.pop(message.requestId, None)
        call = self.calls[call_id]
        call.peer = peer
        call.video = video
        call.audio_source, call.audio_sink = audio_source, audio_sink
        call.video_source, call.video_sink = video_source, video_sink
        return call

    async def join_room(
        self,
        room: str,
        audio_source: MediaStreamTrack | None = None,
        audio_sink: AudioSink | None = None,
        timeout: float = 10,
        video: bool = False,
        video_source: MediaStreamTrack | None = None,
    ) -> RoomCall:
        """Join (or open) a room: you hear everyone else in it, they hear you. With `video`, the others see your
        camera (`video_source`, a colour by default) and you decode theirs: `room.video_of(identity)`."""
        request_id = next(self._request_ids)
        joined: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = joined
        camera = (video_source or ColorSource()) if video else None
        self._room_media[request_id] = (audio_source, audio_sink, camera)
        await self.send(sig.JoinRoom(requestId=request_id, room=room, video=video))
        try:
            call_id = await asyncio.wait_for(joined, timeout)
        finally:
            self._pending.pop(request_id, None)
            self._room_media.pop(request_id, None)
        call = self.calls[call_id]
        assert isinstance(call, RoomCall)
        return call

    async def close(self) -> None:
        """Hang up (or leave) what is still going, then disconnect."""
        self._closing = True
        for call in list(self.calls.values()):
            if not call.is_ended and not self.ws.closed:
                with contextlib.suppress(Exception):
                    await call.hangup()
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        for call in list(self.calls.values()):
            await call.close_media()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.ws.close()
        await self.http.close()

    async def _emit(self, event: str, payload: Any) -> None:
        for handler in self._handlers.get(event, []):
            result = handler(payload)
            if asyncio.iscoroutine(result):
                await result

    async def _read(self) -> None:
        ws = self.ws
        try:
            await self._read_frames(ws)
        finally:
            if not self._closing and ws is self.ws:
                self._reconnecting = asyncio.ensure_future(self._reconnect())

    async def _read_frames(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                message = sig.NODE_MESSAGE.validate_json(frame.data)
            except ValidationError:
                log.warning("ignored an unknown message from the node: %s", frame.data[:200])
                continue
            try:
                await self._handle(message)
            except Exception:
                log.exception("handling %s failed", message.type)

    async def _handle(self, message: BaseModel) -> None:
        match message:
            case sig.CallStarted():
                self.calls[message.callId] = Call(self, message.callId, "", incoming=False)
                future = self._pending.get(message.requestId)
                if future is not None and not future.done():
                    future.set_result(message.callId)
            case sig.IncomingCall():
                call = Call(
                    self,
                    message.callId,
                    message.from_,
                    incoming=True,
                    video=message.video,
                    peer_display_name=message.fromDisplayName,
                )
                call.calls_configuration_id = message.callsConfigurationId
                call.custom_data = message.customData
                call.peer_is_identity = message.callsConfigurationId is None
                self.calls[call.id] = call
                await self.incoming_calls.put(call)
                await self._emit("incoming_call", call)
            case sig.Ringing():
                self._call(message.callId).on_ringing()
            case sig.Established():
                self._call(message.callId).on_established()
            case sig.Media():
                await self._call(message.callId).on_media(message)
            case sig.AnsweredElsewhere():
                await self._call(message.callId).on_hangup("ANSWERED_ELSEWHERE")
            case sig.HungUp():
                await self._call(message.callId).on_hangup(message.errorCode)
            case sig.RoomJoined():
                existing = self.calls.get(message.callId)
                if isinstance(existing, RoomCall):  # our seat, taken back after a reconnect
                    existing.participants = {p.identity: p for p in message.participants}
                    existing.on_joined(None, message.videoSlots)
                else:
                    room = RoomCall(self, message.callId, message.room, list(message.participants))
                    room.audio_source, room.audio_sink, camera = self._room_media.get(
                        message.requestId, (None, None, None)
                    )
                    room.on_joined(camera, message.videoSlots)
                    self.calls[room.id] = room
                future = self._pending.get(message.requestId)
                if future is not None and not future.done():
                    future.set_result(message.callId)
            case (
                sig.ParticipantJoined()
                | sig.ParticipantLeft()
                | sig.ParticipantTalking()
                | sig.ParticipantMediaChanged()
            ):
                room_call = self._call(message.callId)
                assert isinstance(room_call, RoomCall)
                room_call.on_participant(message)
            case sig.VideoSlots():
                room_call = self._call(message.callId)
                assert isinstance(room_call, RoomCall)
                room_call.on_video_slots(message)
            case sig.DataMessage():
                await self._call(message.callId).on_data(message)
            case sig.DataDelivered():
                self._call(message.callId).on_delivered(message)
            case sig.BroadcastText():
                self._call(message.callId).on_broadcast(message)
            case sig.NetworkQuality():
                self._call(message.callId).on_network_quality(message.networkQuality, remote=False)
            case sig.RemoteNetworkQuality():
                self._call(message.callId).on_network_quality(message.networkQuality, remote=True)
            case sig.RemoteMedia():
                self._call(message.callId).on_remote_media(message)
            case sig.RemoteConnection():
                self._call(message.callId).on_remote_connection(message.connected)
            case sig.CallResumed():
                future = self._pending.get(message.requestId)
                if future is not None and not future.done():
                    future.set_result(message.callId)
            case sig.Error():
                error = RtcError(message.code, message.text)
                future = self._pending.get(message.requestId or "")
                if future is not None and not future.done():
                    future.set_exception(error)
                for call in self.calls.values():
                    call.fail_delivery(message.requestId or "", error)
                await self.errors.put(message)
                await self._emit("error", message)

    def _call(self, call_id: str) -> Call:
        return self.calls[call_id]
