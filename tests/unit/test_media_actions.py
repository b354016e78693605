"""Call actions' media building blocks on real signals: DTMF detection (in-band through Opus, PCMU and G.722, and
RFC 4733), DTMF generation, speech synthesis with espeak-ng, audio file decoding and the player's play options."""

from __future__ import annotations

import io
import shutil
import wave
from collections.abc import Callable, Iterable
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from switchboard_media.actions import (
    AudioTooLong,
    DtmfDetector,
    EspeakProvider,
    InvalidSpeechRequest,
    Player,
    SpeechEngineError,
    SpeechRequestError,
    TelephoneEvent,
    UndecodableAudio,
    UnsupportedLanguage,
    decode_audio,
    dtmf_tones,
    telephone_event_packets,
)
from switchboard_media.actions.tts import parse_voices
from switchboard_media.engine.codec import FRAME_SAMPLES, AudioDecoder, AudioEncoder
from switchboard_media.engine.graph import PcmListener, PcmSource
from tests.support.audio_files import make_mp3, make_wav, tone

RATE = 48000
CODECS = {
    "opus": RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111),
    "pcmu": RTCRtpCodecParameters(mimeType="audio/PCMU", clockRate=8000, channels=1, payloadType=0),
    "g722": RTCRtpCodecParameters(mimeType="audio/G722", clockRate=8000, channels=1, payloadType=9),
}
ALL_DIGITS = "0123456789*#ABCD"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (make test)")


# --- signals -----------------------------------------------------------------------------------------


def frames_of(signal: np.ndarray) -> list[np.ndarray]:
    """Float or int samples → 960-sample int16 frames, the last padded with silence."""
    pcm = np.clip(np.round(signal), -32768, 32767).astype(np.int16)
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % FRAME_SAMPLES, dtype=np.int16)])
    return list(pcm.reshape(-1, FRAME_SAMPLES))


def seconds(duration: float) -> np.ndarray:
    return np.arange(int(duration * RATE)) / RATE


