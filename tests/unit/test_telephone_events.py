"""RFC 4733 telephone-events on the media node: what the sender puts in place of audio packets, and the receiver
turning event packets (End packets sent three times, lost starts, long events) into one digit per key press."""

from __future__ import annotations

import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver

from switchboard_media.actions.dtmf import DtmfDetector
from switchboard_media.actions.telephone_event import TelephoneEvent, TelephoneEventSender
from switchboard_media.engine import seams

FRAME = 960  # one 20 ms Opus packet at 48 kHz


def run(
    sender: TelephoneEventSender, slots: int, start: int = 1000
) -> list[tuple[int, tuple[bytes, int, bool] | None]]:
    """What each of `slots` consecutive audio packets (20 ms apart) becomes: (its audio timestamp, the event or
    None for audio)."""
    return [(start + i * FRAME, sender(start + i * FRAME)) for i in range(slots)]


def test_each_press_replaces_audio_packets_with_its_events_and_leaves_a_gap_of_audio():
    sender = TelephoneEventSender(48000)
    sender.add("1#")
    slots = run(sender, 22)
    events = [(ts, TelephoneEvent.parse(e[0]), e[1], e[2]) for ts, e in slots if e is not None]
    audio = [ts for ts, e in slots if e is None]

    first = [e for e in events if e[1].event == 1]
    assert [e[1].end for e in first] == [False] * 4 + [True] * 3  # updates, then the End packet three times
    assert [e[1].duration for e in first] == [960, 1920, 2880, 3840, 4800, 4800, 4800]  # 100 ms at 48 kHz
    assert {e[2] for e in first} == {1000}  # the timestamp of the slot the event started in
    assert [e[3] for e in first] == [True] + [False] * 6  # the marker on the first packet only
    assert {e[1].volume for e in events} == {10}

    second = [e for e in events if e[1].event == 11]  # '#'
    assert len(second) == 7 and {e[2] for e in second} == {1000 + 10 * FRAME}  # after 7 event and 3 audio slots
    assert audio[:3] == [1000 + 7 * FRAME, 1000 + 8 * FRAME, 1000 + 9 * FRAME]  # the 60 ms gap is audio
    assert not sender.pending and sender(99) is None


def test_presses_queue_behind_the_ones_being_sent_and_a_bad_digit_queues_nothing():
    sender = TelephoneEventSender(8000)
    sender.add("5")
    run(sender, 3)
    sender.add("6")
    with pytest.raises(ValueError):
        sender.add("7x")
    events = [TelephoneEvent.parse(e[0]) for _, e in run(sender, 40) if e is not None]
    assert [e.digit for e in events if e.end] == ["5"] * 3 + ["6"] * 3
    assert max(e.duration for e in events) == 800  # 100 ms at 8 kHz


def test_the_sent_events_are_heard_as_one_digit_per_press():
    digits: list[str] = []
    detector = DtmfDetector(digits.append)
    sender = TelephoneEventSender(48000)
    sender.add("123#")
    for _, event in run(sender, 60):
        if event is not None:
            detector.telephone_event(*event)
    assert "".join(digits) == "123#"


def test_retransmitted_end_packets_and_a_lost_start_still_make_one_digit_each():
    digits: list[str] = []
    detector = DtmfDetector(digits.append)
    end = TelephoneEvent(event=9, end=True, volume=12, duration=800).serialize()
    for _ in range(3):
        detector.telephone_event(end, 5000, False)  # only the End packets arrived, three times
    update = TelephoneEvent(event=9, end=False, volume=12, duration=160).serialize()
    detector.telephone_event(update, 6000, True)  # the same key again: a new timestamp
    for _ in range(3):
        detector.telephone_event(end, 6000, False)
    detector.telephone_event(TelephoneEvent(event=16, end=True, volume=0, duration=800).serialize(), 7000, True)
    assert digits == ["9", "9"]  # 16 (flash) is no digit


def _transceiver_with(codecs: list[RTCRtpCodecParameters]) -> RTCRtpTransceiver:
    transceiver = RTCRtpTransceiver("audio", receiver=None, sender=None)  # type: ignore[arg-type]
    transceiver._codecs = codecs
    return transceiver


def test_the_offered_telephone_events_are_accepted_after_the_audio_codecs():
    opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)
    offered = [
        opus,
        RTCRtpCodecParameters(mimeType="audio/telephone-event", clockRate=48000, payloadType=110, parameters={}),
        RTCRtpCodecParameters(mimeType="audio/telephone-event", clockRate=8000, payloadType=126),
        RTCRtpCodecParameters(mimeType="audio/telephone-event", clockRate=16000, payloadType=127),
    ]
    transceiver = _transceiver_with([opus])
    seams.accept_telephone_events(transceiver, offered)
    seams.accept_telephone_events(transceiver, offered)  # idempotent
    assert [(c.mimeType, c.clockRate, c.payloadType) for c in transceiver._codecs] == [
        ("audio/opus", 48000, 111),
        ("audio/telephone-event", 48000, 110),
        ("audio/telephone-event", 8000, 126),
    ]
    assert transceiver._codecs[1].parameters == {"0-15": None}

    nothing_common = _transceiver_with([])
    seams.accept_telephone_events(nothing_common, offered)
    assert nothing_common._codecs == []
