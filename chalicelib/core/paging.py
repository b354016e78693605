"""Infobip paging: 0-based `page`, `size` 1..100, and {page, size, totalPages, totalResults} beside the results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class PageInfo(BaseModel):
    """Infobip's `PageInfo`: all four fields are required on the wire."""

    page: int
    size: int
    totalPages: int
    totalResults: int


def page_of(items: Sequence[T], page: int, size: int) -> tuple[list[T], dict[str, int]]:
    total = len(items)
    start = page * size
    return list(items[start : start + size]), {
        "page": page,
        "size": size,
        "totalPages": (total + size - 1) // size,
        "totalResults": total,
    }
