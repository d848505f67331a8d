"""The reconciliation handler time-boxes itself: with time left it finishes; near its timeout it continues in a new
asynchronous invocation of its own function (the ARN it was invoked as) with the cursor, and that invocation
finishes the run. The continuation goes through the container's port (its twin records it here)."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from shared.pms.models import EntityKind, PmsAddress, PmsProperty, PmsUnit
from tests.fakes import RecordedContinuations, fake_services
from tests.lambda_modules import every_setting, fresh_import
from tests.service.journeys import fake_pms

ARN = "arn:aws:lambda:us-east-1:123456789012:function:opslayer-dev-pms-sync"


class Context:
    """A Lambda context whose remaining time drops by a second each time it is asked."""

    function_name, invoked_function_arn, memory_limit_in_mb, aws_request_id = "pms-sync", ARN, 512, "req-1"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        self.remaining_ms -= 1_000
        return self.remaining_ms


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, Any, RecordedContinuations]]:
    continuations = RecordedContinuations()
    svc = fake_services(continuations=continuations)
    pms = fake_pms(svc)
    pms.add(EntityKind.PROPERTY, PmsProperty(pms_id="1", name="Tower Park", address=PmsAddress(
        line1="1 Tower Park", city="Springfield", state="IL", postal_code="62704")))
    for n in range(40):
        pms.add(EntityKind.UNIT, PmsUnit(pms_id=str(100 + n), property_pms_id="1", label=f"{n}"))
    with fresh_import("functions.pms_sync", every_setting()) as module:
        monkeypatch.setattr(module, "services", lambda: svc)
        yield module, svc, continuations


def test_a_reconciliation_with_time_enough_finishes_in_one_invocation(handler) -> None:
    module, _, continuations = handler
    result = module.lambda_handler({"action": "reconcile"}, Context(remaining_ms=900_000))
    assert result == {"reconciled": {"property": 1, "unit": 40, "vendor": 0, "lease": 0, "gl_account": 0,
                                     "task": 0}}
    assert continuations.pending == []


def test_near_its_timeout_it_continues_in_a_new_invocation_from_its_cursor(handler) -> None:
    module, svc, continuations = handler
    first = module.lambda_handler({"action": "reconcile"}, Context(remaining_ms=module.RECONCILE_MARGIN_MS + 10_500))
    assert first["continues_at"] == {"kind": "unit", "position": 10}  # the property and 10 units fit
    [continuation] = continuations.pending
    assert continuation.function_arn == ARN
    assert continuation.event["action"] == "reconcile" and continuation.event["cursor"]["continuation"] == 1

    # What Lambda runs next.
    second = module.lambda_handler(continuations.take().event, Context(remaining_ms=900_000))
    assert second == {"reconciled": {"property": 1, "unit": 40, "vendor": 0, "lease": 0, "gl_account": 0,
                                     "task": 0}}
    assert continuations.pending == []
    assert all(svc.repo.find_unit(f"unit-b{100 + n}") is not None for n in range(40))
