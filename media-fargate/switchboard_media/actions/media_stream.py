"""A media stream: a call's audio to a websocket host, and with `replaceMedia` the host's audio back to the call.

Wire format (Infobip's MEDIA_STREAMING, RAW encoding):
- the first message is text, `{"callId", "sampleRate": 48000, "packetizationTime": 20, "customData"}`;
- then binary messages of 16-bit little-endian mono PCM at 48 kHz, 1920 bytes per 20 ms; when the sender was
  behind, the frames it had waiting go out joined in one message (a multiple of 1920 bytes);
- the host may send the same PCM back, in messages of any size: it is cut into 1920-byte frames, and with
  replacement each frame is what the party hears on one tick. Text from the host is ignored.

The graph's tick and the websocket never wait for each other. The tick hands each frame to a bounded queue and
returns; when the host reads too slowly the oldest frames are dropped (and counted). The host's audio waits in a
bounded buffer the tick takes one frame from; a host that sends faster than real time loses its oldest audio.

The URL is a customer's, so it is dialled through the outbound URL policy (`chalicelib.core.urlpolicy`) when the
stream connects: a host name is resolved and checked by `PolicyResolver`, and the connection goes to an address it
checked (no second lookup to rebind); an IP-literal host, which aiohttp never resolves, is checked by a middleware
that sees every request, redirects included. Proxies from the environment are ignored.

Outcomes, for the caller's events: `on_open` once the host accepted the stream and got the first message;
`on_close(failed, reason)` exactly once at the end: failed when it could not connect or the connection broke or
was closed abnormally; not failed after `stop` (a stop request, the call's end) or a normal close by the host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
import numpy as np
from aiohttp.abc import AbstractResolver, ResolveResult

from chalicelib.contract import control
from chalicelib.core.urlpolicy import OutboundUrlRefused, address_allowed, resolve_allowed
from switchboard_media.actions.errors import ActionError
from switchboard_media.engine.codec import FRAME_SAMPLES, SAMPLE_RATE

log = logging.getLogger(__name__)

PACKETIZATION_MS = 20
FRAME_BYTES = FRAME_SAMPLES * 2  # 1920: 20 ms of 16-bit mono PCM at 48 kHz
OUTGOING_FRAMES = 50  # 1 s waiting for a slow host, then the oldest go
INCOMING_BYTES = 50 * FRAME_BYTES  # 1 s of the host's audio ahead of the call, then the oldest goes
MAX_MESSAGE_BYTES = 256 * 1024
CONNECT_SECONDS = 10.0
CLOSE_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
NORMAL_CLOSE_CODES = frozenset({1000, 1001})
WEBSOCKET_SCHEMES = ("ws", "wss")

OpenHandler = Callable[["MediaStream"], None]
CloseHandler = Callable[["MediaStream", bool, str], None]  # (stream, failed, reason)


class MediaStreamError(ActionError):
    """A stream that cannot be started as asked."""


class MediaStreamBusy(MediaStreamError):
    """The call streams already: one stream per call."""


def first_message(call_id: str, custom_data: dict[str, str] | None) -> str:
    """The text message that opens a stream, before any audio."""
    return json.dumps(
        {
            "callId": call_id,
            "sampleRate": SAMPLE_RATE,
            "packetizationTime": PACKETIZATION_MS,
            "customData": custom_data or {},
        }
    )


class OutgoingFrames:
    """The call's audio waiting for the host: at most `limit` frames, the oldest dropped (and counted) first."""

    def __init__(self, limit: int = OUTGOING_FRAMES) -> None:
        self._frames: deque[bytes] = deque(maxlen=limit)
        self.ready = asyncio.Event()
        self.dropped = 0

    def put(self, frame: bytes) -> None:
        if len(self._frames) == self._frames.maxlen:
            self.dropped += 1
        self._frames.append(frame)
        self.ready.set()

    def drain(self) -> bytes:
        """Every frame waiting, joined (one message for the host)."""
        self.ready.clear()
        data = b"".join(self._frames)
        self._frames.clear()
        return data


