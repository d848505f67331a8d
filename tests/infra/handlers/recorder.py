"""Records every event it receives, so a test can see what a delivery looked like."""

from __future__ import annotations

import os
import threading
from typing import Any

_lock = threading.Lock()
RECORDS: list[dict[str, Any]] = []


def handler(event: Any, context: Any) -> dict[str, Any]:
    with _lock:
        RECORDS.append(
            {
                "function": context.function_name,
                "event": event,
                "env_marker": os.environ.get("MARKER"),
                "remaining_ms": context.get_remaining_time_in_millis(),
            }
        )
    return {"ok": True}


def records_for(function_name: str) -> list[dict[str, Any]]:
    with _lock:
        return [r for r in RECORDS if r["function"] == function_name]
