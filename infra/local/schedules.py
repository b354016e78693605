"""The local stand-in for EventBridge schedules: every `@app.schedule` function runs on a short period.

On AWS a scheduled function runs at its rate (the dead-node reaper: every minute); locally each one runs every
`local_schedule_seconds` (settings, default 5 s), so `make run` ends what a killed media node left within seconds,
as a deployment does within a minute. The handler is the same function Lambda calls (found through Chalice's
registry of scheduled event sources), given the event shape EventBridge delivers and a `LambdaContext`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalice.app import ScheduledEventConfig
from chalice.local import LambdaContext

from chalicelib.core.observability import logger

Handler = Callable[[dict[str, Any], Any], Any]


def scheduled_event(rule: str, region: str, now: datetime | None = None) -> dict[str, Any]:
    """What EventBridge passes a scheduled function."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": when,
        "region": region,
        "resources": [f"arn:aws:events:{region}:000000000000:rule/{rule}"],
        "detail": {},
    }


def scheduled_handlers(app: Any) -> dict[str, Handler]:
    """Name → handler (the wrapped function Lambda calls) of every `@app.schedule` function."""
    return {
        source.name: app.handler_map[source.name]
        for source in app.event_sources
        if isinstance(source, ScheduledEventConfig)
    }


class Schedules:
    def __init__(self, app: Any, period_seconds: float, region: str = "us-east-1") -> None:
        self._handlers = scheduled_handlers(app)
        self._period = period_seconds
        self._region = region
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def names(self) -> list[str]:
        return sorted(self._handlers)

    def start(self) -> None:
        for name, handler in self._handlers.items():
            thread = threading.Thread(target=self._run, args=(name, handler), name=f"schedule-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, name: str, handler: Handler) -> None:
        # One run at a time per function (EventBridge may overlap them; the jobs are safe either way).
        while not self._stop.wait(self._period):
            context = LambdaContext(function_name=name, memory_size=512, max_runtime_ms=60_000)
            try:
                handler(scheduled_event(name, self._region), context)
            except Exception:
                logger().exception("scheduled function failed; it runs again next period", extra={"fn": name})
