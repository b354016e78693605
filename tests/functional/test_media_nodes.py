"""The media-node registry: live nodes by recent heartbeat, draining and silent nodes left out, least loaded first."""

from __future__ import annotations

import secrets

from chalicelib.core import clock
from chalicelib.media_nodes import service


def beat(node_id: str, *, calls: int, status: str = "UP") -> None:
    service.heartbeat(
        node_id,
        f"https://{node_id}.example",
        f"http://{node_id}.internal",
        status=status,
        capacity=100,
        calls=calls,
        sessions=calls * 2,
        started_at=clock.now(),
    )


def test_live_nodes_are_the_recent_up_ones_least_loaded_first(embedded_aws):
    prefix = secrets.token_hex(3)
    busy, idle, draining, silent = (f"{prefix}-{name}" for name in ("busy", "idle", "draining", "silent"))
    clock.shift(-(service.STALE_AFTER_SECONDS + 5))  # the silent node last beat long ago
    try:
        beat(silent, calls=0)
    finally:
        clock.reset()
    beat(busy, calls=80)
    beat(idle, calls=5)
    beat(draining, calls=0, status="DRAINING")
    try:
        mine = [node for node in service.live_nodes() if node.node_id.startswith(prefix)]
        assert [node.node_id for node in mine] == [idle, busy]
        assert mine[0].public_url == f"https://{idle}.example" and mine[0].load == 0.05
        service.deregister(idle)
        assert idle not in {node.node_id for node in service.live_nodes()}
    finally:
        for node_id in (busy, idle, draining, silent):
            service.deregister(node_id)
