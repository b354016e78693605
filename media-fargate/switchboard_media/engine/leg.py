"""A leg: one participant's media session on this node, an RTCPeerConnection answered over WHIP.

The leg negotiates what the engine can pass through unchanged between legs (Opus first for audio, VP8 only for
video: every WebRTC browser has both, so two legs normally share codecs), answers the offered RFC 4733
telephone-event (DTMF) along with the audio, and exposes its streams as the engine's ports: `audio_in`/`video_in`
(packets as they arrive) and `audio_out`/`video_out` (continuous outgoing streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.sdp import MediaDescription, SessionDescription

from switchboard_media.engine.seams import InboundTap, OutboundPort, accept_telephone_events
from switchboard_media.engine.stream import OutgoingStream

log = logging.getLogger(__name__)

PREFERRED_CODECS = {
    "audio": ("audio/opus", "audio/pcmu", "audio/pcma"),
    "video": ("video/vp8", "video/rtx"),
}


def preferred_codecs(kind: str) -> list[RTCRtpCodecCapability]:
    """What the leg negotiates for `kind`, best first (what it can pass through between legs)."""
    capabilities = RTCRtpSender.getCapabilities(kind).codecs
    return sorted(
        (c for c in capabilities if c.mimeType.lower() in PREFERRED_CODECS[kind]),
        key=lambda c: PREFERRED_CODECS[kind].index(c.mimeType.lower()),
    )


class Leg:
    def __init__(
        self,
        leg_id: str,
        ice_servers: list[dict[str, object]],
        on_closed: Callable[[Leg], Awaitable[None]] | None = None,
        video_slots: int = 0,
    ) -> None:
        self.leg_id = leg_id
        servers = [RTCIceServer(**server) for server in ice_servers]  # type: ignore[arg-type]
        # aiortc's default (balanced) bundling leaves every video section after the second on a transport it then
        # discards: a leg with video slots bundles everything (our SDKs always offer one bundle)
        policy = RTCBundlePolicy.MAX_BUNDLE if video_slots else RTCBundlePolicy.BALANCED
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers, bundlePolicy=policy))
        self.audio_in: InboundTap | None = None
        self.audio_out: OutgoingStream | None = None
        self.video_in: InboundTap | None = None
        self.video_out: OutgoingStream | None = None
        self.video_slots: dict[str, OutgoingStream] = {}  # by mid: outgoing-only video after the first (a room's)
        self.screen_in: InboundTap | None = None  # a room seat's second source: a send-only video section it offers
        self._video_slot_limit = video_slots
        self.answered = asyncio.Event()
        self._on_closed = on_closed
        self._closed = False

        @self.pc.on("connectionstatechange")
        async def on_state() -> None:
            if self.pc.connectionState in ("failed", "closed"):
                await self.close()

    async def answer(self, offer_sdp: str) -> str:
        """Answer a WHIP offer: its first audio (required) and first video section are this leg's streams; further
        video sections (up to the leg's `video_slots`) become outgoing-only `video_slots`, except one the offer marks
        send-only, which is the seat's screen share (`screen_in`)."""
        if self.answered.is_set():
            raise ValueError("this media session already has an answer")
        try:
            offered_media = SessionDescription.parse(offer_sdp).media
        except (ValueError, IndexError, KeyError) as error:
            raise ValueError(f"the offer is not valid SDP: {error}") from error
        offered = [media.kind for media in offered_media]
        if "audio" not in offered:
            raise ValueError("the offer has no audio")
        transceivers = {}
        for kind in ("audio", "video"):
            if kind in offered:
                transceiver = self.pc.addTransceiver(kind, direction="sendrecv")
                transceiver.setCodecPreferences(preferred_codecs(kind))
                transceivers[kind] = transceiver
        screen_at = self._screen_in(offered_media)
        slots, screen = [], None
        for index in self._slots_in(offered, screen_at is not None):  # in the offer's order (aiortc pairs them so)
            if index == screen_at:
                screen = self.pc.addTransceiver("video", direction="recvonly")
                screen.setCodecPreferences(preferred_codecs("video"))
                continue
            slot = self.pc.addTransceiver("video", direction="sendonly")
            slot.setCodecPreferences(preferred_codecs("video"))
            slots.append(slot)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except (InternalError, InvalidAccessError, InvalidStateError, OperationError) as error:
            raise ValueError(f"the offer cannot be answered: {error}") from error
        audio_offer = next(media for media in offered_media if media.kind == "audio")
        accept_telephone_events(transceivers["audio"], audio_offer.rtp.codecs)
        self.audio_in = InboundTap(transceivers["audio"].receiver, "audio")
        self.audio_out = OutgoingStream(OutboundPort(transceivers["audio"].sender, "audio"))
        if "video" in transceivers:
            self.video_in = InboundTap(transceivers["video"].receiver, "video")
            self.video_out = OutgoingStream(OutboundPort(transceivers["video"].sender, "video"))
        self.video_slots = {s.mid: OutgoingStream(OutboundPort(s.sender, "video")) for s in slots if s.mid is not None}
        if screen is not None:
            self.screen_in = InboundTap(screen.receiver, "video")
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.answered.set()
        return self.pc.localDescription.sdp

    def _slots_in(self, offered: list[str], screen: bool) -> range:
        return range(max(0, min(offered.count("video") - 1, self._video_slot_limit + screen)))

    def _screen_in(self, offered_media: list[MediaDescription]) -> int | None:
        """Which of the video sections after the first (0-based) is a screen share: the first the offer sends only
        (None when there is none, or the leg has no video slots)."""
        later = [media for media in offered_media if media.kind == "video"][1:]
        senders = [index for index, media in enumerate(later) if media.direction == "sendonly"]
        return senders[0] if senders and self._video_slot_limit else None

    async def media_ready(self) -> None:
        """Until the leg's transports are up and its streams negotiated (after `answer`)."""
        await self.answered.wait()
        assert self.audio_out is not None
        await self.audio_out.port.ready.wait()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            await self.pc.close()
        if self._on_closed is not None:
            await self._on_closed(self)
