"""The media engine's pieces on their own: aiortc's internals it relies on, stream numbering, the playout input,
and the graph's mixing (nobody hears themselves; one encode per distinct mix)."""

from __future__ import annotations

import asyncio
import itertools

import aiortc
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from switchboard_media.engine import seams
from switchboard_media.engine.codec import FRAME_SAMPLES, AudioDecoder, AudioEncoder, level_dbov
from switchboard_media.engine.graph import TALKING_TICKS, AudioGraph, Voice
from switchboard_media.engine.playout import AudioInput
from switchboard_media.engine.stream import OutgoingStream

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)


def tone(frequency: float, frames: int = 1, amplitude: float = 0.3) -> list[np.ndarray]:
    t = np.arange(frames * FRAME_SAMPLES) / 48000
    pcm = (amplitude * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
    return [pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES] for i in range(frames)]


def packet(seq: int, ts: int, payload: bytes = b"\x00") -> RtpPacket:
    return RtpPacket(payload_type=111, sequence_number=seq & 0xFFFF, timestamp=ts & 0xFFFFFFFF, payload=payload)


@pytest.mark.asyncio
async def test_the_aiortc_internals_the_seams_use_are_still_there():
    """Fails loudly when aiortc moves what engine/seams.py reaches into (upgrade aiortc only with this green)."""
    assert aiortc.__version__ == "1.16.0", "seams.py was written against aiortc 1.16.0: re-check it, then this pin"
    pc = RTCPeerConnection()
    transceiver = pc.addTransceiver("video", direction="sendrecv")
    try:
        for name in seams.RECEIVER_INTERNALS:
            assert hasattr(transceiver.receiver, name), f"RTCRtpReceiver.{name} is gone"
        for name in seams.SENDER_INTERNALS:
            assert hasattr(transceiver.sender, name), f"RTCRtpSender.{name} is gone"
        for name in seams.TRANSCEIVER_INTERNALS:
            assert hasattr(transceiver, name), f"RTCRtpTransceiver.{name} is gone"
        tap = seams.InboundTap(transceiver.receiver, "video")
        port = seams.OutboundPort(transceiver.sender, "video")
        assert transceiver.receiver._handle_rtp_packet == tap._handle
        assert transceiver.sender._send_keyframe == port._keyframe_requested
    finally:
        await pc.close()


class FakePort:
    def __init__(self, kind: str = "audio", codec: RTCRtpCodecParameters = OPUS) -> None:
        self.kind = kind
        self.codec = codec
        self.sent: list[tuple[int, int, bytes]] = []

    async def send(self, payload, sequence_number, timestamp, marker, audio_level=None, voice=False):
        self.sent.append((sequence_number, timestamp, payload))


@pytest.mark.asyncio
async def test_an_outgoing_stream_stays_continuous_across_sources_and_encoded_frames():
    port = FakePort()
    stream = OutgoingStream(port)  # type: ignore[arg-type]
    first, second = object(), object()
    for n in range(3):
        await stream.forward(packet(65534 + n, 4_294_967_000 + 960 * n), first)  # wraps both counters
    await stream.forward(packet(65534 + 4, 4_294_967_000 + 960 * 4), first)  # one lost: the gap is kept
    await stream.send_frame(b"encoded", 960)
    await stream.forward(packet(7, 123), second)
    await stream.forward(packet(8, 123 + 960), second)
    seqs = [seq for seq, _, _ in port.sent]
    stamps = [ts for _, ts, _ in port.sent]
    assert [(b - a) & 0xFFFF for a, b in itertools.pairwise(seqs)] == [1, 1, 2, 1, 1, 1]
    assert [(b - a) & 0xFFFFFFFF for a, b in itertools.pairwise(stamps)] == [960, 960, 1920, 960, 960, 960]


@pytest.mark.asyncio
async def test_a_pause_moves_the_timestamps_on_by_the_time_that_passed():
    port = FakePort()
    stream = OutgoingStream(port)  # type: ignore[arg-type]
    await stream.send_frame(b"a", 960)
    await asyncio.sleep(0.2)
    await stream.send_frame(b"b", 960)
    step = (port.sent[1][1] - port.sent[0][1]) & 0xFFFFFFFF
    assert 0.18 * 48000 < step < 0.3 * 48000


@pytest.mark.asyncio
async def test_encoded_frames_that_catch_up_after_a_late_tick_stay_one_frame_apart():
    port = FakePort()
    stream = OutgoingStream(port)  # type: ignore[arg-type]
    await stream.send_frame(b"a", 960)
    await asyncio.sleep(0.08)  # the tick ran 60 ms late, then catches up
    for payload in (b"b", b"c", b"d"):
        await stream.send_frame(payload, 960)
    stamps = [ts for _, ts, _ in port.sent]
    assert [(b - a) & 0xFFFFFFFF for a, b in itertools.pairwise(stamps)] == [960, 960, 960]


def encoded(frames: list[np.ndarray]) -> list[bytes]:
    encoder = AudioEncoder(OPUS)
    return [b"".join(encoder.encode(frame)) for frame in frames]


