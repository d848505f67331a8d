"""One place for logs, traces and metrics (powertools). Never log PII: ids only."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit


class LazyTracer:
    """powertools Tracer, built on the first invocation instead of at import: the X-Ray SDK creates
    its sampling client when imported (~150 ms), which would double every handler's import time."""

    def __init__(self) -> None:
        self._tracer: Any = None

    def get(self) -> Any:
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer()
        return self._tracer

    def capture_lambda_handler(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        traced: list[Callable[..., Any]] = []

        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Any:
            if not traced:
                traced.append(self.get().capture_lambda_handler(handler))
            return traced[0](event, context)

        return wrapper


class _Stdout:
    """Resolve sys.stdout at write time (test runners and the local cloud swap it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


logger = Logger(log_uncaught_exceptions=True, stream=_Stdout())
tracer = LazyTracer()
# The namespace is fixed here as well as in the template: a module imported outside a Lambda environment
# (a CLI, the local cloud's first import) must still produce valid EMF.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Opslayer")


def count(name: str, value: float = 1) -> None:
    """One metric per lifecycle event (EMF, flushed by the handler decorator)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


# The metrics written once per deployment (dimension ``Stage``, plus the dimension sets listed: each set is
# one more CloudWatch metric per value, so keep them few): the ones the ops dashboard and the alarms name
# (template.yaml). Every metric named there must be listed here, every name listed here must be emitted by
# shared/ or functions/ through `alarm_count`/`stage_metric`, and every one they emit must be listed:
# tests/unit/test_dashboard.py checks all three, so the dashboard cannot drift from the code.
DEPLOYMENT_METRICS: dict[str, tuple[tuple[str, ...], ...]] = {
    "WorkOrderEscalated": ((),),
    "OnCallExhausted": ((),),
    "StuckWorkOrders": ((),),  # the SLA breaches: work orders past their stage's timer plus a grace
    "DrillFailed": ((),),
    "DrillScenarioSeconds": (("Scenario",),),
    # Time a work order spent in the status it just left (`Status`), across priorities and per priority.
    "StageSeconds": (("Status",), ("Status", "Priority")),
    "OnCallAckSeconds": ((),),  # an emergency's first page to the on-call acknowledgement
    "OpenWorkOrders": (("Status",),),  # a gauge per status, written by the stuck sweep
}


def alarm_count(name: str, value: float = 1) -> None:
    """A count an ops alarm watches (template.yaml): one series per deployment, dimension ``Stage`` only,
    whichever function emits it (``count`` adds the function's ``service``, so an alarm would need one
    metric per function). Written at once as its own EMF record."""
    stage_metric(name, value)


def stage_metric(name: str, value: float, unit: str = "Count", *, details: dict[str, str] | None = None,
                 **dimensions: str) -> None:
    """A measurement per deployment (dimension ``Stage``, plus ``dimensions``), e.g. the drill's timings;
    written at once as its own EMF record, like ``alarm_count``. A metric in ``DEPLOYMENT_METRICS`` gets
    its dimension sets from there (``dimensions`` must hold every key they name). ``details`` are fields of
    the log record only (no dimension, no cost), for Logs Insights: ids, never PII."""
    stage = os.environ.get("STAGE") or "dev"
    sets = DEPLOYMENT_METRICS.get(name, (tuple(dimensions),))
    print(json.dumps({"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [
        {"Namespace": metrics.namespace, "Dimensions": [["Stage", *keys] for keys in sets],
         "Metrics": [{"Name": name, "Unit": unit}]}]}, **(details or {}), "Stage": stage, **dimensions,
        name: value}), flush=True)


def bind(work_order_id: str | None = None, correlation_id: str | None = None) -> None:
    """Ids on every later log line of this invocation (its own context: see shared.entry.lambda_entry)."""
    keys = {k: v for k, v in {"work_order_id": work_order_id, "correlation_id": correlation_id}.items() if v}
    if keys:
        logger.thread_safe_append_keys(**keys)
