"""The light load client: many WebRTC legs in one process, none of which encodes or decodes.

A stock aiortc peer decodes every packet it receives and encodes every frame it sends, on threads: a load generator
built that way saturates its own core long before the node does. Here each leg is a real `RTCPeerConnection` (ICE,
DTLS, SRTP, RTCP as a browser would do them) whose sender and receiver are taken over by the media engine's seams:
the leg sends Opus packets encoded once at start-up and records when each received packet arrived. One pacing task
sends a frame for every leg each 20 ms on an absolute schedule, and measures its own lateness, so a number limited
by the client says so.

A frame's RTP timestamp is its place in that schedule (like a microphone's sample clock), not the time it happened
to go out: a client that slips sends frames late, not frames that claim a later time. (The engine's
`OutgoingStream.send_frame` re-stamps after a gap of 60 ms or more, which would turn a client hiccup into a lasting
shift of the stream's timeline, and every frame before it into a "late" one.)
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from switchboard_media.engine.codec import FRAME_SAMPLES, SAMPLE_RATE, SILENCE, AudioEncoder, level_dbov
from switchboard_media.engine.seams import InboundTap, OutboundPort

FRAME_SECONDS = 0.02
OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)
TONE_AMPLITUDE = 0.3  # of full scale: about -13 dBov
SILENT_LEVEL = -127

PacketListener = Callable[[float, RtpPacket], None]  # (arrival loop time, packet): the delay probe


@dataclass(frozen=True)
class Frame:
    """One pre-encoded 20 ms Opus frame and the RFC 6465 level sent with it."""

    payload: bytes
    level: int
    mark: int | None = None  # a probe frame (the delay bursts): its send time is logged


def tone_pcm(frequency: float, index: int) -> np.ndarray:
    """The `index`-th 20 ms frame of a continuous sine at `frequency`."""
    t = (np.arange(FRAME_SAMPLES) + index * FRAME_SAMPLES) / SAMPLE_RATE
    return (TONE_AMPLITUDE * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def encode(frames: Sequence[np.ndarray]) -> list[Frame]:
    """Encode a loop of `frames` once: twice over, keeping the second pass, so the codec state at the wrap-around is
    that of a stream that really repeats."""
    encoder = AudioEncoder(OPUS)
    encoded = [Frame(b"".join(encoder.encode(pcm)), level_dbov(pcm)) for pcm in [*frames, *frames]]
    return encoded[len(frames) :]


def tone_loop(frequency: float) -> list[Frame]:
    """One second of a tone (a whole number of cycles for an integer frequency, so the loop is seamless)."""
    return encode([tone_pcm(frequency, i) for i in range(50)])


def silence_loop() -> list[Frame]:
    return [Frame(frame.payload, SILENT_LEVEL) for frame in encode([SILENCE] * 10)]


class LightLeg:
    """One audio leg: sends what `frames` holds, in order and round again; records arrivals while `recording`."""

    def __init__(self, frames: list[Frame]) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # never a public STUN server
        transceiver = self.pc.addTransceiver("audio", direction="sendrecv")
        self.tap = InboundTap(transceiver.receiver, "audio")
        self.port = OutboundPort(transceiver.sender, "audio")
        self._first_seq = random.randrange(0x8000)  # lower half: no early wrap (SRTP index estimation)
        self._first_ts = random.getrandbits(32)
        self.sent = 0
        self.frames = frames
        self.position = 0
        self.sending = False
        self.recording = False
        self.arrivals: list[tuple[float, int]] = []  # (loop time, RTP timestamp)
        self.marks_sent: list[tuple[float, int]] = []  # (loop time, mark) of each probe frame sent
        self.listener: PacketListener | None = None
        self.tap.sink = self._received

    async def _received(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        now = asyncio.get_running_loop().time()
        if self.recording:
            self.arrivals.append((now, packet.timestamp))
        if self.listener is not None:
            self.listener(now, packet)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept_answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def answer(self, offer_sdp: str) -> str:
        """Answer another light leg's offer (the direct, node-less path)."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    async def ready(self, timeout: float) -> None:
        """Until the sender is running (ICE and DTLS are up): raises TimeoutError after `timeout`."""
        await asyncio.wait_for(self.port.ready.wait(), timeout)
        codec = self.port.codec
        if codec is None or codec.mimeType.lower() != "audio/opus":
            raise RuntimeError(f"the leg negotiated {codec}, the bench sends Opus")

    async def send_next(self, tick: int) -> None:
        """Send the next frame as the one due at `tick` (20 ms ticks of the pacer's schedule)."""
        frame = self.frames[self.position % len(self.frames)]
        self.position += 1
        if frame.mark is not None:
            self.marks_sent.append((asyncio.get_running_loop().time(), frame.mark))
        await self.port.send(
            frame.payload,
            (self._first_seq + self.sent) & 0xFFFF,
            (self._first_ts + tick * FRAME_SAMPLES) & 0xFFFFFFFF,
            self.sent == 0,  # the marker bit: the start of a talkspurt
            frame.level,
        )
        self.sent += 1

    async def close(self) -> None:
        await self.pc.close()


@dataclass
class Pacer:
    """Sends one frame on every sending leg each 20 ms, on an absolute schedule.

    `lateness` (while `recording`) holds, per tick, how late the last leg's frame went out relative to the tick's
    due time: the client's own slip. When the loop falls more than `MAX_BEHIND` ticks behind, the schedule skips
    ahead (`skipped` counts those ticks) rather than bursting. With `shift`, the schedule moves `shift` seconds
    later every `shift_every` ticks: a node that works on a 20 ms tick of its own then sees the sender at every
    phase of that tick in turn, as calls from unsynchronised clients would be.
    """

    legs: list[LightLeg]
    shift: float = 0.0
    shift_every: int = 50
    recording: bool = False
    lateness: list[float] = field(default_factory=list)
    skipped: int = 0
    _task: asyncio.Task[None] | None = None

    MAX_BEHIND = 5

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        tick = 0
        while True:
            tick += 1
            due += FRAME_SECONDS + (self.shift if tick % self.shift_every == 0 else 0.0)
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -self.MAX_BEHIND * FRAME_SECONDS:
                behind = math.floor(-delay / FRAME_SECONDS)
                self.skipped += behind
                tick += behind
                due += behind * FRAME_SECONDS
            for leg in self.legs:
                if leg.sending:
                    await leg.send_next(tick)
            if self.recording:
                self.lateness.append(loop.time() - due)
