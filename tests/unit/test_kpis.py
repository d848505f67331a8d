"""The KPI formulas (shared/domain/kpis.py): one work order's facts, their difference, the values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.domain import kpis
from shared.domain.directory import Contact
from shared.domain.enums import Priority, Trade
from shared.domain.workorder import TimelineEntry, Window, WorkOrder

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = "2026-03-02|prop-1|plumbing|urgent|ven-a"


class RatedWorkOrder(WorkOrder):
    """The field another part of issue 12 adds (the tenant's rating of the job): read when present."""

    satisfaction: dict[str, Any] | None = None


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def e(minutes: float, event: str, detail: str = "", actor: str = "system") -> TimelineEntry:
    return TimelineEntry(at=at(minutes), event=event, detail=detail, actor=actor)


def job(timeline: list[TimelineEntry], cls: type[WorkOrder] = WorkOrder, **fields: Any) -> WorkOrder:
    values: dict[str, Any] = {"id": "wo-1", "property_id": "prop-1", "unit_id": "unit-1",
                              "tenant": Contact(name="Ana"), "description": "Leak", "trade": Trade("plumbing"),
                              "priority": Priority.URGENT, "vendor_id": "ven-a", "created_at": T0, "updated_at": T0,
                              "timeline": timeline}
    return cls(**{**values, **fields})


JOURNEY = [
    e(0, "received", actor="tenant"),
    e(2, "notified", "SMS to tenant: We got it"),
    e(5, "offered", "Offered to Bee (vendor ven-b)"),
    e(20, "declined", "Vendor declined: busy", "vendor:ven-b"),
    e(21, "offered", "Offered to Aqua (vendor ven-a)"),
    e(51, "accepted", "Vendor accepted", "vendor:ven-a"),
    e(111, "scheduled", actor="vendor:ven-a"),
    e(300, "checkin", actor="vendor:ven-a"),
    e(400, "completed", actor="vendor:ven-a"),
    e(500, "verified", actor="tenant"),
    e(600, "ops_note", "called the owner", "ops:dana"),
    e(601, "notified", "SMS to tenant: reply to STATUS (sms)"),
]


def test_a_journey_gives_its_durations_rates_and_touches() -> None:
    window = Window(start=at(240), end=at(480))
    facts = kpis.facts(job(JOURNEY, window=window))
    own = facts[KEY]
    assert own["wo"] == 1
    assert own["tenant_ack.sum"] == 120 and own["first_offer.sum"] == 300
    assert own["vendor_accept.sum"] == 30 * 60  # from the offer it answered, not the first offer
    assert own["schedule.sum"] == 60 * 60 and own["complete.sum"] == (400 - 111) * 60
    assert own["resolution.sum"] == 500 * 60 and "close.n" not in own  # not billed yet
    assert (own["on_time_arrival.num"], own["on_time_arrival.den"]) == (1, 1)
    assert (own["sla_accept.num"], own["sla_schedule.num"]) == (1, 1)  # urgent: 2 h to accept, 4 h to schedule
    assert (own["first_time_fix.num"], own["reopen.den"], own.get("reopen.num", 0)) == (1, 1, 0)
    assert (own["escalation.den"], own.get("escalation.num", 0)) == (1, 0)
    assert own["admin_touches"] == 1 and own["admin_minutes"] == kpis.admin_minutes("ops_note")
    assert own["status_answers"] == 1
    # The declined offer counts for the vendor it was made to, the accepted one for the vendor who took it.
    declined = facts["2026-03-02|prop-1|plumbing|urgent|ven-b"]
    assert (declined["vendor_acceptance.den"], declined.get("vendor_acceptance.num", 0)) == (1, 0)
    assert declined["vendor_response.sum"] == 15 * 60
    assert (own["vendor_acceptance.num"], own["vendor_acceptance.den"]) == (1, 1)


def test_a_late_check_in_misses_the_window_but_may_meet_the_arrive_sla() -> None:
    window = Window(start=at(240), end=at(280))
    own = kpis.facts(job(JOURNEY, window=window))[KEY]
    assert own.get("on_time_arrival.num", 0) == 0 and own["on_time_arrival.den"] == 1
    assert own["sla_arrive.num"] == 1  # 20 minutes late: within the urgent arrive grace (1 h)


def test_drill_work_orders_contribute_nothing() -> None:
    assert kpis.facts(job(JOURNEY, drill=True)) == {}


def test_status_page_views_add_to_the_status_replies() -> None:
    own = kpis.facts(job(JOURNEY), status_views=3)[KEY]
    assert (own["status_answers"], own["status_views"]) == (4, 3)  # 1 STATUS reply + 3 counted views
    deflection = {v["id"]: v for v in kpis.values(own)}["status_deflection"]
    assert (deflection["value"], deflection["status_views"]) == (4, 3)
    assert "status_views" not in kpis.facts(job(JOURNEY))[KEY]
    assert kpis.facts(job(JOURNEY, drill=True), status_views=3) == {}


def test_cost_per_unit_divides_by_the_units_in_scope_and_aws_cost_is_an_estimate() -> None:
    values = {v["id"]: v for v in kpis.values({"wo": 4, "cost_cents": 90_000, "invoiced": 3, "units": 12})}
    assert (values["cost_per_unit"]["value"], values["cost_per_unit"]["units"]) == (7500, 12)
    assert {v["id"]: v for v in kpis.values({"cost_cents": 90_000})}["cost_per_unit"]["value"] is None  # no units
    aws = values["aws_cost_per_work_order"]
    figure = kpis.rules()["aws_cost_estimate"]
    assert aws["estimate"] is True and aws["value"] == figure["usd_per_work_order"] == 0.09
    assert aws["total"] == round(4 * 0.09, 2) and aws["measured_on"] == figure["measured_on"]
    assert {v["id"]: v for v in kpis.values({})}["aws_cost_per_work_order"]["value"] is None


def test_a_summary_applies_the_same_formulas_to_drill_work_orders() -> None:
    drills = [job(JOURNEY, drill=True), job([e(0, "received"), e(10, "offered", "Offered (vendor ven-a)")],
                                            id="wo-2", drill=True)]
    summary = {v["id"]: v for v in kpis.summary(drills, ["first_offer", "vendor_accept", "resolution"])}
    assert list(summary) == ["first_offer", "vendor_accept", "resolution"]
    assert (summary["first_offer"]["count"], summary["first_offer"]["mean"]) == (2, (300 + 600) / 2)
    assert (summary["vendor_accept"]["mean"], summary["resolution"]["mean"]) == (30 * 60, 500 * 60)
    assert all(kpis.facts(wo) == {} for wo in drills)  # still nothing in the rollups


def test_satisfaction_is_read_when_present_and_ignored_when_absent() -> None:
    rated = kpis.facts(job(JOURNEY, RatedWorkOrder, satisfaction={"rating": 4}))[KEY]
    assert (rated["csat.n"], rated["csat.sum"]) == (1, 4)
    plain = kpis.facts(job(JOURNEY))[KEY]
    assert not any(k.startswith("csat") for k in plain)
    values = {v["id"]: v for v in kpis.values(kpis.total([rated, plain]))}
    assert values["csat"]["value"] == 4.0 and values["csat"]["count"] == 1


def test_nps_is_promoters_minus_detractors_in_percent() -> None:
    answers = [kpis.nps_facts(T0.date(), "prop-1", score) for score in (10, 9, 8, 7, 6, 0)]
    summed = kpis.total(c for facts in answers for c in facts.values())
    assert list(answers[0]) == ["2026-03-02|prop-1|-|-|-"]
    nps = next(v for v in kpis.values(summed) if v["id"] == "nps")
    assert (nps["count"], nps["promoters"], nps["detractors"], nps["value"]) == (6, 2, 2, 0.0)


def test_a_recall_within_30_days_counts_on_its_original() -> None:
    original = job(JOURNEY, id="wo-0", completed_at=at(400))
    recall = job([e(0, "received")], id="wo-2", recall_of="wo-0", created_at=at(400) + timedelta(days=29),
                 vendor_id=None)
    facts = kpis.facts(recall, original=original)
    assert facts[KEY] == {"recall_30d.num": 1}
    late = recall.model_copy(update={"created_at": at(400) + timedelta(days=31)})
    assert KEY not in kpis.facts(late, original=original)


def test_delta_moves_a_contribution_between_buckets() -> None:
    old = {"a": {"wo": 1, "x.n": 2}, "b": {"wo": 1}}
    new = {"a": {"wo": 1, "x.n": 3}, "c": {"wo": 1}}
    assert kpis.delta(old, new) == {"a": {"x.n": 1}, "b": {"wo": -1}, "c": {"wo": 1}}
    assert kpis.delta(new, new) == {}


def test_percentiles_are_the_upper_bound_of_the_bucket_holding_the_rank() -> None:
    bounds = json.loads((Path(kpis.RULES)).read_text())["histogram_bounds_s"]
    counters: dict[str, int] = {}
    for seconds in (30, 200, 250, 4000, 100000):
        kpis._record_duration(counters, "d", seconds)
    assert kpis.percentile(counters, "d", 0.5) == bounds[1]  # the 3rd of 5 is 250 s: the 5-minute bucket
    assert kpis.percentile(counters, "d", 0.9) == bounds[10]  # the 5th is 100000 s: the 2-day bucket
    assert kpis.percentile({}, "d", 0.5) is None
    kpis._record_duration(counters, "e", 10**9)
    assert kpis.percentile(counters, "e", 0.5) is None  # past the last bound


def test_every_kpi_in_the_rules_has_a_value_and_the_file_is_versioned() -> None:
    rules = kpis.rules()
    assert rules["version"] and rules["changelog"] and rules["version"] in rules["changelog"][-1]
    ids = [d["id"] for d in kpis.definitions()]
    assert len(ids) == len(set(ids))
    assert [v["id"] for v in kpis.values({})] == ids
    assert kpis.bounds() == sorted(set(kpis.bounds()))
