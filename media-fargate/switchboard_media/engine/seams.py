"""The one module that reaches into aiortc's internals (pinned: aiortc 1.16.0).

Stock aiortc decodes every received packet on a thread (after a jitter buffer that holds ~60 ms) and encodes every
sent frame on another; the media engine instead takes packets as they arrive and pushes packets out itself, and
decodes or encodes only when something needs the audio. Two adapters do that, each wrapping one aiortc object:

- `InboundTap` takes over an `RTCRtpReceiver`: each RTP packet goes straight to the engine's sink (no jitter
  buffer, no decoder thread); the receiver's statistics (and so its RTCP receiver reports and `getStats`) and video
  NACKs are kept as aiortc keeps them.
- `OutboundPort` takes over an `RTCRtpSender`: the engine sends packets through it with the sender's SSRC, payload
  type, MID and header extensions; its sender-report counters and NACK history are kept, and a keyframe request from
  the far end (PLI/FIR) reaches the engine instead of an encoder.

aiortc has no RFC 4733 telephone-event (browsers refuse `insertDTMF` without it): `accept_telephone_events` adds
the offered telephone-event codecs to an audio transceiver's negotiated ones, so the answer has them; the tap hands
their packets to `on_telephone_event` (never to the sink: there is nothing to decode), and the port sends events in
place of audio packets while its `events` overlay has some (as a browser does: one stream, one numbering).

Everything private that is touched is named in `RECEIVER_INTERNALS` / `SENDER_INTERNALS` /
`TRANSCEIVER_INTERNALS`; a unit test checks them against the installed aiortc and fails loudly when aiortc changes
underneath.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.clock import current_ntp_time
from aiortc.codecs import is_rtx
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpReceiveParameters, RTCRtpSendParameters
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RTCP_PSFB_APP, RTP_HISTORY_SIZE, RtcpPsfbPacket, RtpPacket, pack_remb_fci, unwrap_rtx

log = logging.getLogger(__name__)

RECEIVER_INTERNALS = (
    "_RTCRtpReceiver__codecs",
    "_RTCRtpReceiver__remote_streams",
    "_RTCRtpReceiver__rtx_ssrc",
    "_RTCRtpReceiver__nack_generator",
    "_RTCRtpReceiver__remote_bitrate_estimator",
    "_RTCRtpReceiver__rtcp_ssrc",
    "_RTCRtpReceiver__stop_decoder",
    "_handle_rtp_packet",
    "_send_rtcp_pli",
    "_send_rtcp_nack",
    "_send_rtcp",
    "receive",
)
SENDER_INTERNALS = (
    "_RTCRtpSender__rtp_header_extensions_map",
    "_RTCRtpSender__mid",
    "_RTCRtpSender__rtp_history",
    "_RTCRtpSender__ntp_timestamp",
    "_RTCRtpSender__rtp_timestamp",
    "_RTCRtpSender__octet_count",
    "_RTCRtpSender__packet_count",
    "_send_keyframe",
    "_ssrc",
    "send",
)
TRANSCEIVER_INTERNALS = ("_codecs",)  # what the answer and both directions' parameters are built from

TELEPHONE_EVENT = "audio/telephone-event"
TELEPHONE_EVENT_CLOCK_RATES = (8000, 48000)  # what browsers offer: one per clock rate of their audio codecs
TELEPHONE_EVENT_DIGITS = {"0-15": None}  # fmtp: the DTMF events (16, flash, is not a digit)

PacketSink = Callable[[RtpPacket, RTCRtpCodecParameters], Awaitable[None]]
PacketObserver = Callable[[RtpPacket, RTCRtpCodecParameters], None]  # must not block or raise
EventOverlay = Callable[[int], tuple[bytes, int, bool] | None]  # audio timestamp -> (payload, timestamp, marker)


def is_telephone_event(codec: RTCRtpCodecParameters) -> bool:
    return codec.mimeType.lower() == TELEPHONE_EVENT


def accept_telephone_events(transceiver: RTCRtpTransceiver, offered: list[RTCRtpCodecParameters]) -> None:
    """After the offer is set and before the answer is made: answer the offered telephone-event codecs too (with
    the offer's payload types), after the audio codecs aiortc negotiated (the first of those stays the one sent)."""
    negotiated: list[RTCRtpCodecParameters] = transceiver._codecs
    if not negotiated:
        return
    for codec in offered:
        if is_telephone_event(codec) and codec.clockRate in TELEPHONE_EVENT_CLOCK_RATES:
            if all(codec.payloadType != known.payloadType for known in negotiated):
                accepted = RTCRtpCodecParameters(
                    mimeType=codec.mimeType,
                    clockRate=codec.clockRate,
                    channels=codec.channels,
                    payloadType=codec.payloadType,
                    parameters=dict(TELEPHONE_EVENT_DIGITS),
                )
                negotiated.append(accepted)


class InboundTap:
    """Packets of one received stream, handed to `sink` as they arrive (or dropped while there is no sink);
    telephone-event packets go to `on_telephone_event` instead."""

    def __init__(self, receiver: RTCRtpReceiver, kind: str) -> None:
        self.receiver = receiver
        self.kind = kind
        self.sink: PacketSink | None = None
        self.observers: list[PacketObserver] = []  # also handed every media packet, after the sink (a recorder)
        self.on_telephone_event: PacketSink | None = None
        self.media_ssrc: int | None = None
        self.packets = 0
        self._codecs: dict[int, RTCRtpCodecParameters] = receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
        self._streams: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
        self._rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
        self._nack = receiver._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
        self._bitrate = receiver._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
        receive = receiver.receive

        async def receive_without_decoder(parameters: RTCRtpReceiveParameters) -> None:
            await receive(parameters)
            receiver._RTCRtpReceiver__stop_decoder()  # type: ignore[attr-defined]  # the engine decodes, inline

        receiver.receive = receive_without_decoder  # type: ignore[method-assign]
        receiver._handle_rtp_packet = self._handle  # type: ignore[method-assign]

    @property
    def codec(self) -> RTCRtpCodecParameters | None:
        """The stream's primary codec (the first negotiated one that is not RTX or telephone-event)."""
        return next((c for c in self._codecs.values() if not is_rtx(c) and not is_telephone_event(c)), None)

    async def _handle(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        codec = self._codecs.get(packet.payload_type)
        if codec is None:
            return
        if self._bitrate is not None and packet.extensions.abs_send_time is not None:
            await self._estimate_bitrate(packet, arrival_time_ms)
        stream = self._streams.get(packet.ssrc)
        if stream is None:
            stream = self._streams[packet.ssrc] = StreamStatistics((self.codec or codec).clockRate)
        stream.add(packet)
        if is_telephone_event(codec):  # same SSRC and numbering as the audio: counted above, not decoded
            handler = self.on_telephone_event
            if handler is not None:
                await handler(packet, codec)
            return
        if is_rtx(codec):
            original_ssrc = self._rtx_ssrc.get(packet.ssrc)
            apt = codec.parameters.get("apt")
            if original_ssrc is None or len(packet.payload) < 2 or not isinstance(apt, int) or apt not in self._codecs:
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
            codec = self._codecs[apt]
        self.media_ssrc = packet.ssrc
        self.packets += 1
        if self._nack is not None and self._nack.add(packet):
            await self.receiver._send_rtcp_nack(packet.ssrc, sorted(self._nack.missing))
        sink = self.sink
        if sink is not None:
            await sink(packet, codec)
        for observer in self.observers:
            observer(packet, codec)

    async def _estimate_bitrate(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        """Video: tell the sender how much it may send (REMB), as aiortc's receiver does."""
        remb = self._bitrate.add(
            abs_send_time=packet.extensions.abs_send_time,
            arrival_time_ms=arrival_time_ms,
            payload_size=len(packet.payload) + packet.padding_size,
            ssrc=packet.ssrc,
        )
        rtcp_ssrc = self.receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
        if remb is not None and rtcp_ssrc is not None:
            feedback = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb))
            await self.receiver._send_rtcp(feedback)

    async def request_keyframe(self) -> None:
        """Ask the sender of this (video) stream for a keyframe (RTCP PLI)."""
        if self.media_ssrc is not None:
            await self.receiver._send_rtcp_pli(self.media_ssrc)


class _IdleTrack(MediaStreamTrack):
    """Given to the sender so its own encoding loop waits (without polling) until the sender stops."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._stopped = asyncio.Event()

    async def recv(self) -> Any:
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._stopped.set()


class OutboundPort:
    """Packets the engine sends on one stream. Not ready until the sender starts (ICE and DTLS are up).

    `telephone_event` is the negotiated telephone-event in the codec's clock rate (None: DTMF goes in-band); while
    `events` returns something for a packet's timestamp, that packet carries the event instead of the audio."""

    def __init__(self, sender: RTCRtpSender, kind: str) -> None:
        self.sender = sender
        self.kind = kind
        self.codec: RTCRtpCodecParameters | None = None
        self.telephone_event: RTCRtpCodecParameters | None = None
        self.events: EventOverlay | None = None
        self.on_keyframe_request: Callable[[], None] | None = None
        self.ready = asyncio.Event()
        self.packets = 0
        self._extensions: Any = None
        self._mid: str | None = None
        self._history: dict[int, RtpPacket] = sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
        sender.replaceTrack(_IdleTrack(kind))
        send = sender.send

        async def send_and_open(parameters: RTCRtpSendParameters) -> None:
            await send(parameters)
            self.codec = codec = parameters.codecs[0]
            self.telephone_event = next(
                (c for c in parameters.codecs if is_telephone_event(c) and c.clockRate == codec.clockRate), None
            )
            self._extensions = sender._RTCRtpSender__rtp_header_extensions_map  # type: ignore[attr-defined]
            self._mid = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
            self.ready.set()

        sender.send = send_and_open  # type: ignore[method-assign]
        sender._send_keyframe = self._keyframe_requested  # type: ignore[method-assign]

    def _keyframe_requested(self) -> None:
        if self.on_keyframe_request is not None:
            self.on_keyframe_request()

    async def send(
        self,
        payload: bytes,
        sequence_number: int,
        timestamp: int,
        marker: bool,
        audio_level: int | None = None,
        voice: bool = False,
    ) -> None:
        """Send one RTP packet (dropped when the transport is not, or no longer, connected)."""
        codec = self.codec
        if codec is None or codec.payloadType is None:
            return
        payload_type, clock = codec.payloadType, timestamp
        events, telephone_event = self.events, self.telephone_event
        if events is not None and telephone_event is not None and telephone_event.payloadType is not None:
            event = events(timestamp)
            if event is not None:  # this packet's slot carries a telephone-event instead of audio
                (payload, timestamp, marker), payload_type = event, telephone_event.payloadType
                audio_level = None
        sender = self.sender
        packet = RtpPacket(
            payload_type=payload_type,
            marker=int(marker),
            sequence_number=sequence_number,
            timestamp=timestamp,
            ssrc=sender._ssrc,
            payload=payload,
        )
        packet.extensions.mid = self._mid
        if audio_level is not None:
            packet.extensions.audio_level = (voice, -audio_level)
        ntp = current_ntp_time()
        if self.kind == "video":
            packet.extensions.abs_send_time = (ntp >> 14) & 0x00FFFFFF
            self._history[sequence_number % RTP_HISTORY_SIZE] = packet  # answers NACKs
        try:
            await sender.transport._send_rtp(packet.serialize(self._extensions))
        except ConnectionError:
            return
        sender._RTCRtpSender__ntp_timestamp = ntp  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = clock  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += len(payload)  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        self.packets += 1
