"""Audio files judged by their content: WAV (PCM) and MP3 are recognised by their bytes whatever they are called,
decoded in full for their duration, and everything else (text, truncated or non-PCM WAVs, broken MP3s) is refused
with a reason."""

from __future__ import annotations

import os
import struct

import pytest

from chalicelib.files import audio
from chalicelib.files.errors import InvalidAudioFile
from tests.support.audio_files import make_mp3, make_wav


def _reason(data: bytes) -> str:
    with pytest.raises(InvalidAudioFile) as caught:
        audio.inspect(data)
    assert caught.value.status == 400
    assert caught.value.validation_errors is not None
    return caught.value.text


def test_a_wav_is_recognised_by_its_riff_header_and_measured_by_its_samples():
    info = audio.inspect(make_wav(seconds=3.0, sample_rate=8000))
    assert (info.format, info.duration, info.sample_rate, info.samples) == ("WAV", 3, 8000, 24000)


def test_an_mp3_with_an_id3_tag_is_recognised_and_decoded_to_its_length():
    data = make_mp3(seconds=2.0)
    assert data[:3] == b"ID3"
    info = audio.inspect(data)
    assert (info.format, info.duration, info.sample_rate) == ("MP3", 2, 44100)


def test_an_mp3_without_a_tag_is_recognised_by_its_frame_sync():
    data = make_mp3(seconds=2.0)
    frames = data[audio._after_id3(data) :]
    assert frames[0] == 0xFF
    assert audio.sniff(frames) == "MP3"
    assert audio.inspect(frames).duration == 2


def test_duration_is_rounded_to_the_nearest_second():
    assert audio.inspect(make_wav(seconds=2.4)).duration == 2
    assert audio.inspect(make_wav(seconds=2.6)).duration == 3


def test_text_is_neither_wav_nor_mp3():
    assert "neither a WAV" in _reason(b"just some notes, saved as prompt.wav\n" * 20)


def test_an_empty_or_tiny_file_is_refused():
    assert "neither a WAV" in _reason(b"")
    assert "neither a WAV" in _reason(b"RIFF")


def test_a_truncated_wav_is_refused_although_ffmpeg_would_play_what_is_left():
    data = make_wav(seconds=2.0)
    assert "truncated" in _reason(data[: len(data) // 2])


def test_a_wav_cut_inside_its_header_is_refused():
    assert "format chunk" in _reason(make_wav()[:30])


def test_a_wav_that_is_not_pcm_is_refused():
    data = bytearray(make_wav())
    struct.pack_into("<H", data, 20, 7)  # format tag: mu-law
    assert "not PCM" in _reason(bytes(data))


def test_a_wav_with_no_data_chunk_is_refused():
    data = make_wav()
    assert "no data chunk" in _reason(data[:36])


def test_an_mp3_with_corrupt_frames_does_not_decode():
    data = make_mp3(seconds=3.0)
    broken = data[:2000] + os.urandom(4000) + data[6000:]
    assert "does not decode" in _reason(broken)


def test_an_id3_tag_with_no_mp3_after_it_is_refused():
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10
    assert "ID3 tag" in _reason(tag + b"not audio at all" * 10)


def test_random_bytes_after_a_frame_sync_do_not_pass_for_mp3():
    assert "does not decode" in _reason(b"\xff\xfb\x90\x64" + os.urandom(5000))


def test_undecodable_bytes_in_an_id3_tag_do_not_refuse_a_playable_mp3():
    data = bytearray(make_mp3(seconds=1.0))
    text = data.index(b"TSSE") + 11  # the encoder's name: a UTF-8 text frame (10-byte header, 1 encoding byte)
    data[text : text + 4] = b"\xd2\xff\xd2\xff"
    assert audio.inspect(bytes(data)).duration == 1
