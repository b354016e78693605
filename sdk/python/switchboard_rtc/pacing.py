"""Real-time pacing for generated media: frame n is released at start + n * interval, never ahead of the clock."""

from __future__ import annotations

import asyncio


class Pacer:
    def __init__(self) -> None:
        self._start: float | None = None

    async def until(self, offset_seconds: float) -> None:
        """Wait until `offset_seconds` after the first call (which returns at once)."""
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + offset_seconds - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
