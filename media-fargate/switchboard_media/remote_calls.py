"""1:1 calls across media nodes: the call is anchored on the caller's node; only signalling crosses nodes.

When alice (on node A) calls bob, A rings bob's devices on A *and* asks every other live node
(`chalicelib.media_nodes.service.live_nodes`) to ring bob's devices there (`chalicelib.contract.remote_calls`).
A node with devices of that identity *in the same account* rings them and answers 200; the others answer 404.

On the anchor, each node that rang is one `RemoteParty`: an object with a Session's surface (`account_id`,
`identity`, `send()`), so `CallManager` keeps one code path for answered elsewhere, timeouts, hangup, media state,
text and quality. What the call manager sends it goes (in order, off the call's lock) to that node, which hands it
to bob's devices (`deliver`). What bob's device sends about the call on its node (accept, decline, hangup,
media_state, data, data_received, resume_call) is relayed to the anchor (`relay`), which runs it as if the remote
party had sent it; a refusal comes back as the same `error` a local device would get. The `media` message carries
the anchor's absolute WHIP URL and ticket, so bob's media goes straight to A: the call records (both legs, node A)
and the media stay on the anchor.

On the callee's node a `HostedLeg` remembers which devices ring and which one answered. When they are all gone it
tells the anchor (`gone`): a ringing party stops ringing, an answered one is away (the call waits for it to resume,
like a local drop). The anchor asks each remote party's node every `watch_seconds` whether the leg is still there
(`alive`); a node that cannot be reached twice running is lost: an established call ends with NETWORK_ERROR, a
ringing one stops ringing there (DESTINATION_UNAVAILABLE if nobody else rings).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ValidationError

from chalicelib.contract import control
from chalicelib.contract import signalling as sig
from chalicelib.contract.remote_calls import (
    REMOTE_CALLS_PREFIX,
    RemoteDelivery,
    RemotePartyRef,
    RemoteRelay,
    RemoteRing,
)
from switchboard_media.calls import CallError
from switchboard_media.presence import Presence, Session

if TYPE_CHECKING:
    from switchboard_media.calls import ActiveCall, CallManager

log = logging.getLogger(__name__)

Peers = Callable[[], Awaitable[list[str]]]  # the other live nodes' internal URLs
REQUEST_TIMEOUT_SECONDS = 10.0
LEG_MESSAGES = (
    sig.Accept,
    sig.Decline,
    sig.Hangup,
    sig.MediaState,
    sig.ResumeCall,
    sig.SendData,
    sig.DataReceived,
)


def fleet_peers(node_id: str) -> Peers:
    """The registry's other live nodes (read in a thread: it is synchronous DynamoDB I/O)."""

    async def peers() -> list[str]:
        from chalicelib.media_nodes import service

        nodes = await asyncio.to_thread(service.live_nodes)
        return [node.internal_url for node in nodes if node.node_id != node_id]

    return peers


class Unreachable(Exception):
    """The other node did not answer (refused, reset, timed out)."""


