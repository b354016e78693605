"""The mouth-to-ear probe: a sender of short tone bursts in silence, and a receiver that finds each burst's onset.

Every 300 ms the sender sends one 20 ms tone frame; the bursts cycle through three frequencies, so a burst is
matched to the right send even if the path delays it by more than one period (up to 900 ms). The receiver decodes
that one stream and takes the arrival time of the first frame louder than `ONSET_DBOV` after a quiet one; its
frequency says which burst it is.
"""

from __future__ import annotations

import numpy as np
from aiortc.rtp import RtpPacket

from bench.media.client import OPUS, Frame, encode, tone_pcm
from switchboard_media.engine.codec import FRAME_SAMPLES, SAMPLE_RATE, SILENCE, AudioDecoder, level_dbov

BURST_PERIOD_FRAMES = 15  # 300 ms
BURST_FREQUENCIES = (600.0, 1000.0, 1600.0)
ONSET_DBOV = -40
MAX_DELAY = len(BURST_FREQUENCIES) * BURST_PERIOD_FRAMES * 0.02  # beyond this a burst cannot be told apart


def burst_frames() -> list[Frame]:
    """The sender's loop: one burst of each frequency, each followed by silence (900 ms)."""
    pcm: list[np.ndarray] = []
    for frequency in BURST_FREQUENCIES:
        pcm += [tone_pcm(frequency, 0), *[SILENCE] * (BURST_PERIOD_FRAMES - 1)]
    encoded = encode(pcm)
    return [
        Frame(frame.payload, frame.level, index // BURST_PERIOD_FRAMES if index % BURST_PERIOD_FRAMES == 0 else None)
        for index, frame in enumerate(encoded)
    ]


def dominant_burst(pcm: np.ndarray) -> int:
    """Which of BURST_FREQUENCIES is strongest in `pcm`."""
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float32)))
    bins = [round(frequency * FRAME_SAMPLES / SAMPLE_RATE) for frequency in BURST_FREQUENCIES]
    return int(np.argmax([spectrum[max(0, b - 1) : b + 2].sum() for b in bins]))


class OnsetProbe:
    """Called with each packet of the probed stream as it arrives; `onsets` holds (arrival time, burst) while
    `recording`."""

    def __init__(self) -> None:
        self._decoder = AudioDecoder(OPUS)
        self._quiet = False
        self.recording = False
        self.onsets: list[tuple[float, int]] = []

    def __call__(self, now: float, packet: RtpPacket) -> None:
        for pcm in self._decoder.decode(packet.payload, packet.timestamp):
            loud = level_dbov(pcm) > ONSET_DBOV
            if loud and self._quiet and self.recording:
                self.onsets.append((now, dominant_burst(pcm)))
            self._quiet = not loud


def delays(sent: list[tuple[float, int]], onsets: list[tuple[float, int]]) -> tuple[list[float], int]:
    """Each onset's delay after the latest send of the same burst before it; and how many onsets matched none."""
    found, unmatched = [], 0
    for arrived, burst in onsets:
        before = [at for at, mark in sent if mark == burst and at <= arrived]
        if before and arrived - before[-1] < MAX_DELAY:
            found.append(arrived - before[-1])
        else:
            unmatched += 1
    return found, unmatched
