"""KPIs on a seeded 120-day history (tests/service/kpi_history.py): the rollups the consumer builds from
lifecycle events give the figures computed here independently from the generator's own record of what it
made; replays, duplicates and events out of order change nothing; the backfill rebuilds the same rollups."""

from __future__ import annotations

import copy
import json
import math
import random
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra import demo
from shared.domain.errors import InvalidInput
from shared.domain.workorder import TimelineEntry
from shared.services import kpis
from shared.services.container import Services
from tests.fakes import fake_services, seed_demo
from tests.service.kpi_history import Truth, Written, generate, write_first_half, write_rest

ROOT = Path(__file__).resolve().parents[2]
KPI_RULES = json.loads((ROOT / "shared/rules/kpis.json").read_text())
TIMERS = json.loads((ROOT / "shared/rules/timers.json").read_text())["stages"]
BOUNDS = KPI_RULES["histogram_bounds_s"]


# ---------------------------------------------------------------- building the history
def _events(job: Written, phase: int) -> list[dict[str, Any]]:
    drill = {"drill": True} if job.truth.drill else {}
    kinds = ["WorkOrderTriaged"] if phase == 1 else ["VendorAccepted", "WorkCompleted", "WorkOrderVerified"]
    return [{"id": f"{job.truth.id}-{phase}-{n}", "detail-type": kind,
             "detail": {"work_order_id": job.truth.id, "event_key": f"{job.truth.id}:{kind}", **drill}}
            for n, kind in enumerate(kinds)]


@pytest.fixture(scope="module")
def built() -> tuple[list[Written], dict[Any, Any]]:
    """The history written in two phases on the demo portfolio, the consumer applying each phase's events
    (shuffled) as it goes; built once per module, each test gets its own copy of the table."""
    svc = fake_services()
    seed_demo(svc.repo, svc.clock().date())
    jobs = generate(svc.clock())
    rnd = random.Random(7)
    for job in jobs:
        write_first_half(svc, job)
    first = [e for job in jobs for e in _events(job, 1)]
    rnd.shuffle(first)
    for event in first:
        kpis.apply_event(svc, event)
    for job in jobs:
        write_rest(svc, job)
    rest = [e for job in jobs for e in _events(job, 2)]
    rnd.shuffle(rest)
    for event in rest:
        kpis.apply_event(svc, event)
    return jobs, svc.repo.table.items


@pytest.fixture
def history(svc: Services, built: tuple[list[Written], dict[Any, Any]]) -> list[Written]:
    jobs, items = built
    svc.repo.table.items = copy.deepcopy(items)
    return jobs


def _range(svc: Services) -> tuple[date, date]:
    today = svc.clock().date()
    return today - timedelta(days=130), today


# ---------------------------------------------------------------- the expected figures, from the truth
def _percentile(values: list[int], p: float) -> int | None:
    """Nearest-rank percentile of the exact values, at the documented resolution (the bucket's upper bound)."""
    exact = sorted(values)[math.ceil(p * len(values)) - 1]
    return next((b for b in BOUNDS if exact <= b), None)


def _duration(values: list[int | None]) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    if not present:
        return {"count": 0, "mean": None, "p50": None, "p90": None}
    return {"count": len(present), "mean": round(sum(present) / len(present), 1),
            "p50": _percentile(present, 0.5), "p90": _percentile(present, 0.9)}


def _rate(hits: list[bool]) -> dict[str, Any]:
    return {"numerator": sum(hits), "denominator": len(hits),
            "value": round(sum(hits) / len(hits), 4) if hits else None}


def _minutes(event: str) -> int:
    config = KPI_RULES["admin_minutes"]
    return config["per_event"].get(event, config["default"])


def units_of(*property_ids: str) -> int:
    """The demo portfolio's units of these properties (every property when none is named), from infra/demo.py."""
    return sum(1 for u in demo.UNITS if not property_ids or u.property_id in property_ids)


