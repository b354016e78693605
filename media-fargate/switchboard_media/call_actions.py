"""The Calls API's actions on one application call, carried out on the call's audio graph.

- play / say: one playback at a time (a new one stops the one playing); the content is an uploaded file, a file at
  a URL (downloaded through the outbound URL policy, cached per node) or text spoken by the speech provider. The
  party hears it; PLAY_FINISHED / SAY_FINISHED report how long it played, whether completely, and the digit that
  stopped it (`stopOn`).
- capture DTMF: digits the party presses (RFC 4733 telephone-events, and in-band: detected on the decoded audio)
  until `maxLength`, the terminator, or a timeout (first digit / between digits) → DTMF_CAPTURED.
- send DTMF: the digits as RFC 4733 telephone-events when the party negotiated them, as in-band tones otherwise.
- media stream: what the party says, to a websocket host (`actions.media_stream`); with replaceMedia the party
  hears the host's audio instead of the call's → MEDIA_STREAM_STARTED, then MEDIA_STREAM_FINISHED / _FAILED.
An action that fails after it started reports ERROR (actionType, errorCode, errorDetails).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from chalicelib.contract import control
from switchboard_media.actions.audio import decode_audio
from switchboard_media.actions.dtmf import DtmfDetector, dtmf_tones
from switchboard_media.actions.errors import ActionError
from switchboard_media.actions.media_stream import MediaStream, MediaStreamBusy
from switchboard_media.actions.player import Player
from switchboard_media.actions.telephone_event import TelephoneEventSender
from switchboard_media.actions.tts import SpeechProvider
from switchboard_media.engine.graph import AudioGraph
from switchboard_media.engine.seams import InboundTap, OutboundPort

log = logging.getLogger(__name__)

EventWriter = Callable[[str, dict[str, Any]], Awaitable[None]]
MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024
URL_CACHE_ENTRIES = 32
_url_cache: OrderedDict[str, np.ndarray] = OrderedDict()


async def load_file(account_id: str, file_id: str) -> np.ndarray:
    from chalicelib.core.errors import NotFound
    from chalicelib.files.service import open_file

    try:
        data, _ = await asyncio.to_thread(open_file, account_id, file_id)
    except NotFound as error:
        raise ActionError(f"no audio file {file_id}") from error
    return await asyncio.to_thread(decode_audio, data)


async def load_url(url: str) -> np.ndarray:
    """A file at a URL, fetched once per node (through the outbound URL policy) and kept decoded."""
    cached = _url_cache.get(url)
    if cached is not None:
        _url_cache.move_to_end(url)
        return cached

    def fetch() -> bytes:
        import httpx

        from chalicelib.core.outbound import guarded_transport
        from chalicelib.core.urlpolicy import check_url

        check_url(url, "content.fileUrl")
        with httpx.Client(transport=guarded_transport(), timeout=10, trust_env=False) as client:
            with client.stream("GET", url) as response:
                response.raise_for_status()
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_DOWNLOAD_BYTES:
                        raise ActionError(f"the file at {url} is larger than {MAX_DOWNLOAD_BYTES} bytes")
                return bytes(body)

    try:
        data = await asyncio.to_thread(fetch)
    except ActionError:
        raise
    except Exception as error:
        raise ActionError(f"the file at {url} could not be downloaded: {error}") from error
    pcm = await asyncio.to_thread(decode_audio, data)
    _url_cache[url] = pcm
    while len(_url_cache) > URL_CACHE_ENTRIES:
        _url_cache.popitem(last=False)
    return pcm


class CallActions:
    everyone_hears = False  # a call's actions play to its party only (MixActions: to everyone in the mix)

    def __init__(
        self, account_id: str, call_id: str, graph: AudioGraph, speech: SpeechProvider, write_event: EventWriter
    ) -> None:
        self.account_id = account_id
        self.call_id = call_id
        self._graph = graph
        self._speech = speech
        self._write_event = write_event
        self._player: Player | None = None
        self._stop_on: str | None = None  # digits that stop the playback ("" = any)
        self._capture: control.CaptureDtmfRequest | None = None
        self._captured = ""
        self._capture_timer: asyncio.TimerHandle | None = None
        self._detector: DtmfDetector | None = None
        self._events: TelephoneEventSender | None = None  # the party negotiated telephone-event
        self._tasks: set[asyncio.Future[None]] = set()
        self._stream: MediaStream | None = None

    # --- play and say ---------------------------------------------------------------------------------

    async def play(self, request: control.PlayRequest) -> None:
        pcm = await self._content(request.content)
        self.stop_play()
        report, custom = request.report, request.customData
        holder: list[Player] = []

        def finished(duration: int, completely: bool) -> None:
            player = holder[0]
            self._graph.remove(self._source_name)
            if self._player is player:
                self._player, self._stop_on = None, None
            reason = player.stop_reason or ""
            digit = reason.removeprefix("DTMF:") if reason.startswith("DTMF:") else None
            properties = {"duration": duration, "playedCompletely": completely, "capturedDtmf": digit}
            self._emit(report, {**properties, "customData": custom})

        player = Player(
            pcm,
            loop_count=request.loopCount,
            offset_ms=request.offsetMs,
            timeout_ms=request.timeoutMs,
            on_finished=finished,
        )
        holder.append(player)
        self._player, self._stop_on = player, request.stopOnTerminator
        if request.stopOnTerminator is not None:
            self._listen()
        audience = None if self.everyone_hears else frozenset({self.call_id})
        self._graph.add(self._source_name, source=player, audience=audience, talking_events=False)

    def stop_play(self, reason: str = "STOPPED") -> None:
        if self._player is not None:
            self._player.stop(reason)  # its finished handler reports and removes it

    async def _content(self, content: control.PlayContent) -> np.ndarray:
        if content.type == "FILE" and content.fileId:
            return await load_file(self.account_id, content.fileId)
        if content.type == "URL" and content.fileUrl:
            return await load_url(content.fileUrl)
        if content.type == "TEXT" and content.text and content.language:
            return await asyncio.to_thread(
                self._speech.synthesize,
                content.text,
                content.language,
                content.speechRate or 1.0,
                content.voiceGender,
                content.voiceName,
            )
        raise ActionError(f"{content.type} content is incomplete")

    @property
    def _source_name(self) -> str:
        return f"{self.call_id}#play"

    # --- DTMF ---------------------------------------------------------------------------------------------

    def capture_dtmf(self, request: control.CaptureDtmfRequest) -> None:
        if self._capture is not None:
            self._finish_capture(timeout=False)
        self._capture, self._captured = request, ""
        self._listen()
        self._arm(request.timeoutMs)

    def use_telephone_events(self, tap: InboundTap, port: OutboundPort) -> None:
        """The party's media is up: the digits it sends as RFC 4733 events are heard too, and `send_dtmf` sends
        events if the party negotiated them."""
        tap.on_telephone_event = self._telephone_event
        if port.telephone_event is not None:
            self._events = port.events = TelephoneEventSender(port.telephone_event.clockRate)

    def send_dtmf(self, request: control.SendDtmfRequest) -> None:
        digits = "".join(d for d in request.dtmf.upper() if d not in "W")
        if self._events is not None:
            self._events.add(digits)
            return
        pcm = np.concatenate(dtmf_tones(digits))
        self._graph.add(
            f"{self.call_id}#dtmf",
            source=Player(pcm, on_finished=lambda *_: self._graph.remove(f"{self.call_id}#dtmf")),
            audience=frozenset({self.call_id}),
            talking_events=False,
        )

    async def _telephone_event(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        if self._detector is not None:  # digits count while something listens for them, as in-band ones do
            self._detector.telephone_event(packet.payload, packet.timestamp, bool(packet.marker))

    def _listen(self) -> None:
        if self._detector is None:
            self._detector = DtmfDetector(self._digit)
            self._graph.add(self.call_id).listeners.append(self._detector)

    def _digit(self, digit: str) -> None:
        player = self._player
        if player is not None and self._stop_on is not None and (not self._stop_on or digit in self._stop_on):
            player.stop(f"DTMF:{digit}")
        capture = self._capture
        if capture is None:
            return
        if capture.terminator and digit == capture.terminator:
            self._finish_capture(timeout=False)
            return
        self._captured += digit
        if len(self._captured) >= capture.maxLength:
            self._finish_capture(timeout=False)
        else:
            self._arm(capture.digitTimeoutMs or capture.timeoutMs)

    def _arm(self, milliseconds: int) -> None:
        if self._capture_timer is not None:
            self._capture_timer.cancel()
        loop = asyncio.get_running_loop()
        self._capture_timer = loop.call_later(milliseconds / 1000, lambda: self._finish_capture(timeout=True))

    def _finish_capture(self, timeout: bool) -> None:
        capture, self._capture = self._capture, None
        if self._capture_timer is not None:
            self._capture_timer.cancel()
            self._capture_timer = None
        if capture is not None:
            self._emit("DTMF_CAPTURED", {"dtmf": self._captured, "timeout": timeout, "customData": capture.customData})

    # --- media streaming ---------------------------------------------------------------------------------------
    # What the party says goes to the host every tick (a graph member that hears only the party); with
    # replaceMedia the party hears only what the host sends back (it hears only that member) until the stream ends.

    def start_media_stream(self, request: control.StartMediaStreamRequest) -> None:
        if self._stream is not None:
            raise MediaStreamBusy("the call is streaming already: stop that stream first")
        from chalicelib.core.ids import uuid_id

        stream = MediaStream(self.call_id, uuid_id(), request, self._stream_opened, self._stream_closed)
        self._stream = stream
        stream.start()

    async def stop_media_stream(self, reason: str = "stopped by the application") -> None:
        if self._stream is not None:
            await self._stream.stop(reason)  # its close handler reports and detaches it

    def _stream_opened(self, stream: MediaStream) -> None:
        replace, name = stream.request.replaceMedia, self._stream_member(stream)
        self._graph.add(
            name,
            mix_listener=stream.heard,
            source=stream.next_frame if replace else None,
            audience=frozenset({self.call_id}),
            muted=not replace,
            hears_only=self.call_id,
            talking_events=False,
        )
        if replace:
            self._graph.add(self.call_id).hears_only = name
        self._emit("MEDIA_STREAM_STARTED", {"configId": stream.config_id, "streamId": stream.stream_id})

    def _stream_closed(self, stream: MediaStream, failed: bool, reason: str) -> None:
        if self._stream is stream:
            self._stream = None
        name = self._stream_member(stream)
        member = self._graph.members.get(name)
        if member is not None:  # silent now; it leaves after the tick under way, which may still list it
            member.source, member.mix_listener, member.muted = None, None, True
            self._graph.call_after_tick(lambda: self._graph.remove(name))
        party = self._graph.members.get(self.call_id)
        if party is not None and party.hears_only == name:
            party.hears_only = None
        event = "MEDIA_STREAM_FAILED" if failed else "MEDIA_STREAM_FINISHED"
        self._emit(event, {"configId": stream.config_id, "streamId": stream.stream_id, "reason": reason})

    def _stream_member(self, stream: MediaStream) -> str:
        return f"{self.call_id}#stream:{stream.stream_id}"

    # --- events and the end -------------------------------------------------------------------------------

    def _emit(self, event_type: str, properties: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._write(event_type, properties))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, event_type: str, properties: dict[str, Any]) -> None:
        try:
            await self._write_event(event_type, properties)
        except Exception:
            log.exception("could not record %s for call %s", event_type, self.call_id)

    async def close(self) -> None:
        """The call ended: stop what is playing (reported as not complete) and any capture."""
        self.stop_play("HANGUP")
        await self.stop_media_stream("the call ended")
        if self._capture_timer is not None:
            self._capture_timer.cancel()
        self._capture = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class MixActions(CallActions):
    """Actions on a mix of several calls (a conference, a dialog): what plays there, everyone in it hears."""

    everyone_hears = True
