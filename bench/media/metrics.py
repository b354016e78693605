"""What the media bench computes from what it recorded: frames on time, percentiles, and a process's CPU and memory
as Linux accounts them (`/proc/<pid>/stat` and `/status`). Pure functions, no I/O except the /proc reads.

On time: within one received stream, frame k (k = RTP timestamp distance from the first frame / 960) is due at
`anchor + k * 20 ms`, where the anchor is the earliest arrival net of its position, i.e. the stream's best-case
delay. A frame is on time if it arrived no more than `LATE_LIMIT` after it was due; a frame that never arrived is not
on time. Frames due inside the measurement window are counted, so the count is exact whatever the window's edges.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FRAME_SECONDS = 0.02
FRAME_SAMPLES = 960
LATE_LIMIT = 0.060  # what a receiver's jitter buffer could absorb; stock aiortc's holds ~60 ms


@dataclass(frozen=True)
class OnTime:
    on_time: int
    expected: int
    worst_lateness: float  # seconds, of the frames that arrived

    @property
    def fraction(self) -> float:
        return self.on_time / self.expected if self.expected else 0.0


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def stream_on_time(arrivals: Sequence[tuple[float, int]], start: float, end: float) -> OnTime:
    """Frames of one stream due in [start, end): how many arrived on time (`arrivals`: (time, RTP timestamp))."""
    if not arrivals:
        return OnTime(0, round((end - start) / FRAME_SECONDS), 0.0)
    first_ts = arrivals[0][1]
    first_arrival: dict[int, float] = {}
    for at, ts in arrivals:
        k = round(_signed32(ts - first_ts) / FRAME_SAMPLES)
        first_arrival.setdefault(k, at)
    anchor = min(at - k * FRAME_SECONDS for k, at in first_arrival.items())
    first_k = math.ceil((start - anchor) / FRAME_SECONDS)
    last_k = math.ceil((end - anchor) / FRAME_SECONDS) - 1
    on_time, worst = 0, 0.0
    for k in range(first_k, last_k + 1):
        arrived = first_arrival.get(k)
        if arrived is None:
            continue
        lateness = arrived - (anchor + k * FRAME_SECONDS)
        worst = max(worst, lateness)
        if lateness <= LATE_LIMIT:
            on_time += 1
    return OnTime(on_time, last_k - first_k + 1, worst)


def total_on_time(streams: Iterable[OnTime]) -> OnTime:
    streams = list(streams)
    return OnTime(
        sum(s.on_time for s in streams),
        sum(s.expected for s in streams),
        max((s.worst_lateness for s in streams), default=0.0),
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of every thread of process `pid` so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), after pid and comm
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def core_busy_seconds(cores: Iterable[int]) -> dict[int, float]:
    """CPU time spent on each of `cores` so far by any process, or taken by the hypervisor (steal). Interrupt time
    is left out: the bench's own packets cause most of it."""
    wanted = {f"cpu{core}": core for core in cores}
    busy = {}
    with open("/proc/stat") as stat:
        for line in stat:
            name, *values = line.split()
            if name in wanted:
                user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(v) for v in values[:8])
                busy[wanted[name]] = (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")
    return busy
