"""A large portfolio's reconciliation in time-boxed steps: each invocation stops when its budget says so and
continues in a new invocation with its cursor (the continuations port; its twin records them and the test runs
each as Lambda would); the next goes on from there. 50,000 units arrive once each across the continuations, and a
step replayed from the same cursor (a retried invocation) loses and duplicates nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.pms.models import EntityKind, PmsAddress, PmsProperty, PmsTask, PmsUnit
from shared.services import pms_sync
from shared.services.container import Services
from tests.fakes import InMemoryPms, RecordedContinuations
from tests.service.journeys import fake_pms

UNITS = 50_000
REQUESTS = 30
ARN = "arn:aws:lambda:us-east-1:123456789012:function:opslayer-test-pms-sync"  # the function continuing itself


def budget(entities: int) -> Callable[[], bool]:
    """A step's time budget, as a number of entities (the handler asks Lambda's remaining time instead)."""
    left = [entities]

    def keep_going() -> bool:
        left[0] -= 1
        return left[0] > 0

    return keep_going


def portfolio(svc: Services, units: int) -> InMemoryPms:
    pms = fake_pms(svc)
    pms.add(EntityKind.PROPERTY, PmsProperty(pms_id="1", name="Tower Park", address=PmsAddress(
        line1="1 Tower Park", city="Springfield", state="IL", postal_code="62704")))
    for n in range(units):
        pms.add(EntityKind.UNIT, PmsUnit(pms_id=str(100_000 + n), property_pms_id="1", label=f"{n}"))
    for n in range(REQUESTS):
        pms.add(EntityKind.TASK, PmsTask(pms_id=str(900_000 + n), title="Dripping tap", description="Bathroom",
                                         property_pms_id="1", unit_pms_id=str(100_000 + n), status="new"))
    return pms


def pms_work_orders(svc: Services) -> list[str]:
    """The work orders made from the PMS's requests (one Query of the property's partition)."""
    return [wo.id for wo in svc.repo.list_work_orders(property_id="prop-b1", limit=10_000) if wo.pms_task_id]


def units_synced(svc: Services, units: int) -> int:
    return sum(1 for n in range(units) if svc.repo.find_unit(f"unit-b{100_000 + n}") is not None)


def test_50000_units_sync_across_continuations_with_nothing_lost_or_duplicated(svc: Services) -> None:
    large = portfolio(svc, UNITS)
    continuations = svc.continuations()
    assert isinstance(continuations, RecordedContinuations)
    answer = pms_sync.reconcile_invocation(svc, large, {"action": "reconcile"}, ARN, keep_going=budget(7_000))
    invocations, cursors = 1, []
    while (continuation := continuations.take()) is not None:  # what Lambda runs next, as the event arrives
        assert continuation.function_arn == ARN and continuation.event["action"] == "reconcile"
        cursors.append(pms_sync.ReconcileCursor.model_validate(continuation.event["cursor"]))
        answer = pms_sync.reconcile_invocation(svc, large, continuation.event, ARN, keep_going=budget(7_000))
        invocations += 1

    assert invocations == 8  # 50,031 entities at most 7,000 an invocation
    assert [c.continuation for c in cursors] == list(range(1, 8))
    assert len({c.started for c in cursors}) == 1  # one snapshot time for the whole run
    assert answer == {"reconciled": {"property": 1, "unit": UNITS, "vendor": 0, "lease": 0, "gl_account": 0,
                                     "task": REQUESTS}}
    assert units_synced(svc, UNITS) == UNITS
    assert len(pms_work_orders(svc)) == REQUESTS


def test_an_invocation_that_stops_early_says_where_it_continues(svc: Services) -> None:
    pms = portfolio(svc, 40)
    answer = pms_sync.reconcile_invocation(svc, pms, {"action": "reconcile"}, ARN, keep_going=budget(11))
    assert answer == {"reconciling": {"property": 1, "unit": 10}, "continues_at": {"kind": "unit", "position": 10}}
    [continuation] = svc.continuations().pending
    assert continuation.event["cursor"]["kind"] == "unit" and continuation.event["cursor"]["position"] == 10


def test_a_runaway_chain_of_continuations_stops_loudly(svc: Services) -> None:
    pms = portfolio(svc, 3)
    cursor = pms_sync.ReconcileCursor(started=svc.clock().isoformat(), kind=EntityKind.UNIT,
                                      continuation=pms_sync.MAX_CONTINUATIONS + 1)
    with pytest.raises(RuntimeError, match="continuations"):
        pms_sync.reconcile_invocation(svc, pms, {"action": "reconcile", "cursor": cursor.model_dump(mode="json")},
                                      ARN, keep_going=lambda: True)
    assert svc.continuations().pending == []
    assert units_synced(svc, 3) == 0


def test_a_step_replayed_from_its_cursor_duplicates_nothing(svc: Services) -> None:
    pms = portfolio(svc, 500)
    first = pms_sync.reconcile_step(svc, pms, keep_going=budget(500 - 10))  # stops 10 units short
    assert first.cursor is not None and first.cursor.kind == EntityKind.UNIT
    rest = pms_sync.reconcile_step(svc, pms, first.cursor)
    again = pms_sync.reconcile_step(svc, pms, first.cursor)  # the invocation is retried after it finished
    assert rest.cursor is None and again.cursor is None
    assert rest.counts["task"] == again.counts["task"] == REQUESTS
    assert len(pms_work_orders(svc)) == REQUESTS  # the requests' work orders exist once each
    assert units_synced(svc, 500) == 500


def test_every_step_moves_on_even_with_no_time_left(svc: Services) -> None:
    pms = portfolio(svc, 3)
    cursor, steps = None, 0
    while True:
        progress = pms_sync.reconcile_step(svc, pms, cursor, keep_going=lambda: False)  # one entity a step
        steps += 1
        if progress.cursor is None:
            break
        cursor = progress.cursor
    assert steps == 1 + 3 + REQUESTS and progress.counts["unit"] == 3
