"""The media benchmark: the stock aiortc baseline and the media engine, measured in the same run on this machine.

For each measurement a fresh node process (pinned to core 0) and a fresh load-generator process (core 1):
- mouth-to-ear delay on loopback: client ↔ client directly, then through each node (added = through - direct);
- capacity: N two-party calls, every leg sending; frames on time, node CPU, memory; a ramp per node kind;
- a 15-party room: 2 talkers + 13 silent, then all 15 talking;
- where the engine's CPU goes: cProfile over the 40-call pass-through and the 15-party room.
Nothing is asserted; every figure is printed beside the stock figure of the same run.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.media import report
from bench.media.cores import CLIENT_CORE, pin
from bench.media.metrics import LATE_LIMIT
from bench.media.processes import RunningNode, load, node
from bench.media.spec import Spec

WINDOW = float(os.environ.get("BENCH_MEDIA_WINDOW", "10"))
WARMUP = float(os.environ.get("BENCH_MEDIA_WARMUP", "2"))
ROOM_SIZE = 15
ROOM_TALKERS = 2
# ramps: (always, then only while the previous step kept real time and the load generator kept up)
STOCK_CALLS = ((4, 6, 8), (10, 12))
PASSTHROUGH_CALLS = ((20, 40), (60,))
DECODED_CALLS = ((10, 15, 20), (25, 30))
PROFILED_CALLS = 40
PROFILE_WINDOW = 6.0

# the three nodes the bench compares: (column, node kind, extra environment)
NODES: dict[str, tuple[str, dict[str, str]]] = {
    "stock": ("stock", {}),
    "pass-through": ("engine", {"SWITCHBOARD_MEDIA_PASSTHROUGH": "true"}),
    "decoded": ("engine", {"SWITCHBOARD_MEDIA_PASSTHROUGH": "false"}),
}


class Bench:
    def __init__(self) -> None:
        self.token_key = os.urandom(32).hex()
        self.results: dict[str, Any] = {"delay": {}, "calls": {}, "room": {}, "profile": {}}

    def on(self, column: str, make: Callable[[RunningNode], Spec], profile_path: str | None = None) -> dict[str, Any]:
        """Run one scenario against a fresh node of `column`'s kind."""
        kind, env = NODES[column]
        env = {**env, "BENCH_TOKEN_KEY": self.token_key}
        if profile_path is not None:
            env["BENCH_PROFILE"] = profile_path
        try:
            with node(kind, **env) as running:
                result = load(make(running))
                if "error" in result:
                    result["node_log"] = running.log.read_text()[-1500:]
                return result
        except RuntimeError as error:
            return {"error": str(error)[-1500:]}

    def spec(self, scenario: str, running: RunningNode | None, **fields: Any) -> Spec:
        return Spec(
            scenario=scenario,
            node=running.kind if running is not None else "direct",
            url=running.url if running is not None else "",
            pid=running.pid if running is not None else 0,
            token_key=self.token_key,
            **{"warmup": WARMUP, "window": WINDOW, **fields},
        )

    def delay(self) -> None:
        direct = load(self.spec("delay", None))
        self.results["delay"]["direct"] = direct
        report.delay_line("direct", direct, None)
        for column in NODES:
            result = self.on(column, functools.partial(self.spec, "delay"))
            self.results["delay"][column] = result
            report.delay_line(column, result, direct)

    def calls(self, column: str, counts: tuple[int, ...], more: tuple[int, ...] = ()) -> None:
        """A ramp: every N of `counts`, then each of `more` while the previous N kept real time (and the load
        generator kept up, so a further step can mean something)."""
        runs = self.results["calls"].setdefault(column, {})
        for count in counts + more:
            if count in more:
                last = runs[max(runs)]
                if not report.real_time(last) or report.client_limited(last):
                    break
            make = functools.partial(self.spec, "calls", count=count)
            runs[count] = self.on(column, make)
            if "error" not in runs[count] and report.noisy(runs[count]) and not report.real_time(runs[count]):
                report.calls_line(column, count, runs[count])
                print("  (another process took part of a core during that run: measuring it again)")
                runs[count] = self.on(column, make)
            report.calls_line(column, count, runs[count])

    def room(self, column: str) -> None:
        result = self.on(column, lambda running: self.spec("room", running, count=ROOM_SIZE, talkers=ROOM_TALKERS))
        self.results["room"][column] = result
        report.room_line(column, result)

    def profile(self, name: str, make: Callable[[RunningNode], Spec]) -> None:
        with tempfile.NamedTemporaryFile(prefix="bench-media-", suffix=".pstats", delete=False) as file:
            path = file.name  # the node writes the profile here; the report reads and removes it
        result = self.on("pass-through", make, profile_path=path)
        self.results["profile"][name] = (result, path)


def main() -> None:
    cores = os.sched_getaffinity(0)
    pin(CLIENT_CORE)  # keep this process off the node's core
    try:
        measure()
    finally:
        pin(*cores)


def measure() -> None:
    started = time.monotonic()
    print(
        f"media benchmark: node pinned to core 0, load generator to core {CLIENT_CORE}; "
        f"{WARMUP:.0f} s warm-up, {WINDOW:.0f} s windows"
    )
    print(
        f"  on time = a frame arrived at most {LATE_LIMIT * 1000:.0f} ms after it was due (its stream's best-case "
        "delay + 20 ms per frame); a lost frame is not on time"
    )
    bench = Bench()
    bench.delay()
    bench.calls("stock", *STOCK_CALLS)
    bench.calls("pass-through", *PASSTHROUGH_CALLS)
    bench.calls("decoded", *DECODED_CALLS)
    bench.room("stock")
    bench.room("pass-through")  # a room always mixes: the engine's default node
    profiled = {"window": PROFILE_WINDOW, "profile": True}
    bench.profile(
        f"{PROFILED_CALLS} two-party calls, pass-through",
        lambda running: bench.spec("calls", running, count=PROFILED_CALLS, **profiled),
    )
    bench.profile(
        f"{ROOM_SIZE}-party room, {ROOM_TALKERS} talkers",
        lambda running: bench.spec("room", running, count=ROOM_SIZE, talkers=ROOM_TALKERS, everyone=False, **profiled),
    )
    report.summary(bench.results)
    print(f"  (media benchmark took {time.monotonic() - started:.0f} s)")
