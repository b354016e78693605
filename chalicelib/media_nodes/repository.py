"""Persistence for media-node registry entries."""

from __future__ import annotations

from chalicelib.db.models import MediaNode


def save(entry: MediaNode) -> None:
    entry.save()


def delete(node_id: str) -> None:
    MediaNode(node_id).delete()


def all_entries() -> list[MediaNode]:
    return list(MediaNode.scan())
