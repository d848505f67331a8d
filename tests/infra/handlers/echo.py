"""API handler that echoes the proxy event it received (or misbehaves on request)."""

from __future__ import annotations

import base64
import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    params = event.get("pathParameters") or {}
    if params.get("id") == "boom":
        raise RuntimeError("boom")
    if params.get("id") == "binary":
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(b"\x00\xffbin").decode(),
            "isBase64Encoded": True,
        }
    return {
        "statusCode": 201 if event["httpMethod"] == "POST" else 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"X-Seen": ["a", "b"]},
        "body": json.dumps({"event": event, "function": context.function_name}),
    }
