"""1:1 WebRTC calls (identity → identity) on this node: ringing every device of the callee, accept / decline / cancel,
answered elsewhere, no-answer timeout, hangup. Each call has two legs, each a call record with Infobip's states and
events, written through `chalicelib.calls.service` (run in a thread: it is synchronous DynamoDB I/O).

Operations on one call are serialised by a per-call lock; the event loop never blocks on storage.

Each party of an established call tells the node what it sends (`media_state`: muted, camera, screen share) and the
other party hears about it (`remote_media`). A party whose signalling connection drops keeps its call: its media
never went through the websocket. The other party hears `remote_connection` (false), and the call waits
SWITCHBOARD_MEDIA_CALL_RECONNECT_GRACE_SECONDS for the party to `resume_call` from a new connection; past that it
ends with NETWORK_ERROR (CALL_FAILED). A call that is not yet established ends at once when a party drops.

Each party may ask for the call to be recorded (`recordingOptions`: the caller's on `call`, the callee's on
`accept`); once the call is established, `established_hooks` hear about it (the WebRTC recording rules decide then:
`switchboard_media.recording.webrtc_rules`).

Across nodes: the call is anchored on the caller's node (this one): it rings the callee's devices here and, through
`remote` (`switchboard_media.remote_calls`), on every other live node. A node that has devices of the callee is one
remote party here, with a Session's surface: its messages go to that node, and its devices' accept, decline,
hangup, media state, text and resume come back from it, so every rule above is the same for a remote callee. Only
signalling crosses nodes: both legs' media and call records (node_id: this node) stay on the anchor.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.contract import signalling as sig
from switchboard_media.engine.bridge import Bridge
from switchboard_media.engine.leg import Leg
from switchboard_media.engine.ticker import Ticker
from switchboard_media.presence import Presence, Session
from switchboard_media.quality import LinkStats, QualityMonitor, link_stats
from switchboard_media.settings import NodeSettings
from switchboard_media.tickets import Tickets

if TYPE_CHECKING:
    from switchboard_media.remote_calls import RemoteCalls

log = logging.getLogger(__name__)


class CallError(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


class CallRecords:
    """The call-record side of a call, as the control plane's domain service writes it."""

    async def start(
        self, account_id: str, caller: Session, callee_identity: str, video: bool, node_id: str
    ) -> tuple[str, str]:
        from chalicelib.calls import service

        caller_leg, callee_leg = await asyncio.to_thread(
            service.start_webrtc_call,
            account_id,
            caller.identity,
            caller.display_name,
            callee_identity,
            None,
            video=video,
            node_id=node_id,
        )
        return caller_leg.call_id, callee_leg.call_id

    async def start_application_call(
        self,
        account_id: str,
        caller: Session,
        configuration_id: str,
        video: bool,
        custom_data: dict[str, str] | None,
        node_id: str,
    ) -> str:
        """The leg of an SDK calling an application (INBOUND, CALL_RECEIVED to the configuration's subscriptions)."""
        from chalicelib.calls import service

        leg = await asyncio.to_thread(
            service.start_application_call,
            account_id,
            caller.identity,
            caller.display_name,
            configuration_id,
            video=video,
            custom_data=custom_data,
            node_id=node_id,
        )
        return leg.call_id

    async def action_event(self, account_id: str, call_id: str, event_type: str, properties: dict[str, Any]) -> None:
        from chalicelib.calls import service

        await asyncio.to_thread(service.action_event, account_id, call_id, event_type, properties)

    async def transition(self, name: str, account_id: str, call_id: str, *args: Any) -> None:
        from chalicelib.calls import service

        await asyncio.to_thread(getattr(service, name), account_id, call_id, *args)

    async def transfer_timed_out(self, account_id: str, call_id: str, transfer_id: str) -> None:
        """An application transfer's timeout passed (`chalicelib.calls.transfers`: FAILED unless answered)."""
        from chalicelib.calls import transfers

        await asyncio.to_thread(transfers.time_out, account_id, call_id, transfer_id)

    async def conference(self, name: str, account_id: str, conference_id: str, *args: Any, **kwargs: Any) -> None:
        """What happened in a conference this node mixes (`chalicelib.conferences.service`: joined, left,
        media_changed, talking, action_event)."""
        from chalicelib.conferences import service

        await asyncio.to_thread(getattr(service, name), account_id, conference_id, *args, **kwargs)

    async def dialog(self, name: str, account_id: str, dialog_id: str, *args: Any, **kwargs: Any) -> None:
        """What happened in a dialog this node bridges (`chalicelib.dialogs.service`: pre_established, established,
        ended, action_event)."""
        from chalicelib.dialogs import service

        await asyncio.to_thread(getattr(service, name), account_id, dialog_id, *args, **kwargs)


