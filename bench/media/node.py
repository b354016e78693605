"""The real media node (`switchboard_media.server.Node`) in a process of its own, pinned to core 0, for the bench.

Call records stay in memory (the bench measures media, not DynamoDB) and no registry is involved. The token key
comes from `BENCH_TOKEN_KEY` (hex), shared with the load generator. Everything else is the node's own settings
(`SWITCHBOARD_MEDIA_*`): `SWITCHBOARD_MEDIA_PASSTHROUGH=false` forces the decoded path.

Profiling: with `BENCH_PROFILE=<path>`, SIGUSR1 starts cProfile (the load generator sends it once the calls are
up) and SIGUSR2 stops it and writes the stats to <path>. Prints `READY {"url": ..., "pid": ...}` once serving.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import signal
import uuid
from typing import Any

from aiohttp import web

from bench.media.cores import NODE_CORE, pin, prioritise
from switchboard_media.calls import CallRecords
from switchboard_media.server import Node
from switchboard_media.settings import NodeSettings


class MemoryRecords(CallRecords):
    """Call records that keep nothing: every leg id is new, every transition is accepted."""

    async def start(
        self, account_id: str, caller: Any, callee_identity: str, video: bool, node_id: str
    ) -> tuple[str, str]:
        return f"leg-{uuid.uuid4().hex[:12]}", f"leg-{uuid.uuid4().hex[:12]}"

    async def transition(self, name: str, account_id: str, call_id: str, *args: Any) -> None:
        return None


class Profiling:
    """cProfile between SIGUSR1 and SIGUSR2 (on the event loop's thread, where the engine runs)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.profile: cProfile.Profile | None = None

    def start(self) -> None:
        self.profile = cProfile.Profile()
        self.profile.enable()

    def stop(self) -> None:
        if self.profile is not None:
            self.profile.disable()
            self.profile.dump_stats(self.path)
            self.profile = None


async def serve() -> None:
    settings = NodeSettings(host="127.0.0.1", port=0, capacity=10_000)
    node = Node(settings, bytes.fromhex(os.environ["BENCH_TOKEN_KEY"]), records=MemoryRecords())
    runner = web.AppRunner(node.application())
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    port = runner.addresses[0][1]
    base_url = settings.base_url(port)
    node.bind(base_url)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    profile_path = os.environ.get("BENCH_PROFILE")
    if profile_path:
        profiling = Profiling(profile_path)
        loop.add_signal_handler(signal.SIGUSR1, profiling.start)
        loop.add_signal_handler(signal.SIGUSR2, profiling.stop)
    print("READY " + json.dumps({"url": base_url, "pid": os.getpid(), "passthrough": settings.passthrough}), flush=True)
    await stop.wait()
    try:
        await asyncio.wait_for(node.shutdown(), 10)
    except Exception:  # noqa: S110 - the bench tears the node down either way
        pass
    await runner.cleanup()


def main() -> None:
    pin(NODE_CORE)  # before any media thread starts: they inherit it
    prioritise()
    asyncio.run(serve())


if __name__ == "__main__":
    main()
