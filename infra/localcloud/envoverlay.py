"""Per-invocation environment variables without touching the process environment.

A Lambda function sees its own ``Environment`` in ``os.environ``. In-process we cannot give each
handler its own process, and mutating ``os.environ`` for the duration of a call races with other
handlers running on other threads (in server mode a handler's boto3 call is served on another
thread and may itself trigger a handler). So ``os.environ`` is replaced by a mapping that reads a
per-context overlay (a ``ContextVar``) first and the real environment second. Writes made while an
overlay is active stay in the overlay, like a Lambda sandbox's environment.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

_overlay: ContextVar[dict[str, str] | None] = ContextVar("localcloud_env_overlay", default=None)
_install_lock = threading.Lock()


class OverlayEnviron(os._Environ):  # type: ignore[misc,name-defined]
    """``os.environ`` whose reads and writes go to the active overlay when there is one."""

    def __init__(self, base: os._Environ) -> None:  # type: ignore[name-defined]
        # Share the real environment's storage: writes outside an overlay still reach putenv.
        super().__init__(base._data, base.encodekey, base.decodekey, base.encodevalue, base.decodevalue)

    def __getitem__(self, key: str) -> str:
        layer = _overlay.get()
        if layer is not None and key in layer:
            return layer[key]
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: str) -> None:
        layer = _overlay.get()
        if layer is None:
            super().__setitem__(key, value)
        else:
            layer[key] = str(value)

    def __delitem__(self, key: str) -> None:
        layer = _overlay.get()
        if layer is None:
            super().__delitem__(key)
        elif key in layer:
            del layer[key]
        # A key of the real environment cannot be removed from inside an overlay; that is fine
        # for handlers (nothing in this project deletes variables).

    def __iter__(self) -> Iterator[str]:
        layer = _overlay.get()
        if layer is None:
            yield from super().__iter__()
            return
        yield from layer
        for key in super().__iter__():
            if key not in layer:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        return dict(self)


def install() -> None:
    """Replace ``os.environ`` with the overlay-aware mapping (idempotent, process-wide)."""
    with _install_lock:
        if not isinstance(os.environ, OverlayEnviron):
            os.environ = OverlayEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003 - replace, not clear


@contextlib.contextmanager
def overlay(values: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Make ``values`` (plus anything written meanwhile) visible in ``os.environ`` for this context."""
    install()
    # Never inherit an outer overlay: a handler invoked from inside another handler (in-process
    # mode) must see only its own function's environment, as on AWS.
    layer = {k: str(v) for k, v in values.items()}
    token = _overlay.set(layer)
    try:
        yield layer
    finally:
        _overlay.reset(token)