class _Link:
    """Signed node-to-node requests (the control API's signature, the deployment's control key)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._http: aiohttp.ClientSession | None = None

    async def post(self, base_url: str, leg: str, action: str, body: BaseModel) -> tuple[int, dict[str, Any]]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS))
        path = f"{REMOTE_CALLS_PREFIX}/{leg}/{action}"
        data = body.model_dump_json(by_alias=True, exclude_none=True).encode()
        headers = control.signed_headers(self._key, int(time.time()), "POST", path, data)
        headers["Content-Type"] = "application/json"
        try:
            async with self._http.post(base_url.rstrip("/") + path, data=data, headers=headers) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise Unreachable(f"{base_url}: {error!r}") from error
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {}
        return response.status, answer if isinstance(answer, dict) else {}

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


class RemoteParty:
    """On the anchor: the callee's devices on another node, seen by `CallManager` as one session."""

    def __init__(self, owner: RemoteCalls, node_url: str, leg: str, account_id: str, identity: str) -> None:
        self.id = uuid.uuid4().hex
        self.node_url, self.leg = node_url, leg
        self.account_id, self.identity = account_id, identity
        self.display_name: str | None = None
        self.recording: str | None = None  # the answering device's token's recording capability
        self.answered = False  # it accepted: from now on it is the call's callee
        self._owner = owner
        self._outbox: asyncio.Queue[BaseModel | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    def start(self, watch_seconds: float) -> None:
        self._tasks = [asyncio.ensure_future(self._write()), asyncio.ensure_future(self._watch(watch_seconds))]

    async def send(self, message: object) -> None:
        assert isinstance(message, BaseModel)
        if self._closed or isinstance(message, sig.IncomingCall):
            return  # the ring request carried the incoming call
        if isinstance(message, sig.Established):
            self.answered = True
        self._outbox.put_nowait(message)
        if isinstance(message, (sig.HungUp, sig.AnsweredElsewhere)):
            self._finish()  # its last message: the call is over for this party

    def _finish(self) -> None:
        """Deliver what is queued, then stop (watching too)."""
        if not self._closed:
            self._closed = True
            self._outbox.put_nowait(None)
            if len(self._tasks) == 2:
                self._tasks[1].cancel()
            self._owner.forget(self)

    async def _write(self) -> None:
        while (message := await self._outbox.get()) is not None:
            body = RemoteDelivery(partyId=self.id, message=message.model_dump(by_alias=True, exclude_none=True))
            try:
                status, _ = await self._owner.link.post(self.node_url, self.leg, "deliver", body)
            except Unreachable as error:
                log.warning("call leg %s: %s", self.leg, error)
                status = 0
            if status != 200 and not self._closed:
                await self._lost(reachable=status != 0)

    async def _watch(self, every: float) -> None:
        failures = 0
        while True:
            await asyncio.sleep(every)
            try:
                status, _ = await self._owner.link.post(
                    self.node_url, self.leg, "alive", RemotePartyRef(partyId=self.id)
                )
            except Unreachable as error:
                failures += 1
                log.warning("call leg %s: its node did not answer (%d): %s", self.leg, failures, error)
                if failures >= 2:
                    await self._lost(reachable=False)
                    return
                continue
            failures = 0
            if status == 404:
                await self._lost(reachable=True)
                return

    async def _lost(self, reachable: bool) -> None:
        """Its node is gone (or no longer holds the leg): an answered call ends (its signalling cannot come back
        through a dead node), a ringing party stops ringing."""
        if self.answered and not reachable:
            with contextlib.suppress(CallError):
                await self._owner.calls.end_call(self.leg, "NETWORK_ERROR")
        else:
            await self.gone()

    async def gone(self) -> None:
        """Its devices all went away: like a local session that closed."""
        await self._owner.calls.session_closed(self)
        if not self.answered:
            self._finish()

    async def close(self, timeout: float = 5) -> None:
        self._finish()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), timeout)


@dataclass
class HostedLeg:
    """On the callee's node: a leg anchored elsewhere, and this node's devices that ring for it or answered it."""

    leg: str
    ring: RemoteRing
    ringing: list[Session] = field(default_factory=list)
    callee: Session | None = None  # the device that answered (None while its connection is away)
    answered: bool = False

    def mine(self, session: Session) -> bool:
        return (session.account_id, session.identity) == (self.ring.accountId, self.ring.identity)


