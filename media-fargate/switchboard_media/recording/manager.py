"""The node's recordings: start and stop a `Recorder` on a call, a conference or a dialog, and see every
recording through to storage.

- A 1:1 call (two legs on a `Bridge`) is held on the decoded path while it records (`hold_decoded`); its parties
  are the two legs. An application call records on its own graph: what its party says and hears. A call not yet
  answered starts recording once its media is up. A call's recording ends when it stops, when the call ends or when
  it joins a conference (a watchdog notices).
- A conference records on its mix; participants who join later get their own file (without composition).
- Finishing: the recorder's files are closed, STOPPED is written, then each file is uploaded in the background and
  marked READY (or FAILED). On shutdown every recording is finished as far as it got and marked interrupted.
- Each running recording has a manifest next to its files; with a persistent `recordings_dir`, a node that
  restarts after a crash stores what its predecessor left (repaired WAVs, remuxed MP4s, marked interrupted).
- AUDIO_AND_VIDEO writes `.mp4` files (`Mp4Track`) showing the parties' cameras: a 1:1 call's two legs', an
  application call's party's, a conference's or a dialog's application calls' (composed: a grid that follows who
  joins and leaves; per participant: each its own camera and voice).

- A dialog records on its bridge's graph once it is ESTABLISHED (asked earlier, it starts then); its parties are
  the parent and the child call. Its recording ends when it stops or when the dialog ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.contract.control import StartRecordingRequest, StopRecordingRequest
from chalicelib.core import clock
from chalicelib.core.ids import uuid_id
from chalicelib.recordings.wav import repair
from switchboard_media.calls import CallError
from switchboard_media.engine.graph import AudioGraph
from switchboard_media.recording import mp4
from switchboard_media.recording.recorder import RecordedFile, Recorder
from switchboard_media.recording.store import RecordingStore

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.2
SHUTDOWN_REASON = "the media node shut down before the recording ended"
CRASH_REASON = "the media node stopped before the recording ended"
RecordingError = CallError


@dataclass
class Target:
    graph: AudioGraph
    participants: Callable[[], set[str]]
    alive: Callable[[], bool]
    release: Callable[[], None] = lambda: None
    hear_as: str | None = None
    video: Callable[[], dict[str, Any]] | None = None  # the participants' cameras (InboundTaps), for AUDIO_AND_VIDEO


@dataclass
class ActiveRecording:
    request: StartRecordingRequest
    recording_id: str
    recorder: Recorder
    target: Target
    manifest: Path


class Recordings:
    def __init__(
        self,
        calls: Any,
        applications: Any,
        conferences: Any,
        store: RecordingStore,
        directory: Path,
        dialogs: Any = None,
    ) -> None:
        self._calls = calls
        self._applications = applications
        self._conferences = conferences
        self._dialogs = dialogs
        self._store = store
        self.directory = directory
        self._active: dict[tuple[str, str], ActiveRecording] = {}
        self._pending: dict[str, StartRecordingRequest] = {}  # call / dialog id -> recording to start once up
        self._tasks: set[asyncio.Future[None]] = set()
        self._watch: asyncio.Task[None] | None = None
        # asked before every start; one refuses with a CallError (the WebRTC recording rules' on-demand check)
        self.start_checks: list[Callable[[StartRecordingRequest], Awaitable[None]]] = []
        applications.wired_hooks.append(self._wired)
        if dialogs is not None:
            dialogs.state_hooks.append(self._dialog_state)

    def __len__(self) -> int:
        return len(self._active)

    def active(self, scope: str, scope_id: str) -> ActiveRecording | None:
        return self._active.get((scope, scope_id))

    # --- the control plane's requests ------------------------------------------------------------------------

    async def start(self, request: StartRecordingRequest) -> None:
        for check in self.start_checks:
            await check(request)
        key = (request.scope, request.scopeId)
        if key in self._active or request.scopeId in self._pending:
            raise CallError("WRONG_STATE", f"the {request.scope.lower()} is recording already: stop it first")
        target = self._target(request)
        if target is None:
            self._pending[request.scopeId] = request
            return
        await self._begin(request, target)

    async def stop(self, request: StopRecordingRequest) -> None:
        if self._pending.pop(request.scopeId, None) is not None:
            return
        active = self._active.pop((request.scope, request.scopeId), None)
        if active is None or active.request.accountId != request.accountId:
            raise CallError("WRONG_STATE", f"the {request.scope.lower()} is not recording")
        await self._finish(active)

    async def shutdown(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        for key in list(self._active):
            await self._finish(self._active.pop(key), interrupted=SHUTDOWN_REASON)
        await self.drain()

    async def drain(self) -> None:
        """Until every finished recording is stored (or failed)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- what is recorded ---------------------------------------------------------------------------------------

    def _target(self, request: StartRecordingRequest) -> Target | None:
        if request.scope == "CALL":
            return self._call_target(request)
        if request.scope == "CONFERENCE":
            graph = self._conferences.graph_of(request.accountId, request.scopeId)
            if graph is None:
                raise CallError("UNKNOWN_CALL", f"no conference {request.scopeId} on this node")
            owns = self._applications.owns
            return Target(
                graph,
                participants=lambda: {name for name in graph.members if owns(name)},
                alive=lambda: self._conferences.graph_of(request.accountId, request.scopeId) is graph,
                video=lambda: self._cameras(request.accountId, [name for name in graph.members if owns(name)]),
            )
        if request.scope == "DIALOG" and self._dialogs is not None:
            return self._dialog_target(request)
        raise CallError("BAD_CONTENT", f"{request.scope} recording is not available on this node yet")

    def _dialog_target(self, request: StartRecordingRequest) -> Target | None:
        dialogs, account_id, dialog_id = self._dialogs, request.accountId, request.scopeId
        parties = dialogs.parties_of(account_id, dialog_id)
        if parties is None:
            raise CallError("UNKNOWN_CALL", f"no open dialog {dialog_id} on this node")
        graph = dialogs.graph_of(account_id, dialog_id)
        if graph is None:
            return None  # starts when the dialog is established (`_dialog_state`)
        return Target(
            graph,
            participants=lambda: {call_id for call_id in parties if call_id in graph.members},
            alive=lambda: dialogs.graph_of(account_id, dialog_id) is graph,
            video=lambda: self._cameras(account_id, [call_id for call_id in parties if call_id in graph.members]),
        )

    def _cameras(self, account_id: str, call_ids: list[str]) -> dict[str, Any]:
        """The cameras (InboundTaps) of those application calls (in that order) that have one."""
        cameras: dict[str, Any] = {}
        for call_id in call_ids:
            try:
                media = self._applications.call_of(account_id, call_id).media
            except CallError:
                continue
            if media is not None and media.video_in is not None:
                cameras[call_id] = media.video_in
        return cameras

    def _call_target(self, request: StartRecordingRequest) -> Target | None:
        call_id = request.scopeId
        if self._applications.owns(call_id):
            call = self._applications.call_of(request.accountId, call_id)
            if call.home is not None:
                raise CallError("WRONG_STATE", "the call is in a conference: record the conference instead")
            if not call.wired or call.graph is None:
                return None  # starts when its media is up (`_wired`)
            graph = call.graph
            return Target(
                graph,
                participants=lambda: {call_id},
                alive=lambda: call.state != "ENDED" and call.home is None and self._applications.owns(call_id),
                hear_as=call_id,
                video=lambda: {call_id: call.media.video_in} if call.media and call.media.video_in else {},
            )
        bridge = self._calls.bridge_of(call_id)
        if bridge is None:
            raise CallError("UNKNOWN_CALL", f"no established call {call_id} on this node")
        owner = f"recording:{call_id}"
        graph = bridge.hold_decoded(owner)
        legs = {bridge.a.leg_id, bridge.b.leg_id}
        return Target(
            graph,
            participants=lambda: set(legs),
            alive=lambda: self._calls.bridge_of(call_id) is bridge,
            release=lambda: bridge.release_decoded(owner),
            video=lambda: {leg.leg_id: leg.video_in for leg in (bridge.a, bridge.b) if leg.video_in is not None},
        )

    def _wired(self, call: Any) -> None:
        request = self._pending.pop(call.call_id, None)
        if request is not None:
            self._spawn(self._start_pending(request))

    def _dialog_state(self, dialog_id: str, state: str) -> None:
        request = self._pending.get(dialog_id)
        if request is None or request.scope != "DIALOG":
            return
        del self._pending[dialog_id]
        if state == "ESTABLISHED":
            self._spawn(self._start_pending(request))

    async def _start_pending(self, request: StartRecordingRequest) -> None:
        try:
            target = self._target(request)
            if target is not None:
                await self._begin(request, target)
        except CallError as error:
            log.warning("could not start the recording of %s: %s", request.scopeId, error.text)

    async def _begin(self, request: StartRecordingRequest, target: Target) -> None:
        recording_id = uuid_id()
        directory = self.directory / recording_id
        key = (request.scope, request.scopeId)
        holder: list[ActiveRecording] = []
        recorder = Recorder(
            target.graph,
            recording_id,
            directory,
            target.participants,
            composition=request.composition,
            hear_as=target.hear_as,
            max_seconds=request.maxDurationSeconds,
            video=(target.video or dict) if request.recordingType == "AUDIO_AND_VIDEO" else None,
            on_file=lambda file: self._participant_file(holder[0], file),
            on_limit=lambda: self._spawn(self._stop_active(key)),
        )
        active = ActiveRecording(request, recording_id, recorder, target, directory / "manifest.json")
        holder.append(active)
        files = recorder.start()
        self._active[key] = active
        self._write_manifest(active, files)
        self._ensure_watch()
        try:
            await self._store.started(request, recording_id, files)
        except Exception:
            self._active.pop(key, None)
            recorder.close()
            target.release()
            raise

    def _participant_file(self, active: ActiveRecording, file: RecordedFile) -> None:
        self._write_manifest(active, [*self._manifest_files(active), file])
        self._spawn(self._store.participant_started(active.request, active.recording_id, file))

    async def _stop_active(self, key: tuple[str, str]) -> None:
        active = self._active.pop(key, None)
        if active is not None:
            await self._finish(active)

    async def _finish(self, active: ActiveRecording, interrupted: str | None = None) -> None:
        files = active.recorder.close()
        active.target.release()
        account_id = active.request.accountId
        try:
            await self._store.stopped(account_id, active.recording_id, clock.now())
        except Exception:
            log.exception("could not record the end of recording %s", active.recording_id)
        self._spawn(self._store_files(active, files, interrupted))

    async def _store_files(self, active: ActiveRecording, files: list[RecordedFile], interrupted: str | None) -> None:
        results = []
        for file in files:
            try:
                results.append(await self._store.store(active.request.accountId, file, interrupted))
            except Exception:
                log.exception("could not record the outcome of recording file %s", file.file_id)
                results.append(False)
        if all(results):
            active.manifest.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                active.manifest.parent.rmdir()

    # --- liveness and crash recovery ---------------------------------------------------------------------------

    def _ensure_watch(self) -> None:
        if self._watch is None or self._watch.done():
            self._watch = asyncio.ensure_future(self._watching())

    async def _watching(self) -> None:
        while self._active:
            await asyncio.sleep(WATCH_SECONDS)
            for key, active in list(self._active.items()):
                if not active.target.alive() and self._active.get(key) is active:
                    del self._active[key]
                    await self._finish(active)

    def _manifest_files(self, active: ActiveRecording) -> list[RecordedFile]:
        try:
            data = json.loads(active.manifest.read_text())
        except (OSError, ValueError):
            return []
        return [_file_from(entry, active.manifest.parent) for entry in data["files"]]

    def _write_manifest(self, active: ActiveRecording, files: list[RecordedFile]) -> None:
        entries = [
            {"fileId": f.file_id, "callId": f.call_id, "startTime": f.start_time.isoformat(), "format": f.file_format}
            for f in files
        ]
        manifest = {"recordingId": active.recording_id, "request": active.request.model_dump(), "files": entries}
        active.manifest.write_text(json.dumps(manifest))

    async def recover(self) -> int:
        """Store what a previous run of this node left in `directory` (cut short: marked interrupted)."""
        recovered = 0
        for manifest in sorted(self.directory.glob("*/manifest.json")):
            try:
                data = json.loads(manifest.read_text())
                request = StartRecordingRequest.model_validate(data["request"])
                files = [_file_from(entry, manifest.parent) for entry in data["files"]]
            except (OSError, ValueError, KeyError) as error:
                log.warning("skipping unreadable recording manifest %s: %s", manifest, error)
                continue
            ends, broken = [], {}
            for file in files:
                if file.path.exists():
                    try:
                        file.seconds = await asyncio.to_thread(_repaired_seconds, file.path)
                    except ValueError as error:  # an MP4 cut before its first fragment
                        broken[file.file_id] = f"{CRASH_REASON} ({error})"
                        continue
                    file.end_time = datetime.fromtimestamp(file.path.stat().st_mtime, UTC)
                    ends.append(file.end_time)
            await self._store.stopped(request.accountId, data["recordingId"], max(ends, default=clock.now()))
            for file in files:
                if file.file_id in broken:
                    await self._store.failed(request.accountId, file.file_id, broken[file.file_id])
                elif file.path.exists():
                    await self._store.store(request.accountId, file, CRASH_REASON)
                else:
                    await self._store.failed(request.accountId, file.file_id, CRASH_REASON + " (no audio was kept)")
            manifest.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                manifest.parent.rmdir()
            recovered += 1
        return recovered

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _file_from(entry: dict[str, Any], directory: Path) -> RecordedFile:
    file_id, file_format = str(entry["fileId"]), str(entry.get("format", "WAV"))
    path = directory / f"{file_id}.{file_format.lower()}"
    return RecordedFile(
        file_id, entry.get("callId"), path, datetime.fromisoformat(entry["startTime"]), file_format=file_format
    )


def _repaired_seconds(path: Path) -> float:
    """Make a file cut short readable to its end (a WAV's header, an MP4 remuxed); its length."""
    return mp4.repair(path) if path.suffix == ".mp4" else repair(path).seconds
