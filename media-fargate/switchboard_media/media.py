"""Media legs: one RTCPeerConnection per call leg, answered over WHIP, and the tracks that carry audio between legs.

This is the straightforward engine (decode → relay → encode through aiortc's own pipeline). The media-performance
issue replaces its insides (RTP pass-through, shared mixes); what stays is the seam: a leg offers `outgoing_audio`
and exposes `incoming_audio`, and `connect(a, b)` makes each hear the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
from collections.abc import Awaitable, Callable

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
VIDEO_CLOCK = 90000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)


class RelayTrack(MediaStreamTrack):
    """Outgoing audio toward one leg: frames from a source track when one is attached, paced silence otherwise.

    Timestamps are its own, so switching sources (or none) never makes the stream jump.
    """

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._source: MediaStreamTrack | None = None
        self._samples = 0
        self._started: float | None = None

    def attach(self, source: MediaStreamTrack | None) -> None:
        self._source = source

    def _stamp(self, frame: AudioFrame) -> AudioFrame:
        frame.pts = self._samples
        frame.time_base = TIME_BASE
        self._samples += frame.samples
        return frame

    async def _silence(self) -> AudioFrame:
        loop = asyncio.get_running_loop()
        if self._started is None:
            self._started = loop.time() - self._samples / SAMPLE_RATE
        wait = self._started + self._samples / SAMPLE_RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        # stereo s16, like aiortc's Opus decoder output: the encoder's resampler is fixed by its first frame
        frame = AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = SAMPLE_RATE
        return frame

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        source = self._source
        if source is not None and source.readyState == "live":
            try:
                frame = await source.recv()
                self._started = None  # re-anchor silence pacing after real audio
                return self._stamp(frame)  # type: ignore[arg-type]
            except MediaStreamError:
                self._source = None
        return self._stamp(await self._silence())


class VideoRelayTrack(MediaStreamTrack):
    """Outgoing video toward one leg: the frames of the attached source; nothing while there is none (camera off,
    no peer video yet). Timestamps follow the wall clock, so a new source never makes the stream jump back."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._source: MediaStreamTrack | None = None
        self._attached = asyncio.Event()
        self._start: float | None = None

    def attach(self, source: MediaStreamTrack | None) -> None:
        self._source = source
        if source is None:
            self._attached.clear()
        else:
            self._attached.set()

    async def recv(self) -> VideoFrame:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            await self._attached.wait()
            source = self._source
            if source is None or source.readyState != "live":
                self.attach(None)
                continue
            try:
                frame = await source.recv()
            except MediaStreamError:
                self.attach(None)
                continue
            assert isinstance(frame, VideoFrame)
            loop = asyncio.get_running_loop()
            if self._start is None:
                self._start = loop.time()
            frame.pts = int((loop.time() - self._start) * VIDEO_CLOCK)
            frame.time_base = VIDEO_TIME_BASE
            return frame

    def stop(self) -> None:
        super().stop()
        self._attached.set()  # wake a waiting recv so it sees the track ended


class Leg:
    """One participant's media session on this node."""

    def __init__(
        self,
        leg_id: str,
        ice_servers: list[dict[str, object]],
        on_closed: Callable[[Leg], Awaitable[None]] | None = None,
        outgoing_audio: MediaStreamTrack | None = None,
    ) -> None:
        """`outgoing_audio`: what this leg hears; by default a RelayTrack that `connect` points at a peer."""
        self.leg_id = leg_id
        servers = [RTCIceServer(**server) for server in ice_servers]  # type: ignore[arg-type]
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.outgoing_audio: MediaStreamTrack = outgoing_audio or RelayTrack()
        self.outgoing_video = VideoRelayTrack()
        self.incoming_audio: MediaStreamTrack | None = None
        self.incoming_video: MediaStreamTrack | None = None
        self.incoming_ready = asyncio.Event()
        self.video_ready = asyncio.Event()
        self._on_closed = on_closed
        self._closed = False

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self.incoming_audio = track
                self.incoming_ready.set()
            elif track.kind == "video":
                self.incoming_video = track
                self.video_ready.set()

        @self.pc.on("connectionstatechange")
        async def on_state() -> None:
            if self.pc.connectionState in ("failed", "closed"):
                await self.close()

    async def answer(self, offer_sdp: str) -> str:
        """Answer a WHIP offer: what the peer sends goes out on the offered audio (and video) transceiver."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        transceivers = self.pc.getTransceivers()
        if not any(t.kind == "audio" for t in transceivers):
            raise ValueError("the offer has no audio")
        for kind, track in (("audio", self.outgoing_audio), ("video", self.outgoing_video)):
            offered = [t for t in transceivers if t.kind == kind]
            if offered:
                offered[0].sender.replaceTrack(track)
                offered[0].direction = "sendrecv"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.outgoing_audio.stop()
        self.outgoing_video.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()
        if self._on_closed is not None:
            await self._on_closed(self)


async def connect(a: Leg, b: Leg) -> None:
    """Each leg hears (and sees) the other, as soon as the other's media arrives."""

    async def audio(source: Leg, target: Leg) -> None:
        await source.incoming_ready.wait()
        assert isinstance(target.outgoing_audio, RelayTrack)
        target.outgoing_audio.attach(source.incoming_audio)

    async def video(source: Leg, target: Leg) -> None:
        await source.video_ready.wait()
        target.outgoing_video.attach(source.incoming_video)

    await asyncio.gather(audio(a, b), audio(b, a), video(a, b), video(b, a))