def expected(truths: list[Truth], recalls: list[Truth], units: int) -> dict[str, dict[str, Any]]:
    """Every KPI from the generator's record. `recalls`: the recall jobs whose original is among `truths`;
    `units`: the units of the properties in scope."""
    real = [t for t in truths if not t.drill]
    offers = [o for t in real for o in t.offers]
    visits = [t for t in real if t.visit in ("on_time", "late")] + [t for t in real if t.visit == "no_show"]
    completed = [t for t in real if t.completed]
    invoiced = [t for t in real if t.cost_cents]
    touches = [e for t in real for e in t.touches]

    def sla(stage: str, values: Callable[[Truth], int | None]) -> dict[str, Any]:
        return _rate([values(t) <= TIMERS[stage][t.priority] for t in real if values(t) is not None])

    return {
        "work_orders": {"value": len(real)},
        "tenant_ack": _duration([t.ack_s for t in real]),
        "first_offer": _duration([t.first_offer_s for t in real]),
        "vendor_accept": _duration([t.accept_s for t in real]),
        "schedule": _duration([t.schedule_s for t in real]),
        "complete": _duration([t.complete_s for t in real]),
        "resolution": _duration([t.verified_s for t in real]),
        "close": _duration([t.billed_s for t in real]),
        "on_time_arrival": _rate([t.visit == "on_time" for t in visits]),
        "sla_accept": sla("accept", lambda t: t.accept_s),
        "sla_schedule": sla("schedule", lambda t: t.schedule_s),
        "sla_complete": sla("complete", lambda t: t.complete_s),
        "sla_arrive": _rate([t.visit == "on_time" or (t.visit == "late" and t.late_by_s <= TIMERS["arrive"][t.priority])
                             for t in visits]),
        "first_time_fix": _rate([not t.reopened for t in real if t.verified_s is not None]),
        "reopen": _rate([t.reopened for t in completed]),
        "recall_30d": {"numerator": sum(r.recall_within_30 for r in recalls), "denominator": len(completed)},
        "no_show": _rate([t.visit == "no_show" for t in real if t.schedule_s is not None]),
        "vendor_acceptance": _rate([o.outcome == "accepted" for o in offers]),
        "vendor_response": _duration([o.response_s for o in offers]),
        "escalation": {**_rate([t.escalated_from is not None for t in real]),
                       "mix": dict(sorted(Counter(t.escalated_from for t in real if t.escalated_from).items()))},
        "page_ack": _duration([t.page_ack_s for t in real]),
        "admin_touches": {"total": len(touches), "value": round(len(touches) / len(real), 2) if real else None},
        "admin_minutes": {"total": sum(_minutes(e) for e in touches),
                          "value": round(sum(_minutes(e) for e in touches) / len(real), 2) if real else None},
        "csat": {"count": 0, "value": None},  # the history has no ratings (the field is optional)
        "nps": {"count": 0, "value": None},
        "status_deflection": {"value": sum(t.status_answers for t in real)},
        "cost_total": {"value": sum(t.cost_cents for t in real)},
        "cost_per_unit": {"total": sum(t.cost_cents for t in real), "units": units,
                          "value": round(sum(t.cost_cents for t in real) / units)},
        "aws_cost_per_work_order": {"estimate": True, "work_orders": len(real), "per_work_order": 0.09,
                                    "total": round(0.09 * len(real), 2), "value": 0.09 if real else None},
        "cost_per_work_order": {"total": sum(t.cost_cents for t in real), "invoiced_work_orders": len(invoiced),
                                "value": round(sum(t.cost_cents for t in real) / len(invoiced)) if invoiced else None},
    }


def _recalls_of(jobs: list[Written], originals: list[Truth]) -> list[Truth]:
    ids = {t.id for t in originals if not t.drill}
    return [j.truth for j in jobs if j.truth.recall_of in ids and not j.truth.drill]


def assert_matches(reported: list[dict[str, Any]], want: dict[str, dict[str, Any]]) -> None:
    by_id = {k["id"]: k for k in reported}
    assert set(by_id) == set(want)
    for kpi, figures in want.items():
        got = {name: by_id[kpi].get(name) for name in figures}
        assert got == figures, kpi


# ---------------------------------------------------------------- the tests
def test_the_history_is_big_enough_to_mean_something(history: list[Written]) -> None:
    truths = [j.truth for j in history]
    assert len(truths) >= 300 and sum(t.drill for t in truths) > 0
    assert sum(t.reopened for t in truths) > 5 and sum(t.recall_within_30 for t in truths) > 0
    assert sum(t.visit == "no_show" for t in truths) > 5 and sum(t.page_ack_s is not None for t in truths) > 5


def test_kpis_equal_the_figures_computed_from_the_generated_history(svc: Services, history: list[Written]) -> None:
    first, last = _range(svc)
    truths = [j.truth for j in history]
    report = kpis.kpis(svc, first, last)
    assert_matches(report["kpis"], expected(truths, _recalls_of(history, truths), units_of()))


def test_a_period_and_a_property_select_their_work_orders(svc: Services, history: list[Written]) -> None:
    first = svc.clock().date() - timedelta(days=60)
    last = svc.clock().date() - timedelta(days=20)
    truths = [j.truth for j in history if first <= j.truth.created_at.date() <= last
              and j.truth.property_id == "prop-maple"]
    report = kpis.kpis(svc, first, last, property_id="prop-maple")
    assert_matches(report["kpis"], expected(truths, _recalls_of(history, truths), units_of("prop-maple")))


