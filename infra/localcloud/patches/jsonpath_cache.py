"""Patch: a JSONPath expression is compiled once, not at every use.

moto's EventBridge input transformers and its Step Functions interpreter call ``jsonpath_ng.ext.parse``
for every event and every path they evaluate, and each call builds a new PLY parser (reading its LR tables):
that was most of the time of a ``PutEvents`` with a transformed target, on the path of every work order.
The compiled paths are immutable (``find`` only reads them), so one per expression text is shared.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_applied = False
_lock = threading.Lock()


def apply() -> None:
    """Idempotent."""
    global _applied
    with _lock:
        if _applied:
            return
        import jsonpath_ng.ext
        from moto.stepfunctions.parser.asl.utils import json_path

        original = jsonpath_ng.ext.parse

        @functools.lru_cache(maxsize=1024)
        def compiled(path: str) -> Any:
            return original(path)

        def parse(path: str, debug: bool | None = None) -> Any:
            return original(path, debug=debug) if debug else compiled(path)

        jsonpath_ng.ext.parse = parse  # moto.events imports it at each call
        json_path.parse = parse  # the Step Functions interpreter bound it at import
        _applied = True
