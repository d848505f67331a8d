"""Twin of shared/adapters/scheduler.py::OneTimeSchedules."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Scheduled:
    name: str
    at: datetime  # UTC, whole seconds (the at() expression has no fractions)
    payload: dict[str, Any]


class FakeSchedules:
    """Schedules by name (a put of an existing name moves it). `due()` lists those whose time has come by
    the clock; `fire_due()` removes and returns them, as Scheduler deletes a one-time schedule after it ran."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.schedules: dict[str, Scheduled] = {}

    def put(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        self.schedules[name] = Scheduled(name, at.astimezone(UTC).replace(microsecond=0),
                                         json.loads(json.dumps(payload)))

    def get(self, name: str) -> Scheduled | None:
        return self.schedules.get(name)

    def due(self) -> list[Scheduled]:
        now = self.clock()
        return sorted((s for s in self.schedules.values() if s.at <= now), key=lambda s: (s.at, s.name))

    def fire_due(self) -> list[Scheduled]:
        fired = self.due()
        for s in fired:
            del self.schedules[s.name]
        return fired