def silence(ms: int) -> np.ndarray:
    return np.zeros(ms * RATE // 1000)


def tone_signal(digits: str, **options: int) -> np.ndarray:
    return np.concatenate(dtmf_tones(digits, **options)).astype(np.float64)


def roundtrip(frames: Iterable[np.ndarray], codec: RTCRtpCodecParameters) -> list[np.ndarray]:
    """Through the engine's encoder and decoder, as a call's audio travels."""
    encoder, decoder = AudioEncoder(codec), AudioDecoder(codec)
    out: list[np.ndarray] = []
    timestamp = 0
    for frame in frames:
        for payload in encoder.encode(frame):
            out += decoder.decode(payload, timestamp)
            timestamp += encoder.frame_length
    return out


def detect(frames: Iterable[np.ndarray]) -> str:
    digits: list[str] = []
    detector = DtmfDetector(digits.append)
    for frame in frames:
        detector(frame)
    return "".join(digits)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- in-band DTMF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("level_dbov", [-10, -25, -35])
def test_every_digit_is_detected_from_generated_tones(level_dbov):
    assert detect(dtmf_tones(ALL_DIGITS, level_dbov=level_dbov)) == ALL_DIGITS


def test_tones_quieter_than_40_dbov_are_not_digits():
    assert detect(dtmf_tones("159", level_dbov=-45)) == ""


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_every_digit_survives_a_codec_round_trip(codec):
    assert detect(roundtrip(dtmf_tones(ALL_DIGITS, level_dbov=-20), CODECS[codec])) == ALL_DIGITS


def test_digits_are_detected_under_noise_through_opus():
    rng = np.random.default_rng(7)
    signal = tone_signal(ALL_DIGITS, level_dbov=-20)
    noisy = signal + rng.normal(0, 32767 * 10 ** (-35 / 20), len(signal))
    assert detect(roundtrip(frames_of(noisy), CODECS["opus"])) == ALL_DIGITS


def test_a_key_held_for_500_ms_is_one_digit():
    held = dtmf_tones("5", duration_ms=500)
    assert detect(held) == "5"
    assert detect(roundtrip(held, CODECS["opus"])) == "5"


@pytest.mark.parametrize("gap_ms", [30, 60])
def test_the_same_key_twice_with_a_gap_is_two_digits(gap_ms):
    """30 ms is the shortest gap browsers' insertDTMF allows."""
    presses = dtmf_tones("11", gap_ms=gap_ms)
    assert detect(presses) == "11"
    assert detect(roundtrip(presses, CODECS["opus"])) == "11"


def test_a_10_ms_interruption_of_a_held_key_is_bridged():
    """ITU-T Q.24: interruptions up to 10 ms are not gaps."""
    press = tone_signal("8", duration_ms=200, gap_ms=0)[: 200 * 48]
    for lead_ms in range(0, 20, 4):
        signal = np.concatenate([silence(lead_ms), press, silence(10), press, silence(100)])
        assert detect(frames_of(signal)) == "8", lead_ms


def chord(low_hz: float, high_hz: float, low_db: float = -15, high_db: float = -15, *others: float) -> np.ndarray:
    """200 ms of two tones at their levels (dBov each), optionally with further equal tones, then 100 ms of silence."""
    t = seconds(0.2)
    amplitude = [32767 * np.sqrt(2) * 10 ** (db / 20) for db in (low_db, high_db)]
    signal = amplitude[0] * np.sin(2 * np.pi * low_hz * t) + amplitude[1] * np.sin(2 * np.pi * high_hz * t)
    for frequency in others:
        signal += amplitude[0] / 2 * np.sin(2 * np.pi * frequency * t)
    return np.concatenate([signal, silence(100)])


@pytest.mark.parametrize(
    ("low_db", "high_db", "expected"),
    [(-15, -12, "6"), (-15, -10, ""), (-15, -21, "6"), (-15, -24, "")],
)
def test_twist_beyond_the_limits_is_not_a_digit(low_db, high_db, expected):
    """The column tone may be up to 4 dB louder than the row tone, or up to 8 dB quieter."""
    assert detect(frames_of(chord(770, 1477, low_db, high_db))) == expected


def test_two_keys_pressed_at_once_are_not_a_digit():
    assert detect(frames_of(chord(697, 1209))) == "1"
    assert detect(frames_of(chord(697, 1209, -15, -15, 770))) == ""  # "4" held with "1", 6 dB quieter


def test_one_key_after_another_without_a_gap_is_both_digits():
    assert detect(dtmf_tones("1", gap_ms=0) + dtmf_tones("2")) == "12"


@pytest.mark.parametrize("lead_ms", range(0, 20, 3))
def test_a_40_ms_tone_is_a_digit_and_a_20_ms_tone_is_not(lead_ms):
    short = np.concatenate([silence(lead_ms), tone_signal("7", duration_ms=20, gap_ms=100)])
    enough = np.concatenate([silence(lead_ms), tone_signal("7", duration_ms=40, gap_ms=100)])
    assert detect(frames_of(short)) == ""
    assert detect(frames_of(enough)) == "7"


def test_tones_off_by_more_than_3_5_percent_are_not_digits():
    """ITU-T Q.24: accept 1.5 % off the nominal frequencies, reject 3.5 %."""
    for deviation, expected in [(0.015, "5"), (-0.015, "5"), (0.035, ""), (-0.035, "")]:
        off = chord(770 * (1 + deviation), 1336 * (1 + deviation))
        assert detect(frames_of(off)) == expected, deviation


SPEECH_LIKE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "silence": lambda t: np.zeros(len(t)),
    "1 kHz tone": lambda t: 16000 * np.sin(2 * np.pi * 1000 * t),
    "one DTMF row tone alone": lambda t: 16000 * np.sin(2 * np.pi * 697 * t),
    "chirp 300-3400 Hz": lambda t: 12000 * np.sin(2 * np.pi * (300 * t + 3100 / 6 * t * t)),
    "chord 800 + 1300 Hz": lambda t: 8000 * (np.sin(2 * np.pi * 800 * t) + np.sin(2 * np.pi * 1300 * t)),
    "DTMF chord with its harmonics (a buzz)": lambda t: np.sum(
        [6000 / k * (np.sin(2 * np.pi * 697 * k * t) + np.sin(2 * np.pi * 1209 * k * t)) for k in (1, 2, 3)], axis=0
    ),
    "white noise": lambda t: np.random.default_rng(3).normal(0, 8000, len(t)),
}


@pytest.mark.parametrize("name", sorted(SPEECH_LIKE))
def test_speech_like_signals_are_not_digits(name):
    frames = frames_of(SPEECH_LIKE[name](seconds(3)))
    assert detect(frames) == ""
    assert detect(roundtrip(frames, CODECS["opus"])) == ""


