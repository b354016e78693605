"""How the load generator gets media sessions from each kind of node, ready for a WHIP offer.

- the stock baseline hands out legs over its bench-only HTTP (`POST /calls`, `POST /rooms`);
- the real media node is driven through the real signalling protocol (`chalicelib.contract.signalling`), one
  websocket per party: hello → registered; call → incoming_call → accept → established + media{whipUrl, ticket};
  join_room → room_joined + media. The websockets stay open (and read) for the whole run, as an SDK's would.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import aiohttp

from bench.media.client import Frame, LightLeg
from chalicelib.contract.tokens import TokenClaims, sign

ACCOUNT = "account-bench"
SETUP_CONCURRENCY = 8
SIGNAL_TIMEOUT = 20.0
KEPT_MESSAGES = 256

T = TypeVar("T")


@dataclass(frozen=True)
class MediaSession:
    """Where one leg sends its WHIP offer, and the ticket that authorises it (None: the stock node needs none)."""

    whip_url: str
    ticket: str | None = None


class Driver(Protocol):
    async def calls(self, count: int) -> list[tuple[MediaSession, MediaSession]]: ...

    async def room(self, size: int) -> list[MediaSession]: ...

    async def close(self) -> None: ...


async def bounded(jobs: Sequence[Callable[[], Awaitable[T]]], limit: int = SETUP_CONCURRENCY) -> list[T]:
    """Run `jobs` at most `limit` at a time, results in order."""
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


async def connect_leg(http: aiohttp.ClientSession, session: MediaSession, frames: list[Frame]) -> LightLeg:
    """A light leg whose offer the node has answered (media comes up in the background: `await leg.ready()`)."""
    leg = LightLeg(frames)
    offer = await leg.offer()
    headers = {"Content-Type": "application/sdp"}
    if session.ticket is not None:
        headers["Authorization"] = f"Bearer {session.ticket}"
    async with http.post(session.whip_url, data=offer, headers=headers) as response:
        if response.status != 201:
            await leg.close()
            raise RuntimeError(f"WHIP offer refused: {response.status} {await response.text()}")
        answer = await response.text()
    await leg.accept_answer(answer)
    return leg


class StockDriver:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url

    async def calls(self, count: int) -> list[tuple[MediaSession, MediaSession]]:
        async with self.http.post(f"{self.url}/calls", params={"count": str(count)}) as response:
            response.raise_for_status()
            pairs = (await response.json())["calls"]
        return [(self._session(a), self._session(b)) for a, b in pairs]

    async def room(self, size: int) -> list[MediaSession]:
        async with self.http.post(f"{self.url}/rooms", params={"size": str(size)}) as response:
            response.raise_for_status()
            return [self._session(leg) for leg in (await response.json())["legs"]]

    def _session(self, leg: str) -> MediaSession:
        return MediaSession(f"{self.url}/whip/{leg}")

    async def close(self) -> None:
        return None


class Signalling:
    """One registered device: a websocket whose messages are read continuously and kept until someone expects them."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str, token: str) -> Signalling:
        ws = await http.ws_connect(url.replace("http", "ws", 1) + "/ws", heartbeat=20)
        device = cls(ws)
        await device.send({"type": "hello", "token": token})
        await device.expect("registered")
        return device

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            self._messages.append(frame.json())
            del self._messages[:-KEPT_MESSAGES]
            self._arrived.set()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_json(message)

    async def expect(self, kind: str, timeout: float = SIGNAL_TIMEOUT) -> dict[str, Any]:
        """The first unread message of type `kind` (an `error` message raises instead)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index, message in enumerate(self._messages):
                if message.get("type") == "error":
                    del self._messages[index]
                    raise RuntimeError(f"the node answered {message}")
                if message.get("type") == kind:
                    return self._messages.pop(index)
            self._arrived.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self._reader.done():
                raise TimeoutError(f"no {kind} message from the node")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


class EngineDriver:
    def __init__(self, http: aiohttp.ClientSession, url: str, token_key: bytes) -> None:
        self.http, self.url, self.token_key = http, url, token_key
        self.devices: list[Signalling] = []
        self._run = uuid.uuid4().hex[:6]

    def _token(self, identity: str) -> str:
        now = int(time.time())
        claims = TokenClaims(acc=ACCOUNT, identity=identity, iat=now, exp=now + 3600, jti=uuid.uuid4().hex)
        return sign(claims, self.token_key)

    async def _device(self, identity: str) -> Signalling:
        device = await asyncio.wait_for(Signalling.open(self.http, self.url, self._token(identity)), SIGNAL_TIMEOUT)
        self.devices.append(device)
        return device

    @staticmethod
    def _session(media: dict[str, Any]) -> MediaSession:
        return MediaSession(media["whipUrl"], media["ticket"])

    async def _call(self, index: int) -> tuple[MediaSession, MediaSession]:
        caller_id, callee_id = f"caller-{self._run}-{index}", f"callee-{self._run}-{index}"
        caller, callee = await self._device(caller_id), await self._device(callee_id)
        await caller.send({"type": "call", "requestId": f"call-{index}", "to": callee_id, "video": False})
        incoming = await callee.expect("incoming_call")
        await callee.send({"type": "accept", "callId": incoming["callId"]})
        return self._session(await caller.expect("media")), self._session(await callee.expect("media"))

    async def calls(self, count: int) -> list[tuple[MediaSession, MediaSession]]:
        return await bounded([functools.partial(self._call, i) for i in range(count)])

    async def _seat(self, room: str, index: int) -> MediaSession:
        device = await self._device(f"member-{self._run}-{index}")
        await device.send({"type": "join_room", "requestId": f"join-{index}", "room": room})
        await device.expect("room_joined")
        return self._session(await device.expect("media"))

    async def room(self, size: int) -> list[MediaSession]:
        room = f"bench-{self._run}"
        return await bounded([functools.partial(self._seat, room, i) for i in range(size)])

    async def close(self) -> None:
        await asyncio.gather(*(device.close() for device in self.devices), return_exceptions=True)