class IncomingAudio:
    """The host's audio, cut into 20 ms frames: at most `limit` bytes wait, the oldest whole frames dropped first
    (so the frame boundaries stay where the host's stream put them)."""

    def __init__(self, limit: int = INCOMING_BYTES) -> None:
        self._buffer = bytearray()
        self._limit = limit
        self.dropped = 0  # frames

    def feed(self, data: bytes) -> None:
        self._buffer += data
        excess = len(self._buffer) - self._limit
        if excess > 0:
            frames = -(-excess // FRAME_BYTES)
            del self._buffer[: frames * FRAME_BYTES]
            self.dropped += frames

    def take(self) -> np.ndarray | None:
        """The next 960-sample frame, or None when a whole frame has not arrived."""
        if len(self._buffer) < FRAME_BYTES:
            return None
        frame = np.frombuffer(bytes(self._buffer[:FRAME_BYTES]), dtype="<i2").astype(np.int16)
        del self._buffer[:FRAME_BYTES]
        return frame


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver, through the outbound URL policy: every address is checked, and only checked ones are
    returned for the connection."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await asyncio.to_thread(resolve_allowed, host, port)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


async def _literal_hosts_checked(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """aiohttp connects to an IP-literal host without asking the resolver: check it here (every request, so a
    redirect to a private address is refused too)."""
    host = request.url.host or ""
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return await handler(request)  # a name: the resolver checks it
    if not address_allowed(address):
        raise OutboundUrlRefused(f"{host} is a disallowed address")
    return await handler(request)


def _check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in WEBSOCKET_SCHEMES or not parts.hostname:
        raise MediaStreamError("a media stream needs a ws:// or wss:// URL with a host")


def _describe(error: BaseException) -> str:
    if isinstance(error, OutboundUrlRefused):
        return f"the URL is not allowed: {error.text}"
    if isinstance(error, TimeoutError):
        return f"the host did not accept the stream within {CONNECT_SECONDS:g} s"
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return f"the host refused the websocket handshake ({error.status})"
    return f"the connection failed: {error or type(error).__name__}"


class MediaStream:
    """One stream of one call. The graph calls `heard` with what the call says each tick and `next_frame` for what
    the host sent; `start` connects in the background, `stop` ends it (and waits for `on_close`)."""

    def __init__(
        self,
        call_id: str,
        stream_id: str,
        request: control.StartMediaStreamRequest,
        on_open: OpenHandler,
        on_close: CloseHandler,
    ) -> None:
        _check_scheme(request.url)
        self.call_id = call_id
        self.stream_id = stream_id
        self.request = request
        self.outgoing = OutgoingFrames()
        self.incoming = IncomingAudio()
        self._on_open = on_open
        self._on_close = on_close
        self._task: asyncio.Task[None] | None = None
        self._stop_reason: str | None = None
        self._closed = False

    @property
    def config_id(self) -> str:
        return self.request.mediaStreamConfigId

    # --- the graph's side (every tick; never waits) ----------------------------------------------------------

    def heard(self, pcm: np.ndarray) -> None:
        self.outgoing.put(pcm.astype("<i2", copy=False).tobytes())

    def next_frame(self) -> np.ndarray | None:
        return self.incoming.take()

    # --- the connection ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self, reason: str) -> None:
        """End the stream (not a failure) and wait until `on_close` has run; no-op once ended."""
        task = self._task
        if task is None or task.done():
            return
        if self._stop_reason is None:
            self._stop_reason = reason
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self._close(None)  # cancelled before it ran: its own `finally` never did

    async def _run(self) -> None:
        failure = None
        try:
            async with self._session() as session:
                async with asyncio.timeout(CONNECT_SECONDS):
                    websocket = await session.ws_connect(
                        self.request.url,
                        headers=self._handshake_headers(),
                        timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_SECONDS),
                        max_msg_size=MAX_MESSAGE_BYTES,
                        heartbeat=HEARTBEAT_SECONDS,  # a host gone silently (no FIN) is noticed, and fails the stream
                    )
                async with websocket:
                    await websocket.send_str(first_message(self.call_id, self.request.customData))
                    self._on_open(self)
                    failure = await self._exchange(websocket)
        except asyncio.CancelledError:
            if self._stop_reason is None:
                raise
        except Exception as error:
            failure = _describe(error)
        finally:
            self._close(failure)

    def _close(self, failure: str | None) -> None:
        if self._closed:
            return
        self._closed = True
        if self.outgoing.dropped or self.incoming.dropped:
            log.info(
                "media stream %s of call %s dropped %d frames to the host and %d from it",
                self.stream_id,
                self.call_id,
                self.outgoing.dropped,
                self.incoming.dropped,
            )
        if self._stop_reason is not None:
            failed, reason = False, self._stop_reason
        elif failure is not None:
            failed, reason = True, failure
        else:
            failed, reason = False, "the host closed the stream"
        try:
            self._on_close(self, failed, reason)
        except Exception:
            log.exception("media stream close handler failed")

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(resolver=PolicyResolver(), use_dns_cache=False, limit=1)
        return aiohttp.ClientSession(connector=connector, trust_env=False, middlewares=(_literal_hosts_checked,))

    def _handshake_headers(self) -> dict[str, str]:
        return {"Authorization": self.request.authorization} if self.request.authorization else {}

    async def _exchange(self, websocket: aiohttp.ClientWebSocketResponse) -> str | None:
        """Send and receive until either side ends; the failure's reason, or None after a normal close."""
        sending = asyncio.ensure_future(self._send(websocket))
        receiving = asyncio.ensure_future(self._receive(websocket))
        try:
            done, _ = await asyncio.wait({sending, receiving}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sending, receiving):
                task.cancel()
            await asyncio.gather(sending, receiving, return_exceptions=True)
        finished = done.pop()
        error = finished.exception()
        return _describe(error) if error is not None else finished.result()

    async def _send(self, websocket: aiohttp.ClientWebSocketResponse) -> str | None:
        while True:
            await self.outgoing.ready.wait()
            data = self.outgoing.drain()
            if data:
                await websocket.send_bytes(data)

    async def _receive(self, websocket: aiohttp.ClientWebSocketResponse) -> str | None:
        async for message in websocket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.incoming.feed(message.data)
            elif message.type == aiohttp.WSMsgType.ERROR:
                return _describe(websocket.exception() or ConnectionError("websocket error"))
        code = websocket.close_code
        if code in NORMAL_CLOSE_CODES:
            return None
        return f"the connection closed abnormally (code {code})"
