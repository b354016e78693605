"""`python -m switchboard_media`: serve until SIGTERM/SIGINT, then drain (refuse new sessions, end calls with
proper events) and exit. Prints `SWITCHBOARD_MEDIA_READY <json>` once listening."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import signal

from aiohttp import web

from chalicelib.core.settings import key_material
from chalicelib.webrtc.service import token_key
from switchboard_media.registry import Registration
from switchboard_media.remote_calls import fleet_peers
from switchboard_media.server import Node
from switchboard_media.settings import NodeSettings


async def serve() -> None:
    settings = NodeSettings()
    node = Node(
        settings,
        token_key(),
        control_key=base64.b64decode(key_material("controlKey")),
        peers=fleet_peers(settings.node_id),  # 1:1 calls ring the callee on the other live nodes too
    )
    runner = web.AppRunner(node.application(), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    port = runner.addresses[0][1]
    node.bind(settings.base_url(port), settings.internal_base_url(port))
    registration = Registration(
        settings.node_id,
        settings.base_url(port),
        settings.internal_base_url(port),
        settings.capacity,
        lambda: (len(node.calls or ()), len(node.presence)),
    )
    await registration.start()
    if settings.recordings_dir and node.recordings is not None:
        await node.recordings.recover()  # what a crashed predecessor left: stored, marked interrupted
    print(
        "SWITCHBOARD_MEDIA_READY " + json.dumps({"nodeId": settings.node_id, "url": settings.base_url(port)}),
        flush=True,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    node.draining = True
    await registration.draining()
    await node.shutdown()
    await runner.cleanup()
    await registration.stop()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve())


if __name__ == "__main__":
    main()
