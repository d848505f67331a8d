"""Patch: the Step Functions interpreter reuses its AWS clients.

Moto's interpreter (ported from LocalStack) builds a new boto3 client for every Task it runs
(``boto_client_for``), which costs tens of milliseconds per state - most of a workflow's local
latency. boto3 clients are thread-safe, so one per (region, service, endpoint, credentials)
is reused. Nothing else changes: same configuration, same endpoint resolution.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_applied = False
_cache: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.stepfunctions.parser.asl.utils import boto_client as module

    original = module.boto_client_for

    def cached_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber

        port = None if botocore_stubber.enabled else module.moto_server_port()
        key = (region, service, repr(state_credentials), port)
        client = _cache.get(key)
        if client is None:
            with _lock:
                client = _cache.get(key) or original(region, service, state_credentials)
                _cache[key] = client
        return client

    module.boto_client_for = cached_boto_client_for
    # Modules that imported the function by name hold their own reference: rebind those too.
    for name, mod in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(mod, "boto_client_for", None) is original:
            mod.boto_client_for = cached_boto_client_for
    _applied = True


def reset() -> None:
    """Forget cached clients (a new moto server port or a restarted mock)."""
    with _lock:
        _cache.clear()
