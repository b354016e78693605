"""DTMF as RFC 4733 telephone-events between a real node and an aiortc client whose offer has telephone-event (as a
browser's does; aiortc's own offers do not): the node answers it, hears the digits the client sends as events, and
sends the application's digits as events in the audio stream's numbering. A client without it gets in-band tones."""

from __future__ import annotations

import asyncio
import itertools
import struct
from dataclasses import dataclass

import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtp import RtpPacket

from chalicelib.contract import control as control_contract
from switchboard_media.actions.dtmf import DtmfDetector
from switchboard_media.actions.telephone_event import TelephoneEvent, telephone_event_packets
from switchboard_rtc import AudioSink, ToneSource
from tests.media.test_application_calls import control, next_event

pytestmark = pytest.mark.asyncio

EVENT_48K, EVENT_8K = 101, 102


def with_telephone_events(sdp: str) -> str:
    """The offer as a browser makes it: telephone-event at 48 and 8 kHz after the audio codecs."""
    lines = sdp.split("\r\n")
    audio = next(i for i, line in enumerate(lines) if line.startswith("m=audio "))
    lines[audio] += f" {EVENT_48K} {EVENT_8K}"
    rtpmap = next(i for i in range(audio, len(lines)) if lines[i].startswith("a=rtpmap:"))
    lines[rtpmap:rtpmap] = [
        f"a=rtpmap:{EVENT_48K} telephone-event/48000",
        f"a=fmtp:{EVENT_48K} 0-16",
        f"a=rtpmap:{EVENT_8K} telephone-event/8000",
        f"a=fmtp:{EVENT_8K} 0-16",
    ]
    return "\r\n".join(lines)


class RecordingPeer(RTCPeerConnection):
    """The SDK's peer connection, keeping the node's answer."""

    answer_sdp = ""

    async def setRemoteDescription(self, sessionDescription: RTCSessionDescription) -> None:
        self.answer_sdp = sessionDescription.sdp
        await super().setRemoteDescription(sessionDescription)


class TelephoneEventPeer(RecordingPeer):
    """... whose offer (as sent to the node) has telephone-event."""

    @property
    def localDescription(self) -> RTCSessionDescription:
        description = super().localDescription
        if description is None or description.type != "offer":
            return description
        return RTCSessionDescription(sdp=with_telephone_events(description.sdp), type="offer")


@dataclass(frozen=True)
class Received:
    payload_type: int
    sequence_number: int
    timestamp: int
    marker: bool
    payload: bytes


def record_audio_packets(pc: RTCPeerConnection) -> list[Received]:
    """Every RTP packet that reaches the client (audio only in these calls), telephone-events included: recorded
    where the transport routes them, as aiortc's receiver drops a payload type it did not negotiate."""
    received: list[Received] = []
    transport = next(t.receiver for t in pc.getTransceivers() if t.kind == "audio").transport
    router = transport._rtp_router
    route_rtp = router.route_rtp

    def record(packet: RtpPacket):
        received.append(
            Received(packet.payload_type, packet.sequence_number, packet.timestamp, bool(packet.marker), packet.payload)
        )
        return route_rtp(packet)

    router.route_rtp = record  # type: ignore[method-assign]
    return received