def test_the_playout_input_puts_packets_back_in_order_and_skips_a_loss_after_waiting():
    payloads = encoded(tone(440, 6))
    audio = AudioInput(OPUS)
    audio.push(packet(10, 0, payloads[0]), 0.000)
    assert audio.take(0.010) is not None
    audio.push(packet(12, 1920, payloads[2]), 0.041)  # 11 is late
    assert audio.take(0.045) is None  # 12 waits for 11
    audio.push(packet(11, 960, payloads[1]), 0.046)
    assert audio.queued == 2  # 11, then 12
    assert audio.take(0.050) is not None and audio.take(0.070) is not None
    audio.push(packet(14, 3840, payloads[4]), 0.080)  # 13 never comes
    assert audio.take(0.085) is None  # waited for it: no frame this tick
    assert audio.take(0.110) is not None  # gave up on 13 after a frame's time: 14 plays
    audio.push(packet(13, 2880, payloads[3]), 0.111)  # too late now: dropped
    assert audio.queued == 0
    assert audio.depth == 1  # loopback: the one-frame floor


def test_the_playout_queue_grows_with_jitter_and_drops_what_piles_up():
    payloads = encoded(tone(440, 40))
    audio = AudioInput(OPUS)
    arrivals = [n * 0.02 + (0.045 if n % 2 else 0) for n in range(40)]  # every other frame 45 ms late
    for n, at in enumerate(arrivals):
        audio.push(packet(n, n * 960, payloads[n]), at)
    assert audio.jitter > 0.02
    assert audio.depth >= 3
    heard: list[np.ndarray] = []
    burst = AudioInput(OPUS, heard.append)
    for n in range(12):
        burst.push(packet(n, n * 960, payloads[n]), 1.0)  # 12 frames at once after a stall
    burst.take(1.0)
    assert burst.queued <= burst.depth + 1
    assert burst.dropped > 0
    assert len(heard) == 12  # listeners (DTMF, recording) still got every frame the playout queue dropped


class Output:
    """Stands in for a leg's outgoing stream: keeps what the graph sends it, decoded."""

    def __init__(self) -> None:
        self.port = FakePort()
        self.ready = True
        self.payloads: list[bytes] = []
        self._decoder = AudioDecoder(OPUS)
        self.heard: list[np.ndarray] = []

    async def send_frame(self, payload: bytes, samples: int, audio_level: int | None = None) -> None:
        self.payloads.append(payload)
        self.heard += self._decoder.decode(payload, 0)


@pytest.mark.asyncio
async def test_everyone_hears_the_others_never_themselves_with_one_encode_per_distinct_mix():
    talking: list[tuple[str, bool]] = []
    graph = AudioGraph(on_talking=lambda name, state: talking.append((name, state)))
    frequencies = {"ann": 600.0, "ben": 1500.0}
    signals = {name: tone(frequency, 50) for name, frequency in frequencies.items()}
    outputs = {name: Output() for name in ("ann", "ben", "cat", "dan", "eve", "fay")}
    for name, output in outputs.items():
        source = (lambda frames=signals[name]: frames.pop(0) if frames else None) if name in signals else None
        graph.add(name, output, source=source)  # type: ignore[arg-type]
    for tick in range(50):
        await graph.tick(tick * 0.02)
    # two talkers: ann hears ben, ben hears ann, the four others share one mix of both
    assert graph.encodes == 50 * 3
    assert outputs["cat"].payloads == outputs["fay"].payloads
    spectrum = {name: _band_energies(np.concatenate(output.heard[10:])) for name, output in outputs.items()}
    assert spectrum["ann"][1500] > 50 * spectrum["ann"][600]  # ann hears ben, not herself
    assert spectrum["ben"][600] > 50 * spectrum["ben"][1500]
    assert spectrum["cat"][600] > 1 and spectrum["cat"][1500] > 1
    assert ("ann", True) in talking and ("ben", True) in talking and ("cat", True) not in talking
    graph.members["ann"].muted = True  # a muted member is heard by nobody
    signals["ann"], signals["ben"] = tone(600, 5), tone(1500, 5)
    before = len(outputs["ben"].heard)
    for tick in range(5):
        await graph.tick(1 + tick * 0.02)
    assert level_dbov(np.concatenate(outputs["ben"].heard[before + 2 :])) < -60


def _band_energies(signal: np.ndarray) -> dict[int, float]:
    spectrum = np.abs(np.fft.rfft(signal.astype(np.float64) * np.hanning(len(signal))))
    bins = np.fft.rfftfreq(len(signal), 1 / 48000)
    return {f: float(spectrum[(bins > f - 20) & (bins < f + 20)].max()) for f in (600, 1500)}


def test_voice_activity_needs_a_run_of_loud_frames_to_start_and_of_quiet_ones_to_stop():
    voice = Voice()
    changes = [voice.update(-20) for _ in range(TALKING_TICKS)]
    assert changes[-1] is True and changes[:-1] == [None] * (TALKING_TICKS - 1)
    assert [voice.update(-80) for _ in range(24)] == [None] * 24
    assert voice.update(-80) is False


def test_levels_are_rfc_6465_dbov():
    full_scale = (32767 * np.sin(2 * np.pi * 1000 * np.arange(960) / 48000)).astype(np.int16)
    assert level_dbov(full_scale) == -3
    assert level_dbov(np.zeros(960, dtype=np.int16)) == -127
