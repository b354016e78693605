"""Recorded audio as files: 16-bit PCM WAV written as it is recorded, repaired after a crash, and composed.

- `WavWriter` appends frames to a file whose header is rewritten every `HEADER_EVERY` frames and at the end, so a
  file cut short by a crash is a valid WAV up to its last header update, and `repair` makes the rest of what
  reached the disk valid too (the header is recomputed from the file's size).
- `compose` mixes WAV files that started at different moments into one (a conference's per-participant files
  into its composition), aligned by their start offsets, reading and writing in bounded blocks: memory stays
  constant whatever the length.

Pure standard library and numpy: the media node and the control plane (on-demand composition) share it.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

SAMPLE_RATE = 48000
SAMPLE_WIDTH = 2
HEADER_BYTES = 44
HEADER_EVERY = 50  # frames (1 s of 20 ms frames) between header updates
BLOCK_SAMPLES = SAMPLE_RATE  # compose one second at a time


def header(data_bytes: int, channels: int = 1, rate: int = SAMPLE_RATE) -> bytes:
    block = channels * SAMPLE_WIDTH
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, SAMPLE_WIDTH * 8)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


@dataclass(frozen=True)
class WavInfo:
    channels: int
    rate: int
    data_bytes: int

    @property
    def samples(self) -> int:
        return self.data_bytes // (self.channels * SAMPLE_WIDTH)

    @property
    def seconds(self) -> float:
        return self.samples / self.rate


def read_info(path: Path) -> WavInfo:
    """The format of a WAV this module wrote (a canonical 44-byte header)."""
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    if len(head) < HEADER_BYTES or head[:4] != b"RIFF" or head[8:16] != b"WAVEfmt ":
        raise ValueError(f"{path.name} is not a PCM WAV file")
    channels, rate = struct.unpack("<HI", head[22:28])
    (data_bytes,) = struct.unpack("<I", head[40:44])
    return WavInfo(channels, rate, data_bytes)


class WavWriter:
    """Appends 16-bit frames (mono, or interleaved channels) to `path`."""

    def __init__(self, path: Path, channels: int = 1) -> None:
        self.path = path
        self.channels = channels
        self._file: BinaryIO | None = path.open("wb")
        self._file.write(header(0, channels))
        self.data_bytes = 0
        self._frames = 0

    @property
    def seconds(self) -> float:
        return self.data_bytes / (SAMPLE_RATE * SAMPLE_WIDTH * self.channels)

    def write(self, pcm: np.ndarray) -> None:
        if self._file is None:
            return
        data = pcm.astype("<i2", copy=False).tobytes()
        self._file.write(data)
        self.data_bytes += len(data)
        self._frames += 1
        if self._frames % HEADER_EVERY == 0:
            self._update_header()

    def _update_header(self) -> None:
        assert self._file is not None
        self._file.flush()
        position = self._file.tell()
        self._file.seek(0)
        self._file.write(header(self.data_bytes, self.channels))
        self._file.seek(position)

    def close(self) -> None:
        if self._file is None:
            return
        self._update_header()
        self._file.close()
        self._file = None


def repair(path: Path) -> WavInfo:
    """Make a WAV cut short (the writer never closed it) valid up to its last whole sample frame."""
    info = read_info(path)
    block = info.channels * SAMPLE_WIDTH
    data_bytes = (os.path.getsize(path) - HEADER_BYTES) // block * block
    with path.open("r+b") as handle:
        handle.truncate(HEADER_BYTES + data_bytes)
        handle.seek(0)
        handle.write(header(data_bytes, info.channels, info.rate))
    return WavInfo(info.channels, info.rate, data_bytes)


def _mono_block(handle: BinaryIO, info: WavInfo, samples: int) -> np.ndarray:
    raw = handle.read(samples * info.channels * SAMPLE_WIDTH)
    block = np.frombuffer(raw[: len(raw) // (info.channels * SAMPLE_WIDTH) * info.channels * SAMPLE_WIDTH], "<i2")
    if info.channels > 1:
        block = block.reshape(-1, info.channels).astype(np.int32).sum(axis=1)
    return block.astype(np.int32)


def compose(sources: list[tuple[Path, float]], target: Path) -> WavInfo:
    """Mix mono-or-multichannel WAVs `(path, start offset in seconds)` into one mono WAV at `target`."""
    if not sources:
        raise ValueError("nothing to compose")
    infos = [read_info(path) for path, _ in sources]
    if any(info.rate != SAMPLE_RATE for info in infos):
        raise ValueError("every file must be 48 kHz")
    offsets = [max(0, round(offset * SAMPLE_RATE)) for _, offset in sources]
    total = max(offset + info.samples for offset, info in zip(offsets, infos, strict=True))
    handles = [path.open("rb") for path, _ in sources]
    try:
        for handle in handles:
            handle.seek(HEADER_BYTES)
        writer = WavWriter(target)
        for start in range(0, total, BLOCK_SAMPLES):
            length = min(BLOCK_SAMPLES, total - start)
            mix = np.zeros(length, dtype=np.int32)
            for handle, info, offset in zip(handles, infos, offsets, strict=True):
                begin = max(start, offset)
                end = min(start + length, offset + info.samples)
                if begin >= end:
                    continue
                block = _mono_block(handle, info, end - begin)
                mix[begin - start : begin - start + len(block)] += block
            writer.write(np.clip(mix, -32768, 32767).astype(np.int16))
        writer.close()
    finally:
        for handle in handles:
            handle.close()
    return read_info(target)
