"""One 20 ms clock for every audio graph on the node (one timer wake-up per tick, not one per call).

Ticks follow an absolute schedule, so a slow tick never shifts the next; when the loop was blocked for long, the
schedule re-anchors instead of bursting to catch up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from switchboard_media.engine.graph import AudioGraph

log = logging.getLogger(__name__)

TICK_SECONDS = 0.02


class Ticker:
    def __init__(self) -> None:
        self._graphs: list[AudioGraph] = []
        self._task: asyncio.Task[None] | None = None
        self.late_ticks = 0

    def add(self, graph: AudioGraph) -> None:
        if graph not in self._graphs:
            self._graphs.append(graph)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def discard(self, graph: AudioGraph) -> None:
        if graph in self._graphs:
            self._graphs.remove(graph)

    async def stop(self) -> None:
        self._graphs.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while self._graphs:
            for graph in list(self._graphs):
                try:
                    await graph.tick(loop.time())
                except Exception:
                    log.exception("an audio graph failed one tick")
            next_tick += TICK_SECONDS
            delay = next_tick - loop.time()
            if delay < -5 * TICK_SECONDS:  # far behind: the loop was blocked
                self.late_ticks += 1
                next_tick = loop.time()
                delay = 0
            await asyncio.sleep(max(delay, 0))
        self._task = None
