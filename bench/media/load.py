"""The load generator process: one scenario against one node, the result as JSON on the last line of stdout.

    python -m bench.media.load '<Spec as JSON>'

Pinned to core 1 (the node has core 0). Scenarios:
- `calls`: `count` two-party calls, every leg sending a 1 kHz tone; frames on time, node CPU and memory;
- `room`: one room of `count` legs, `talkers` sending tones and the rest silence; then everyone talking;
- `delay`: one call (or, for `node == "direct"`, two legs connected to each other) and the burst probe.
Each measures for `window` seconds after `warmup`; the node's CPU is read from /proc over exactly that window.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import os
import signal
import sys
from dataclasses import asdict
from typing import Any

import aiohttp

from bench.media.client import Frame, LightLeg, Pacer, silence_loop, tone_loop
from bench.media.cores import CLIENT_CORE, NODE_CORE, pin, prioritise
from bench.media.drivers import Driver, EngineDriver, MediaSession, StockDriver, bounded, connect_leg
from bench.media.metrics import (
    LATE_LIMIT,
    core_busy_seconds,
    cpu_seconds,
    percentile,
    rss_bytes,
    stream_on_time,
    total_on_time,
)
from bench.media.probe import OnsetProbe, burst_frames, delays
from bench.media.spec import Spec

READY_TIMEOUT = 30.0
CLOSE_TIMEOUT = 15.0
HTTP_TIMEOUT = 30.0
PHASE_SWEEP = 0.02  # the delay probe's sender moves through one whole 20 ms tick during the window


class Run:
    """The legs of one scenario, their pacing, and the node they talk to."""

    def __init__(self, spec: Spec, http: aiohttp.ClientSession) -> None:
        self.spec = spec
        self.http = http
        self.driver: Driver | None = None
        if spec.node == "stock":
            self.driver = StockDriver(http, spec.url)
        elif spec.node == "engine":
            self.driver = EngineDriver(http, spec.url, bytes.fromhex(spec.token_key))
        self.legs: list[LightLeg] = []
        self.pacer = Pacer(self.legs)
        self.failed = 0
        self.setup_seconds = 0.0

    async def connect(self, sessions: list[MediaSession], frames: list[list[Frame]]) -> None:
        """WHIP-connect one leg per session and wait until each is sending (a leg that fails stays silent)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        jobs = [functools.partial(connect_leg, self.http, s, f) for s, f in zip(sessions, frames, strict=True)]
        self.legs += await bounded(jobs)
        results = await asyncio.gather(*(leg.ready(READY_TIMEOUT) for leg in self.legs), return_exceptions=True)
        self.failed = sum(isinstance(result, BaseException) for result in results)
        self.setup_seconds = loop.time() - started

    def start_sending(self) -> None:
        # The load generator's own garbage collector would stall it (a full collection over every leg's objects takes
        # ~100 ms here) and its late frames would be blamed on the node: freeze what set-up made and collect no more
        # (a run is short, and its per-packet objects are freed by reference counting).
        gc.collect()
        gc.freeze()
        gc.disable()
        for leg in self.legs:
            leg.sending = True
        self.pacer.start()

    async def measure(self) -> dict[str, Any]:
        """Frames on time, node CPU and memory, and the client's own slip, over one window."""
        spec, loop = self.spec, asyncio.get_running_loop()
        for leg in self.legs:
            leg.arrivals.clear()
            leg.recording = True
        self.pacer.lateness.clear()
        self.pacer.recording = True
        skipped = self.pacer.skipped
        node_cpu, own_cpu = cpu_seconds(spec.pid), cpu_seconds(os.getpid())
        cores = core_busy_seconds((NODE_CORE, CLIENT_CORE))
        if spec.profile:
            os.kill(spec.pid, signal.SIGUSR1)
        start = loop.time()
        await asyncio.sleep(spec.window)
        end = loop.time()
        node_cpu, own_cpu = cpu_seconds(spec.pid) - node_cpu, cpu_seconds(os.getpid()) - own_cpu
        cores = {core: busy - cores[core] for core, busy in core_busy_seconds(cores).items()}
        if spec.profile:
            os.kill(spec.pid, signal.SIGUSR2)
        rss = rss_bytes(spec.pid)
        self.pacer.recording = False
        await asyncio.sleep(LATE_LIMIT + 0.04)  # frames due before the end may still arrive
        for leg in self.legs:
            leg.recording = False
        total = total_on_time(stream_on_time(leg.arrivals, start, end) for leg in self.legs)
        late = self.pacer.lateness
        return {
            "on_time": total.on_time,
            "expected": total.expected,
            "on_time_fraction": total.fraction,
            "worst_lateness": total.worst_lateness,
            "node_cpu": node_cpu / (end - start),
            "client_cpu": own_cpu / (end - start),
            # what else ran on the two cores meanwhile (other processes on a shared machine)
            "other_on_node_core": max(0.0, cores[NODE_CORE] - node_cpu) / (end - start),
            "other_on_client_core": max(0.0, cores[CLIENT_CORE] - own_cpu) / (end - start),
            "send_late_p50": percentile(late, 0.5),
            "send_late_p99": percentile(late, 0.99),
            "send_late_max": max(late, default=0.0),
            "send_skipped": self.pacer.skipped - skipped,
            "rss": rss,
        }

    async def close(self) -> None:
        await self.pacer.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                asyncio.gather(*(leg.close() for leg in self.legs), return_exceptions=True), CLOSE_TIMEOUT
            )
        if self.driver is not None:
            await self.driver.close()