@needs_espeak
@pytest.mark.parametrize("gender", ["FEMALE", "MALE"])
def test_synthetic_speech_is_not_digits(gender):
    text = (
        "Welcome to Switchboard. Please press one for sales, two for support, or hold the line. "
        "She sells sea shells by the sea shore; eeee, oooo, mmmm. Nine, eight, seven, six, five, four."
    )
    speech = frames_of(EspeakProvider().synthesize(text, "en", voice_gender=gender))
    assert len(speech) > 300
    assert detect(speech) == ""
    assert detect(roundtrip(speech, CODECS["opus"])) == ""
    assert detect(roundtrip(speech, CODECS["pcmu"])) == ""


def test_a_failing_digit_handler_does_not_stop_detection():
    heard: list[str] = []

    def handler(digit: str) -> None:
        heard.append(digit)
        raise RuntimeError("boom")

    detector = DtmfDetector(handler)
    for frame in dtmf_tones("12"):
        detector(frame)
    assert heard == ["1", "2"]


def test_the_detector_and_player_fit_the_graph():
    """Typed as the graph's listener and source (mypy checks these assignments)."""
    listener: PcmListener = DtmfDetector(lambda digit: None)
    source: PcmSource = Player(np.zeros(960, dtype=np.int16))
    listener(np.zeros(960, dtype=np.int16))
    assert source() is not None


# --- DTMF generation ---------------------------------------------------------------------------------


def test_tones_are_frames_of_the_requested_length_and_level():
    frames = dtmf_tones("1#", duration_ms=100, gap_ms=60, level_dbov=-10)
    assert len(frames) == 16  # 2 x 160 ms
    assert all(frame.dtype == np.int16 and len(frame) == FRAME_SAMPLES for frame in frames)
    tone = np.concatenate(frames)[: 100 * 48].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(tone)) / len(tone) * 2
    frequencies = np.fft.rfftfreq(len(tone), 1 / RATE)
    assert sorted(frequencies[np.argsort(spectrum)[-2:]]) == [700.0, 1210.0]  # 697 and 1209 Hz, 10 Hz bins
    rms_per_tone = np.sqrt(np.mean(tone**2) / 2)
    assert 20 * np.log10(rms_per_tone / 32767) == pytest.approx(-10, abs=0.2)
    assert not np.any(np.concatenate(frames)[100 * 48 : 160 * 48])  # the gap is silent


def test_tones_refuse_what_is_not_a_digit():
    with pytest.raises(ValueError, match="not a DTMF digit"):
        dtmf_tones("12x")
    assert dtmf_tones("") == []
    assert detect(dtmf_tones("abcd")) == "ABCD"


# --- RFC 4733 ----------------------------------------------------------------------------------------


def test_telephone_event_payloads_parse_and_serialize():
    start = TelephoneEvent.parse(bytes.fromhex("050a00a0"))
    assert start == TelephoneEvent(event=5, end=False, volume=10, duration=160)
    assert start.digit == "5"
    end = TelephoneEvent.parse(bytes.fromhex("0b8a0320"))
    assert (end.digit, end.end, end.volume, end.duration) == ("#", True, 10, 800)
    assert end.serialize() == bytes.fromhex("0b8a0320")
    assert TelephoneEvent.parse(bytes.fromhex("10000000")).digit is None  # 16: flash, not a digit
    with pytest.raises(ValueError):
        TelephoneEvent.parse(b"\x05\x0a")


