"""When a failed export is tried again: exponential backoff from a base, capped, for a bounded number of attempts.
A pure function of the attempt number, so the schedule is the same wherever it runs and is easy to state:
with the defaults, attempts 2..8 follow 1, 2, 4, 8, 16, 32 and 60 minutes after the one before (~2 h in all)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: int = 60
    max_delay_seconds: int = 3600


DEFAULT_POLICY = RetryPolicy()


def retry_delay(attempt: int, policy: RetryPolicy = DEFAULT_POLICY) -> int | None:
    """Seconds to wait after attempt `attempt` (1-based) failed, or None when it was the last one."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    if attempt >= policy.max_attempts:
        return None
    return int(min(policy.base_seconds * 2 ** (attempt - 1), policy.max_delay_seconds))
