"""Conferences on this node: one audio graph per conference, ticked with every other mix, holding the legs of the
application calls in it (each hears everyone else, never itself) and what is played into it.

The control plane keeps the conference record (who is joining, joined, gone) and asks this node, the one that has
the calls, to mix them: `join`, `leave`, `update` (mute / deaf), `play` / `stop_play`, `hangup`. What happens here
is reported back through the records: a call joined (PARTICIPANT_JOINED), left or never made it (REMOVED /
JOIN_FAILED; the last one out finishes the conference), was muted or deafened (PARTICIPANT_MEDIA_CHANGED),
started or stopped talking, and the outcome of what was played (PLAY_FINISHED / SAY_FINISHED).

A call dialed to join a conference (`DialRequest.conferenceId`) is expected here before it is answered; it joins
once its media is up. Playback on a call stops when it joins a conference.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from chalicelib.contract import control
from switchboard_media.actions.errors import ActionError
from switchboard_media.actions.tts import SpeechProvider
from switchboard_media.applications import ApplicationCall, ApplicationCalls
from switchboard_media.call_actions import MixActions
from switchboard_media.calls import CallError, CallRecords
from switchboard_media.engine.graph import AudioGraph
from switchboard_media.engine.ticker import Ticker

log = logging.getLogger(__name__)

REMOVED = "Removed from the conference"
HUNG_UP = "The call hung up"
NOT_ANSWERED = "The call was not answered"


@dataclass(eq=False)
class NodeConference:
    account_id: str
    conference_id: str
    graph: AudioGraph
    actions: MixActions | None = None
    joined: set[str] = field(default_factory=set)
    announced: set[str] = field(default_factory=set)  # joined and recorded so: talking events may follow
    waiting: dict[str, dict[str, object]] = field(default_factory=dict)  # call id -> member options, not up yet
    timer: asyncio.TimerHandle | None = None  # its maxDuration


class Conferences:
    def __init__(
        self, applications: ApplicationCalls, records: CallRecords, ticker: Ticker, speech: SpeechProvider
    ) -> None:
        self._applications = applications
        self._records = records
        self._ticker = ticker
        self._speech = speech
        self._conferences: dict[str, NodeConference] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        applications.wired_hooks.append(self._wired)
        applications.ended_hooks.append(self._call_ended)

    def __len__(self) -> int:
        return len(self._conferences)

    # --- the control plane's requests ------------------------------------------------------------------------

    async def join(self, conference_id: str, request: control.ConferenceJoinRequest) -> None:
        call = self._applications.call_of(request.accountId, request.callId)
        conference = self._conference(request.accountId, conference_id, request.endsAt)
        if call.home is not None and call.home is not conference.graph:
            raise CallError("WRONG_STATE", f"call {call.call_id} is in another conference")
        await self._admit(conference, call, {"muted": request.muted, "deaf": request.deaf})

    def expect(self, account_id: str, conference_id: str, call_id: str, ends_at: float | None = None) -> None:
        """A call being dialed to join the conference: it joins once answered (see `_wired`)."""
        self._conference(account_id, conference_id, ends_at).waiting[call_id] = {"muted": False, "deaf": False}

    def forget(self, conference_id: str, call_id: str) -> None:
        """The expected call could not be dialed (the control plane records that itself)."""
        conference = self._conferences.get(conference_id)
        if conference is not None:
            conference.waiting.pop(call_id, None)
            if not conference.joined and not conference.waiting:
                self._close(conference)

    async def leave(self, conference_id: str, request: control.ConferenceRequest) -> None:
        conference = self._of(request.accountId, conference_id)
        call_id = request.callId or ""
        if call_id not in conference.joined and call_id not in conference.waiting:
            raise CallError("UNKNOWN_CALL", f"call {call_id} is not in conference {conference_id}")
        call = self._applications.call_of(request.accountId, call_id)
        self._applications.move_audio(call, None)
        await self._gone(conference, call_id, REMOVED, failed=call_id in conference.waiting)

    async def update(self, conference_id: str, request: control.ConferenceUpdateRequest) -> None:
        conference = self._of(request.accountId, conference_id)
        targets = [request.callId] if request.callId else sorted(conference.joined | set(conference.waiting))
        if request.callId and request.callId not in conference.joined and request.callId not in conference.waiting:
            raise CallError("UNKNOWN_CALL", f"call {request.callId} is not in conference {conference_id}")
        for call_id in targets:
            member = conference.graph.members.get(call_id)
            options = conference.waiting.get(call_id)
            current = options if options is not None else {"muted": member.muted, "deaf": member.deaf} if member else {}
            muted = bool(current.get("muted")) if request.muted is None else request.muted
            deaf = bool(current.get("deaf")) if request.deaf is None else request.deaf
            if options is not None:
                options.update(muted=muted, deaf=deaf)
            elif member is not None:
                member.muted, member.deaf = muted, deaf
                call = self._applications.call_of(request.accountId, call_id)
                call.home_options.update(muted=muted, deaf=deaf)
            await self._report("media_changed", conference, call_id, muted, deaf)

    async def play(self, conference_id: str, request: control.ConferencePlayRequest) -> None:
        conference = self._of(request.accountId, conference_id)
        if conference.actions is None:
            conference.actions = MixActions(
                conference.account_id, conference_id, conference.graph, self._speech, self._writer(conference)
            )
        try:
            await conference.actions.play(request.play)
        except ActionError as error:
            raise CallError("BAD_CONTENT", str(error)) from error

    async def stop_play(self, conference_id: str, request: control.ConferenceRequest) -> None:
        conference = self._of(request.accountId, conference_id)
        if conference.actions is not None:
            conference.actions.stop_play()

    async def hangup(self, conference_id: str, request: control.ConferenceRequest) -> None:
        """Hang up every call in the conference; the last one out finishes it."""
        conference = self._of(request.accountId, conference_id)
        for call_id in sorted(conference.joined | set(conference.waiting)):
            try:
                await self._applications.end_call(call_id, "NORMAL_HANGUP")
            except CallError:
                await self._gone(conference, call_id, HUNG_UP)

    async def shutdown(self) -> None:
        for conference in list(self._conferences.values()):
            self._close(conference)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- what happens to the calls ---------------------------------------------------------------------------

    async def _admit(self, conference: NodeConference, call: ApplicationCall, options: dict[str, object]) -> None:
        self._applications.move_audio(call, conference.graph, **options)
        if call.wired:
            conference.waiting.pop(call.call_id, None)
            conference.joined.add(call.call_id)
            await self._report("joined", conference, call.call_id)
            if call.call_id in conference.joined:  # talking is told after joining, never before
                conference.announced.add(call.call_id)
                member = conference.graph.members.get(call.call_id)
                if member is not None and member.voice.talking:
                    await self._report("talking", conference, call.call_id, True)
        else:
            conference.waiting[call.call_id] = options

    def _wired(self, call: ApplicationCall) -> None:
        """A call's media came up: one expected by a conference joins it now."""
        for conference in self._conferences.values():
            if call.call_id in conference.waiting and conference.account_id == call.account_id:
                options = conference.waiting[call.call_id]
                self._spawn(self._admit(conference, call, options))
                return

    async def _call_ended(self, call: ApplicationCall, error_code: str) -> None:
        for conference in list(self._conferences.values()):
            if call.call_id in conference.joined or call.call_id in conference.waiting:
                never_joined = call.call_id in conference.waiting
                reason = NOT_ANSWERED if never_joined and error_code != "NORMAL_HANGUP" else HUNG_UP
                conference.graph.remove(call.call_id)
                await self._gone(conference, call.call_id, reason, failed=never_joined)

    async def _gone(self, conference: NodeConference, call_id: str, reason: str, *, failed: bool = False) -> None:
        conference.joined.discard(call_id)
        conference.announced.discard(call_id)
        conference.waiting.pop(call_id, None)
        await self._report("left", conference, call_id, reason, failed=failed)
        if not conference.joined and not conference.waiting:
            self._close(conference)

    # --- internals -------------------------------------------------------------------------------------------

    def _conference(self, account_id: str, conference_id: str, ends_at: float | None = None) -> NodeConference:
        conference = self._conferences.get(conference_id)
        if conference is None:
            graph = AudioGraph(on_talking=lambda call_id, talking: self._talking(conference_id, call_id, talking))
            conference = self._conferences[conference_id] = NodeConference(account_id, conference_id, graph)
            self._ticker.add(graph)
            if ends_at is not None:  # its maxDuration: everyone is hung up then
                hangup = control.ConferenceRequest(accountId=account_id)
                conference.timer = asyncio.get_running_loop().call_later(
                    max(0.0, ends_at - time.time()), lambda: self._spawn(self.hangup(conference_id, hangup))
                )
        elif conference.account_id != account_id:
            raise CallError("UNKNOWN_CALL", f"no conference {conference_id} on this node")
        return conference

    def graph_of(self, account_id: str, conference_id: str) -> AudioGraph | None:
        """The mix of the account's conference on this node (None when it has none): where a recorder joins."""
        conference = self._conferences.get(conference_id)
        return conference.graph if conference is not None and conference.account_id == account_id else None

    def _of(self, account_id: str, conference_id: str) -> NodeConference:
        conference = self._conferences.get(conference_id)
        if conference is None or conference.account_id != account_id:
            raise CallError("UNKNOWN_CALL", f"no conference {conference_id} on this node")
        return conference

    def _close(self, conference: NodeConference) -> None:
        """Nobody is left: stop what plays (it reports), and stop ticking once the last moves are done."""
        self._conferences.pop(conference.conference_id, None)
        if conference.timer is not None:
            conference.timer.cancel()
        if conference.actions is not None:
            self._spawn(conference.actions.close())
        conference.graph.call_after_tick(lambda: self._ticker.discard(conference.graph))

    def _talking(self, conference_id: str, call_id: str, talking: bool) -> None:
        conference = self._conferences.get(conference_id)
        if conference is not None and call_id in conference.announced:
            self._spawn(self._report("talking", conference, call_id, talking))

    def _writer(self, conference: NodeConference) -> Any:
        async def write_event(event_type: str, properties: dict[str, Any]) -> None:
            await self._records.conference(
                "action_event", conference.account_id, conference.conference_id, event_type, properties
            )

        return write_event

    async def _report(self, name: str, conference: NodeConference, *args: Any, **kwargs: Any) -> None:
        try:
            await self._records.conference(name, conference.account_id, conference.conference_id, *args, **kwargs)
        except Exception:
            log.exception("could not record %s in conference %s", name, conference.conference_id)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
