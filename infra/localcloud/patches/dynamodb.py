"""Patch: DynamoDB requests are atomic with respect to each other.

Moto gap closed: moto's DynamoDB backend is not thread-safe. ``TransactWriteItems`` deep-copies
whole tables while another thread writes (``RuntimeError: dictionary changed size during
iteration``), and a conditional write can interleave with another write to the same item, so the
version checks the domain relies on would not be atomic. On AWS each request is. In the local
cloud handlers run concurrently (API server threads, Step Functions workers, SQS batches), so
every DynamoDB request is served under one re-entrant lock. Requests take well under a
millisecond, and no DynamoDB request calls back into a handler here (the template has no table
stream mapping), so the lock cannot deadlock.
"""

from __future__ import annotations

import threading
from typing import Any

_applied = False
_lock = threading.Lock()
request_lock = threading.RLock()


def apply() -> None:
    """Serialise ``DynamoHandler.call_action`` (in-process and server mode alike; idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.dynamodb.responses import DynamoHandler

        original = DynamoHandler.call_action

        def call_action(self: Any) -> Any:
            with request_lock:
                return original(self)

        DynamoHandler.call_action = call_action  # type: ignore[method-assign]
        _applied = True
