"""Pipeline benchmark on the local stack: events per second and lag from outbox write to webhook received.

Printed beside raw moto throughput for the same writes (the outbox transactions alone, into a moto server of
their own), so the ratio says what the pipeline costs on top of the embedded AWS. Bounded: a fixed number of
events, a fixed deadline; nothing is asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.receiver import Receiver, wait_for  # noqa: E402
from tests.support.stack import start_stack  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "40"))
EVENTS_PER_CALL = int(os.environ.get("BENCH_EVENTS_PER_CALL", "5"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "4"))
EVENT_TYPES = ["CALL_STARTED", "CALL_RINGING", "CALL_ESTABLISHED", "CALL_MEDIA_CHANGED", "CALL_FINISHED"]

# The writer runs in its own process (like a Lambda) against the stack's embedded AWS and reports, per event,
# the wall-clock time at which its outbox transaction committed.
WRITER = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish
account, calls, per_call, writers, types = json.loads(sys.argv[1])
def call(index):
    out = []
    for n in range(per_call):
        (envelope,) = publish(account, [NewEvent(types[n % len(types)], call_id=f"bench-{index}")])
        out.append((envelope.eventId, time.time()))
    return out
started = time.time()
with ThreadPoolExecutor(writers) as pool:
    results = [item for chunk in pool.map(call, range(calls)) for item in chunk]
print(json.dumps({"started": started, "finished": time.time(), "events": results}))
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def write_events(env: dict[str, str], account_id: str) -> dict:
    args = json.dumps([account_id, CALLS, EVENTS_PER_CALL, WRITERS, EVENT_TYPES])
    result = subprocess.run(
        [sys.executable, "-c", WRITER, args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"event writer failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout))


def raw_moto_rate() -> float:
    """The same outbox writes into a moto server with nothing else running."""
    stack = start_stack(SWITCHBOARD_DELIVERY_QUEUE_URL="", BENCH_IDLE="1")
    try:
        # no subscription: fan-out matches nothing, so only the writes (and the stream poll) cost anything
        run = write_events(stack.aws_environment(), stack.ready["accountId"])
        return CALLS * EVENTS_PER_CALL / (run["finished"] - run["started"])
    finally:
        stack.stop()


def pipeline_run() -> dict:
    received: dict[str, float] = {}
    lock = threading.Lock()

    def policy(path, headers, body):
        with lock:
            received.setdefault(headers["x-switchboard-event-id"], time.time())
        return 200, 0.0

    receiver = Receiver(policy=policy).start()
    stack = start_stack()
    try:
        subscription = {
            "subscriptionId": "bench",
            "events": EVENT_TYPES,
            "profile": {"profileId": "bench", "webhook": {"notifyUrl": f"{receiver.url}/events"}},
        }
        httpx.post(
            f"{stack.url}/subscriptions/1/subscription/VOICE_VIDEO", json=subscription, headers=stack.headers
        ).raise_for_status()
        run = write_events(stack.aws_environment(), stack.ready["accountId"])
        total = CALLS * EVENTS_PER_CALL
        wait_for(lambda: len(received) >= total, timeout=300, interval=0.2)
        lags = [(received[event_id] - written) * 1000 for event_id, written in run["events"] if event_id in received]
        last = max(received.values()) if received else time.time()
        return {
            "events": total,
            "delivered": len(received),
            "write_rate": total / (run["finished"] - run["started"]),
            "end_to_end_rate": len(received) / (last - run["started"]),
            "lag_p50_ms": statistics.median(lags) if lags else float("nan"),
            "lag_p99_ms": percentile(lags, 0.99) if lags else float("nan"),
        }
    finally:
        stack.stop()
        receiver.stop()


def keep_alive_latency() -> tuple[float, float]:
    """Median request time on one kept-alive connection vs a new connection per request (the 44 ms stall check)."""
    stack = start_stack()
    try:

        def timed(client: httpx.Client) -> float:
            samples = []
            for _ in range(50):
                started = time.perf_counter()
                client.get(f"{stack.url}/accounts/1/account", headers=stack.headers).raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)
            return statistics.median(samples)

        with httpx.Client() as kept:
            kept_alive = timed(kept)
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as fresh:
            new_connections = timed(fresh)
        return kept_alive, new_connections
    finally:
        stack.stop()


def main() -> None:
    print(f"pipeline benchmark: {CALLS} calls x {EVENTS_PER_CALL} events, {WRITERS} concurrent writers")
    raw = raw_moto_rate()
    result = pipeline_run()
    kept, fresh = keep_alive_latency()
    print(f"  raw moto, outbox writes only        {raw:8.1f} events/s")
    print(f"  outbox writes with pipeline running {result['write_rate']:8.1f} events/s")
    print(
        f"  end to end (write -> webhook)       {result['end_to_end_rate']:8.1f} events/s "
        f"({result['delivered']}/{result['events']} delivered, {result['end_to_end_rate'] / raw:.2f}x raw)"
    )
    print(
        f"  lag outbox commit -> webhook        p50 {result['lag_p50_ms']:7.1f} ms   p99 {result['lag_p99_ms']:7.1f} ms"
    )
    print(f"  API request, keep-alive / new conn  {kept:6.1f} ms / {fresh:6.1f} ms (median of 50)")


if __name__ == "__main__":
    main()
