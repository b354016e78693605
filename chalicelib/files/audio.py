"""What an uploaded audio file is, judged by its content alone (never by its name or the part's content type).

    sniff     WAV is a RIFF/WAVE container; MP3 starts with an MPEG Layer III frame header, or with an ID3v2 tag
              followed by one
    inspect   sniff, check the container's structure (a WAV's PCM format chunk, a data chunk as long as it says),
              then decode every frame with FFmpeg (PyAV) to prove the file plays and to measure its duration

FFmpeg decodes what it can of a cut-off WAV without complaint, so the structural check is what catches truncation.
PyAV is imported on first use: only uploads pay for loading FFmpeg.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Literal

from chalicelib.files.errors import InvalidAudioFile

AudioFormat = Literal["WAV", "MP3"]

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
NOT_AUDIO = "its content is neither a WAV (RIFF/WAVE) nor an MP3 file; only WAV (PCM) and MP3 are accepted"


@dataclass(frozen=True)
class AudioInfo:
    format: AudioFormat
    duration: int  # whole seconds, rounded to the nearest (Infobip's `File.duration`)
    sample_rate: int
    samples: int


def _is_mp3_frame_header(header: bytes) -> bool:
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return False
    version, layer = (header[1] >> 3) & 0b11, (header[1] >> 1) & 0b11
    bitrate, sample_rate = header[2] >> 4, (header[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate != 0b1111 and sample_rate != 0b11


def _after_id3(data: bytes) -> int:
    """Offset just past a leading ID3v2 tag (and the zero padding some taggers leave after it)."""
    size_bytes = data[6:10]
    if len(size_bytes) < 4 or any(byte & 0x80 for byte in size_bytes):
        return -1
    size = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]  # syncsafe
    offset = 10 + size + (10 if data[5] & 0x10 else 0)
    while offset < len(data) and data[offset] == 0:
        offset += 1
    return offset


def sniff(data: bytes) -> AudioFormat:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "WAV"
    if data[:3] == b"ID3":
        offset = _after_id3(data)
        if offset < 0 or not _is_mp3_frame_header(data[offset : offset + 4]):
            raise InvalidAudioFile("it starts with an ID3 tag that is not followed by an MP3 frame")
        return "MP3"
    if _is_mp3_frame_header(data[:4]):
        return "MP3"
    raise InvalidAudioFile(NOT_AUDIO)


def _check_pcm_format(chunk: bytes) -> None:
    tag, channels, rate, _byte_rate, _block_align, bits = struct.unpack_from("<HHIIHH", chunk)
    if tag == WAVE_FORMAT_EXTENSIBLE and len(chunk) >= 40:
        tag = int.from_bytes(chunk[24:26], "little")  # the first field of the SubFormat GUID
    if tag != WAVE_FORMAT_PCM:
        raise InvalidAudioFile(f"its WAVE format is {tag:#06x}, not PCM; only PCM WAV files are accepted")
    if channels == 0 or rate == 0 or bits not in (8, 16, 24, 32):
        raise InvalidAudioFile("its format chunk is invalid (channels, sample rate or bits per sample)")


def check_wav_structure(data: bytes) -> None:
    """A PCM format chunk, then a data chunk whose declared length is present in full."""
    offset, has_format = 12, False
    while offset + 8 <= len(data):
        chunk_id, size = data[offset : offset + 4], int.from_bytes(data[offset + 4 : offset + 8], "little")
        start, available = offset + 8, len(data) - offset - 8
        if chunk_id == b"fmt ":
            if size < 16 or size > available:
                raise InvalidAudioFile("its format chunk is truncated")
            _check_pcm_format(data[start : start + size])
            has_format = True
        elif chunk_id == b"data":
            if not has_format:
                raise InvalidAudioFile("its data chunk comes before a format chunk")
            if size > available:
                raise InvalidAudioFile(f"it is truncated: its data chunk declares {size} bytes but {available} follow")
            return
        offset = start + size + (size & 1)  # chunks are padded to an even length
    raise InvalidAudioFile("it has no data chunk" if has_format else "it has no format chunk")


def _decode(data: bytes, audio_format: AudioFormat) -> tuple[int, int]:
    """(samples per channel, sample rate) of the first audio stream, decoding every frame."""
    import av  # local import: FFmpeg loads only when a file is checked

    samples = sample_rate = 0
    try:
        # tags are not ours to judge: undecodable bytes in them must not refuse (or crash on) a playable file
        source = io.BytesIO(data)
        with av.open(source, mode="r", format=audio_format.lower(), metadata_errors="replace") as container:
            if not container.streams.audio:
                raise InvalidAudioFile("it holds no audio stream")
            for frame in container.decode(container.streams.audio[0]):
                samples += frame.samples
                sample_rate = frame.sample_rate
    except av.FFmpegError as error:
        raise InvalidAudioFile(f"it does not decode as {audio_format} ({error.strerror or 'decoder error'})") from None
    return samples, sample_rate


def inspect(data: bytes) -> AudioInfo:
    audio_format = sniff(data)
    if audio_format == "WAV":
        check_wav_structure(data)
    samples, sample_rate = _decode(data, audio_format)
    if samples == 0 or sample_rate <= 0:
        raise InvalidAudioFile("it holds no audio")
    duration = (2 * samples + sample_rate) // (2 * sample_rate)
    return AudioInfo(audio_format, duration, sample_rate, samples)
