"""Persistence for media-node registry entries."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.db.models import MediaNode


def save(entry: MediaNode) -> None:
    entry.save()


def delete(node_id: str) -> None:
    MediaNode(node_id).delete()


def all_entries(*, consistent: bool = False) -> list[MediaNode]:
    return list(MediaNode.scan(consistent_read=consistent))


def get(node_id: str) -> MediaNode | None:
    try:
        return MediaNode.get(node_id, consistent_read=True)
    except DoesNotExist:
        return None


def delete_if_unchanged(node_id: str, heartbeat_at: datetime) -> bool:
    """Remove the entry unless its node beat again since `heartbeat_at`; False when it did (or it is gone)."""
    try:
        MediaNode(node_id).delete(condition=MediaNode.heartbeat_at == heartbeat_at)
    except DeleteError:
        return False
    return True
