"""Preventive maintenance (shared/services/preventive.py): assets get a work order `lead_days` before they
are due, one per asset and due date however often the schedule fires; a verified job restarts the cycle."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.directory import Unit
from shared.domain.enums import Priority, Trade
from shared.domain.workorder import Source, Status
from shared.services.container import Services
from shared.services.preventive import Asset, assets, generate, put_asset, serviced
from shared.services.workorders import start_lifecycle, triage


def asset_ids(svc: Services, wo_ids: list[str]) -> list[str]:
    return sorted(svc.repo.get_work_order(w).asset_id or "" for w in wo_ids)


def test_assets_due_within_the_lead_time_get_a_routine_work_order(svc: Services) -> None:
    created = generate(svc)
    assert asset_ids(svc, created) == ["fire-alarm-harbor", "hvac-filter-maple-2a"]  # the boiler is not due yet
    [hvac] = [svc.repo.get_work_order(w) for w in created if svc.repo.get_work_order(w).asset_id.startswith("hvac")]
    due = svc.clock().date() + timedelta(days=5)
    assert (hvac.source, hvac.trade, hvac.priority, hvac.unit_id, hvac.status) == (
        Source.PREVENTIVE, Trade.HVAC, Priority.ROUTINE, "unit-maple-2a", Status.RECEIVED)
    assert hvac.description == f"Preventive maintenance: Replace the HVAC filter (due {due.isoformat()})."
    assert hvac.tenant.name == "Chloe Nguyen"  # the unit's tenant is the contact for the visit
    assert [d["source"] for d in svc.events.of_type("WorkOrderReceived")] == ["preventive", "preventive"]


def test_the_schedule_firing_twice_creates_each_job_once(svc: Services) -> None:
    first = generate(svc)
    for wo_id in first:
        start_lifecycle(svc, wo_id)
        triage(svc, wo_id)
    again = generate(svc)
    assert sorted(again) == sorted(first)
    assert len(svc.repo.list_work_orders(source="preventive")) == 2
    assert len(svc.events.of_type("WorkOrderReceived")) == 2  # jobs under way are not announced again


def test_a_later_day_brings_the_next_asset_into_the_lead_time(svc: Services) -> None:
    boiler_due = svc.clock().date() + timedelta(days=65)
    lead = timedelta(days=svc.settings.preventive_lead_days)
    assert "boiler-maple" not in asset_ids(svc, generate(svc, today=boiler_due - lead - timedelta(days=1)))
    assert "boiler-maple" in asset_ids(svc, generate(svc, today=boiler_due - lead))


def test_a_preventive_job_is_triaged_as_its_schedule_says(svc: Services) -> None:
    [wo_id, *_] = generate(svc)
    start_lifecycle(svc, wo_id)
    decided = triage(svc, wo_id)
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    assert decided["priority"] == "routine" and decided["trade"] == wo.trade.value
    assert wo.timeline[-1].detail == f"{wo.trade.value}, routine (from the preventive rules)"


def test_an_asset_whose_unit_is_unknown_is_skipped(svc: Services) -> None:
    put_asset(svc, Asset(id="ghost", unit_id="unit-gone", kind="hvac_filter", description="Filter", trade=Trade.HVAC,
                         interval_days=30, last_service=svc.clock().date() - timedelta(days=30)))
    created = generate(svc)
    assert "ghost" not in asset_ids(svc, created) and len(created) == 2


def test_a_building_asset_without_a_tenant_is_a_job_for_the_building(svc: Services) -> None:
    svc.repo.put_unit(Unit(id="unit-maple-boiler", property_id="prop-maple", label="Boiler room"))
    put_asset(svc, Asset(id="sprinklers-maple", unit_id="unit-maple-boiler", kind="sprinkler_test",
                         description="Sprinkler test", trade=Trade.FIRE_SAFETY, interval_days=365,
                         last_service=svc.clock().date() - timedelta(days=365)))
    [wo] = [svc.repo.get_work_order(w) for w in generate(svc)
            if svc.repo.get_work_order(w).asset_id == "sprinklers-maple"]
    assert (wo.tenant.name, wo.tenant.phone, wo.tenant.email) == ("Building", None, None)


def test_servicing_restarts_the_cycle_and_the_next_due_date_is_a_new_job(svc: Services) -> None:
    [first] = [w for w in generate(svc) if svc.repo.get_work_order(w).asset_id == "hvac-filter-maple-2a"]
    today = svc.clock().date()
    serviced(svc, "hvac-filter-maple-2a", today)
    [filter_asset] = [a for a in assets(svc) if a.id == "hvac-filter-maple-2a"]
    assert (filter_asset.last_service, filter_asset.due) == (today, today + timedelta(days=90))
    assert "hvac-filter-maple-2a" not in asset_ids(svc, generate(svc))  # not due again yet

    next_round = today + timedelta(days=90) - timedelta(days=svc.settings.preventive_lead_days)
    [second] = [w for w in generate(svc, today=next_round)
                if svc.repo.get_work_order(w).asset_id == "hvac-filter-maple-2a"]
    assert second != first


def test_an_older_service_date_or_an_unknown_asset_changes_nothing(svc: Services) -> None:
    before = {a.id: a.last_service for a in assets(svc)}
    serviced(svc, "hvac-filter-maple-2a", before["hvac-filter-maple-2a"] - timedelta(days=1))
    serviced(svc, "no-such-asset", svc.clock().date())
    assert {a.id: a.last_service for a in assets(svc)} == before
