"""Application calls: calls an application (a calls configuration) handles with the Calls API.

- Outbound: the control plane created the leg (CALLING) and asks this node to ring the identity's devices (`dial`);
  a device accepts or declines; no answer within the connect timeout ends it with NO_ANSWER.
- Inbound: an SDK calls an application (`call_application`); the leg is created here (CALL_RECEIVED reaches the
  application's subscriptions) and waits for the application: `send_ringing`, `pre_answer` (early media),
  `answer`, or a hangup.

Once media flows, the leg's audio goes through its own `AudioGraph` on the node's tick, so the application's actions
(play, say, DTMF capture) plug in as sources and listeners.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from chalicelib.contract import control
from chalicelib.contract import signalling as sig
from switchboard_media.actions.errors import ActionError
from switchboard_media.actions.media_stream import MediaStreamBusy, MediaStreamError
from switchboard_media.actions.tts import EspeakProvider, SpeechProvider
from switchboard_media.call_actions import CallActions
from switchboard_media.calls import CallError, CallRecords
from switchboard_media.engine.graph import AudioGraph
from switchboard_media.engine.leg import Leg
from switchboard_media.engine.ticker import Ticker
from switchboard_media.presence import Presence, Session
from switchboard_media.settings import NodeSettings
from switchboard_media.tickets import Tickets

log = logging.getLogger(__name__)


@dataclass
class ApplicationCall:
    account_id: str
    call_id: str
    inbound: bool
    configuration_id: str
    video: bool
    party: Session | None = None  # the SDK session in the call (the caller of an inbound call, the answering device)
    ringing: list[Session] = field(default_factory=list)  # outbound: devices still ringing
    state: str = "CALLING"  # CALLING, RINGING, PRE_ESTABLISHED, ESTABLISHED, ENDED
    media: Leg | None = None
    graph: AudioGraph | None = None  # its own mix: the party hears the application's actions
    home: AudioGraph | None = None  # another mix the leg is in instead (a conference's)
    home_options: dict[str, object] = field(default_factory=dict)  # its member options there (muted, deaf)
    wired: bool = False  # the leg's media is up and connected
    actions: CallActions | None = None
    wiring: asyncio.Future[None] | None = None
    timer: asyncio.TimerHandle | None = None  # the connect timeout while it rings, its maxDuration once answered
    max_duration: int | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ApplicationCalls:
    def __init__(
        self,
        settings: NodeSettings,
        presence: Presence,
        tickets: Tickets,
        records: CallRecords,
        base_url: str,
        ticker: Ticker,
        speech: SpeechProvider | None = None,
    ) -> None:
        self._settings = settings
        self._speech = speech or EspeakProvider()
        self._presence = presence
        self._tickets = tickets
        self._records = records
        self._base_url = base_url
        self._ticker = ticker
        self._calls: dict[str, ApplicationCall] = {}
        # application transfers waiting for an answer: their timers, then the reports of their timeouts
        self._transfer_timers: dict[str, asyncio.TimerHandle | asyncio.Future[None]] = {}
        # what a conference needs to hear: a call's media came up, a call ended (before its end is recorded)
        self.wired_hooks: list[Callable[[ApplicationCall], None]] = []
        self.ended_hooks: list[Callable[[ApplicationCall, str], Awaitable[None]]] = []
        # what a dialog needs to hear: a call rang, got early media or was answered (called with its lock held)
        self.state_hooks: list[Callable[[ApplicationCall], None]] = []

    def __len__(self) -> int:
        return len(self._calls)

    def owns(self, call_id: str) -> bool:
        return call_id in self._calls

    def graph_of(self, call_id: str) -> AudioGraph | None:
        """The audio graph of a call whose media is up (where actions add sources and listeners)."""
        call = self._calls.get(call_id)
        return None if call is None else call.graph

    # --- outbound: the control plane dials ------------------------------------------------------------

    async def dial(self, request: control.DialRequest) -> None:
        devices = self._presence.devices(request.accountId, request.identity)
        if not devices:
            raise CallError("DESTINATION_NOT_FOUND", f"{request.identity} is not connected to this node")
        if request.callId in self._calls:
            raise CallError("CALL_EXISTS", f"call {request.callId} is already on this node")
        call = ApplicationCall(
            request.accountId,
            request.callId,
            False,
            request.callsConfigurationId,
            request.video,
            ringing=devices,
            max_duration=request.maxDurationSeconds,
        )
        self._calls[call.call_id] = call
        async with call.lock:
            incoming = sig.IncomingCall.model_validate(
                {
                    "callId": call.call_id,
                    "from": request.fromIdentity or request.callsConfigurationId,
                    "fromDisplayName": request.fromDisplayName,
                    "video": request.video,
                    "callsConfigurationId": request.callsConfigurationId,
                    "customData": request.customData,
                }
            )
            await asyncio.gather(*(device.send(incoming) for device in devices))
            await self._records.transition("ringing", call.account_id, call.call_id)
            self._entered(call, "RINGING")
            call.timer = asyncio.get_running_loop().call_later(
                request.connectTimeoutSeconds, lambda: asyncio.ensure_future(self._timed_out(call))
            )

    async def accept(self, session: Session, call_id: str) -> None:
        call = self._call_for_device(session, call_id)
        async with call.lock:
            if call.state not in ("RINGING", "CALLING"):
                raise CallError("CALL_NOT_RINGING", "the call is no longer ringing")
            self._cancel_timer(call)
            call.party = session
            others = [device for device in call.ringing if device is not session]
            call.ringing = []
            await asyncio.gather(*(device.send(sig.AnsweredElsewhere(callId=call_id)) for device in others))
            await self._records.transition("establish", call.account_id, call_id)
            call.state = "ESTABLISHED"
            await session.send(sig.Established(callId=call_id))
            await self._open_media(call)
            self._entered(call, "ESTABLISHED")

    async def decline(self, session: Session, call_id: str) -> None:
        call = self._call_for_device(session, call_id)
        async with call.lock:
            if call.state in ("RINGING", "CALLING"):
                await self._end(call, "REJECTED")

    # --- inbound: an SDK calls the application --------------------------------------------------------

    async def call_application(self, session: Session, request: sig.CallApplication) -> None:
        call_id = await self._records.start_application_call(
            session.account_id,
            session,
            request.callsConfigurationId,
            request.video,
            request.customData,
            self._settings.node_id,
        )
        call = ApplicationCall(
            session.account_id, call_id, True, request.callsConfigurationId, request.video, party=session
        )
        self._calls[call_id] = call
        await session.send(sig.CallStarted(requestId=request.requestId, callId=call_id))

    async def send_ringing(self, call_id: str) -> None:
        call = self._inbound(call_id)
        async with call.lock:
            if call.state != "CALLING":
                raise CallError("WRONG_STATE", f"the call is {call.state}, not waiting for an answer")
            await self._records.transition("ringing", call.account_id, call_id)
            call.state = "RINGING"
            assert call.party is not None
            await call.party.send(sig.Ringing(callId=call_id))
            self._entered(call, "RINGING")

    async def pre_answer(self, call_id: str) -> None:
        call = self._inbound(call_id)
        async with call.lock:
            if call.state not in ("CALLING", "RINGING"):
                raise CallError("WRONG_STATE", f"the call is {call.state}, not waiting for an answer")
            await self._records.transition("pre_establish", call.account_id, call_id)
            call.state = "PRE_ESTABLISHED"
            await self._open_media(call)
            self._entered(call, "PRE_ESTABLISHED")

    async def answer(self, call_id: str) -> None:
        call = self._inbound(call_id)
        async with call.lock:
            if call.state not in ("CALLING", "RINGING", "PRE_ESTABLISHED"):
                raise CallError("WRONG_STATE", f"the call is {call.state}, not waiting for an answer")
            await self._records.transition("establish", call.account_id, call_id)
            call.state = "ESTABLISHED"
            assert call.party is not None
            await call.party.send(sig.Established(callId=call_id))
            if call.media is None:
                await self._open_media(call)
            self._entered(call, "ESTABLISHED")

    # --- actions (the party hears them; its digits are detected) -------------------------------------------

    async def play(self, call_id: str, request: control.PlayRequest) -> None:
        actions = self._actions_of(call_id)
        if self._calls[call_id].home is not None:
            raise CallError("WRONG_STATE", "the call is in a conference: play into the conference instead")
        try:
            await actions.play(request)
        except ActionError as error:
            raise CallError("BAD_CONTENT", str(error)) from error

    async def stop_play(self, call_id: str) -> None:
        self._actions_of(call_id).stop_play()

    async def capture_dtmf(self, call_id: str, request: control.CaptureDtmfRequest) -> None:
        self._actions_of(call_id).capture_dtmf(request)

    async def send_dtmf(self, call_id: str, request: control.SendDtmfRequest) -> None:
        self._actions_of(call_id).send_dtmf(request)

    async def start_media_stream(self, call_id: str, request: control.StartMediaStreamRequest) -> None:
        try:
            self._actions_of(call_id).start_media_stream(request)
        except MediaStreamBusy as error:
            raise CallError("WRONG_STATE", str(error)) from error
        except MediaStreamError as error:
            raise CallError("BAD_CONTENT", str(error)) from error

    async def stop_media_stream(self, call_id: str) -> None:
        await self._actions_of(call_id).stop_media_stream()

    def time_transfer(self, call_id: str, request: control.ApplicationTransferTimerRequest) -> None:
        """Report the call's application transfer timed out when its timeout passes; the control plane leaves an
        answered transfer alone. The timer outlives the call: a transfer nobody answered still fails."""
        self.call_of(request.accountId, call_id)  # UNKNOWN_CALL unless the call is live here
        transfer_id = request.transferId

        def fire() -> None:
            report = asyncio.ensure_future(self._transfer_timed_out(request.accountId, call_id, transfer_id))
            self._transfer_timers[transfer_id] = report
            report.add_done_callback(lambda _: self._transfer_timers.pop(transfer_id, None))

        self._transfer_timers[transfer_id] = asyncio.get_running_loop().call_later(request.timeoutSeconds, fire)

    async def _transfer_timed_out(self, account_id: str, call_id: str, transfer_id: str) -> None:
        try:
            await self._records.transfer_timed_out(account_id, call_id, transfer_id)
        except Exception:
            log.exception("could not record the timeout of transfer %s of call %s", transfer_id, call_id)

    async def broadcast_text(self, call_id: str, text: str) -> None:
        """Text from the application (`broadcast-webrtc-text`) to the call's SDK session."""
        call = self._calls.get(call_id)
        if call is None or call.party is None or call.state == "ENDED":
            raise CallError("UNKNOWN_CALL", f"no call {call_id} with an SDK session on this node")
        await call.party.send(sig.BroadcastText(callId=call_id, text=text))

    def _actions_of(self, call_id: str) -> CallActions:
        call = self._calls.get(call_id)
        if call is None:
            raise CallError("UNKNOWN_CALL", f"no call {call_id} on this node")
        if call.actions is None or call.state not in ("PRE_ESTABLISHED", "ESTABLISHED"):
            raise CallError("WRONG_STATE", f"the call is {call.state}: actions need it answered or pre-answered")
        return call.actions

    # --- either direction -----------------------------------------------------------------------------

    async def hangup(self, session: Session, call_id: str) -> None:
        """The SDK side hangs up (or cancels its inbound call before the application answered)."""
        call = self._calls.get(call_id)
        if call is None or session not in (call.party, *call.ringing):
            raise CallError("UNKNOWN_CALL", f"no call {call_id} for this session")
        async with call.lock:
            if call.state == "ENDED":
                return
            if call.state == "ESTABLISHED":
                await self._end(call, "NORMAL_HANGUP")
            elif call.inbound:
                await self._end(call, "CANCELLED")
            else:
                await self._end(call, "REJECTED")

    async def end_call(self, call_id: str, error_code: str) -> None:
        """The application hangs up (or rejects an inbound call with an error code)."""
        call = self._calls.get(call_id)
        if call is None:
            raise CallError("UNKNOWN_CALL", f"no call {call_id} on this node")
        async with call.lock:
            if call.state != "ENDED":
                await self._end(call, error_code)

    async def session_closed(self, session: Session) -> None:
        for call in list(self._calls.values()):
            if session is call.party:
                async with call.lock:
                    if call.state != "ENDED":
                        await self._end(call, "NETWORK_ERROR")
            elif session in call.ringing:
                async with call.lock:
                    call.ringing.remove(session)
                    if not call.ringing and call.state in ("CALLING", "RINGING"):
                        await self._end(call, "DESTINATION_UNAVAILABLE")

    async def whip_offer(self, leg_id: str, ticket: str, offer_sdp: str) -> str:
        if not self._tickets.check(leg_id, ticket):
            raise CallError("UNAUTHORIZED", "the media ticket is missing, expired or not for this leg")
        call = self._calls.get(leg_id)
        if call is None or call.media is None or call.state == "ENDED":
            raise CallError("UNKNOWN_CALL", f"no media session for {leg_id}")
        return await call.media.answer(offer_sdp)

    async def shutdown(self, error_code: str = "SERVICE_UNAVAILABLE") -> None:
        for call in list(self._calls.values()):
            async with call.lock:
                if call.state != "ENDED":
                    await self._end(call, error_code)

    # --- internals ------------------------------------------------------------------------------------

    def call_of(self, account_id: str, call_id: str) -> ApplicationCall:
        """A live call of the account on this node (CallError UNKNOWN_CALL otherwise)."""
        call = self._calls.get(call_id)
        if call is None or call.account_id != account_id or call.state == "ENDED":
            raise CallError("UNKNOWN_CALL", f"no call {call_id} on this node")
        return call

    def move_audio(self, call: ApplicationCall, home: AudioGraph | None, **options: object) -> None:
        """Put the call's leg in `home` (a conference's mix, with member `options` such as muted / deaf) or, with
        None, back in its own graph. Playback on the call stops when it leaves its own graph; what listens to the
        party (DTMF detection, a media stream) goes along. A leg whose media is not up yet is connected to its
        home when it comes up. The switch happens right after the old mix's next tick, so no frame is sent twice."""
        previous = call.home or call.graph
        target = home or call.graph
        call.home, call.home_options = home, dict(options)
        if home is not None and call.actions is not None:
            call.actions.stop_play()
        media = call.media
        if not call.wired or previous is None or target is None or media is None:
            return
        if previous is target:
            member = target.members.get(call.call_id)
            for key, value in options.items():
                if member is not None:
                    setattr(member, key, value)
            return

        def move() -> None:
            if call.state == "ENDED" or media.audio_in is None or media.audio_out is None:
                return
            old = previous.members.pop(call.call_id, None)
            member = target.connect(call.call_id, media.audio_in, media.audio_out)
            member.muted, member.deaf = False, False
            for key, value in options.items():
                setattr(member, key, value)
            if old is not None:
                member.listeners, member.mix_listener = old.listeners, old.mix_listener

        previous.call_after_tick(move)

    def _call_for_device(self, session: Session, call_id: str) -> ApplicationCall:
        call = self._calls.get(call_id)
        if call is None or call.inbound or session not in call.ringing:
            raise CallError("UNKNOWN_CALL", f"no incoming call {call_id} for this session")
        return call

    def _inbound(self, call_id: str) -> ApplicationCall:
        call = self._calls.get(call_id)
        if call is None or not call.inbound:
            raise CallError("UNKNOWN_CALL", f"no inbound application call {call_id} on this node")
        return call

    async def _open_media(self, call: ApplicationCall) -> None:
        """Create the leg's media session, wire it into its own graph once up, and send the party its ticket."""
        assert call.party is not None
        call.media = Leg(call.call_id, self._settings.ice_servers)
        call.graph = AudioGraph()
        account_id, call_id = call.account_id, call.call_id

        async def write_event(event_type: str, properties: dict[str, object]) -> None:
            await self._records.action_event(account_id, call_id, event_type, properties)

        call.actions = CallActions(account_id, call_id, call.graph, self._speech, write_event)
        call.wiring = asyncio.ensure_future(self._wire(call, call.media, call.graph))
        whip_url = f"{self._base_url}/whip/{call.call_id}"
        ticket = self._tickets.issue(call.call_id)
        await call.party.send(sig.Media(callId=call.call_id, whipUrl=whip_url, ticket=ticket))

    async def _wire(self, call: ApplicationCall, media: Leg, graph: AudioGraph) -> None:
        await media.media_ready()
        if call.state == "ENDED" or call.media is not media:
            return
        assert media.audio_in is not None and media.audio_out is not None
        home = call.home or graph
        home.connect(call.call_id, media.audio_in, media.audio_out)
        for key, value in (call.home_options if call.home is not None else {}).items():
            setattr(home.members[call.call_id], key, value)
        call.wired = True
        if call.actions is not None:
            call.actions.use_telephone_events(media.audio_in, media.audio_out.port)
        self._ticker.add(graph)
        for hook in self.wired_hooks:
            hook(call)

    def _entered(self, call: ApplicationCall, state: str) -> None:
        call.state = state
        if state == "ESTABLISHED" and call.max_duration is not None:
            self._cancel_timer(call)
            call.timer = asyncio.get_running_loop().call_later(
                call.max_duration, lambda: asyncio.ensure_future(self.end_call(call.call_id, "NORMAL_HANGUP"))
            )
        for hook in self.state_hooks:
            try:
                hook(call)
            except Exception:
                log.exception("a state hook failed for %s", call.call_id)

    def _cancel_timer(self, call: ApplicationCall) -> None:
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None

    async def _timed_out(self, call: ApplicationCall) -> None:
        async with call.lock:
            if call.state in ("CALLING", "RINGING"):
                await self._end(call, "NO_ANSWER")

    async def _end(self, call: ApplicationCall, error_code: str) -> None:
        """Caller holds `call.lock`."""
        call.state = "ENDED"
        self._cancel_timer(call)
        if call.actions is not None:
            await call.actions.close()  # what was playing reports before the call's end
        for hook in self.ended_hooks:
            try:
                await hook(call, error_code)
            except Exception:
                log.exception("an end-of-call hook failed for %s", call.call_id)
        try:
            await self._records.transition("hangup", call.account_id, call.call_id, error_code)
        except Exception:
            log.exception("could not record the end of call %s", call.call_id)
        notice = sig.HungUp(callId=call.call_id, errorCode=error_code)
        recipients = [call.party] if call.party is not None else []
        recipients += call.ringing
        await asyncio.gather(*(session.send(notice) for session in recipients), return_exceptions=True)
        if call.wiring is not None:
            call.wiring.cancel()
        if call.graph is not None:
            self._ticker.discard(call.graph)
        if call.media is not None:
            await call.media.close()
        self._calls.pop(call.call_id, None)