async def calls(run: Run) -> dict[str, Any]:
    assert run.driver is not None
    spec = run.spec
    rss_idle = rss_bytes(spec.pid)
    pairs = await run.driver.calls(spec.count)
    sessions = [session for pair in pairs for session in pair]
    tone = tone_loop(1000)
    await run.connect(sessions, [tone] * len(sessions))
    run.start_sending()
    await asyncio.sleep(spec.warmup)
    return {"rss_idle": rss_idle, **await run.measure()}


async def room(run: Run) -> dict[str, Any]:
    assert run.driver is not None
    spec = run.spec
    rss_idle = rss_bytes(spec.pid)
    sessions = await run.driver.room(spec.count)
    tones = [tone_loop(400 + 100 * index) for index in range(spec.count)]
    silence = silence_loop()
    await run.connect(sessions, [tones[i] if i < spec.talkers else silence for i in range(spec.count)])
    run.start_sending()
    await asyncio.sleep(spec.warmup)
    talkers = await run.measure()
    if not spec.everyone:
        return {"rss_idle": rss_idle, "talkers": talkers}
    for leg, frames in zip(run.legs, tones, strict=True):
        leg.frames = frames
    await asyncio.sleep(spec.warmup)
    everyone = await run.measure()
    return {"rss_idle": rss_idle, "talkers": talkers, "everyone": everyone}


async def delay(run: Run) -> dict[str, Any]:
    spec = run.spec
    bursts, silence = burst_frames(), silence_loop()
    if run.driver is None:  # direct: two light legs, no node
        sender, receiver = LightLeg(bursts), LightLeg(silence)
        await sender.accept_answer(await receiver.answer(await sender.offer()))
        run.legs += [sender, receiver]
        await asyncio.gather(sender.ready(READY_TIMEOUT), receiver.ready(READY_TIMEOUT))
    else:
        ((a, b),) = await run.driver.calls(1)
        await run.connect([a, b], [bursts, silence])
        sender, receiver = run.legs
    probe = OnsetProbe()
    receiver.listener = probe
    run.pacer.shift = PHASE_SWEEP / spec.window  # each second 1/window of the sweep: every phase once per window
    run.start_sending()
    await asyncio.sleep(spec.warmup)
    sender.marks_sent.clear()
    probe.recording = True
    await asyncio.sleep(spec.window)
    probe.recording = False
    found, unmatched = delays(sender.marks_sent, probe.onsets)
    return {
        "bursts": len(sender.marks_sent),
        "delays": found,
        "unmatched": unmatched,
        "p50": percentile(found, 0.5),
        "p95": percentile(found, 0.95),
    }


SCENARIOS = {"calls": calls, "room": room, "delay": delay}


async def run_spec(spec: Spec) -> dict[str, Any]:
    # no connection limit: every signalling websocket holds one for the whole run
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT)) as http:
        run = Run(spec, http)
        try:
            result = await SCENARIOS[spec.scenario](run)
            return {**result, "legs": len(run.legs), "failed_legs": run.failed, "setup_seconds": run.setup_seconds}
        finally:
            await run.close()


def main() -> None:
    pin(CLIENT_CORE)
    nice = prioritise()
    spec = Spec(**json.loads(sys.argv[1]))
    result = asyncio.run(run_spec(spec))
    print(json.dumps({"spec": asdict(spec), "nice": nice, **result}), flush=True)


if __name__ == "__main__":
    main()
