"""Dialogs on this node: two application calls bridged, a parent and a child, never a third.

The control plane keeps the dialog record; it opens the dialog here (the node that has the parent) before it dials
the child, so nothing the child does can come first. Then this node:
- propagates the child's ringing to an inbound parent that has not been answered (`propagateRinging`), and with
  `ringback` pre-answers such a parent and plays it a generated ringback tone (early media) while the child rings;
- when the child answers, answers an inbound parent that has not been answered yet and bridges the two in one
  audio graph (the dialog is ESTABLISHED; play / say into the dialog reach both);
- when either call ends, the dialog ends: DIALOG_FINISHED once it was established, DIALOG_FAILED before. The
  parent ending always takes the child with it; the child ending takes the parent unless `childHangup` is off (then
  the parent goes back to its application). `maxDurationSeconds` after it was established, the platform hangs up.

What happens is reported through the records (`chalicelib.dialogs.service`): pre-established, established, ended
(with the error code of the call that ended first and who hung up: API, PARENT_ENDPOINT, CHILD_ENDPOINT, PLATFORM).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chalicelib.contract import control
from switchboard_media.actions.errors import ActionError
from switchboard_media.actions.tts import SpeechProvider
from switchboard_media.applications import ApplicationCall, ApplicationCalls
from switchboard_media.call_actions import MixActions
from switchboard_media.calls import CallError, CallRecords
from switchboard_media.engine.codec import FRAME_SAMPLES, SAMPLE_RATE, SILENCE
from switchboard_media.engine.graph import AudioGraph
from switchboard_media.engine.ticker import Ticker

log = logging.getLogger(__name__)

RINGBACK_HZ = 425  # the ETSI ringback tone: 425 Hz, one second on, four off
RINGBACK_ON_FRAMES, RINGBACK_CYCLE_FRAMES = 50, 250
RINGBACK_LEVEL = 0.25  # of full scale


class Ringback:
    """A graph source: the ringback cadence, one 20 ms frame per call."""

    def __init__(self) -> None:
        self._frame = 0
        phase = 2 * math.pi * RINGBACK_HZ * np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        self._step = 2 * math.pi * RINGBACK_HZ * FRAME_SAMPLES / SAMPLE_RATE
        self._phase = phase

    def __call__(self) -> np.ndarray:
        frame, self._frame = self._frame, self._frame + 1
        if frame % RINGBACK_CYCLE_FRAMES >= RINGBACK_ON_FRAMES:
            return SILENCE
        tone = np.sin(self._phase + self._step * frame) * RINGBACK_LEVEL * 32767
        return tone.astype(np.int16)


@dataclass(eq=False)
class NodeDialog:
    account_id: str
    dialog_id: str
    parent_id: str
    child_id: str
    options: control.DialogOpenRequest
    state: str = "CREATED"  # CREATED, PRE_ESTABLISHED, ESTABLISHED, ENDED
    ending: str | None = None  # who ends it, when that is decided before the calls end (API, PLATFORM)
    graph: AudioGraph | None = None  # the bridge, once established
    actions: MixActions | None = None
    ringback: AudioGraph | None = None  # the parent's own graph while it hears ringback
    timer: asyncio.TimerHandle | None = None

    @property
    def ringback_name(self) -> str:
        return f"ringback:{self.dialog_id}"

    def other(self, call_id: str) -> str:
        return self.child_id if call_id == self.parent_id else self.parent_id


class Dialogs:
    def __init__(
        self, applications: ApplicationCalls, records: CallRecords, ticker: Ticker, speech: SpeechProvider
    ) -> None:
        self._applications = applications
        self._records = records
        self._ticker = ticker
        self._speech = speech
        self._dialogs: dict[str, NodeDialog] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        self.state_hooks: list[Callable[[str, str], None]] = []  # (dialog id, ESTABLISHED | ENDED)
        applications.state_hooks.append(self._state_changed)
        applications.ended_hooks.append(self._call_ended)

    def __len__(self) -> int:
        return len(self._dialogs)

    def parties_of(self, account_id: str, dialog_id: str) -> tuple[str, str] | None:
        """The parent and child call ids of an open dialog of the account on this node (None: no such dialog)."""
        dialog = self._dialogs.get(dialog_id)
        if dialog is None or dialog.account_id != account_id or dialog.state == "ENDED":
            return None
        return dialog.parent_id, dialog.child_id

    def graph_of(self, account_id: str, dialog_id: str) -> AudioGraph | None:
        """The audio graph bridging the dialog's calls while it is established (None before and after)."""
        dialog = self._dialogs.get(dialog_id)
        if dialog is None or dialog.account_id != account_id or dialog.state != "ESTABLISHED":
            return None
        return dialog.graph

    # --- the control plane's requests ------------------------------------------------------------------------

    async def open(self, dialog_id: str, request: control.DialogOpenRequest) -> None:
        """Open the dialog before its child is dialed (or, `connectNow`, bridge two answered calls at once)."""
        if dialog_id in self._dialogs:
            raise CallError("WRONG_STATE", f"dialog {dialog_id} is already open")
        if request.parentCallId == request.childCallId:
            raise CallError("WRONG_STATE", "a call cannot be in a dialog with itself")
        calls = [self._applications.call_of(request.accountId, request.parentCallId)]
        if request.connectNow:
            calls.append(self._applications.call_of(request.accountId, request.childCallId))
        for call in calls:
            if call.home is not None or self._dialog_of(call.call_id) is not None:
                raise CallError("WRONG_STATE", f"call {call.call_id} is in a conference or another dialog")
            if request.connectNow and call.state != "ESTABLISHED":
                raise CallError("WRONG_STATE", f"call {call.call_id} is {call.state}: both calls must be answered")
        dialog = NodeDialog(
            request.accountId, dialog_id, request.parentCallId, request.childCallId, request, state="CREATED"
        )
        self._dialogs[dialog_id] = dialog
        if request.connectNow:
            await self._connect(dialog)

    async def abandon(self, dialog_id: str, request: control.DialogAbandonRequest) -> None:
        """The child could not be dialed: the dialog fails as if the child had ended with `errorCode`."""
        dialog = self._of(request.accountId, dialog_id)
        if dialog.state != "ENDED":
            established = dialog.state == "ESTABLISHED"
            dialog.state = "ENDED"
            await self._finish(dialog, dialog.child_id, request.errorCode, "CHILD_ENDPOINT", established)

    async def hangup(self, dialog_id: str, request: control.DialogRequest) -> None:
        """Hang up both calls (hangupSource API)."""
        dialog = self._of(request.accountId, dialog_id)
        await self._hang_up(dialog, "API")

    async def play(self, dialog_id: str, request: control.DialogPlayRequest) -> None:
        dialog = self._of(request.accountId, dialog_id)
        if dialog.state != "ESTABLISHED" or dialog.graph is None:
            raise CallError("WRONG_STATE", "the dialog plays to both calls once it is established")
        if dialog.actions is None:
            dialog.actions = MixActions(
                dialog.account_id, dialog.dialog_id, dialog.graph, self._speech, self._writer(dialog)
            )
        try:
            await dialog.actions.play(request.play)
        except ActionError as error:
            raise CallError("BAD_CONTENT", str(error)) from error

    async def stop_play(self, dialog_id: str, request: control.DialogRequest) -> None:
        dialog = self._of(request.accountId, dialog_id)
        if dialog.actions is not None:
            dialog.actions.stop_play()

    async def shutdown(self) -> None:
        for dialog in list(self._dialogs.values()):
            self._close(dialog)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- what the calls do -----------------------------------------------------------------------------------

    def _state_changed(self, call: ApplicationCall) -> None:
        dialog = self._dialog_of(call.call_id)
        if dialog is None or call.call_id != dialog.child_id or dialog.state in ("ESTABLISHED", "ENDED"):
            return
        if call.state == "RINGING":
            self._spawn(self._child_ringing(dialog))
        elif call.state == "ESTABLISHED":
            self._spawn(self._connect(dialog))

    async def _child_ringing(self, dialog: NodeDialog) -> None:
        parent = self._live(dialog.account_id, dialog.parent_id)
        if parent is None:
            return
        waiting = parent.inbound and parent.state in ("CALLING", "RINGING")
        try:
            if dialog.options.propagateRinging and parent.inbound and parent.state == "CALLING":
                await self._applications.send_ringing(parent.call_id)
            if dialog.options.ringback:
                if waiting:
                    await self._applications.pre_answer(parent.call_id)
                if dialog.state == "CREATED" and parent.graph is not None:
                    dialog.ringback = parent.graph
                    parent.graph.add(dialog.ringback_name, source=Ringback(), audience=frozenset({parent.call_id}))
                    dialog.state = "PRE_ESTABLISHED"
                    await self._report("pre_established", dialog)
        except CallError as error:  # the parent moved on meanwhile (answered, ended): nothing to propagate
            log.info("dialog %s: ringing not propagated: %s", dialog.dialog_id, error.text)

    async def _connect(self, dialog: NodeDialog) -> None:
        """The child answered (or both calls were answered already): bridge them."""
        if dialog.state in ("ESTABLISHED", "ENDED"):
            return
        parent = self._live(dialog.account_id, dialog.parent_id)
        child = self._live(dialog.account_id, dialog.child_id)
        if parent is None or child is None:
            return  # the call that is gone ends the dialog (`_call_ended`)
        self._stop_ringback(dialog)
        if parent.inbound and parent.state != "ESTABLISHED":
            try:
                await self._applications.answer(parent.call_id)
            except CallError as error:
                log.info("dialog %s: the parent could not be answered: %s", dialog.dialog_id, error.text)
                return
        if dialog.state == "ENDED":
            return
        dialog.graph = AudioGraph()
        self._ticker.add(dialog.graph)
        self._applications.move_audio(parent, dialog.graph)
        self._applications.move_audio(child, dialog.graph)
        dialog.state = "ESTABLISHED"
        seconds = dialog.options.maxDurationSeconds
        dialog.timer = asyncio.get_running_loop().call_later(
            seconds, lambda: self._spawn(self._hang_up(dialog, "PLATFORM"))
        )
        await self._report("established", dialog)
        if dialog.state == "ESTABLISHED":  # (it may have ended while that was written)
            self._notify(dialog, "ESTABLISHED")

    async def _call_ended(self, call: ApplicationCall, error_code: str) -> None:
        """One of the calls ended (its lock is held: the other call is ended in a task of its own)."""
        dialog = self._dialog_of(call.call_id)
        if dialog is None or dialog.state == "ENDED":
            return
        established = dialog.state == "ESTABLISHED"
        dialog.state = "ENDED"
        if dialog.graph is not None:
            dialog.graph.remove(call.call_id)
        source = dialog.ending or ("PARENT_ENDPOINT" if call.call_id == dialog.parent_id else "CHILD_ENDPOINT")
        self._spawn(self._finish(dialog, call.call_id, error_code, source, established))

    async def _finish(self, dialog: NodeDialog, ended: str, error_code: str, source: str, established: bool) -> None:
        await self._report("ended", dialog, error_code, source, failed=not established)
        other = self._live(dialog.account_id, dialog.other(ended))
        if other is not None:
            if ended == dialog.parent_id or dialog.options.childHangup or dialog.ending is not None:
                code = "NORMAL_HANGUP" if established or other.state == "ESTABLISHED" else error_code
                if ended == dialog.parent_id and other.state in ("CALLING", "RINGING"):
                    code = "CANCELLED"
                try:
                    await self._applications.end_call(other.call_id, code)
                except CallError:
                    pass  # it ended meanwhile
            else:  # the parent stays up and goes back to its application
                self._stop_ringback(dialog)
                self._applications.move_audio(other, None)
        self._close(dialog)

    async def _hang_up(self, dialog: NodeDialog, source: str) -> None:
        if dialog.state == "ENDED" or dialog.ending is not None:
            return
        dialog.ending = source
        for call_id in (dialog.child_id, dialog.parent_id):
            try:
                await self._applications.end_call(call_id, "NORMAL_HANGUP")
            except CallError:
                pass  # not placed yet or already gone
        if dialog.state != "ENDED":  # neither call was on this node any more
            established = dialog.state == "ESTABLISHED"
            dialog.state = "ENDED"
            await self._finish(dialog, dialog.child_id, "NORMAL_HANGUP", source, established)

    # --- internals -------------------------------------------------------------------------------------------

    def _dialog_of(self, call_id: str) -> NodeDialog | None:
        for dialog in self._dialogs.values():
            if call_id in (dialog.parent_id, dialog.child_id) and dialog.state != "ENDED":
                return dialog
        return None

    def _of(self, account_id: str, dialog_id: str) -> NodeDialog:
        dialog = self._dialogs.get(dialog_id)
        if dialog is None or dialog.account_id != account_id:
            raise CallError("UNKNOWN_CALL", f"no dialog {dialog_id} on this node")
        return dialog

    def _live(self, account_id: str, call_id: str) -> ApplicationCall | None:
        try:
            return self._applications.call_of(account_id, call_id)
        except CallError:
            return None

    def _stop_ringback(self, dialog: NodeDialog) -> None:
        if dialog.ringback is not None:
            dialog.ringback.remove(dialog.ringback_name)
            dialog.ringback = None

    def _notify(self, dialog: NodeDialog, state: str) -> None:
        for hook in list(self.state_hooks):
            try:
                hook(dialog.dialog_id, state)
            except Exception:
                log.exception("dialog %s: a %s hook failed", dialog.dialog_id, state)

    def _close(self, dialog: NodeDialog) -> None:
        if self._dialogs.pop(dialog.dialog_id, None) is not None:
            self._notify(dialog, "ENDED")
        dialog.state = "ENDED"
        self._stop_ringback(dialog)
        if dialog.timer is not None:
            dialog.timer.cancel()
        if dialog.actions is not None:
            self._spawn(dialog.actions.close())
        graph = dialog.graph
        if graph is not None:
            graph.call_after_tick(lambda: self._ticker.discard(graph))

    def _writer(self, dialog: NodeDialog) -> Any:
        async def write_event(event_type: str, properties: dict[str, Any]) -> None:
            await self._records.dialog("action_event", dialog.account_id, dialog.dialog_id, event_type, properties)

        return write_event

    async def _report(self, name: str, dialog: NodeDialog, *args: Any, **kwargs: Any) -> None:
        try:
            await self._records.dialog(name, dialog.account_id, dialog.dialog_id, *args, **kwargs)
        except Exception:
            log.exception("could not record %s in dialog %s", name, dialog.dialog_id)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
