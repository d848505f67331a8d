"""The ops dashboard's metrics as the use cases write them (EMF records on stdout, one per measurement):
`StageSeconds` once per status change, from the place that makes it (never again on a replay, never for
drill work); `OnCallAckSeconds` when an emergency's page is acknowledged; `OpenWorkOrders` per status from
the stuck sweep."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.domain.errors import InvalidTransition
from shared.domain.workorder import Status
from shared.schemas import NewRequest
from shared.services import drill, paging
from shared.services.container import Services
from shared.services.notifications import notify
from shared.services.stuck import COUNTED_STATUSES, sweep_stuck
from shared.services.workorders import answer_follow_up, start_lifecycle, submit_request, triage, vendor_complete
from tests.service.journeys import LEAK, accepted, completed, offer_next, offered, submit, triaged

UNIT = "unit-maple-2a"
GAS = "I smell gas in the kitchen"  # an emergency (Maple Court pages its on-call contact)


def emf(out: str, name: str) -> list[dict[str, Any]]:
    """The EMF records of metric `name` in captured stdout, oldest first."""
    records = (json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"'))
    return [r for r in records if name in r]


def stages_left(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str, float]]:
    """(status left, priority, seconds) of every StageSeconds written since the last call."""
    return [(r["Status"], r["Priority"], r["StageSeconds"]) for r in emf(capsys.readouterr().out, "StageSeconds")]


def test_each_status_change_writes_the_time_spent_in_the_status_left_by_status_and_priority(
        svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    wo = submit(svc, UNIT, LEAK)
    svc.clock.advance(seconds=40)
    start_lifecycle(svc, wo.id)
    triage(svc, wo.id)
    [record] = emf(capsys.readouterr().out, "StageSeconds")
    assert (record["Status"], record["Priority"], record["StageSeconds"]) == ("received", "routine", 40.0)
    assert record["work_order_id"] == wo.id  # for the slowest-stages query; not a dimension

    job = completed(svc, UNIT, LEAK, hours_on_site=1.5)  # the visit tomorrow 09:00 (the clock: today 10:00)
    left = stages_left(capsys)
    assert [s for s, _, _ in left] == ["received", "triaged", "offered", "accepted", "scheduled"]
    assert {p for _, p, _ in left} == {"routine"}
    assert left[-1][2] == (23 + 1.5) * 3600 - 40  # booked at 10:00:40, done at 10:30 the next day

    svc.clock.advance(hours=2)
    answer_follow_up(svc, job.id, resolved=True, comment=None)
    assert stages_left(capsys) == [("completed", "routine", 2 * 3600.0)]


def test_the_record_has_a_status_series_and_a_status_by_priority_series(
        svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    triaged(svc, UNIT, LEAK)
    [record] = emf(capsys.readouterr().out, "StageSeconds")
    [definition] = record["_aws"]["CloudWatchMetrics"]
    assert definition["Namespace"] == "Opslayer"
    assert definition["Dimensions"] == [["Stage", "Status"], ["Stage", "Status", "Priority"]]
    assert definition["Metrics"] == [{"Name": "StageSeconds", "Unit": "Seconds"}]


def test_a_replayed_step_or_a_change_within_the_status_writes_nothing(
        svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    job = completed(svc, UNIT, LEAK)
    capsys.readouterr()
    with pytest.raises(InvalidTransition):
        vendor_complete(svc, job.vendor_token, "Replaced the washer")  # the vendor's second tap
    triage(svc, job.id)  # a redelivered triage step
    assert stages_left(capsys) == []

    job = offered(svc, "unit-maple-1a", LEAK)
    svc.clock.advance(minutes=5)
    capsys.readouterr()
    offer_next(svc, job, 1)  # OFFERED to the next vendor: the status did not change
    assert job.load(svc).status == Status.OFFERED
    assert stages_left(capsys) == []


def test_the_clock_of_a_status_restarts_at_each_change(svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    job = offered(svc, UNIT, LEAK)
    assert job.wo.status_since == svc.clock()
    svc.clock.advance(minutes=7)
    capsys.readouterr()
    job = accepted(svc, "unit-maple-1a", LEAK)
    left = stages_left(capsys)
    assert left[-1][0] == "offered"
    assert job.wo.status_since == svc.clock()


def test_drill_work_writes_no_stage_metrics(svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    drill.setup(svc)
    unit = svc.repo.get_unit("drill-unit-a")
    wo = submit_request(svc, NewRequest(unit_id=unit.id, name=unit.tenant.name if unit.tenant else "Tenant",
                                        description=LEAK))
    assert wo.drill
    capsys.readouterr()
    start_lifecycle(svc, wo.id)
    triage(svc, wo.id)
    assert svc.repo.get_work_order(wo.id).status == Status.TRIAGED
    assert stages_left(capsys) == []


# ---------------------------------------------------------------- the emergency's acknowledgement
def emergency(svc: Services, unit_id: str = "unit-maple-1a") -> str:
    """Triaged as an emergency and paged (the EmergencyDeclared event delivered)."""
    job = triaged(svc, unit_id, GAS)
    notify(svc, "EmergencyDeclared", {"work_order_id": job.id, "status": job.wo.status.value,
                                      "event_key": f"{job.id}:EmergencyDeclared"})
    assert svc.repo.get_work_order(job.id).page is not None
    return job.id


def test_the_on_call_acknowledgement_writes_its_delay_once(svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    wo_id = emergency(svc)
    svc.clock.advance(seconds=95)
    capsys.readouterr()
    paging.acknowledge(svc, wo_id, 0, "link")
    [record] = emf(capsys.readouterr().out, "OnCallAckSeconds")
    assert record["OnCallAckSeconds"] == 95
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stage"]]

    svc.clock.advance(seconds=30)
    paging.acknowledge(svc, wo_id, 0, "sms")  # a second ACK changes nothing
    assert emf(capsys.readouterr().out, "OnCallAckSeconds") == []


def test_a_drill_emergency_acknowledged_writes_no_ack_time(svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    drill.setup(svc)
    unit = svc.repo.get_unit("drill-unit-a")
    wo = submit_request(svc, NewRequest(unit_id=unit.id, name="Drill", description=GAS))
    start_lifecycle(svc, wo.id)
    triage(svc, wo.id)
    notify(svc, "EmergencyDeclared", {"work_order_id": wo.id, "status": "triaged", "drill": True,
                                      "event_key": f"{wo.id}:EmergencyDeclared"})
    assert svc.repo.get_work_order(wo.id).page is not None
    capsys.readouterr()
    paging.acknowledge(svc, wo.id, 0, "link")
    assert svc.repo.get_work_order(wo.id).page.acknowledged_after_s is not None  # type: ignore[union-attr]
    assert emf(capsys.readouterr().out, "OnCallAckSeconds") == []


# ---------------------------------------------------------------- open work orders, by the stuck sweep
def test_the_sweep_counts_the_work_orders_waiting_in_each_status_without_drill_work(
        svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    before = {r["Status"]: r["OpenWorkOrders"] for r in emf(_sweep(svc, capsys), "OpenWorkOrders")}
    triaged(svc, UNIT, LEAK)
    offered(svc, "unit-maple-1a", LEAK)
    offered(svc, "unit-maple-1b", LEAK)
    drill.setup(svc)
    unit = svc.repo.get_unit("drill-unit-a")
    drill_wo = submit_request(svc, NewRequest(unit_id=unit.id, name="Drill", description=LEAK))
    start_lifecycle(svc, drill_wo.id)
    triage(svc, drill_wo.id)  # drill work, TRIAGED: not counted

    records = emf(_sweep(svc, capsys), "OpenWorkOrders")
    counts = {r["Status"]: r["OpenWorkOrders"] for r in records}
    assert set(counts) == {s.value for s in COUNTED_STATUSES} == set(before)
    assert "closed" not in counts and "cancelled" not in counts
    assert counts["triaged"] == before["triaged"] + 1
    assert counts["offered"] == before["offered"] + 2
    assert all(counts[s] == before[s] for s in counts if s not in ("triaged", "offered"))
    assert all(r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stage", "Status"]] for r in records)


def _sweep(svc: Services, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    sweep_stuck(svc)
    return capsys.readouterr().out
