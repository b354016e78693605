"""Audio files into the engine's PCM: WAV or MP3 bytes → 48 kHz mono int16, decoded with PyAV (FFmpeg).

The container format is recognised from the content by the files domain's `sniff` (what an upload is judged by,
so a file that was accepted plays) and handed to FFmpeg by name: FFmpeg never probes, so it cannot be steered into
a demuxer that opens other files or URLs (a playlist, a concat list). Playback is more lenient than upload: any
codec FFmpeg decodes inside a WAV (a μ-law prompt) plays. Decoding stops at `max_seconds`, so a small file that
expands to hours of audio cannot take the node's memory.
"""

from __future__ import annotations

import io

import av
import numpy as np
from av import AudioFrame, AudioResampler

from chalicelib.files.audio import sniff
from chalicelib.files.errors import InvalidAudioFile
from switchboard_media.actions.errors import AudioTooLong, UndecodableAudio
from switchboard_media.engine.codec import SAMPLE_RATE

MAX_AUDIO_SECONDS = 600.0


def decode_audio(data: bytes, *, max_seconds: float = MAX_AUDIO_SECONDS) -> np.ndarray:
    """The audio of a WAV or MP3 file as 48 kHz mono int16 (channels mixed down)."""
    try:
        container_format = sniff(data)
    except InvalidAudioFile as error:
        raise UndecodableAudio(str(error)) from None
    limit = int(max_seconds * SAMPLE_RATE)
    resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        # tags are not ours to judge (as on upload): undecodable bytes in them must not refuse a playable file
        source = io.BytesIO(data)
        with av.open(source, mode="r", format=container_format.lower(), metadata_errors="replace") as container:
            if not container.streams.audio:
                raise UndecodableAudio(f"the {container_format} file has no audio stream")
            for frame in container.decode(container.streams.audio[0]):
                for chunk in _pcm(resampler.resample(frame)):
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > limit:
                        raise AudioTooLong(f"the audio is longer than {max_seconds:g} s")
            chunks += _pcm(resampler.resample(None))
    except (av.FFmpegError, ValueError, EOFError) as error:
        raise UndecodableAudio(f"the {container_format} file does not decode: {error}") from error
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    if not len(pcm):
        raise UndecodableAudio(f"the {container_format} file holds no audio")
    return pcm[:limit]


def resample(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Mono int16 PCM at `rate` → the engine's 48 kHz."""
    if rate == SAMPLE_RATE or not len(pcm):
        return pcm.astype(np.int16, copy=False)
    frame = AudioFrame.from_ndarray(pcm.astype(np.int16, copy=False).reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    return np.concatenate([*_pcm(resampler.resample(frame)), *_pcm(resampler.resample(None))])


def _pcm(frames: list[AudioFrame]) -> list[np.ndarray]:
    return [frame.to_ndarray().reshape(-1) for frame in frames]