class EventKeypad:
    """Key presses as a browser sends them: 20 ms apart, the End packet three times, on the audio's SSRC and in its
    sequence numbering (every RTP packet of the SSRC is renumbered on its way to SRTP)."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self._sender = next(t.sender for t in pc.getTransceivers() if t.kind == "audio")
        self._next: int | None = None  # sequence number: where the audio's numbering was when it was taken over
        self._timestamp = 100_000
        transport = self._sender.transport
        send_rtp = transport._send_rtp
        ssrc = struct.pack("!I", self._sender._ssrc)

        async def renumbered(data: bytes) -> None:
            if data[8:12] == ssrc:
                if self._next is None:
                    self._next = struct.unpack_from("!H", data, 2)[0]
                data = data[:2] + struct.pack("!H", self._next) + data[4:]
                self._next = (self._next + 1) & 0xFFFF
            await send_rtp(data)

        transport._send_rtp = renumbered  # type: ignore[method-assign]

    async def press(self, digits: str, payload_type: int = EVENT_48K, clock_rate: int = 48000) -> None:
        while self._next is None:  # the first audio packet sets the numbering to continue
            await asyncio.sleep(0.01)
        for digit in digits:
            self._timestamp += clock_rate  # each press starts later than the one before
            for event in telephone_event_packets(digit, clock_rate=clock_rate, timestamp=self._timestamp):
                packet = RtpPacket(
                    payload_type=payload_type,
                    marker=int(event.marker),
                    timestamp=event.timestamp,
                    ssrc=self._sender._ssrc,
                    payload=event.payload,
                )
                await self._sender.transport._send_rtp(packet.serialize())
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.06)


def in_band_digits(samples: np.ndarray) -> str:
    digits: list[str] = []
    detector = DtmfDetector(digits.append)
    for start in range(0, len(samples) - 960, 960):
        detector(samples[start : start + 960])
    return "".join(digits)


async def answered_call(pair, url: str, monkeypatch, peer: type[RTCPeerConnection], sink: AudioSink | None = None):
    monkeypatch.setattr("switchboard_rtc.call.RTCPeerConnection", peer)
    alice, _ = pair
    call = await alice.call_application("ivr", audio_source=ToneSource(0), audio_sink=sink)
    await asyncio.to_thread(control(url).action, call.id, "answer")
    await call.media_connected()
    return call


async def test_the_node_answers_telephone_event_and_captures_digits_sent_as_events(node, pair, records, monkeypatch):
    _, url = node
    call = await answered_call(pair, url, monkeypatch, TelephoneEventPeer)
    answer = call.pc.answer_sdp
    assert f"a=rtpmap:{EVENT_48K} telephone-event/48000" in answer
    assert f"a=rtpmap:{EVENT_8K} telephone-event/8000" in answer
    assert f"a=fmtp:{EVENT_48K} 0-15" in answer
    assert answer.index("opus/48000") < answer.index("telephone-event")  # Opus stays the codec sent

    capture = control_contract.CaptureDtmfRequest(maxLength=5, timeoutMs=5000, terminator="#", digitTimeoutMs=3000)
    await asyncio.to_thread(control(url).capture_dtmf, call.id, capture)
    keypad = EventKeypad(call.pc)
    await keypad.press("123#")
    assert await next_event(records, call.id, "DTMF_CAPTURED") == {"dtmf": "123", "timeout": False}

    capture = control_contract.CaptureDtmfRequest(maxLength=2, timeoutMs=5000)
    await asyncio.to_thread(control(url).capture_dtmf, call.id, capture)
    await keypad.press("9*", payload_type=EVENT_8K, clock_rate=8000)  # either negotiated clock rate
    assert await next_event(records, call.id, "DTMF_CAPTURED") == {"dtmf": "9*", "timeout": False}
    await call.hangup()


async def test_the_application_sends_digits_as_events_in_the_audio_stream(node, pair, records, monkeypatch):
    _, url = node
    heard = AudioSink()
    call = await answered_call(pair, url, monkeypatch, TelephoneEventPeer, heard)
    received = record_audio_packets(call.pc)
    await asyncio.sleep(0.3)
    await asyncio.to_thread(control(url).send_dtmf, call.id, control_contract.SendDtmfRequest(dtmf="42#"))
    await asyncio.sleep(1.2)

    events = [packet for packet in received if packet.payload_type == EVENT_48K]  # the one in Opus's clock rate
    digits: list[str] = []
    detector = DtmfDetector(digits.append)
    for packet in events:
        detector.telephone_event(packet.payload, packet.timestamp, packet.marker)
    assert "".join(digits) == "42#"
    blocks = [TelephoneEvent.parse(packet.payload) for packet in events]
    assert sum(block.end for block in blocks) == 9  # each End packet three times
    assert max(block.duration for block in blocks) == 4800  # 100 ms at 48 kHz
    assert not any(packet.payload_type == EVENT_8K for packet in received)

    numbers = [packet.sequence_number for packet in received]  # one numbering for audio and events: no gap
    assert all((after - before) & 0xFFFF == 1 for before, after in itertools.pairwise(numbers))
    for index, packet in enumerate(received):
        if packet.marker and packet.payload_type == EVENT_48K:  # an event starts at the next audio slot's time
            assert received[index - 1].payload_type != EVENT_48K
            assert packet.timestamp - received[index - 1].timestamp == 960
    assert in_band_digits(np.asarray(heard.samples, dtype=np.int16)) == ""  # events, not tones
    await call.hangup()


async def test_without_telephone_event_the_digits_are_sent_in_band(node, pair, records, monkeypatch):
    _, url = node
    heard = AudioSink()
    call = await answered_call(pair, url, monkeypatch, RecordingPeer, heard)
    assert "telephone-event" not in call.pc.answer_sdp
    received = record_audio_packets(call.pc)
    heard.clear()
    await asyncio.to_thread(control(url).send_dtmf, call.id, control_contract.SendDtmfRequest(dtmf="42#"))
    await asyncio.sleep(1.0)
    assert in_band_digits(np.asarray(heard.samples, dtype=np.int16)) == "42#"
    assert {packet.payload_type for packet in received} == {received[0].payload_type}
    await call.hangup()


async def test_a_one_to_one_call_in_pass_through_forwards_the_events(node, pair, monkeypatch):
    monkeypatch.setattr("switchboard_rtc.call.RTCPeerConnection", TelephoneEventPeer)
    alice, bob = pair
    call = await alice.call_webrtc("bob", audio_source=ToneSource(0))
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept(audio_source=ToneSource(0))
    await asyncio.gather(call.media_connected(), incoming.media_connected())
    received = record_audio_packets(incoming.pc)
    await asyncio.sleep(0.3)
    await EventKeypad(call.pc).press("7#")
    await asyncio.sleep(0.3)

    digits: list[str] = []
    detector = DtmfDetector(digits.append)
    for packet in received:
        if packet.payload_type == EVENT_48K:
            detector.telephone_event(packet.payload, packet.timestamp, packet.marker)
    assert "".join(digits) == "7#"
    numbers = [packet.sequence_number for packet in received]
    assert all((after - before) & 0xFFFF == 1 for before, after in itertools.pairwise(numbers))
    await call.hangup()
