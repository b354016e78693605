"""Powertools Logger (JSON, correlation ids), Metrics (EMF) and Tracer, built once on first use."""

from __future__ import annotations

from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics, Tracer

from chalicelib.core.settings import get_settings

SERVICE = "switchboard"
NAMESPACE = "Switchboard"


@lru_cache(maxsize=1)
def logger() -> Logger:
    return Logger(service=SERVICE, level=get_settings().log_level)


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    return Metrics(namespace=NAMESPACE, service=SERVICE)


@lru_cache(maxsize=1)
def tracer() -> Tracer:
    # Off locally: there is no X-Ray daemon on a laptop.
    return Tracer(service=SERVICE, disabled=get_settings().stage == "local")


def flush_metrics() -> None:
    """Emit collected metrics as one EMF line; a no-op when nothing was recorded."""
    collected = metrics()
    if collected.metric_set:
        collected.flush_metrics()
