"""Infobip paging: 0-based `page`, `size` 1..100, and {page, size, totalPages, totalResults} beside the results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def page_of(items: Sequence[T], page: int, size: int) -> tuple[list[T], dict[str, int]]:
    total = len(items)
    start = page * size
    return list(items[start : start + size]), {
        "page": page,
        "size": size,
        "totalPages": (total + size - 1) // size,
        "totalResults": total,
    }