class RemoteCalls:
    """Both roles: the anchor's remote parties, and the legs this node hosts for other anchors."""

    def __init__(self, key: bytes, presence: Presence, peers: Peers | None, watch_seconds: float = 2.0) -> None:
        self.link = _Link(key)
        self._key = key
        self._presence = presence
        self._peers = peers
        self._watch_seconds = watch_seconds
        self._calls: CallManager | None = None
        self._own_url = ""
        self._parties: dict[str, RemoteParty] = {}  # anchor side, by party id
        self._hosted: dict[str, HostedLeg] = {}  # callee side, by leg id

    def bind(self, calls: CallManager, internal_url: str) -> None:
        self._calls, self._own_url = calls, internal_url.rstrip("/")

    @property
    def calls(self) -> CallManager:
        assert self._calls is not None
        return self._calls

    # --- anchor side ----------------------------------------------------------------------------------

    async def ring(self, call: ActiveCall) -> list[Session]:
        """Ring the callee on the other live nodes; the parties of those that rang (none without a registry)."""
        if self._peers is None or self._calls is None:
            return []
        try:
            peers = await self._peers()
        except Exception:
            log.exception("could not read the live nodes; ringing this node's devices only")
            return []
        found = await asyncio.gather(*(self._ring_at(url, call) for url in peers if url.rstrip("/") != self._own_url))
        return [party for party in found if party is not None]

    async def _ring_at(self, node_url: str, call: ActiveCall) -> RemoteParty | None:
        party = RemoteParty(self, node_url, call.callee_leg, call.account_id, call.callee_identity)
        body = RemoteRing(
            partyId=party.id,
            accountId=call.account_id,
            identity=call.callee_identity,
            anchorUrl=self._own_url,
            fromIdentity=call.caller.identity,
            fromDisplayName=call.caller.display_name,
            video=call.video,
        )
        self._parties[party.id] = party  # before it rings: an answer may come back at once
        try:
            status, _ = await self.link.post(node_url, call.callee_leg, "ring", body)
        except Unreachable as error:
            log.warning("call %s: could not ring at %s", call.caller_leg, error)
            status = 0
        if status != 200:
            self._parties.pop(party.id, None)
            return None
        party.start(self._watch_seconds)
        return party

    def forget(self, party: RemoteParty) -> None:
        self._parties.pop(party.id, None)

    async def _relayed(self, leg: str, body: bytes) -> web.Response:
        relay = RemoteRelay.model_validate_json(body)
        party = self._parties.get(relay.partyId)
        if party is None or party.leg != leg:
            raise CallError("UNKNOWN_CALL", f"no remote party {relay.partyId} in call {leg}")
        message = sig.CLIENT_MESSAGE.validate_python(relay.message)
        if not isinstance(message, LEG_MESSAGES) or message.callId != leg:
            raise CallError("BAD_MESSAGE", "only the leg's own call messages are relayed")
        calls = self.calls
        match message:
            case sig.Accept():
                party.recording = relay.recording
                options = message.recordingOptions
                await calls.accept(party, leg, options.recordingType if options else "UNDEFINED")
            case sig.Decline():
                await calls.decline(party, leg)
            case sig.Hangup():
                await calls.hangup(party, leg)
            case sig.MediaState():
                await calls.media_state(party, message)
            case sig.ResumeCall():
                await calls.resume(party, message)
            case sig.SendData():
                await calls.send_data(party, message)
            case sig.DataReceived():
                await calls.data_received(party, message)
        return web.json_response({})

    async def _gone(self, leg: str, body: bytes) -> web.Response:
        party = self._parties.get(RemotePartyRef.model_validate_json(body).partyId)
        if party is None or party.leg != leg:
            raise CallError("UNKNOWN_CALL", f"no remote party in call {leg}")
        await party.gone()
        return web.json_response({})

    # --- callee side ----------------------------------------------------------------------------------

    async def _rung(self, leg: str, body: bytes) -> web.Response:
        ring = RemoteRing.model_validate_json(body)
        devices = self._presence.devices(ring.accountId, ring.identity)  # this account's devices only
        if not devices or leg in self._hosted:
            raise CallError("DESTINATION_NOT_FOUND", f"no device of {ring.identity} on this node")
        self._hosted[leg] = HostedLeg(leg, ring, ringing=devices)
        incoming = sig.IncomingCall.model_validate(
            {"callId": leg, "from": ring.fromIdentity, "fromDisplayName": ring.fromDisplayName, "video": ring.video}
        )
        await asyncio.gather(*(device.send(incoming) for device in devices))
        return web.json_response({})

    def _hosted_for(self, leg: str, body: BaseModel) -> HostedLeg:
        hosted = self._hosted.get(leg)
        if hosted is None or hosted.ring.partyId != getattr(body, "partyId", None):
            raise CallError("UNKNOWN_CALL", f"leg {leg} is not on this node")
        return hosted

    async def _delivered(self, leg: str, body: bytes) -> web.Response:
        delivery = RemoteDelivery.model_validate_json(body)
        hosted = self._hosted_for(leg, delivery)
        message = sig.NODE_MESSAGE.validate_python(delivery.message)
        targets = [hosted.callee] if hosted.answered else list(hosted.ringing)
        if isinstance(message, (sig.HungUp, sig.AnsweredElsewhere)):
            self._hosted.pop(leg, None)
        await asyncio.gather(*(target.send(message) for target in targets if target is not None))
        return web.json_response({})

    async def _alive(self, leg: str, body: bytes) -> web.Response:
        self._hosted_for(leg, RemotePartyRef.model_validate_json(body))
        return web.json_response({})

    def hosts(self, session: Session, message: object) -> bool:
        """Whether `message` from `session` is about a leg anchored on another node (and is this identity's)."""
        if not isinstance(message, LEG_MESSAGES):
            return False
        hosted = self._hosted.get(message.callId)
        return hosted is not None and hosted.mine(session)

    async def relay(self, session: Session, message: sig.AnyClientMessage) -> None:
        """Hand the callee's message to the anchor; its refusal becomes this session's CallError."""
        assert isinstance(message, LEG_MESSAGES)
        hosted = self._hosted[message.callId]
        previous = (hosted.answered, hosted.callee)
        if isinstance(message, sig.Accept):
            if hosted.answered:
                raise CallError("CALL_NOT_RINGING", "the call is no longer ringing")
            hosted.answered, hosted.callee = True, session  # what the anchor sends while it accepts goes here
        elif isinstance(message, sig.ResumeCall):
            hosted.callee = session
        elif hosted.answered and session is not hosted.callee:
            raise CallError("UNKNOWN_CALL", f"no call {message.callId} for this session")
        body = RemoteRelay(
            partyId=hosted.ring.partyId,
            message=message.model_dump(by_alias=True, exclude_none=True),
            recording=getattr(session, "recording", None),
        )
        try:
            status, answer = await self.link.post(hosted.ring.anchorUrl, hosted.leg, "relay", body)
        except Unreachable as error:
            hosted.answered, hosted.callee = previous
            log.warning("call leg %s: its anchor is unreachable: %s", hosted.leg, error)
            raise CallError("NETWORK_ERROR", "the call's media node cannot be reached") from error
        if status != 200:
            hosted.answered, hosted.callee = previous
            raise CallError(str(answer.get("error", "UNKNOWN_CALL")), str(answer.get("text", "refused")))
        if isinstance(message, sig.Accept):
            others, hosted.ringing = [d for d in hosted.ringing if d is not session], []
            await asyncio.gather(*(device.send(sig.AnsweredElsewhere(callId=hosted.leg)) for device in others))

    async def session_closed(self, session: Session) -> None:
        """A device here went away: when the leg has no device left, the anchor hears it (`gone`)."""
        for hosted in list(self._hosted.values()):
            if hosted.answered and hosted.callee is session:
                hosted.callee = None  # away: it may resume from a new connection
            elif session in hosted.ringing and not hosted.answered:
                hosted.ringing.remove(session)
                if hosted.ringing:
                    continue
                self._hosted.pop(hosted.leg, None)
            else:
                continue
            with contextlib.suppress(Unreachable):
                await self.link.post(
                    hosted.ring.anchorUrl, hosted.leg, "gone", RemotePartyRef(partyId=hosted.ring.partyId)
                )

    # --- both -----------------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        handlers = {
            "ring": self._rung,
            "deliver": self._delivered,
            "alive": self._alive,
            "relay": self._relayed,
            "gone": self._gone,
        }
        for action, handler in handlers.items():
            app.router.add_post(f"{REMOTE_CALLS_PREFIX}/{{leg}}/{action}", self._signed(handler))

    def _signed(
        self, handler: Callable[[str, bytes], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def checked(request: web.Request) -> web.Response:
            body = await request.read()
            headers = dict(request.headers.items())
            if not control.verify(self._key, headers, request.method, request.path, body, time.time()):
                refusal = {"error": "UNAUTHORIZED", "text": "missing, wrong or stale signature"}
                return web.json_response(refusal, status=401)
            if self._calls is None:
                return web.json_response({"error": "NOT_READY"}, status=503)
            try:
                return await handler(request.match_info["leg"], body)
            except ValidationError as error:
                return web.json_response({"error": "BAD_REQUEST", "text": str(error.errors()[0]["msg"])}, status=400)
            except CallError as error:
                status = 404 if error.code in ("UNKNOWN_CALL", "DESTINATION_NOT_FOUND") else 409
                status = 400 if error.code == "BAD_MESSAGE" else status
                return web.json_response({"error": error.code, "text": error.text}, status=status)

        return checked

    async def close(self) -> None:
        await asyncio.gather(*(party.close() for party in list(self._parties.values())))
        await self.link.close()
