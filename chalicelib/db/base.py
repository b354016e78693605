"""The base model: table names resolve from the settings on use, never at import time.

pynamodb reads `Meta.table_name` whenever it needs a connection; a metaclass property makes that read
the configured prefix lazily. Region and endpoint are left to botocore (AWS_REGION, AWS_ENDPOINT_URL).
"""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.settings import get_settings


class _LazyTableMeta(type):
    base_name: str

    @property
    def table_name(cls) -> str:
        return get_settings().table_name(cls.base_name)


class TableMeta(metaclass=_LazyTableMeta):
    """Base for every model's `Meta`: subclasses set `base_name` (and `stream_view_type` for a stream)."""

    base_name = ""
    region = None
    host = None
    billing_mode = "PAY_PER_REQUEST"


class BaseModel(Model):
    """Marker base: every concrete model has `class Meta(TableMeta)` and carries an `account_id`."""


@lru_cache(maxsize=1)
def connection() -> Connection:
    """The low-level connection transactions run on (region and endpoint from the environment, like the models)."""
    return Connection()


def transaction() -> TransactWrite:
    return TransactWrite(connection=connection())
