"""Step Functions callback task: remembers the task token under the execution's key."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
TOKENS: dict[str, str] = {}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("explode"):
        raise ValueError("asked to explode")
    with _lock:
        TOKENS[event["key"]] = event["token"]
    return {"stored": event["key"]}


def token_for(key: str) -> str | None:
    with _lock:
        return TOKENS.get(key)
