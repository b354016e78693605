"""Every pynamodb model lives in `models`; only repositories use them. `ALL_MODELS` is the single source the
local runner and the CDK app read to create tables (keys, indexes, streams, TTL)."""

from chalicelib.db.models import ALL_MODELS

__all__ = ["ALL_MODELS"]