@pytest.mark.parametrize("group_by", ["priority", "trade", "property"])
def test_groups_hold_their_own_work_orders(svc: Services, history: list[Written], group_by: str) -> None:
    first, last = _range(svc)
    attribute = {"priority": "priority", "trade": "trade", "property": "property_id"}[group_by]
    report = kpis.kpis(svc, first, last, group_by=group_by)
    groups = {g[group_by]: g["kpis"] for g in report["groups"]}
    values = {getattr(j.truth, attribute) for j in history if not j.truth.drill}
    assert set(groups) == values
    for value, reported in groups.items():
        truths = [j.truth for j in history if getattr(j.truth, attribute) == value]
        units = units_of(value) if group_by == "property" else units_of()
        assert_matches(reported, expected(truths, _recalls_of(history, truths), units))


def test_by_vendor_offers_count_for_the_offered_vendor_and_jobs_for_the_one_who_did_them(
        svc: Services, history: list[Written]) -> None:
    first, last = _range(svc)
    groups = {g["vendor"]: {k["id"]: k for k in g["kpis"]}
              for g in kpis.kpis(svc, first, last, group_by="vendor")["groups"]}
    real = [j.truth for j in history if not j.truth.drill]
    for vendor_id in ("ven-aqua", "ven-volt"):
        offers = [o for t in real for o in t.offers if o.vendor_id == vendor_id]
        mine = [t for t in real if t.vendor_id == vendor_id]
        assert {k: groups[vendor_id]["vendor_acceptance"][k] for k in ("numerator", "denominator", "value")} \
            == _rate([o.outcome == "accepted" for o in offers])
        assert groups[vendor_id]["complete"]["count"] == sum(t.complete_s is not None for t in mine)
        assert groups[vendor_id]["on_time_arrival"]["numerator"] == sum(t.visit == "on_time" for t in mine)
        card = {k["id"]: k for k in kpis.scorecard(svc, vendor_id, first, last)["kpis"]}
        assert card["vendor_acceptance"] == groups[vendor_id]["vendor_acceptance"]
        assert card["vendor_response"]["count"] == sum(o.response_s is not None for o in offers)
    assert groups["-"]["work_orders"]["value"] == sum(t.vendor_id is None for t in real)


def _snapshot(svc: Services) -> list[dict[str, Any]]:
    first, last = _range(svc)
    return sorted(svc.repo.rollups(first, last), key=lambda r: r["key"])


def test_replays_duplicates_and_any_order_change_nothing(svc: Services, history: list[Written]) -> None:
    before = _snapshot(svc)
    # Every third job's events (a few hundred, both phases, every kind of event): the whole history took 13 s.
    events = [e for job in history[::3] for phase in (1, 2) for e in _events(job, phase)]
    random.Random(3).shuffle(events)
    outcomes = Counter(kpis.apply_event(svc, e) for e in events)  # the same events again: recomputed, no change
    assert outcomes["applied"] == 0 and outcomes["unchanged"] > 0
    fresh = [{**e, "id": f"replayed-{e['id']}"} for e in events]  # a replay under new ids: nothing to change
    outcomes = Counter(kpis.apply_event(svc, e) for e in reversed(fresh))
    assert outcomes["applied"] == 0 and outcomes["unchanged"] > 0
    assert _snapshot(svc) == before


def test_the_backfill_rebuilds_what_the_consumer_built(svc: Services, history: list[Written]) -> None:
    built = _snapshot(svc)
    first, last = _range(svc)
    assert kpis.backfill(svc, first, last)["changed"] == 0  # the consumer missed nothing
    for key in [k for k in svc.repo.table.items if k[0].startswith(("ROLLUP#", "KPIWO#"))]:
        del svc.repo.table.items[key]
    assert _snapshot(svc) == []
    result = kpis.backfill(svc, first, last)
    assert result["work_orders"] == len(history)
    assert _snapshot(svc) == built


def test_drill_work_orders_are_never_counted(svc: Services, history: list[Written]) -> None:
    drills = [j.truth.id for j in history if j.truth.drill]
    for wo_id in drills:
        assert svc.repo.rollup_facts(wo_id) == ({}, 0)
        assert kpis.apply_event(svc, {"id": f"x-{wo_id}", "detail": {"work_order_id": wo_id, "drill": True}}) \
            == "drill"
    first, last = _range(svc)
    kpis.backfill(svc, first, last)
    assert all(svc.repo.rollup_facts(wo_id) == ({}, 0) for wo_id in drills)


