"""The bench's two cores: the node under test has core 0 to itself, the load generator (and the orchestrator) core 1.

On a shared machine other processes still run on those cores. The bench's processes therefore run at a raised
priority (`BENCH_MEDIA_NICE`, default -10, when the user may raise it): the node and the load generator use less
than a core each, so the rest is left to others, but they no longer wait behind them for their turn.
"""

from __future__ import annotations

import os

NODE_CORE = 0
CLIENT_CORE = 1
DEFAULT_NICE = -10


def _threads() -> list[int]:
    return [int(thread) for thread in os.listdir("/proc/self/task")]


def pin(*cores: int) -> None:
    """Pin every thread of this process to `cores` (threads that imports already started included; threads started
    later inherit it)."""
    for thread in _threads():
        os.sched_setaffinity(thread, set(cores))


def prioritise() -> int | None:
    """Give every thread of this process the nice value of `BENCH_MEDIA_NICE` (threads started later inherit it).
    Returns the value set, or None when not permitted."""
    nice = int(os.environ.get("BENCH_MEDIA_NICE", str(DEFAULT_NICE)))
    try:
        for thread in _threads():
            os.setpriority(os.PRIO_PROCESS, thread, nice)
    except PermissionError:
        return None
    return nice
