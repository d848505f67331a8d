"""The reconciliation handler time-boxes itself: with time left it finishes; near its timeout it invokes its own
function asynchronously with the cursor, and that invocation finishes the run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from shared.pms.models import EntityKind, PmsAddress, PmsProperty, PmsUnit
from tests.fakes import fake_services
from tests.lambda_modules import every_setting, fresh_import
from tests.service.journeys import fake_pms

ARN = "arn:aws:lambda:us-east-1:123456789012:function:opslayer-dev-pms-sync"


class Invocations:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, int]:
        self.calls.append(kwargs)
        return {"StatusCode": 202}


class Context:
    """A Lambda context whose remaining time drops by a second each time it is asked."""

    function_name, invoked_function_arn, memory_limit_in_mb, aws_request_id = "pms-sync", ARN, 512, "req-1"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        self.remaining_ms -= 1_000
        return self.remaining_ms


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, Any, Invocations]]:
    svc = fake_services()
    pms = fake_pms(svc)
    pms.add(EntityKind.PROPERTY, PmsProperty(pms_id="1", name="Tower Park", address=PmsAddress(
        line1="1 Tower Park", city="Springfield", state="IL", postal_code="62704")))
    for n in range(40):
        pms.add(EntityKind.UNIT, PmsUnit(pms_id=str(100 + n), property_pms_id="1", label=f"{n}"))
    lambda_client = Invocations()
    with fresh_import("functions.pms_sync", every_setting()) as module:
        monkeypatch.setattr(module, "services", lambda: svc)
        monkeypatch.setattr("shared.adapters.aws.client", lambda service: SimpleNamespace(invoke=lambda_client.invoke))
        yield module, svc, lambda_client


def test_a_reconciliation_with_time_enough_finishes_in_one_invocation(handler) -> None:
    module, _, lambda_client = handler
    result = module.lambda_handler({"action": "reconcile"}, Context(remaining_ms=900_000))
    assert result == {"reconciled": {"property": 1, "unit": 40, "vendor": 0, "lease": 0, "gl_account": 0,
                                     "task": 0}}
    assert lambda_client.calls == []


def test_near_its_timeout_it_continues_in_a_new_invocation_from_its_cursor(handler) -> None:
    module, svc, lambda_client = handler
    first = module.lambda_handler({"action": "reconcile"}, Context(remaining_ms=module.RECONCILE_MARGIN_MS + 10_500))
    assert first["continues_at"] == {"kind": "unit", "position": 10}  # the property and 10 units fit
    [call] = lambda_client.calls
    assert (call["FunctionName"], call["InvocationType"]) == (ARN, "Event")
    payload = json.loads(call["Payload"])
    assert payload["action"] == "reconcile" and payload["cursor"]["continuation"] == 1

    second = module.lambda_handler(payload, Context(remaining_ms=900_000))  # what Lambda runs next
    assert second == {"reconciled": {"property": 1, "unit": 40, "vendor": 0, "lease": 0, "gl_account": 0,
                                     "task": 0}}
    assert len(lambda_client.calls) == 1
    assert all(svc.repo.find_unit(f"unit-b{100 + n}") is not None for n in range(40))
