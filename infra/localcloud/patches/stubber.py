"""The one way the local cloud hooks every in-process AWS request: a wrap of moto's botocore stubber.

Each hook (fault injection, usage metering, the IAM audit) wraps what was there before it, so the last one
installed sees a request first. ``around(proceed, stubber, event_name, request)`` returns the response: the
stubber's own (``proceed()``), or one of its own making.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Around = Callable[[Callable[[], Any], Any, str, Any], Any]


def wrap(around: Around) -> None:
    """Install `around` over ``BotocoreStubber.__call__`` (the caller makes it once only)."""
    from moto.core.botocore_stubber import BotocoreStubber

    inner = BotocoreStubber.__call__

    def __call__(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        return around(lambda: inner(self, event_name, request, **kwargs), self, event_name, request)

    BotocoreStubber.__call__ = __call__  # type: ignore[method-assign]
