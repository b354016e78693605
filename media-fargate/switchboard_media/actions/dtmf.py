"""DTMF on a call: in-band detection (Goertzel) and RFC 4733 events into one stream of digits, and in-band tones.

Detection runs on the engine's 48 kHz frames without resampling: every 20 ms frame gives two Hann-weighted 20 ms
windows (a 10 ms hop), and one matrix product evaluates the eight DTMF frequencies and the columns' second harmonics
on both (the Goertzel sums, vectorised). A window holds a digit when one row and one column tone stand out: each
above `MIN_TONE_DBOV`, within the twist limits, 8 dB above the other tones of its group, with a weak second
harmonic, and carrying most of the window's energy (speech, music and noise spread theirs). Tones 1.5 % off their
nominal frequency pass, 3.5 % off do not (ITU-T Q.24). A press is reported after `PRESS_WINDOWS` windows in a row
(a 40 ms tone always makes it, a 25 ms one never) and released after `RELEASE_WINDOWS` windows without it (a 10 ms
interruption is bridged, a 25 ms gap separates): a held key is one digit, the same key again after a gap another.

A sender may use both paths for one press (a gateway that sends RFC 4733 and leaves the tone in the audio). Rule:
a digit from one path is dropped when the other path reported the same digit less than `PAIRING_SECONDS` earlier
and that report has not been paired yet; each report absorbs at most one duplicate, so "1 1" pressed quickly is
still two digits.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from functools import cache

import numpy as np

from switchboard_media.actions.telephone_event import TelephoneEvent
from switchboard_media.engine.codec import FRAME_SAMPLES, SAMPLE_RATE

log = logging.getLogger(__name__)

ROWS = (697.0, 770.0, 852.0, 941.0)
COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
TONES = {KEYPAD[r][c]: (ROWS[r], COLUMNS[c]) for r in range(4) for c in range(4)}

WINDOW = FRAME_SAMPLES  # 20 ms: 50 Hz resolution separates the rows (73..89 Hz apart)
HOP = FRAME_SAMPLES // 2
MIN_TONE_DBOV = -40  # each tone's RMS relative to full scale, as engine.codec.level_dbov measures
MAX_HIGH_TWIST_DB = 4.0  # column tone louder than the row tone
MAX_LOW_TWIST_DB = 8.0  # row tone louder than the column tone
MIN_PEAK_DB = 8.0  # over the next strongest tone of the same group
MIN_HARMONIC_DB = 15.0  # column tone over its second harmonic (rows' harmonics fall next to columns: not checked)
MIN_TONE_SHARE = 0.7  # of the window's energy in the two tones
PRESS_WINDOWS = 3
RELEASE_WINDOWS = 3
PAIRING_SECONDS = 0.5

# Hann: a tone 1.5 % off its nominal frequency loses under 1.5 dB, the next row is 14 dB down, far tones far more.
HANN = np.hanning(WINDOW + 1)[:-1].astype(np.float32)
HANN_POWER = float(np.dot(HANN, HANN))

DigitHandler = Callable[[str], None]


@cache
def _basis() -> np.ndarray:
    """cos and sin columns scaled so that, for a Hann-weighted window x, (x·cos)² + (x·sin)² is a tone's squared
    amplitude. Built on first use, shared by every detector."""
    frequencies = np.array(ROWS + COLUMNS + tuple(2 * f for f in COLUMNS))
    phase = 2 * np.pi * np.outer(np.arange(WINDOW), frequencies) / SAMPLE_RATE
    return (np.hstack([np.cos(phase), np.sin(phase)]) * (2 / HANN.sum())).astype(np.float32)


def _ratio(db: float) -> float:
    return float(10 ** (db / 10))


HIGH_TWIST, LOW_TWIST = _ratio(MAX_HIGH_TWIST_DB), _ratio(MAX_LOW_TWIST_DB)
PEAK, HARMONIC = _ratio(MIN_PEAK_DB), _ratio(MIN_HARMONIC_DB)


class DtmfDetector:
    """Feed it every frame a member says (it is a graph listener) and the member's telephone-event payloads;
    `on_digit` hears each key press once."""

    def __init__(self, on_digit: DigitHandler, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.on_digit = on_digit
        self._clock = clock
        self._basis = _basis()
        self._buffer = np.zeros(HOP + FRAME_SAMPLES, dtype=np.float32)  # the previous frame's second half, this frame
        self._windows = np.lib.stride_tricks.sliding_window_view(self._buffer, WINDOW)[::HOP]  # a view: made once
        self._min_power = 2 * (32767 * 10 ** (MIN_TONE_DBOV / 20)) ** 2  # squared amplitude of a tone at the minimum
        self._candidate: str | None = None
        self._hits = 0
        self._held: str | None = None
        self._misses = 0
        self._event: TelephoneEvent | None = None  # the RFC 4733 event in progress
        self._event_timestamp = 0
        self._seen_timestamps: deque[int] = deque(maxlen=32)
        self._reported: deque[tuple[str, str, float]] = deque()  # (digit, path, when): not yet paired

    # --- in-band -------------------------------------------------------------------------------------

    def __call__(self, frame: np.ndarray) -> None:
        self._buffer[:HOP] = self._buffer[FRAME_SAMPLES:]
        self._buffer[HOP:] = frame
        for digit in self.classify(self._windows):
            self._track(digit)

    def classify(self, windows: np.ndarray) -> list[str | None]:
        """The digit each window (a row of WINDOW float32 samples) holds, or None. numpy for the sums over samples,
        plain floats for the dozen comparisons per window (cheaper than as many small numpy calls)."""
        weighted = windows * HANN
        energy = np.einsum("ij,ij->i", weighted, weighted) / HANN_POWER  # mean square, as the window sees it
        if float(energy.max()) < self._min_power:  # quieter than two tones at the minimum level: the common case
            return [None] * len(windows)
        projection = weighted @ self._basis
        half = projection.shape[1] // 2
        power = projection[:, :half] ** 2 + projection[:, half:] ** 2
        return [self._digit(tones, mean) for tones, mean in zip(power.tolist(), energy.tolist(), strict=True)]

    def _digit(self, power: list[float], energy: float) -> str | None:
        """power: squared amplitudes at the rows, the columns and the columns' second harmonics."""
        rows, columns = power[:4], power[4:8]
        low, high = max(rows), max(columns)
        if min(low, high) < self._min_power or (low + high) / 2 < MIN_TONE_SHARE * energy:
            return None
        if high > low * HIGH_TWIST or low > high * LOW_TWIST:
            return None
        if sorted(rows)[-2] * PEAK > low or sorted(columns)[-2] * PEAK > high:
            return None
        column = columns.index(high)
        if power[8 + column] * HARMONIC > high:
            return None
        return KEYPAD[rows.index(low)][column]

    def _track(self, digit: str | None) -> None:
        if digit is not None and digit == self._candidate:
            self._hits += 1
        else:
            self._candidate, self._hits = digit, int(digit is not None)
        if self._held is not None:
            self._misses = 0 if digit == self._held else self._misses + 1
            if self._misses >= RELEASE_WINDOWS:
                self._held = None
        if self._held is None and digit is not None and self._hits >= PRESS_WINDOWS:
            self._held, self._misses = digit, 0
            self._report(digit, "in-band")

    # --- RFC 4733 ------------------------------------------------------------------------------------

    def telephone_event(self, payload: bytes, timestamp: int, marker: bool) -> None:
        """One received telephone-event packet. Each event is reported on its first packet to arrive; its updates
        and the three End packets share its timestamp. A later segment of a long event (§2.5.2.3: new timestamp,
        no marker, same event, the previous not ended) continues it."""
        try:
            event = TelephoneEvent.parse(payload)
        except ValueError:
            log.debug("dropped a malformed telephone-event payload (%d bytes)", len(payload))
            return
        if timestamp in self._seen_timestamps:
            if event.end and self._event is not None and timestamp == self._event_timestamp:
                self._event = event
            return
        self._seen_timestamps.append(timestamp)
        continues = (
            not marker
            and self._event is not None
            and not self._event.end
            and self._event.event == event.event
            and 0 < (timestamp - self._event_timestamp) % 2**32 <= 0x10000
        )
        self._event, self._event_timestamp = event, timestamp
        if not continues and event.digit is not None:
            self._report(event.digit, "rfc4733")

    # --- one stream of digits ------------------------------------------------------------------------

    def _report(self, digit: str, path: str) -> None:
        now = self._clock()
        while self._reported and now - self._reported[0][2] > PAIRING_SECONDS:
            self._reported.popleft()
        for earlier in self._reported:
            if earlier[0] == digit and earlier[1] != path:
                self._reported.remove(earlier)  # the same press, already reported by the other path
                return
        self._reported.append((digit, path, now))
        try:
            self.on_digit(digit)
        except Exception:
            log.exception("DTMF digit handler failed")


