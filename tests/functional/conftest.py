"""Functional-test fixtures. moto serves requests on threads but does not isolate DynamoDB transactions: it applies
one item by item and undoes a failed one by restoring deep copies of whole tables taken when it began, silently
erasing whatever another request committed meanwhile (moto 5.2.5; seen as a racing call change stored without
its event, and as an outbox event lost among concurrent writers). One lock around the backend's item operations
gives the isolation DynamoDB has, so tests that race writers test our code and not moto. The wider the tables,
the longer the copy and the likelier the loss, so it applies to every functional test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_OPERATIONS = ("transact_write_items", "put_item", "update_item", "delete_item", "get_item", "query")


@pytest.fixture(scope="session", autouse=True)
def _isolated_moto_transactions() -> Iterator[None]:
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    with pytest.MonkeyPatch.context() as patch:
        for name in _OPERATIONS:
            operation = getattr(DynamoDBBackend, name)

            def locked(*args: Any, __operation: Callable[..., Any] = operation, **kwargs: Any) -> Any:
                with lock:
                    return __operation(*args, **kwargs)

            patch.setattr(DynamoDBBackend, name, locked)
        yield
