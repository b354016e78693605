"""One signalling websocket: authenticate with a WebRTC token, register presence, translate messages to the call
manager and back. Bad frames get an `error` message; the session (and every other) keeps going."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ValidationError

from chalicelib.contract import CONTRACT_VERSION
from chalicelib.contract import signalling as sig
from chalicelib.contract.tokens import TokenError, verify
from switchboard_media.applications import ApplicationCalls
from switchboard_media.calls import CallError, CallManager
from switchboard_media.conferences import Conferences
from switchboard_media.dialogs import Dialogs
from switchboard_media.presence import Presence
from switchboard_media.remote_calls import RemoteCalls
from switchboard_media.rooms import RoomManager

log = logging.getLogger(__name__)
HELLO_TIMEOUT_SECONDS = 10
HARD_FRAME_LIMIT = 1024 * 1024  # above this aiohttp closes the socket; below it, big frames get an error


OUTBOX_LIMIT = 256


@dataclass(frozen=True)
class Managers:
    """What a signalling session's messages (and the control API's requests) go to: 1:1 calls, rooms, application
    calls and the conferences and dialogs they are in."""

    calls: CallManager
    rooms: RoomManager
    applications: ApplicationCalls
    conferences: Conferences
    dialogs: Dialogs
    remote: RemoteCalls | None = None  # 1:1 calls whose anchor is another node (their callee's messages go there)

    def of_call(self, call_id: str) -> CallManager | ApplicationCalls:
        return self.applications if self.applications.owns(call_id) else self.calls


class SignallingSession:
    """A registered device. Messages to it go through its own queue and writer task, so call control never waits on
    one client's socket; a client that stops reading is disconnected when its queue fills."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        account_id: str,
        identity: str,
        display_name: str | None,
        recording: str | None = None,
    ) -> None:
        self.ws = ws
        self.account_id = account_id
        self.identity = identity
        self.display_name = display_name
        self.recording = recording  # the token's recording capability (the WebRTC recording rules read it)
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(OUTBOX_LIMIT)
        self._writer = asyncio.ensure_future(self._write())

    async def send(self, message: object) -> None:
        assert isinstance(message, BaseModel)
        if self.ws.closed:
            return
        try:
            self._outbox.put_nowait(message.model_dump_json(by_alias=True, exclude_none=True))
        except asyncio.QueueFull:
            log.warning("disconnecting %s: it stopped reading its messages", self.identity)
            self._writer.cancel()
            await self.ws.close(code=4408, message=b"too slow")

    async def _write(self) -> None:
        while (text := await self._outbox.get()) is not None:
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        """Let queued messages go out, then stop the writer."""
        if not self._writer.done():
            self._outbox.put_nowait(None)
            try:
                await asyncio.wait_for(asyncio.shield(self._writer), 2)
            except TimeoutError:
                self._writer.cancel()


async def _error(ws: web.WebSocketResponse, code: str, text: str, request_id: str | None = None) -> None:
    if not ws.closed:
        await ws.send_str(sig.Error(code=code, text=text, requestId=request_id).model_dump_json(exclude_none=True))


async def _authenticate(ws: web.WebSocketResponse, token_key: bytes) -> tuple[str, str, str | None, str | None] | None:
    try:
        frame = await ws.receive(timeout=HELLO_TIMEOUT_SECONDS)
    except TimeoutError:
        await _error(ws, "UNAUTHENTICATED", "send hello with a token first")
        return None
    if frame.type != WSMsgType.TEXT:
        await _error(ws, "UNAUTHENTICATED", "send hello with a token first")
        return None
    try:
        hello = sig.CLIENT_MESSAGE.validate_json(frame.data)
        if not isinstance(hello, sig.Hello):
            raise ValueError("not hello")
        claims = verify(hello.token, token_key, now=time.time())
    except TokenError as error:
        await _error(ws, "UNAUTHENTICATED", str(error))
        return None
    except (ValidationError, ValueError):
        await _error(ws, "UNAUTHENTICATED", "the first message must be hello with a token")
        return None
    return claims.acc, claims.identity, claims.name, claims.rec


