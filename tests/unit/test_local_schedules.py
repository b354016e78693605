"""The local runner's schedules: every `@app.schedule` function is found in Chalice's registry and called, with
EventBridge's event shape, every period; a failing run does not stop the next one."""

from __future__ import annotations

import threading
import time

from chalice import Chalice, Rate

from infra.local.schedules import Schedules, scheduled_event, scheduled_handlers


def test_the_apps_reaper_is_a_scheduled_function_the_runner_finds():
    from app import app

    handlers = scheduled_handlers(app)
    assert list(handlers) == ["reap_dead_nodes"]
    import app as module

    assert handlers["reap_dead_nodes"] is module.reap_dead_nodes


def test_the_event_is_eventbridges_scheduled_event():
    event = scheduled_event("reap_dead_nodes", "eu-west-1")
    assert (event["detail-type"], event["source"], event["detail"], event["region"]) == (
        "Scheduled Event",
        "aws.events",
        {},
        "eu-west-1",
    )
    assert event["resources"] == ["arn:aws:events:eu-west-1:000000000000:rule/reap_dead_nodes"]


# A tiny app of its own, in this module, so `handler_string` resolves here.
demo = Chalice(app_name="schedules-demo")
calls: list[tuple[str, str]] = []
failures = threading.Event()


@demo.schedule(Rate(1, unit=Rate.MINUTES), name="tick")
def tick(event):
    calls.append((event.to_dict()["detail-type"], event.context.function_name))


@demo.schedule(Rate(1, unit=Rate.MINUTES), name="broken")
def broken(event):
    failures.set()
    raise RuntimeError("a run that fails")


def test_each_scheduled_function_runs_every_period_and_a_failure_does_not_stop_it():
    schedules = Schedules(demo, period_seconds=0.05)
    assert schedules.names == ["broken", "tick"]
    schedules.start()
    try:
        deadline = time.monotonic() + 30
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        schedules.stop()
    assert len(calls) >= 3 and set(calls) == {("Scheduled Event", "tick")}
    assert failures.is_set()
    stopped_at = len(calls)
    time.sleep(0.2)
    assert len(calls) == stopped_at  # stopped means stopped