@dataclass
class ActiveCall:
    account_id: str
    caller_leg: str
    callee_leg: str
    caller: Session
    callee_identity: str
    video: bool
    ringing: list[Session] = field(default_factory=list)
    callee: Session | None = None
    media: dict[str, Leg] = field(default_factory=dict)
    bridge: Bridge | None = None
    monitors: list[QualityMonitor] = field(default_factory=list)
    undelivered: dict[str, tuple[Session, str, str]] = field(default_factory=dict)  # messageId -> sender, leg, to
    ended: bool = False
    timer: asyncio.TimerHandle | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sending: dict[str, tuple[bool, bool, bool]] = field(default_factory=dict)  # leg -> (muted, camera, screenShare)
    away: dict[str, asyncio.TimerHandle] = field(default_factory=dict)  # legs whose signalling dropped -> grace
    recording_options: dict[str, sig.SdkRecordingType] = field(default_factory=dict)  # leg -> what its SDK asked

    @property
    def established(self) -> bool:
        return self.callee is not None

    def owner(self, leg: str) -> Session | None:
        """The session that controls `leg` now (a resumed call's is the new connection's)."""
        return self.caller if leg == self.caller_leg else self.callee if leg == self.callee_leg else None

    def other(self, leg: str) -> tuple[Session, str]:
        """The other party of an established call: its session and its leg."""
        other = (self.callee, self.callee_leg) if leg == self.caller_leg else (self.caller, self.caller_leg)
        assert other[0] is not None
        return other[0], other[1]

    def sent_by(self, leg: str) -> tuple[bool, bool, bool]:
        return self.sending.get(leg, (False, self.video, False))

    def remote_media(self, about: str, to: str) -> sig.RemoteMedia:
        muted, camera, screen_share = self.sent_by(about)
        return sig.RemoteMedia(callId=to, muted=muted, camera=camera, screenShare=screen_share)


