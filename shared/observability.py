"""One place for logs, traces and metrics (powertools). Never log PII: ids only."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(log_uncaught_exceptions=True)
tracer = Tracer()
metrics = Metrics()


def count(name: str, value: float = 1) -> None:
    """One metric per lifecycle event (EMF, flushed by the handler decorator)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def bind(work_order_id: str | None = None, correlation_id: str | None = None) -> None:
    keys = {k: v for k, v in {"work_order_id": work_order_id, "correlation_id": correlation_id}.items() if v}
    if keys:
        logger.append_keys(**keys)
