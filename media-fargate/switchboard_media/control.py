"""The node's side of the internal control API (`chalicelib.contract.control`): signature check, then translate."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import ValidationError

from chalicelib.contract import control
from switchboard_media.calls import CallError

if TYPE_CHECKING:
    from switchboard_media.recording import Recordings
    from switchboard_media.session import Managers

NOT_FOUND_CODES = {"UNKNOWN_CALL", "DESTINATION_NOT_FOUND"}
BAD_REQUEST_CODES = {"BAD_CONTENT"}


def _error(error: CallError) -> web.Response:
    status = 404 if error.code in NOT_FOUND_CODES else 400 if error.code in BAD_REQUEST_CODES else 409
    return web.json_response({"error": error.code, "text": error.text}, status=status)


def _done() -> web.Response:
    return web.json_response(control.ActionResult(status="COMPLETED").model_dump(exclude_none=True))


class ControlApi:
    def __init__(
        self,
        key: bytes,
        managers: Callable[[], Managers | None],
        status: Callable[[], control.NodeStatus],
        recordings: Callable[[], Recordings | None] | None = None,
    ) -> None:
        self._key = key
        self._managers = managers
        self._status = status
        self._recordings = recordings

    def add_routes(self, app: web.Application) -> None:
        prefix = control.CONTROL_PREFIX
        app.router.add_get(f"{prefix}/status", self._signed(self.status))
        app.router.add_post(f"{prefix}/calls", self._signed(self.dial))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/hangup", self._signed(self.hangup))
        for action in ("send-ringing", "pre-answer", "answer"):
            app.router.add_post(f"{prefix}/calls/{{call_id}}/{action}", self._signed(self.application_action))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/play", self._signed(self.play))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/stop-play", self._signed(self.stop_play))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/capture-dtmf", self._signed(self.capture_dtmf))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/send-dtmf", self._signed(self.send_dtmf))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/start-media-stream", self._signed(self.start_media_stream))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/stop-media-stream", self._signed(self.stop_media_stream))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/application-transfer", self._signed(self.application_transfer))
        app.router.add_post(f"{prefix}/calls/{{call_id}}/broadcast-text", self._signed(self.broadcast_text))
        for action in ("join", "leave", "update", "play", "stop-play", "hangup"):
            app.router.add_post(f"{prefix}/conferences/{{conference_id}}/{action}", self._signed(self.conference))
        for action in ("start", "stop"):
            app.router.add_post(f"{prefix}/recordings/{action}", self._signed(self.recording))
        for action in ("open", "abandon", "play", "stop-play", "hangup"):
            app.router.add_post(f"{prefix}/dialogs/{{dialog_id}}/{action}", self._signed(self.dialog))

    def _signed(
        self, handler: Callable[[web.Request, bytes, Managers], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def checked(request: web.Request) -> web.Response:
            body = await request.read()
            headers = {name: value for name, value in request.headers.items()}
            if not control.verify(self._key, headers, request.method, request.path, body, time.time()):
                return web.json_response(
                    {"error": "UNAUTHORIZED", "text": "missing, wrong or stale signature"}, status=401
                )
            managers = self._managers()
            if managers is None:
                return web.json_response({"error": "NOT_READY"}, status=503)
            try:
                return await handler(request, body, managers)
            except ValidationError as error:
                return web.json_response({"error": "BAD_REQUEST", "text": str(error.errors()[0]["msg"])}, status=400)
            except CallError as error:
                return _error(error)

        return checked

    async def status(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        return web.json_response(self._status().model_dump())

    async def dial(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        dial = control.DialRequest.model_validate_json(body or b"{}")
        if dial.conferenceId:  # expected before it rings, so an answer can never come first
            managers.conferences.expect(dial.accountId, dial.conferenceId, dial.callId, dial.conferenceEndsAt)
        try:
            await managers.applications.dial(dial)
        except CallError:
            if dial.conferenceId:
                managers.conferences.forget(dial.conferenceId, dial.callId)
            raise
        return _done()

    async def conference(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        conference_id = request.match_info["conference_id"]
        action = request.path.rsplit("/", 1)[1]
        conferences, data = managers.conferences, body or b"{}"
        if action == "join":
            await conferences.join(conference_id, control.ConferenceJoinRequest.model_validate_json(data))
        elif action == "update":
            await conferences.update(conference_id, control.ConferenceUpdateRequest.model_validate_json(data))
        elif action == "play":
            await conferences.play(conference_id, control.ConferencePlayRequest.model_validate_json(data))
        else:
            handler = {"leave": conferences.leave, "stop-play": conferences.stop_play, "hangup": conferences.hangup}
            await handler[action](conference_id, control.ConferenceRequest.model_validate_json(data))
        return _done()

    async def dialog(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        dialog_id = request.match_info["dialog_id"]
        action = request.path.rsplit("/", 1)[1]
        dialogs, data = managers.dialogs, body or b"{}"
        if action == "open":
            await dialogs.open(dialog_id, control.DialogOpenRequest.model_validate_json(data))
        elif action == "abandon":
            await dialogs.abandon(dialog_id, control.DialogAbandonRequest.model_validate_json(data))
        elif action == "play":
            await dialogs.play(dialog_id, control.DialogPlayRequest.model_validate_json(data))
        else:
            handler = {"stop-play": dialogs.stop_play, "hangup": dialogs.hangup}
            await handler[action](dialog_id, control.DialogRequest.model_validate_json(data))
        return _done()

    async def hangup(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        hangup = control.HangupRequest.model_validate_json(body or b"{}")
        call_id = request.match_info["call_id"]
        await managers.of_call(call_id).end_call(call_id, hangup.errorCode)
        return _done()

    async def application_action(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        call_id = request.match_info["call_id"]
        action = request.path.rsplit("/", 1)[1]
        applications = managers.applications
        if action == "send-ringing":
            await applications.send_ringing(call_id)
        elif action == "pre-answer":
            await applications.pre_answer(call_id)
        else:
            await applications.answer(call_id)
        return _done()

    async def play(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        play = control.PlayRequest.model_validate_json(body or b"{}")
        await managers.applications.play(request.match_info["call_id"], play)
        return _done()

    async def stop_play(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        await managers.applications.stop_play(request.match_info["call_id"])
        return _done()

    async def capture_dtmf(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        capture = control.CaptureDtmfRequest.model_validate_json(body or b"{}")
        await managers.applications.capture_dtmf(request.match_info["call_id"], capture)
        return _done()

    async def send_dtmf(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        send = control.SendDtmfRequest.model_validate_json(body or b"{}")
        await managers.applications.send_dtmf(request.match_info["call_id"], send)
        return _done()

    async def start_media_stream(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        stream = control.StartMediaStreamRequest.model_validate_json(body or b"{}")
        await managers.applications.start_media_stream(request.match_info["call_id"], stream)
        return _done()

    async def stop_media_stream(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        await managers.applications.stop_media_stream(request.match_info["call_id"])
        return _done()

    async def application_transfer(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        timer = control.ApplicationTransferTimerRequest.model_validate_json(body or b"{}")
        managers.applications.time_transfer(request.match_info["call_id"], timer)
        return _done()

    async def broadcast_text(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        broadcast = control.BroadcastTextRequest.model_validate_json(body or b"{}")
        await managers.applications.broadcast_text(request.match_info["call_id"], broadcast.text)
        return _done()

    async def recording(self, request: web.Request, body: bytes, managers: Managers) -> web.Response:
        recordings = self._recordings() if self._recordings is not None else None
        if recordings is None:
            return web.json_response({"error": "NOT_READY"}, status=503)
        if request.path.endswith("/start"):
            await recordings.start(control.StartRecordingRequest.model_validate_json(body or b"{}"))
        else:
            await recordings.stop(control.StopRecordingRequest.model_validate_json(body or b"{}"))
        return _done()
