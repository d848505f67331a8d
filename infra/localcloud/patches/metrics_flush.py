"""Powertools metrics flushed by concurrent in-process invocations.

On Lambda one process runs one invocation at a time, so the metric set a handler flushes is its own. The
local cloud runs handlers of many functions on threads of one process, and powertools keeps the metric set
on a shared provider: one thread could empty it between another's "is there anything?" and "serialize it",
which raises ``SchemaValidationError: Must contain at least one metric`` inside a perfectly good invocation.
Flushes and additions are serialized here (each is short); what each flush prints is still valid EMF.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.RLock()  # add_metric flushes by itself at 100 metrics
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    original_flush = AmazonCloudWatchEMFProvider.flush_metrics
    original_add = AmazonCloudWatchEMFProvider.add_metric

    def flush_metrics(self: Any, raise_on_empty_metrics: bool = False) -> None:
        with _lock:
            original_flush(self, raise_on_empty_metrics)

    def add_metric(self: Any, *args: Any, **kwargs: Any) -> None:
        with _lock:  # never while another thread serializes the set
            original_add(self, *args, **kwargs)

    AmazonCloudWatchEMFProvider.flush_metrics = flush_metrics  # type: ignore[method-assign]
    AmazonCloudWatchEMFProvider.add_metric = add_metric  # type: ignore[method-assign]
    _applied = True