async def handle(
    request: web.Request, presence: Presence, managers: Managers, token_key: bytes, node_id: str
) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=HARD_FRAME_LIMIT)
    await ws.prepare(request)
    identity = await _authenticate(ws, token_key)
    if identity is None:
        await ws.close(code=4401, message=b"unauthenticated")
        return ws
    session = SignallingSession(ws, *identity)
    presence.add(session)
    await session.send(sig.Registered(identity=session.identity, nodeId=node_id, version=CONTRACT_VERSION))
    try:
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                # shielded: aiohttp cancels this handler when the client goes away, and a call operation must
                # never stop half-way because one party disconnected
                await asyncio.shield(_dispatch(session, frame.data, managers))
            elif frame.type == WSMsgType.BINARY:
                await _error(ws, "BAD_MESSAGE", "binary frames are not part of the protocol")
    finally:
        presence.remove(session)
        await asyncio.shield(_cleanup(session, managers))
    return ws


async def _cleanup(session: SignallingSession, managers: Managers) -> None:
    try:
        if managers.remote is not None:
            await managers.remote.session_closed(session)
        await managers.calls.session_closed(session)
        await managers.applications.session_closed(session)
        await managers.rooms.session_closed(session)
    finally:
        await session.close()


def _first_problem(error: ValidationError) -> str:
    problem = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in problem["loc"][1:])  # after the message type
    return f"{where}: {problem['msg']}"[:200] if where else problem["msg"][:200]


def _request_id_of(data: str) -> str | None:
    """The request (or message) id of a frame that is not a valid message, when it has a usable one: the client
    can then tell which of its requests was refused (e.g. a text that is too long)."""
    try:
        frame = json.loads(data)
    except ValueError:
        return None
    found = frame.get("requestId", frame.get("messageId")) if isinstance(frame, dict) else None
    return found if isinstance(found, str) and 0 < len(found) <= 64 else None


async def _dispatch(session: SignallingSession, data: str, managers: Managers) -> None:
    if len(data) > sig.MAX_FRAME_BYTES:
        await _error(session.ws, "MESSAGE_TOO_LARGE", f"frames are limited to {sig.MAX_FRAME_BYTES} bytes")
        return
    try:
        message = sig.CLIENT_MESSAGE.validate_json(data)
    except ValidationError as error:
        await _error(session.ws, "BAD_MESSAGE", _first_problem(error), _request_id_of(data))
        return
    request_id = getattr(message, "requestId", None) or getattr(message, "messageId", None)
    try:
        calls, rooms = managers.calls, managers.rooms
        if managers.remote is not None and managers.remote.hosts(session, message):
            await managers.remote.relay(session, message)  # a call anchored on another node
            return
        match message:
            case sig.Call():
                await calls.place(session, message)
            case sig.CallApplication():
                await managers.applications.call_application(session, message)
            case sig.Accept() if managers.applications.owns(message.callId):
                await managers.applications.accept(session, message.callId)
            case sig.Accept():
                options = message.recordingOptions
                await calls.accept(session, message.callId, options.recordingType if options else "UNDEFINED")
            case sig.Decline():
                await managers.of_call(message.callId).decline(session, message.callId)
            case sig.Hangup():
                await managers.of_call(message.callId).hangup(session, message.callId)
            case sig.JoinRoom():
                await rooms.join(session, message)
            case sig.RejoinRoom():
                await rooms.rejoin(session, message)
            case sig.MediaState() if rooms.has_leg(message.callId):
                await rooms.media_state(session, message)
            case sig.MediaState() if managers.applications.owns(message.callId):
                pass  # an application's call: nobody on the other side hears about it
            case sig.MediaState():
                await calls.media_state(session, message)
            case sig.ResumeCall():
                await calls.resume(session, message)
            case sig.LeaveRoom():
                await rooms.leave(session, message.callId)
            case sig.SendData():
                await (rooms if rooms.has_leg(message.callId) else calls).send_data(session, message)
            case sig.DataReceived():
                await (rooms if rooms.has_leg(message.callId) else calls).data_received(session, message)
            case sig.Ping():
                await session.send(sig.Pong())
            case sig.Hello():
                await _error(session.ws, "BAD_MESSAGE", "already registered")
    except CallError as error:
        await _error(session.ws, error.code, error.text, request_id)
    except Exception:
        log.exception("signalling request failed")
        await _error(session.ws, "INTERNAL_ERROR", "the request could not be completed", request_id)
