"""Audio checked by its content: the dominant frequency and the energy of received samples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def dominant_frequency(samples: Sequence[int], sample_rate: int = 48000) -> float:
    signal = np.asarray(samples, dtype=np.float64)
    signal = signal - signal.mean()
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.fft.rfftfreq(len(signal), 1 / sample_rate)[int(np.argmax(spectrum))])


def rms(samples: Sequence[int]) -> float:
    signal = np.asarray(samples, dtype=np.float64)
    return float(np.sqrt(np.mean(signal**2))) if len(signal) else 0.0


def band_energy(samples: Sequence[int], frequency: float, rate: int = 48000) -> float:
    """The spectrum's peak within 15 Hz of `frequency` (a tone's presence in a mix)."""
    signal = np.asarray(samples, dtype=np.float64)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    bins = np.fft.rfftfreq(len(signal), 1 / rate)
    return float(spectrum[(bins > frequency - 15) & (bins < frequency + 15)].max())
