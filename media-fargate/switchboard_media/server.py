"""The node's HTTP surface: `/healthz`, the signalling websocket `/ws`, and WHIP offers `POST /whip/{legId}`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from chalicelib.contract import control
from switchboard_media import session
from switchboard_media.actions.tts import EspeakProvider
from switchboard_media.applications import ApplicationCalls
from switchboard_media.calls import CallError, CallManager, CallRecords
from switchboard_media.conferences import Conferences
from switchboard_media.control import ControlApi
from switchboard_media.dialogs import Dialogs
from switchboard_media.engine.ticker import Ticker
from switchboard_media.presence import Presence
from switchboard_media.recording import Recordings, RecordingStore
from switchboard_media.recording.webrtc_rules import WebrtcRecordingRules
from switchboard_media.remote_calls import Peers, RemoteCalls
from switchboard_media.rooms import RoomManager
from switchboard_media.settings import NodeSettings
from switchboard_media.tickets import Tickets

MAX_SDP_BYTES = 64 * 1024
# Browsers send WHIP offers from the page's origin: answer the preflight. Any origin may: the credential is the
# per-leg ticket in the Authorization header, never a cookie the browser adds by itself.
WHIP_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Expose-Headers": "Location",
    "Access-Control-Max-Age": "600",
}


@web.middleware
async def whip_cors(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/whip/"):
        return await handler(request)
    response = web.Response(status=204) if request.method == "OPTIONS" else await handler(request)
    response.headers.update(WHIP_CORS)
    return response


def recordings_directory(settings: NodeSettings) -> Path:
    if settings.recordings_dir:
        return Path(settings.recordings_dir)
    return Path(tempfile.gettempdir()) / "switchboard-recordings" / settings.node_id


class Node:
    def __init__(
        self,
        settings: NodeSettings,
        token_key: bytes,
        records: CallRecords | None = None,
        control_key: bytes | None = None,
        recording_store: RecordingStore | None = None,
        peers: Peers | None = None,
    ) -> None:
        self.settings = settings
        self.token_key = token_key
        self.control_key = control_key
        self.presence = Presence()
        self.tickets = Tickets(settings.ticket_ttl_seconds)
        self.records = records or CallRecords()
        self.calls: CallManager | None = None
        self.applications: ApplicationCalls | None = None
        self.conferences: Conferences | None = None
        self.dialogs: Dialogs | None = None
        self.rooms: RoomManager | None = None
        self.recordings: Recordings | None = None
        self.recording_rules: WebrtcRecordingRules | None = None
        self.recording_store = recording_store or RecordingStore(settings.node_id)
        self.ticker = Ticker()
        self.draining = False
        # 1:1 calls across nodes (`peers`: the other live nodes; without it, only calls anchored elsewhere ring here)
        self.remote_calls = RemoteCalls(control_key, self.presence, peers) if control_key is not None else None

    def bind(self, base_url: str, internal_url: str | None = None) -> None:
        self.calls = CallManager(self.settings, self.presence, self.tickets, self.records, base_url, self.ticker)
        if self.remote_calls is not None:
            self.remote_calls.bind(self.calls, internal_url or base_url)
            self.calls.remote = self.remote_calls
        self.rooms = RoomManager(self.settings, self.tickets, base_url, self.ticker)
        speech = EspeakProvider()
        self.applications = ApplicationCalls(
            self.settings, self.presence, self.tickets, self.records, base_url, self.ticker, speech
        )
        self.conferences = Conferences(self.applications, self.records, self.ticker, speech)
        self.dialogs = Dialogs(self.applications, self.records, self.ticker, speech)
        self.recordings = Recordings(
            self.calls,
            self.applications,
            self.conferences,
            self.recording_store,
            recordings_directory(self.settings),
            dialogs=self.dialogs,
        )
        self.recording_rules = WebrtcRecordingRules(self.calls, self.recordings)  # 1:1 calls: record when due

    async def shutdown(self) -> None:
        """End every call and room seat with proper events, then stop the media clock."""
        if self.recordings is not None:
            await self.recordings.shutdown()  # stored as far as they got, marked interrupted
        if self.calls is not None:
            await self.calls.shutdown()
        if self.remote_calls is not None:
            await self.remote_calls.close()  # the other nodes heard how the calls ended
        if self.applications is not None:
            await self.applications.shutdown()  # the conferences' calls end with them
        if self.conferences is not None:
            await self.conferences.shutdown()
        if self.dialogs is not None:
            await self.dialogs.shutdown()
        if self.rooms is not None:
            await self.rooms.shutdown()
        await self.ticker.stop()

    def status(self) -> control.NodeStatus:
        return control.NodeStatus(
            nodeId=self.settings.node_id,
            status="DRAINING" if self.draining else "UP",
            sessions=len(self.presence),
            calls=len(self.calls or ()) + len(self.applications or ()),
            roomSeats=len(self.rooms or ()),
        )

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response(self.status().model_dump(), status=503 if self.draining else 200)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        managers = self._managers()
        if self.draining or managers is None:
            return web.json_response({"error": "draining"}, status=503)
        return await session.handle(request, self.presence, managers, self.token_key, self.settings.node_id)

    async def whip(self, request: web.Request) -> web.Response:
        assert self.calls is not None and self.rooms is not None and self.applications is not None
        if request.content_type != "application/sdp":
            return web.json_response({"error": "send the offer as application/sdp"}, status=415)
        if (request.content_length or 0) > MAX_SDP_BYTES:
            return web.json_response({"error": "offer too large"}, status=413)
        scheme, _, ticket = request.headers.get("Authorization", "").partition(" ")
        leg_id = request.match_info["leg_id"]
        try:
            if scheme.lower() != "bearer":
                raise CallError("UNAUTHORIZED", "send the media ticket as a Bearer credential")
            if self.rooms.has_leg(leg_id):
                answer = await self.rooms.whip_offer(leg_id, ticket, await request.text())
            elif self.applications.owns(leg_id):
                answer = await self.applications.whip_offer(leg_id, ticket, await request.text())
            else:
                answer = await self.calls.whip_offer(leg_id, ticket, await request.text())
        except CallError as error:
            status = 401 if error.code == "UNAUTHORIZED" else 404
            return web.json_response({"error": error.code, "text": error.text}, status=status)
        except ValueError as error:
            return web.json_response({"error": "BAD_OFFER", "text": str(error)}, status=400)
        return web.Response(
            status=201, text=answer, content_type="application/sdp", headers={"Location": f"/whip/{leg_id}"}
        )

    def _managers(self) -> session.Managers | None:
        if (
            self.calls is None
            or self.rooms is None
            or self.applications is None
            or self.conferences is None
            or self.dialogs is None
        ):
            return None
        return session.Managers(
            self.calls, self.rooms, self.applications, self.conferences, self.dialogs, self.remote_calls
        )

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_SDP_BYTES, middlewares=[whip_cors])
        app.router.add_get("/healthz", self.health)
        app.router.add_get("/ws", self.websocket)
        app.router.add_post("/whip/{leg_id}", self.whip)
        app.router.add_route("OPTIONS", "/whip/{leg_id}", self.whip)  # answered by whip_cors
        if self.control_key is not None:
            ControlApi(self.control_key, self._managers, self.status, lambda: self.recordings).add_routes(app)
        if self.remote_calls is not None:
            self.remote_calls.add_routes(app)
        return app
