"""Patch: moto lists a response class's method names once, not on every request.

Every AWS request moto serves goes through ``BaseResponse.call_action``, which asks
``method_names_from_class(self.__class__)`` - ``inspect.getmembers`` over the whole class - to see whether
the action has a handler method. That was about 3 % of the local cloud's CPU on the request -> vendor-offer
path. The answer is a function of the class alone (moto's response classes are not changed at run time),
so it is kept per class; every request is dispatched exactly as before (speed only).
"""

from __future__ import annotations

import functools
import threading

_applied = False
_lock = threading.Lock()


def apply() -> None:
    """Idempotent."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.core import responses, utils

        listed = functools.lru_cache(maxsize=512)(utils.method_names_from_class)
        responses.method_names_from_class = lambda clazz: list(listed(clazz))  # a copy: callers may not mutate ours
        _applied = True