class CallManager:
    def __init__(
        self,
        settings: NodeSettings,
        presence: Presence,
        tickets: Tickets,
        records: CallRecords,
        base_url: str,
        ticker: Ticker,
    ) -> None:
        self._settings = settings
        self._ticker = ticker
        self._presence = presence
        self._tickets = tickets
        self._records = records
        self._base_url = base_url
        self._calls: dict[str, ActiveCall] = {}  # by either leg id
        self._finished: OrderedDict[str, tuple[str, str, str]] = OrderedDict()  # away leg -> account, identity, code
        self._expiries: set[asyncio.Future[None]] = set()
        self.established_hooks: list[Callable[[ActiveCall], None]] = []  # told (under the call's lock) on answer
        self.remote: RemoteCalls | None = None  # rings the callee on the other live nodes (none: this node only)

    def __len__(self) -> int:
        return len({id(call) for call in self._calls.values()})

    # --- client requests ------------------------------------------------------------------------------

    async def place(self, session: Session, request: sig.Call) -> None:
        if request.to == session.identity:
            raise CallError("INVALID_DESTINATION", "an identity cannot call itself")
        caller_leg, callee_leg = await self._records.start(
            session.account_id, session, request.to, request.video, self._settings.node_id
        )
        call = ActiveCall(session.account_id, caller_leg, callee_leg, session, request.to, request.video)
        if request.recordingOptions is not None:
            call.recording_options[caller_leg] = request.recordingOptions.recordingType
        self._calls[caller_leg] = self._calls[callee_leg] = call
        await session.send(sig.CallStarted(requestId=request.requestId, callId=caller_leg))
        async with call.lock:
            devices = self._presence.devices(session.account_id, request.to)
            if self.remote is not None:  # and its devices on the other nodes (they ring as this call asks)
                devices += await self.remote.ring(call)
            if not devices:
                await self._end(call, "DESTINATION_NOT_FOUND")
                return
            call.ringing = devices
            incoming = sig.IncomingCall.model_validate(
                {
                    "callId": callee_leg,
                    "from": session.identity,
                    "fromDisplayName": session.display_name,
                    "video": request.video,
                }
            )
            await asyncio.gather(*(device.send(incoming) for device in devices))
            await self._records.transition("ringing", call.account_id, callee_leg)
            await self._records.transition("ringing", call.account_id, caller_leg)
            await session.send(sig.Ringing(callId=caller_leg))
            loop = asyncio.get_running_loop()
            call.timer = loop.call_later(
                self._settings.ring_timeout_seconds, lambda: asyncio.ensure_future(self._no_answer(call))
            )

    async def accept(self, session: Session, call_id: str, recording: sig.SdkRecordingType = "UNDEFINED") -> None:
        call = self._ringing_call_for(session, call_id)
        async with call.lock:
            if call.ended or call.established:
                raise CallError("CALL_NOT_RINGING", "the call is no longer ringing")
            self._cancel_timer(call)
            call.callee = session
            call.recording_options[call.callee_leg] = recording
            others = [device for device in call.ringing if device is not session]
            call.ringing = []
            await asyncio.gather(*(device.send(sig.AnsweredElsewhere(callId=call_id)) for device in others))
            await self._records.transition("establish", call.account_id, call.callee_leg)
            await self._records.transition("establish", call.account_id, call.caller_leg)
            caller_media, callee_media = self._media_leg(call.caller_leg), self._media_leg(call.callee_leg)
            call.media = {call.caller_leg: caller_media, call.callee_leg: callee_media}
            call.bridge = Bridge(caller_media, callee_media, self._ticker, passthrough=self._settings.passthrough)
            call.bridge.start()
            self._monitor_quality(call)
            for owner, leg in ((call.caller, call.caller_leg), (session, call.callee_leg)):
                await owner.send(sig.Established(callId=leg))
                await owner.send(
                    sig.Media(callId=leg, whipUrl=f"{self._base_url}/whip/{leg}", ticket=self._tickets.issue(leg))
                )
            if call.caller_leg in call.sending:  # the caller said (while it rang) that it sends something else
                await session.send(call.remote_media(call.caller_leg, call.callee_leg))
            for hook in self.established_hooks:
                hook(call)

    async def decline(self, session: Session, call_id: str) -> None:
        call = self._ringing_call_for(session, call_id)
        async with call.lock:
            if not call.ended and not call.established:
                await self._end(call, "REJECTED")

    async def hangup(self, session: Session, call_id: str) -> None:
        call = self._calls.get(call_id)
        if call is None or session not in (call.caller, call.callee, *call.ringing):
            raise CallError("UNKNOWN_CALL", f"no call {call_id} for this session")
        async with call.lock:
            if call.ended:
                return
            if call.established:
                await self._end(call, "NORMAL_HANGUP")
            elif session is call.caller:
                await self._end(call, "CANCELLED")
            else:
                await self._end(call, "REJECTED")

    async def session_closed(self, session: Session) -> None:
        """A party's connection is gone without hanging up (an SDK that closes on purpose hangs up first): an
        established call waits for it to resume, one still ringing fails with NETWORK_ERROR. A ringing device that
        goes away just stops ringing."""
        for call in {id(c): c for c in self._calls.values()}.values():
            if call.established and (session is call.caller or session is call.callee):
                await self._party_away(call, call.caller_leg if session is call.caller else call.callee_leg, session)
            elif session is call.caller or session is call.callee:
                async with call.lock:
                    if not call.ended:
                        await self._end(call, "NETWORK_ERROR")
            elif session in call.ringing:
                async with call.lock:
                    call.ringing.remove(session)
                    if not call.ringing and not call.ended and not call.established:
                        await self._end(call, "DESTINATION_UNAVAILABLE")

    async def _party_away(self, call: ActiveCall, leg: str, session: Session) -> None:
        """`leg`'s signalling dropped: the other party hears it, and the call ends unless it resumes in time."""
        async with call.lock:
            if call.ended or call.owner(leg) is not session or leg in call.away:
                return  # over, or already resumed from a new connection
            call.away[leg] = asyncio.get_running_loop().call_later(
                self._settings.call_reconnect_grace_seconds, self._expire_later, call, leg
            )
            other, other_leg = call.other(leg)
            await other.send(sig.RemoteConnection(callId=other_leg, connected=False))

    def _expire_later(self, call: ActiveCall, leg: str) -> None:
        task = asyncio.ensure_future(self._expire(call, leg))
        self._expiries.add(task)
        task.add_done_callback(self._expiries.discard)

    async def _expire(self, call: ActiveCall, leg: str) -> None:
        async with call.lock:
            if not call.ended and leg in call.away:
                log.info("call %s: %s did not resume within the grace period", call.caller_leg, leg)
                await self._end(call, "NETWORK_ERROR")

    async def resume(self, session: Session, request: sig.ResumeCall) -> None:
        """Give the control of an established call back to its party, from a new connection (after a drop)."""
        leg = request.callId
        call = self._calls.get(leg)
        owner = call.owner(leg) if call is not None else None
        if call is None or owner is None or not call.established or call.ended:
            finished = self._finished.get(leg)
            if finished is not None and finished[:2] == (session.account_id, session.identity):
                await session.send(sig.HungUp(callId=leg, errorCode=finished[2]))  # it ended while away
                return
            raise CallError("UNKNOWN_CALL", f"no established call {leg} to resume")
        if (owner.account_id, owner.identity) != (session.account_id, session.identity):
            raise CallError("UNKNOWN_CALL", f"no established call {leg} to resume")
        async with call.lock:
            if call.ended:
                raise CallError("UNKNOWN_CALL", f"no established call {leg} to resume")
            timer = call.away.pop(leg, None)
            if timer is not None:
                timer.cancel()
            if leg == call.caller_leg:
                call.caller = session
            else:
                call.callee = session
            other, other_leg = call.other(leg)
            await session.send(sig.CallResumed(requestId=request.requestId, callId=leg))
            await session.send(call.remote_media(other_leg, leg))
            if other_leg in call.away:
                await session.send(sig.RemoteConnection(callId=leg, connected=False))
            if timer is not None:
                await other.send(sig.RemoteConnection(callId=other_leg, connected=True))

    async def media_state(self, session: Session, message: sig.MediaState) -> None:
        """A party muted or unmuted, turned its camera on or off, or started or stopped sharing its screen: the other
        party hears about it (when it changed; once answered, for what the caller said while it rang)."""
        leg = message.callId
        call = self._calls.get(leg)
        if call is not None and not call.ended and session in call.ringing:
            return  # a device that has not answered yet (it says again what it sends once it has)
        if call is None or call.ended or call.owner(leg) is not session:
            raise CallError("UNKNOWN_CALL", f"no call {leg} for this session")
        state = (message.muted, message.camera and call.video, message.screenShare and call.video)
        async with call.lock:
            if call.ended or call.sent_by(leg) == state:
                return
            call.sending[leg] = state
            if call.established:
                other, other_leg = call.other(leg)
                await other.send(call.remote_media(leg, other_leg))

    async def send_data(self, session: Session, message: sig.SendData) -> None:
        """Relay text to the other party; the sender hears `data_delivered` when the recipient acknowledges it."""
        call, leg = self._established_call_of(session, message.callId)
        other, other_leg = call.other(leg)
        if message.to is not None and message.to != other.identity:
            raise CallError("UNKNOWN_PARTICIPANT", f"{message.to} is not in this call")
        if other_leg in call.away:
            raise CallError("PARTICIPANT_DISCONNECTED", f"{other.identity} is reconnecting; send it again later")
        if len(call.undelivered) >= 256:
            raise CallError("TOO_MANY_UNACKNOWLEDGED", "wait for earlier messages to be delivered")
        call.undelivered[message.messageId] = (session, leg, other.identity)
        await other.send(
            sig.DataMessage.model_validate(
                {
                    "callId": other_leg,
                    "messageId": message.messageId,
                    "from": session.identity,
                    "text": message.text,
                    "direct": message.to is not None,
                }
            )
        )

    async def data_received(self, session: Session, message: sig.DataReceived) -> None:
        call, _ = self._established_call_of(session, message.callId)
        pending = call.undelivered.pop(message.messageId, None)
        if pending is None or pending[2] != session.identity:
            raise CallError("UNKNOWN_MESSAGE", f"no message {message.messageId} awaits this session")
        sender, sender_leg, to = pending
        sender = call.owner(sender_leg) or sender  # the sender's connection now (it may have resumed since)
        await sender.send(sig.DataDelivered(callId=sender_leg, messageId=message.messageId, to=to))

    def _established_call_of(self, session: Session, leg: str) -> tuple[ActiveCall, str]:
        call = self._calls.get(leg)
        owner = None if call is None else (call.caller if leg == call.caller_leg else call.callee)
        if call is None or call.ended or not call.established or owner is not session:
            raise CallError("UNKNOWN_CALL", f"no established call {leg} for this session")
        return call, leg

    async def whip_offer(self, leg_id: str, ticket: str, offer_sdp: str) -> str:
        if not self._tickets.check(leg_id, ticket):
            raise CallError("UNAUTHORIZED", "the media ticket is missing, expired or not for this leg")
        call = self._calls.get(leg_id)
        if call is None or call.ended or leg_id not in call.media:
            raise CallError("UNKNOWN_CALL", f"no media session for {leg_id}")
        return await call.media[leg_id].answer(offer_sdp)

    async def end_call(self, call_id: str, error_code: str) -> None:
        """End the call `call_id` (either leg) for everyone, as the control plane asked."""
        call = self._calls.get(call_id)
        if call is None:
            raise CallError("UNKNOWN_CALL", f"no call {call_id} on this node")
        async with call.lock:
            if not call.ended:
                await self._end(call, error_code)

    async def shutdown(self, error_code: str = "SERVICE_UNAVAILABLE") -> None:
        """End every call with proper events (the node is draining)."""
        for call in {id(c): c for c in self._calls.values()}.values():
            async with call.lock:
                if not call.ended:
                    await self._end(call, error_code)

    def call_of(self, call_id: str) -> ActiveCall | None:
        """The 1:1 call that has the leg `call_id` (either leg), while it lasts."""
        return self._calls.get(call_id)

    def bridge_of(self, call_id: str) -> Bridge | None:
        """The media bridge of an established call (either leg), where actions hold the audio decoded."""
        call = self._calls.get(call_id)
        return None if call is None else call.bridge

    # --- internals ------------------------------------------------------------------------------------

    def _ringing_call_for(self, session: Session, call_id: str) -> ActiveCall:
        call = self._calls.get(call_id)
        if (
            call is None
            or call_id != call.callee_leg
            or session.account_id != call.account_id
            or session.identity != call.callee_identity
        ):
            raise CallError("UNKNOWN_CALL", f"no incoming call {call_id} for this session")
        return call

    def _media_leg(self, leg_id: str) -> Leg:
        return Leg(leg_id, self._settings.ice_servers)

    def _monitor_quality(self, call: ActiveCall) -> None:
        """Each side hears about its own link (network_quality) and, in a 1:1 call, the other's (remote_...)."""
        for leg, other_leg in ((call.caller_leg, call.callee_leg), (call.callee_leg, call.caller_leg)):

            async def report(quality: str, score: float, leg: str = leg, other_leg: str = other_leg) -> None:
                owner, other = call.owner(leg), call.owner(other_leg)  # the parties' connections now
                assert owner is not None and other is not None
                await owner.send(sig.NetworkQuality(callId=leg, networkQuality=quality, mos=score))  # type: ignore[arg-type]
                await other.send(sig.RemoteNetworkQuality(callId=other_leg, networkQuality=quality))  # type: ignore[arg-type]

            media = call.media[leg]

            async def sample(media: Leg = media) -> LinkStats | None:
                return await link_stats(media.pc)

            monitor = QualityMonitor(sample, report, self._settings.quality_interval_seconds)
            monitor.start()
            call.monitors.append(monitor)

    def _cancel_timer(self, call: ActiveCall) -> None:
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None

    async def _no_answer(self, call: ActiveCall) -> None:
        async with call.lock:
            if not call.ended and not call.established:
                await self._end(call, "NO_ANSWER")

    async def _end(self, call: ActiveCall, error_code: str) -> None:
        """Finish both legs with `error_code` and tell everyone involved. Caller holds `call.lock`."""
        call.ended = True
        self._cancel_timer(call)
        for leg, timer in call.away.items():  # it may come back: it hears how the call ended
            timer.cancel()
            party = call.owner(leg)
            if party is not None:
                self._finished[leg] = (call.account_id, party.identity, error_code)
        while len(self._finished) > 1024:
            self._finished.popitem(last=False)
        for leg in (call.caller_leg, call.callee_leg):
            try:
                await self._records.transition("hangup", call.account_id, leg, error_code)
            except Exception:
                log.exception("could not record the end of leg %s", leg)
        notices = [call.caller.send(sig.HungUp(callId=call.caller_leg, errorCode=error_code))]
        for device in [call.callee] if call.callee else call.ringing:
            notices.append(device.send(sig.HungUp(callId=call.callee_leg, errorCode=error_code)))
        await asyncio.gather(*notices, return_exceptions=True)
        if call.bridge is not None:
            await call.bridge.stop()
        await asyncio.gather(*(monitor.stop() for monitor in call.monitors))
        await asyncio.gather(*(leg.close() for leg in call.media.values()), return_exceptions=True)
        self._calls.pop(call.caller_leg, None)
        self._calls.pop(call.callee_leg, None)
