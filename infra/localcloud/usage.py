"""Metering for the local cloud: every AWS API request the stack makes (and the Lambda time it uses),
so a benchmark can say what one work order costs on AWS. Off unless a meter is running."""

from __future__ import annotations

import json
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Usage:
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation) -> count
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0
    lambda_invocations: Counter[str] = field(default_factory=Counter)
    lambda_gb_seconds: float = 0.0


_lock = threading.Lock()
_current: Usage | None = None
_applied = False


@contextmanager
def metering() -> Any:
    """Collect usage for the duration of the block."""
    global _current
    usage = Usage()
    with _lock:
        _current = usage
    try:
        yield usage
    finally:
        with _lock:
            _current = None


def record_request(event_name: str, body: bytes | str | None, *, delivered: bool = False) -> None:
    usage = _current
    if usage is None or not event_name.startswith("before-send."):
        return
    _, service, operation = event_name.split(".", 2)
    if service == "sqs" and operation == "SendMessage" and not delivered:
        return  # counted once, when the poller delivers the message (sends by moto itself are not seen here)
    with _lock:
        usage.requests[(service, operation)] += 1
        if service == "dynamodb":
            _dynamodb_units(usage, operation, body)


def _dynamodb_units(usage: Usage, operation: str, body: bytes | str | None) -> None:
    """Capacity units as on-demand bills them, for items under 1 KB / 4 KB (ours are)."""
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        params = {}
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        usage.dynamodb_write_units += 1
    elif operation == "TransactWriteItems":
        usage.dynamodb_write_units += 2 * len(params.get("TransactItems", []))
    elif operation == "GetItem":
        usage.dynamodb_read_units += 1 if params.get("ConsistentRead") else 0.5
    elif operation == "BatchGetItem":
        usage.dynamodb_read_units += 0.5 * sum(len(t.get("Keys", [])) for t in params.get("RequestItems", {}).values())
    elif operation == "Query":
        usage.dynamodb_read_units += 1 if params.get("ConsistentRead") else 0.5


def record_invocation(function_name: str, seconds: float, memory_mb: int) -> None:
    usage = _current
    if usage is None:
        return
    with _lock:
        usage.lambda_invocations[function_name] += 1
        # Lambda bills per ms with a 1 ms minimum; local timings stand in for AWS's.
        usage.lambda_gb_seconds += max(seconds, 0.001) * memory_mb / 1024


def apply() -> None:
    """Count requests at moto's botocore stubber (every in-process AWS call passes there)."""
    global _applied
    if _applied:
        return
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def __call__(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if _current is not None:
            record_request(event_name, getattr(request, "body", None))
        return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = __call__  # type: ignore[method-assign]
    _applied = True
