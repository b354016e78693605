"""The node's registry entry: a heartbeat while it serves, DRAINING while it drains, removed when it exits.

Each beat also publishes the node's load (`Switchboard/MediaNodeLoad`, percent of capacity, dimensions service=media
and stage) as an EMF line on stdout, which CloudWatch turns into the metric the fleet scales on. Locally metrics are
off (POWERTOOLS_METRICS_DISABLED).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.core import clock
from chalicelib.core.settings import get_settings
from chalicelib.media_nodes import service

LOAD_NAMESPACE, LOAD_METRIC = "Switchboard", "MediaNodeLoad"


def load_percent(calls: int, capacity: int) -> float:
    return round(100.0 * calls / capacity, 1) if capacity > 0 else 100.0


def publish_load(calls: int, capacity: int, stage: str) -> None:
    with single_metric(
        name=LOAD_METRIC,
        unit=MetricUnit.Percent,
        value=load_percent(calls, capacity),
        namespace=LOAD_NAMESPACE,
        default_dimensions={"service": "media", "stage": stage},
    ):
        pass


log = logging.getLogger(__name__)


class Registration:
    def __init__(
        self, node_id: str, public_url: str, internal_url: str, capacity: int, load: Callable[[], tuple[int, int]]
    ) -> None:
        self.node_id, self.public_url, self.internal_url, self.capacity = node_id, public_url, internal_url, capacity
        self._load = load  # () -> (calls, sessions)
        self._started = clock.now()
        self._task: asyncio.Task[None] | None = None
        self.status = "UP"

    async def beat(self) -> None:
        calls, sessions = self._load()
        publish_load(calls, self.capacity, get_settings().stage)
        await asyncio.to_thread(
            service.heartbeat,
            self.node_id,
            self.public_url,
            self.internal_url,
            status=self.status,
            capacity=self.capacity,
            calls=calls,
            sessions=sessions,
            started_at=self._started,
        )

    async def _run(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:
                log.exception("heartbeat failed; retrying")
            await asyncio.sleep(service.HEARTBEAT_SECONDS)

    async def start(self) -> None:
        await self.beat()  # registered before the node announces itself ready
        self._task = asyncio.ensure_future(self._run())

    async def draining(self) -> None:
        self.status = "DRAINING"
        await self.beat()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(service.deregister, self.node_id)