def test_a_press_is_a_start_packet_updates_and_three_end_packets():
    packets = telephone_event_packets("9", duration_ms=100, clock_rate=8000, timestamp=1234)
    events = [TelephoneEvent.parse(packet.payload) for packet in packets]
    assert [packet.marker for packet in packets] == [True] + [False] * 6
    assert {packet.timestamp for packet in packets} == {1234}
    assert [event.duration for event in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [event.end for event in events] == [False] * 4 + [True] * 3
    assert {event.digit for event in events} == {"9"}
    assert [packet.send_at_ms for packet in packets] == [0, 20, 40, 60, 80, 100, 120]
    wideband = telephone_event_packets("*", duration_ms=100, clock_rate=48000)
    assert TelephoneEvent.parse(wideband[-1].payload).duration == 4800
    with pytest.raises(ValueError):
        telephone_event_packets("9", duration_ms=2000, clock_rate=48000)  # over 65535 clock units
    with pytest.raises(ValueError):
        telephone_event_packets("x")


def send_press(detector: DtmfDetector, digit: str, timestamp: int, *, drop_start: bool = False) -> None:
    for index, packet in enumerate(telephone_event_packets(digit, timestamp=timestamp)):
        if not (drop_start and index == 0):
            detector.telephone_event(packet.payload, packet.timestamp, packet.marker)


def test_telephone_events_give_one_digit_per_press():
    digits: list[str] = []
    detector = DtmfDetector(digits.append, clock=FakeClock())
    send_press(detector, "1", 8000)
    send_press(detector, "1", 9600)  # the same key again: a new timestamp
    send_press(detector, "2", 11200, drop_start=True)  # its first packet lost
    send_press(detector, "1", 8000)  # an old press replayed (late duplicates)
    detector.telephone_event(b"\x05", 12800, True)  # malformed: ignored
    assert digits == ["1", "1", "2"]


def test_a_long_event_continues_across_segments():
    """RFC 4733 §2.5.2.3: past 65535 clock units a sender starts a new segment (new timestamp, no marker)."""
    digits: list[str] = []
    detector = DtmfDetector(digits.append, clock=FakeClock())
    first = TelephoneEvent(3, end=False, volume=10, duration=0xFFFF).serialize()
    second = TelephoneEvent(3, end=False, volume=10, duration=4800).serialize()
    detector.telephone_event(first, 1000, True)
    detector.telephone_event(second, 1000 + 0xFFFF, False)
    detector.telephone_event(TelephoneEvent(3, end=True, volume=10, duration=9600).serialize(), 1000 + 0xFFFF, False)
    send_press(detector, "3", 1000 + 0xFFFF + 20000)
    assert digits == ["3", "3"]


def test_a_press_sent_both_in_band_and_as_telephone_event_is_one_digit():
    """Either path may come first; each report absorbs one duplicate from the other path within 0.5 s."""
    clock = FakeClock()
    digits: list[str] = []
    detector = DtmfDetector(digits.append, clock=clock)

    def in_band(digit: str) -> None:
        for frame in dtmf_tones(digit):
            detector(frame)
            clock.now += 0.02

    send_press(detector, "4", 1000)
    in_band("4")  # the same press, in the audio
    in_band("6")
    send_press(detector, "6", 3000)  # the same press, its events late
    send_press(detector, "4", 5000)
    in_band("4")  # "4 4" pressed quickly: two presses, each seen on both paths
    clock.now += 1.0
    in_band("4")  # a second later: a new press on the audio path only
    assert digits == ["4", "6", "4", "4"]


# --- speech ------------------------------------------------------------------------------------------


def fundamental_hz(pcm: np.ndarray) -> float:
    """Median pitch of the voiced 40 ms blocks, by autocorrelation (60..400 Hz)."""
    block = 1920
    signal = pcm.astype(np.float64)
    loud = np.sqrt(np.mean(signal**2)) * 0.7
    pitches = []
    for start in range(0, len(signal) - block, block):
        x = signal[start : start + block]
        if np.sqrt(np.mean(x**2)) < loud:
            continue
        x = x - x.mean()
        correlation = np.correlate(x, x, "full")[block - 1 :]
        low, high = RATE // 400, RATE // 60
        lag = low + int(np.argmax(correlation[low:high]))
        if correlation[lag] > 0.3 * correlation[0]:
            pitches.append(RATE / lag)
    assert len(pitches) >= 5
    return float(np.median(pitches))


@needs_espeak
def test_english_speech_is_a_second_or_two_of_audio():
    pcm = EspeakProvider().synthesize("one two three", "en")
    assert pcm.dtype == np.int16
    assert 1.0 <= len(pcm) / RATE <= 2.0
    assert 20 * np.log10(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) / 32767) > -30


@needs_espeak
def test_a_faster_speech_rate_is_shorter():
    provider = EspeakProvider()
    text = "The quick brown fox jumps over the lazy dog."
    fast = provider.synthesize(text, "en-gb", speech_rate=2.0)
    slow = provider.synthesize(text, "en-gb", speech_rate=0.5)
    assert len(fast) < 0.5 * len(slow)


@needs_espeak
def test_a_female_voice_preference_raises_the_pitch():
    provider = EspeakProvider()
    text = "Hello, this is a test of the voice preferences in the Switchboard platform."
    male = fundamental_hz(provider.synthesize(text, "en", voice_gender="MALE"))
    female = fundamental_hz(provider.synthesize(text, "en", voice_gender="FEMALE"))
    assert female > 1.4 * male, (male, female)


