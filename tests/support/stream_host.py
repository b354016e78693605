"""A media-stream host for tests: a real aiohttp websocket server on 127.0.0.1 that records what a call streams to
it and answers with a tone, as a customer's host would (Infobip's MEDIA_STREAMING wire format: a JSON text message,
then 16-bit 48 kHz mono PCM in 1920-byte frames, either way).

- `/stream` records the opening handshake's Authorization header, the first message and every binary message,
  and sends `tone` Hz back: five frames at once to start, then two frames every 40 ms (bunched, as real hosts do);
- `/drop` reads the first message and closes abnormally (1011).
Add routes to `app` before `start` (a file for the call to play, say)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import numpy as np
from aiohttp import WSMsgType, web

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960


@dataclass
class HostSession:
    """One stream as the host saw it."""

    authorization: str | None
    first: dict[str, object] | None = None
    sizes: list[int] = field(default_factory=list)  # binary message sizes
    pcm: bytearray = field(default_factory=bytearray)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def samples(self) -> np.ndarray:
        return np.frombuffer(bytes(self.pcm), dtype="<i2")


def tone_frames(frequency: float, start: int, frames: int) -> bytes:
    """`frames` 20 ms PCM frames of a tone, from sample `start` on."""
    n = np.arange(start, start + frames * FRAME_SAMPLES)
    return (0.3 * 32767 * np.sin(2 * np.pi * frequency * n / SAMPLE_RATE)).astype("<i2").tobytes()


class StreamHost:
    def __init__(self, tone: float = 1500.0) -> None:
        self.tone = tone
        self.sessions: list[HostSession] = []
        self.app = web.Application()
        self.app.router.add_get("/stream", self._stream)
        self.app.router.add_get("/drop", self._drop)
        self.address = ""  # host:port once started
        self._runner: web.AppRunner | None = None

    async def start(self) -> StreamHost:
        self._runner = web.AppRunner(self.app, shutdown_timeout=2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.address = f"127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        session = HostSession(request.headers.get("Authorization"))
        self.sessions.append(session)
        session.first = json.loads((await websocket.receive()).data)
        speaking = asyncio.ensure_future(self._speak(websocket))
        try:
            async for message in websocket:
                if message.type == WSMsgType.BINARY:
                    session.sizes.append(len(message.data))
                    session.pcm += message.data
        finally:
            speaking.cancel()
            session.closed.set()
        return websocket

    async def _drop(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        self.sessions.append(HostSession(request.headers.get("Authorization")))
        await websocket.receive()
        await websocket.close(code=1011, message=b"host failure")
        return websocket

    async def _speak(self, websocket: web.WebSocketResponse) -> None:
        loop = asyncio.get_running_loop()
        start, sent = loop.time(), 5
        await websocket.send_bytes(tone_frames(self.tone, 0, 5))
        while not websocket.closed:  # three frames ahead of real time
            await asyncio.sleep(max(0.0, start + (sent - 3) * 0.02 - loop.time()))
            await websocket.send_bytes(tone_frames(self.tone, sent * FRAME_SAMPLES, 2))
            sent += 2