def test_the_baseline_shows_each_kpi_at_30_60_and_90_days(svc: Services, history: list[Written]) -> None:
    today = svc.clock().date()
    deployed = today - timedelta(days=95)
    period = (today - timedelta(days=119), deployed - timedelta(days=1))
    kpis.set_baseline(svc, {"from": period[0].isoformat(), "to": period[1].isoformat(),
                            "deployed_on": deployed.isoformat(), "figures": {"csat": 3.9}}, actor="ops:test")
    report = kpis.kpis(svc, today - timedelta(days=10), today)
    rows = {k["id"]: k for k in report["baseline"]["kpis"]}

    def count(first: date, last: date) -> int:
        return sum(1 for j in history if not j.truth.drill and first <= j.truth.created_at.date() <= last)

    assert rows["work_orders"]["baseline"] == count(*period)
    assert rows["csat"]["baseline"] == 3.9  # entered by hand
    for days in (30, 60, 90):
        assert rows["work_orders"][f"after_{days}_days"] == count(deployed, deployed + timedelta(days=days - 1))
    assert kpis.get_baseline(svc)["set_by"] == "ops:test"


def test_a_baseline_needs_a_period_or_known_figures(svc: Services) -> None:
    with pytest.raises(InvalidInput):
        kpis.set_baseline(svc, {}, actor="ops:test")
    with pytest.raises(InvalidInput):
        kpis.set_baseline(svc, {"figures": {"no_such_kpi": 1}}, actor="ops:test")


def test_csv_has_a_row_per_kpi_and_group(svc: Services, history: list[Written]) -> None:
    first, last = _range(svc)
    report = kpis.kpis(svc, first, last, group_by="priority")
    lines = kpis.to_csv(report).splitlines()
    assert lines[0].startswith("group,id,name,unit,value")
    assert len(lines) == 1 + len(KPI_RULES["kpis"]) * (1 + len(report["groups"]))
    assert any(line.startswith("priority=emergency,resolution,") for line in lines)


def test_bad_ranges_and_groups_are_refused(svc: Services) -> None:
    today = svc.clock().date()
    with pytest.raises(InvalidInput):
        kpis.parse_range("2026-06-10", "2026-06-01", today)
    with pytest.raises(InvalidInput):
        kpis.parse_range("June", None, today)
    with pytest.raises(InvalidInput):
        kpis.kpis(svc, today, today, group_by="tenant")
    assert kpis.parse_range(None, None, today) == (today - timedelta(days=29), today)


def test_nps_answers_count_once_per_tenant_and_quarter(svc: Services) -> None:
    def answered(tenant: str, score: int, event_id: str) -> dict[str, Any]:
        return {"id": event_id, "detail-type": "TenantNpsAnswered", "time": "2026-06-09T18:00:00Z",
                "detail": {"tenant": tenant, "quarter": "2026-Q2", "score": score, "unit_id": "u-1",
                           "property_id": "prop-maple", "event_key": f"nps:{tenant}:2026-Q2"}}

    assert kpis.apply_event(svc, answered("t-1", 10, "e-1")) == "applied"
    assert kpis.apply_event(svc, answered("t-1", 10, "e-1")) == "unchanged"  # a duplicate
    assert kpis.apply_event(svc, answered("t-2", 3, "e-2")) == "applied"
    assert kpis.apply_event(svc, answered("t-3", 8, "e-3")) == "applied"
    day = date(2026, 6, 9)
    report = kpis.kpis(svc, day, day, property_id="prop-maple")
    nps = next(k for k in report["kpis"] if k["id"] == "nps")
    assert (nps["count"], nps["promoters"], nps["detractors"], nps["value"]) == (3, 1, 1, 0.0)
    assert next(k for k in kpis.kpis(svc, day, day, property_id="prop-harbor")["kpis"] if k["id"] == "nps")[
        "count"] == 0



def test_a_consumer_that_read_an_older_work_order_cannot_overwrite_a_newer_contribution(
        svc: Services, history: list[Written], monkeypatch: pytest.MonkeyPatch) -> None:
    job = next(j for j in history if j.truth.completed and not j.truth.drill and not j.truth.reopened)
    wo_id, real_get = job.truth.id, svc.repo.get_work_order
    newer = TimelineEntry(at=svc.clock(), event="reopened", detail="Tenant says it is not fixed", actor="tenant")
    raced = []

    def get_work_order(asked: str, with_timeline: bool = False) -> Any:
        wo = real_get(asked, with_timeline)
        if asked == wo_id and with_timeline and not raced:  # another consumer runs between our two reads
            raced.append(True)
            svc.repo.add_timeline(wo_id, newer)
            assert kpis.refresh(svc, wo_id) is True
        return wo

    monkeypatch.setattr(svc.repo, "get_work_order", get_work_order)
    kpis.refresh(svc, wo_id)  # decided on the older timeline first: refused, decided again on the newer one
    facts, _ = svc.repo.rollup_facts(wo_id)
    own = next(c for c in facts.values() if c.get("wo"))
    assert raced and own["reopen.num"] == 1
