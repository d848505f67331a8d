"""Views of the tenant's status page count as status questions answered without a call (`status_deflection`):
at most one a work order and hour, without a timeline entry, announced once so the rollups pick them up.
The drill's own work orders (never in the rollups) get their KPIs from the same formulas on request."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest

from shared.domain.errors import InvalidInput, NotFound
from shared.services import drill, kpis, views
from shared.services.container import Services
from tests.fakes.messaging import RecordingEvents
from tests.service.journeys import completed, offered, tenant_token

UNIT = "unit-maple-1a"
LEAK = "The bathroom faucet drips constantly"


def _views_published(svc: Services) -> list[dict[str, Any]]:
    assert isinstance(svc.events, RecordingEvents)
    return [d for t, d in svc.events.published if t == kpis.STATUS_VIEWED]


def _consume(svc: Services) -> None:
    """The rollup consumer on every event published so far, as the KpiRollupRule would deliver them."""
    assert isinstance(svc.events, RecordingEvents)
    for n, (detail_type, detail) in enumerate(svc.events.published):
        kpis.apply_event(svc, {"id": f"ev-{n}", "detail-type": detail_type, "detail": detail})


def _deflection(svc: Services) -> dict[str, Any]:
    today = svc.clock().date()
    return next(k for k in kpis.kpis(svc, today, today)["kpis"] if k["id"] == "status_deflection")


def test_a_view_counts_once_an_hour_and_reaches_the_rollups(svc: Services) -> None:
    job = offered(svc, UNIT, LEAK)
    token = tenant_token(svc, job.wo)
    entries = len(job.load(svc, with_timeline=True).timeline)
    for _ in range(3):  # the tenant refreshes the page
        views.tenant_status(svc, job.id, token)
    assert svc.repo.status_views(job.id) == 1
    hour = f"{svc.clock().astimezone(UTC):%Y-%m-%dT%H}"
    assert [d["event_key"] for d in _views_published(svc)] == [f"{job.id}:viewed:{hour}"]
    assert len(job.load(svc, with_timeline=True).timeline) == entries  # a view writes no timeline entry

    svc.clock.advance(hours=1)
    views.tenant_status(svc, job.id, token)
    views.tenant_status(svc, job.id, token)
    assert svc.repo.status_views(job.id) == 2 and len(_views_published(svc)) == 2

    _consume(svc)
    deflection = _deflection(svc)
    assert (deflection["value"], deflection["status_views"]) == (2, 2)
    _consume(svc)  # a redelivery changes nothing
    assert _deflection(svc)["value"] == 2


def test_views_add_to_the_status_replies(svc: Services) -> None:
    job = offered(svc, UNIT, LEAK)
    views.tenant_status(svc, job.id, tenant_token(svc, job.wo))
    _consume(svc)
    before = _deflection(svc)
    svc.clock.advance(hours=2)
    views.tenant_status(svc, job.id, tenant_token(svc, job.wo))
    _consume(svc)
    after = _deflection(svc)
    assert (after["value"] - before["value"], after["status_views"]) == (1, 2)


def test_a_drill_work_order_view_is_not_counted(svc: Services) -> None:
    job = offered(svc, UNIT, LEAK)
    drill = job.load(svc).model_copy(update={"drill": True})
    assert kpis.note_status_view(svc, drill) is False
    assert svc.repo.status_views(job.id) == 0 and _views_published(svc) == []


def test_the_drills_own_work_orders_get_their_kpis_from_the_same_formulas(svc: Services) -> None:
    drill.setup(svc)
    job = completed(svc, "drill-unit-a", LEAK)
    wo = job.load(svc, with_timeline=True)
    assert wo.drill
    _consume(svc)
    assert svc.repo.rollup_facts(job.id) == ({}, 0)  # never in the rollups

    report = kpis.own_kpis(svc, [job.id])
    got = {k["id"]: k for k in report["kpis"]}
    assert list(got) == list(kpis.OWN_KPIS) and report["work_orders"] == [job.id]
    first = {e.event: e.at for e in reversed(wo.timeline)}  # each event's first time
    assert (got["first_offer"]["count"], got["first_offer"]["mean"]) == (
        1, (first["offered"] - first["received"]).total_seconds())
    assert got["complete"]["mean"] == (first["completed"] - first["scheduled"]).total_seconds()
    assert got["resolution"]["count"] == 0  # completed, not verified yet


def test_own_kpis_take_1_to_20_known_work_orders(svc: Services) -> None:
    with pytest.raises(InvalidInput):
        kpis.own_kpis(svc, [])
    with pytest.raises(InvalidInput):
        kpis.own_kpis(svc, [f"wo-{n}" for n in range(21)])
    with pytest.raises(NotFound):
        kpis.own_kpis(svc, ["wo-nope"])