@needs_espeak
def test_languages_and_voice_preferences_map_to_installed_voices():
    provider = EspeakProvider()
    assert provider.voice("en") == "en-us"
    assert provider.voice("ar_xa") == "ar"
    assert provider.voice("ZH-TW") == "cmn"
    assert provider.voice("wls") == "cy"
    assert provider.voice("de-at", voice_gender="FEMALE") == "de+f3"
    assert provider.voice("fr", voice_gender="female", voice_name="Joanna") == "fr-fr+f3"  # a cloud voice: gender
    assert provider.voice("it", voice_gender="FEMALE", voice_name="Annie") == "it+Annie"  # an espeak-ng variant


@needs_espeak
def test_ssml_markup_is_not_read_aloud():
    provider = EspeakProvider()
    plain = provider.synthesize("hello", "en")
    ssml = provider.synthesize("<speak>hello</speak>", "en")
    assert abs(len(ssml) - len(plain)) < 0.1 * RATE


@needs_espeak
@pytest.mark.parametrize("language", ["fil-ph", "xx", "klingon"])
def test_an_unsupported_language_is_a_request_error(language):
    with pytest.raises(UnsupportedLanguage, match=language) as caught:
        EspeakProvider().synthesize("hello", language)
    assert isinstance(caught.value, SpeechRequestError)


@pytest.mark.parametrize(
    ("text", "rate", "message"),
    [("", 1.0, "empty"), ("  ", 1.0, "empty"), ("a" * 2001, 1.0, "longer than 2000"), ("hi", 2.5, "speechRate")],
)
def test_invalid_text_or_rate_is_a_request_error(text, rate, message):
    with pytest.raises(InvalidSpeechRequest, match=message):  # checked before espeak-ng runs: it need not be installed
        EspeakProvider("/nonexistent/espeak-ng").synthesize(text, "en", speech_rate=rate)


def test_a_missing_or_hanging_engine_is_an_engine_error(tmp_path: Path):
    with pytest.raises(SpeechEngineError, match="not installed"):
        EspeakProvider(str(tmp_path / "espeak-ng")).synthesize("hello", "en")
    hanging = tmp_path / "hanging-espeak"
    hanging.write_text("#!/bin/sh\nexec sleep 5\n")
    hanging.chmod(0o755)
    with pytest.raises(SpeechEngineError, match=r"longer than 0\.2 s"):
        EspeakProvider(str(hanging), timeout=0.2).synthesize("hello", "en")


def test_the_voice_listing_is_parsed_without_mbrola_or_spilled_names():
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)\n"
        " 5  en-us           --/F      us-mbrola-1        mb/mb-us1            (en 8)\n"
        " 5  variant         --/M      Mr_Serious         !v/Mr serious        \n"
        " 5  variant         --/F      female3            !v/f3                \n"
    )
    assert parse_voices(listing) == [("en-gb", "English_(Great_Britain)", "gmw/en"), ("variant", "female3", "!v/f3")]


# --- audio files -------------------------------------------------------------------------------------


def stereo_wav(signal: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.repeat(signal.astype(np.int16), 2).tobytes())
    return buffer.getvalue()


