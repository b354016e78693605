"""Real audio files made in the test (a WAV with the `wave` module, an MP3 encoded by PyAV's LAME) and the
multipart/form-data bodies that carry them, encoded as urllib3 encodes them for `requests` and boto users."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
from urllib3.filepost import encode_multipart_formdata


def tone(seconds: float, sample_rate: int, frequency: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.3 * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def make_wav(seconds: float = 3.0, sample_rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(tone(seconds, sample_rate).tobytes())
    return buffer.getvalue()


def make_mp3(seconds: float = 3.0, sample_rate: int = 44100) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=sample_rate, layout="mono")
        samples = tone(seconds, sample_rate)
        for start in range(0, len(samples), 1152):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + 1152], format="s16", layout="mono")
            frame.sample_rate, frame.pts = sample_rate, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def form(
    data: bytes, filename: str = "prompt.wav", content_type: str = "audio/wav", field: str = "file"
) -> tuple[bytes, str]:
    """(body, Content-Type header) of a form with one file part."""
    body, header = encode_multipart_formdata({field: (filename, data, content_type)})
    return body, header
