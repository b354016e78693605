"""Registering media nodes and finding live ones.

A node beats every `HEARTBEAT_SECONDS`; an entry older than `STALE_AFTER_SECONDS` is dead for every reader, and the
TTL removes it later. The registry is small (one item per node), so reads scan it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core import clock
from chalicelib.db.models import MediaNode
from chalicelib.media_nodes import repository

HEARTBEAT_SECONDS = 10
STALE_AFTER_SECONDS = 3 * HEARTBEAT_SECONDS
_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class NodeStatus:
    node_id: str
    public_url: str
    internal_url: str
    status: str
    capacity: int
    calls: int
    sessions: int
    heartbeat_at: datetime

    @property
    def load(self) -> float:
        return self.calls / self.capacity if self.capacity else 1.0


def heartbeat(
    node_id: str,
    public_url: str,
    internal_url: str,
    *,
    status: str,
    capacity: int,
    calls: int,
    sessions: int,
    started_at: datetime,
) -> None:
    now = clock.now()
    repository.save(
        MediaNode(
            node_id,
            public_url=public_url,
            internal_url=internal_url,
            status=status,
            capacity=capacity,
            calls=calls,
            sessions=sessions,
            started_at=started_at,
            heartbeat_at=now,
            expires_at=now + _TTL,
        )
    )


def deregister(node_id: str) -> None:
    repository.delete(node_id)


def live_nodes() -> list[NodeStatus]:
    """Nodes that beat recently and are not draining, least loaded first."""
    cutoff = clock.now() - timedelta(seconds=STALE_AFTER_SECONDS)
    nodes = [
        NodeStatus(
            e.node_id,
            e.public_url,
            e.internal_url,
            e.status,
            int(e.capacity),
            int(e.calls),
            int(e.sessions),
            e.heartbeat_at,
        )
        for e in repository.all_entries()
        if e.heartbeat_at >= cutoff and e.status == "UP"
    ]
    return sorted(nodes, key=lambda node: node.load)
