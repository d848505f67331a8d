"""Twin of shared/adapters/continuations.py::LambdaContinuations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Continuation:
    function_arn: str
    event: dict[str, Any]  # as the new invocation receives it (JSON)


class RecordedContinuations:
    """Records each continuation, in order, instead of invoking anything: a test runs `take()`'s event itself,
    as Lambda would run the queued invocation."""

    def __init__(self) -> None:
        self.pending: list[Continuation] = []

    def continue_later(self, function_arn: str, event: dict[str, Any]) -> None:
        self.pending.append(Continuation(function_arn, json.loads(json.dumps(event))))

    def take(self) -> Continuation | None:
        """The oldest continuation not yet run (None: none left), removed."""
        return self.pending.pop(0) if self.pending else None
