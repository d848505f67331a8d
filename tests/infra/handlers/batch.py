"""SQS consumer that fails the records whose body says so (partial batch response)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

_lock = threading.Lock()
DELIVERIES: list[dict[str, Any]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        with _lock:
            DELIVERIES.append({"at": time.time(), "record": record, "body": body})
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def deliveries_of(tag: str) -> list[dict[str, Any]]:
    with _lock:
        return [d for d in DELIVERIES if d["body"].get("tag") == tag]
