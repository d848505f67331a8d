"""Background delivery: what AWS does between services on its own (polling, async delivery).

Moto delivers events synchronously inside the API call that produced them, or not at all. The
local cloud moves that work to "pumps": small background loops registered here (the SQS poller
and the Scheduler clock) plus one shared pool for asynchronous deliveries (async Lambda invokes,
EventBridge -> Lambda / Step Functions, IoT rule actions).
Everything reports whether it is busy so ``LocalCloud.wait_idle`` can tell when the system is quiet.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from infra.localcloud.cloud import LocalCloud

log = logging.getLogger("infra.localcloud.pumps")


class DeliveryPool:
    """A small thread pool for fire-and-forget deliveries that counts what is in flight, per
    owner (the ARN of the target), so each cloud can tell whether *its* deliveries are done."""

    def __init__(self, workers: int = 4) -> None:
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self.errors: list[tuple[str, BaseException]] = []

    def submit(self, owner: str, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="localcloud-delivery")
            self._in_flight[owner] += 1
            executor = self._executor

        def run() -> None:
            try:
                fn(*args)
            except Exception as exc:  # a failed async delivery must not kill the pool
                log.warning("delivery to %s failed: %s", owner, exc)
                self.errors.append((owner, exc))
            finally:
                with self._lock:
                    self._in_flight[owner] -= 1
                    if self._in_flight[owner] <= 0:
                        del self._in_flight[owner]

        executor.submit(run)

    def busy(self, owners: set[str] | None = None) -> bool:
        with self._lock:
            return any(owners is None or owner in owners for owner in self._in_flight)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


deliveries = DeliveryPool()
"""The process-wide pool (moto's backends are process-wide too)."""


class Pump(Protocol):
    """A background loop that moves messages between services."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def busy(self, owners: set[str] | None = None) -> bool:
        """True while it has work pending or in progress (for the given owner ARNs, if any)."""
        ...


PumpFactory = Callable[["LocalCloud"], Pump | None]
_factories: dict[str, PumpFactory] = {}


def register_pump(name: str, factory: PumpFactory) -> None:
    """Register a pump factory; each started cloud asks every factory for a pump."""
    _factories[name] = factory


def pump_factories() -> dict[str, PumpFactory]:
    return dict(_factories)