def mulaw_wav(signal: np.ndarray, rate: int) -> bytes:
    """A telephony prompt: G.711 μ-law in a WAV (refused as an upload, played from a URL)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="wav") as container:
        stream = container.add_stream("pcm_mulaw", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(signal.astype(np.int16)[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def dominant_hz(pcm: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    return float(np.fft.rfftfreq(len(pcm), 1 / RATE)[np.argmax(spectrum)])


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_a_wav_file_becomes_48_khz_mono(rate):
    pcm = decode_audio(make_wav(seconds=2, sample_rate=rate))
    assert pcm.dtype == np.int16
    assert len(pcm) == pytest.approx(2 * RATE, abs=RATE // 100)
    assert dominant_hz(pcm) == pytest.approx(440, abs=1)


@pytest.mark.parametrize("encode", [stereo_wav, mulaw_wav])
def test_stereo_and_mulaw_wav_files_play(encode):
    pcm = decode_audio(encode(tone(2, 16000, frequency=1000), 16000))
    assert len(pcm) == pytest.approx(2 * RATE, abs=RATE // 100)
    assert dominant_hz(pcm) == pytest.approx(1000, abs=1)


def test_an_mp3_file_becomes_48_khz_mono():
    pcm = decode_audio(make_mp3(seconds=2, sample_rate=44100))
    assert len(pcm) == pytest.approx(2 * RATE, abs=RATE // 10)  # the encoder's delay and padding
    assert dominant_hz(pcm) == pytest.approx(440, abs=1)


def test_audio_longer_than_the_bound_is_refused():
    data = make_wav(seconds=3, sample_rate=8000)
    assert len(decode_audio(data, max_seconds=5)) == 3 * RATE
    with pytest.raises(AudioTooLong, match="longer than 2 s"):
        decode_audio(data, max_seconds=2)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, not audio",
        np.random.default_rng(1).bytes(4000),
        b"fLaC\x00\x00\x00\x22" + bytes(64),  # FLAC: a format FFmpeg knows, but not ours
        b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n",  # a playlist: never probed, never opened
        b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(8),  # a truncated WAV header
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(200),  # an ID3 tag and no MP3 frames
    ],
)
def test_undecodable_input_is_a_clear_error(data):
    with pytest.raises(UndecodableAudio, match=r"WAV|MP3"):
        decode_audio(data)


# --- player ------------------------------------------------------------------------------------------


def ramp(ms: int) -> np.ndarray:
    """Content whose every sample says where it is (modulo int16)."""
    return (np.arange(ms * 48) % 30000).astype(np.int16)


def play(player: Player, limit: int = 10_000) -> list[np.ndarray]:
    frames: list[np.ndarray] = []
    while (frame := player()) is not None and len(frames) < limit:
        frames.append(frame)
    return frames


class Finished:
    def __init__(self) -> None:
        self.calls: list[tuple[int, bool]] = []

    def __call__(self, duration_ms: int, completely: bool) -> None:
        self.calls.append((duration_ms, completely))


@pytest.mark.parametrize(
    ("options", "frames", "duration_ms", "completely"),
    [
        ({}, 50, 1000, True),
        ({"loop_count": 3}, 150, 3000, True),
        ({"offset_ms": 500}, 25, 500, True),
        ({"offset_ms": 500, "loop_count": 2}, 75, 1500, True),
        ({"timeout_ms": 300}, 15, 300, False),
        ({"timeout_ms": 2500, "loop_count": 3}, 125, 2500, False),
        ({"timeout_ms": 5000}, 50, 1000, True),
        ({"offset_ms": 5000}, 0, 0, True),
        ({"timeout_ms": 0}, 0, 0, False),
    ],
)
def test_play_options_decide_frames_and_the_finished_report(options, frames, duration_ms, completely):
    finished = Finished()
    player = Player(ramp(1000), on_finished=finished, **options)
    assert len(play(player)) == frames
    assert finished.calls == [(duration_ms, completely)]
    assert player() is None and player() is None
    assert finished.calls == [(duration_ms, completely)]  # once
    assert (player.finished, player.duration_ms, player.played_completely) == (True, duration_ms, completely)


def test_playback_follows_the_content_across_offset_and_loops():
    content = ramp(30)  # 1440 samples: loops cross frame boundaries
    frames = play(Player(content, loop_count=3, offset_ms=5))
    played = np.concatenate(frames)
    expected = np.concatenate([content[240:], content, content])
    assert np.array_equal(played[: len(expected)], expected)
    assert not np.any(played[len(expected) :])  # padding after the end


def test_a_clip_shorter_than_a_frame_loops_inside_one_frame():
    frames = play(Player(ramp(5), loop_count=10))  # 240 samples x 10 = 2.5 frames
    assert len(frames) == 3
    assert np.array_equal(np.concatenate(frames)[:2400], np.tile(ramp(5), 10))


def test_the_last_frame_is_padded_and_reported_on_the_tick_that_hands_it_out():
    finished = Finished()
    player = Player(ramp(1010), on_finished=finished)
    frames = [player() for _ in range(51)]
    assert finished.calls == [(1010, True)]  # with the last frame, not a tick later
    last = frames[-1]
    assert last is not None and np.count_nonzero(last[480:]) == 0 and np.count_nonzero(last[:480]) > 0


def test_stop_mid_way_reports_what_was_played_and_why():
    finished = Finished()
    player = Player(ramp(1000), loop_count=2, on_finished=finished)
    for _ in range(10):
        player()
    player.stop("DTMF")
    player.stop("STOP_PLAY")  # a no-op once finished
    assert player() is None
    assert finished.calls == [(200, False)]
    assert player.stop_reason == "DTMF"


def test_a_failing_finished_handler_does_not_break_the_tick():
    def handler(duration_ms: int, completely: bool) -> None:
        raise RuntimeError("boom")

    player = Player(ramp(20), on_finished=handler)
    assert player() is not None
    assert player() is None


def test_player_options_are_checked():
    with pytest.raises(ValueError):
        Player(ramp(20), loop_count=0)
    with pytest.raises(ValueError):
        Player(ramp(20), offset_ms=-1)
