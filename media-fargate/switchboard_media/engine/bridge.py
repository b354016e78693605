"""Two legs that hear and see each other (a 1:1 call, later a dialog).

Audio takes the cheapest path that is right at the moment:
- **pass-through** (media bypass): both legs share a codec and nothing needs the decoded audio, so each packet is
  re-stamped into the other leg's stream and sent on as it arrives: no decode, no encode, no buffering;
- **decoded**: while any action holds the bridge decoded (`hold_decoded`: playing or saying into the call,
  in-band DTMF, a recording that mixes, a media stream) or the codecs differ, audio goes through an `AudioGraph`
  (decode, mix with whatever the action adds, encode) on the node's tick.
Switching either way happens between two packets; the outgoing streams stay continuous (see `OutgoingStream`).

Video is always forwarded (both legs negotiate VP8), and a keyframe request from one side reaches the other's
sender. DTMF sent as RFC 4733 telephone-events is forwarded in pass-through when the other leg negotiated
telephone-event too (the events take the place of audio packets in one numbering, on both sides); on the decoded
path they are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from switchboard_media.engine.graph import AudioGraph
from switchboard_media.engine.leg import Leg
from switchboard_media.engine.seams import InboundTap, PacketSink
from switchboard_media.engine.stream import OutgoingStream
from switchboard_media.engine.ticker import Ticker

log = logging.getLogger(__name__)


def forwarder(source: InboundTap, target: OutgoingStream) -> PacketSink:
    """A sink that sends each packet of `source` on in `target`'s stream (packets of another codec than the one
    the stream negotiated first are not the target's to decode: they are dropped)."""
    expected = source.codec

    async def forward(packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        if codec is not expected:
            return
        level = packet.extensions.audio_level
        if level is None:
            await target.forward(packet, source)
        else:
            await target.forward(packet, source, -level[1], level[0])

    return forward


def event_forwarder(source: InboundTap, target: OutgoingStream) -> PacketSink | None:
    """A sink that sends each telephone-event packet of `source` on in `target`'s stream, in the numbering of the
    audio it stands in for, with the target's telephone-event payload type (None: the target did not negotiate
    telephone-event in the clock rate of its audio)."""
    port = target.port
    negotiated = port.telephone_event
    if negotiated is None:
        return None

    async def forward(packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        if codec.clockRate != negotiated.clockRate:
            return
        event = (packet.payload, bool(packet.marker))
        port.events = lambda timestamp: (event[0], timestamp, event[1])  # this packet, re-stamped, is the event
        try:
            await target.forward(packet, source)
        finally:
            port.events = None

    return forward


def same_codec(a: RTCRtpCodecParameters | None, b: RTCRtpCodecParameters | None) -> bool:
    return (
        a is not None
        and b is not None
        and a.mimeType.lower() == b.mimeType.lower()
        and a.clockRate == b.clockRate
        and (a.channels or 1) == (b.channels or 1)
    )


class Bridge:
    def __init__(self, a: Leg, b: Leg, ticker: Ticker, passthrough: bool = True) -> None:
        self.a, self.b = a, b
        self._ticker = ticker
        self._allow_passthrough = passthrough
        self._holds: set[object] = set()
        self._graph: AudioGraph | None = None
        self._ready = False
        self._stopped = False
        self._task: asyncio.Future[None] | None = None
        self._keyframes: set[asyncio.Future[None]] = set()
        self.mode = "waiting"  # then "pass-through" or "decoded"
        self.switches = 0

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._wire())

    async def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for leg in (self.a, self.b):
            for tap in (leg.audio_in, leg.video_in):
                if tap is not None:
                    tap.sink = tap.on_telephone_event = None
        if self._graph is not None:
            self._ticker.discard(self._graph)

    def hold_decoded(self, owner: object) -> AudioGraph:
        """Keep the audio decoded until `release_decoded(owner)`; the graph is where the owner adds its source or
        listener (members `a.leg_id` and `b.leg_id` are the two parties)."""
        self._holds.add(owner)
        graph = self._decoded_graph()
        self._apply()
        return graph

    def release_decoded(self, owner: object) -> None:
        self._holds.discard(owner)
        self._apply()

    # --- wiring ---------------------------------------------------------------------------------------

    async def _wire(self) -> None:
        await asyncio.gather(self.a.media_ready(), self.b.media_ready())
        self._ready = True
        self._wire_video(self.a, self.b)
        self._wire_video(self.b, self.a)
        self._apply()

    def _wire_video(self, source: Leg, target: Leg) -> None:
        if source.video_in is None or target.video_out is None:
            return
        video_in = source.video_in
        video_in.sink = forwarder(video_in, target.video_out)

        def relay_keyframe_request() -> None:
            task = asyncio.ensure_future(video_in.request_keyframe())
            self._keyframes.add(task)
            task.add_done_callback(self._keyframes.discard)

        target.video_out.port.on_keyframe_request = relay_keyframe_request
        relay_keyframe_request()  # the target joins mid-stream: it needs a keyframe to start from

    def _passthrough_possible(self) -> bool:
        a, b = self.a, self.b
        assert a.audio_in is not None and a.audio_out is not None and b.audio_in is not None
        assert b.audio_out is not None
        return same_codec(a.audio_in.codec, b.audio_out.port.codec) and same_codec(
            b.audio_in.codec, a.audio_out.port.codec
        )

    def _decoded_graph(self) -> AudioGraph:
        if self._graph is None:
            self._graph = AudioGraph()
        return self._graph

    def _apply(self) -> None:
        if not self._ready or self._stopped:
            return
        passthrough = self._allow_passthrough and not self._holds and self._passthrough_possible()
        if passthrough and self.mode == "decoded":
            assert self._graph is not None
            self._graph.call_after_tick(self._to_passthrough)  # switch on a tick boundary
        elif passthrough and self.mode == "waiting":
            self._to_passthrough()
        elif not passthrough and self.mode != "decoded":
            self._to_decoded()

    def _to_passthrough(self) -> None:
        a, b = self.a, self.b
        assert a.audio_in is not None and a.audio_out is not None and b.audio_in is not None
        assert b.audio_out is not None
        if self._stopped or self._holds:  # stopped, or held again before the tick came
            return
        a.audio_in.sink = forwarder(a.audio_in, b.audio_out)
        b.audio_in.sink = forwarder(b.audio_in, a.audio_out)
        a.audio_in.on_telephone_event = event_forwarder(a.audio_in, b.audio_out)
        b.audio_in.on_telephone_event = event_forwarder(b.audio_in, a.audio_out)
        if self._graph is not None:
            self._ticker.discard(self._graph)
        self._switched("pass-through")

    def _to_decoded(self) -> None:
        a, b = self.a, self.b
        assert a.audio_in is not None and a.audio_out is not None and b.audio_in is not None
        assert b.audio_out is not None
        graph = self._decoded_graph()
        graph.connect(a.leg_id, a.audio_in, a.audio_out)
        graph.connect(b.leg_id, b.audio_in, b.audio_out)
        a.audio_in.on_telephone_event = b.audio_in.on_telephone_event = None
        self._ticker.add(graph)
        self._switched("decoded")

    def _switched(self, mode: str) -> None:
        if self.mode == mode:
            return
        if self.mode != "waiting":
            self.switches += 1
        log.debug("bridge %s <-> %s: %s", self.a.leg_id, self.b.leg_id, mode)
        self.mode = mode
