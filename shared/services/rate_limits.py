"""Fixed-window request counters in DynamoDB (TTL-expired), per client IP and per link."""

from __future__ import annotations

import time
from typing import Any


def over_limit(repo: Any, ip: str, link_digest: str | None, ip_limit: int, link_limit: int,
               now: float | None = None) -> bool:
    """Count this request; True when the IP or the link went over its per-minute limit. A link is counted
    by its hash (`links.digest`, as stored): the token itself is never written anywhere."""
    minute = int((now if now is not None else time.time()) // 60)
    if repo.hit(f"RATE#ip#{ip}#{minute}", ttl_seconds=120) > ip_limit:
        return True
    if link_digest:
        return repo.hit(f"RATE#link#{link_digest}#{minute}", ttl_seconds=120) > link_limit
    return False