def dtmf_tones(digits: str, duration_ms: int = 100, gap_ms: int = 60, level_dbov: float = -10) -> list[np.ndarray]:
    """In-band DTMF: each digit's two tones (`level_dbov` each) for `duration_ms`, then `gap_ms` of silence, as
    20 ms frames (the last one padded with silence)."""
    amplitude = 32767 * np.sqrt(2) * 10 ** (level_dbov / 20)
    t = np.arange(duration_ms * SAMPLE_RATE // 1000) / SAMPLE_RATE
    gap = np.zeros(gap_ms * SAMPLE_RATE // 1000)
    pieces: list[np.ndarray] = []
    for digit in digits:
        low, high = TONES.get(digit.upper()) or _not_a_digit(digit)
        pieces += [amplitude * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)), gap]
    if not pieces:
        return []
    signal = np.concatenate(pieces)
    signal = np.concatenate([signal, np.zeros(-len(signal) % FRAME_SAMPLES)])
    pcm = np.clip(np.round(signal), -32768, 32767).astype(np.int16)
    return list(pcm.reshape(-1, FRAME_SAMPLES))


def _not_a_digit(digit: str) -> tuple[float, float]:
    raise ValueError(f"not a DTMF digit: {digit!r} (0-9, *, #, A-D)")
