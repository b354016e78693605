"""The node's side of the internal control API (`chalicelib.contract.control`): signature check, then translate."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from chalicelib.contract import control
from switchboard_media.calls import CallError, CallManager


class ControlApi:
    def __init__(
        self, key: bytes, calls: Callable[[], CallManager | None], status: Callable[[], control.NodeStatus]
    ) -> None:
        self._key = key
        self._calls = calls
        self._status = status

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(f"{control.CONTROL_PREFIX}/status", self._signed(self.status))
        app.router.add_post(f"{control.CONTROL_PREFIX}/calls/{{call_id}}/hangup", self._signed(self.hangup))

    def _signed(
        self, handler: Callable[[web.Request, bytes], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def checked(request: web.Request) -> web.Response:
            body = await request.read()
            headers = {name: value for name, value in request.headers.items()}
            if not control.verify(self._key, headers, request.method, request.path, body, time.time()):
                return web.json_response(
                    {"error": "UNAUTHORIZED", "text": "missing, wrong or stale signature"}, status=401
                )
            return await handler(request, body)

        return checked

    async def status(self, request: web.Request, body: bytes) -> web.Response:
        return web.json_response(self._status().model_dump())

    async def hangup(self, request: web.Request, body: bytes) -> web.Response:
        try:
            hangup = control.HangupRequest.model_validate_json(body or b"{}")
        except ValidationError as error:
            return web.json_response({"error": "BAD_REQUEST", "text": str(error.errors()[0]["msg"])}, status=400)
        calls = self._calls()
        if calls is None:
            return web.json_response({"error": "NOT_READY"}, status=503)
        try:
            await calls.end_call(request.match_info["call_id"], hangup.errorCode)
        except CallError as error:
            return web.json_response({"error": error.code, "text": error.text}, status=404)
        return web.json_response(control.ActionResult(status="COMPLETED").model_dump(exclude_none=True))
