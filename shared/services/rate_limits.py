"""Fixed-window request counters in DynamoDB (TTL-expired), per client IP and per link."""

from __future__ import annotations

import hashlib
import time
from typing import Any


def over_limit(repo: Any, ip: str, token: str | None, ip_limit: int, link_limit: int,
               now: float | None = None) -> bool:
    """Count this request; True when the IP or the link went over its per-minute limit."""
    minute = int((now if now is not None else time.time()) // 60)
    if repo.hit(f"RATE#ip#{ip}#{minute}", ttl_seconds=120) > ip_limit:
        return True
    if token:
        digest = hashlib.sha256(token.encode()).hexdigest()[:32]  # the link itself is never stored
        return repo.hit(f"RATE#link#{digest}#{minute}", ttl_seconds=120) > link_limit
    return False
