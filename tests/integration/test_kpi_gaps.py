"""KPI gaps on the local cloud (wiring only; the figures are tested in tests/service and tests/unit): a read of
the tenant's status page reaches the rollups through `StatusPageViewed`, the bus and the KpiRollupFunction;
cost per unit finds the property's units; `/ops/kpis?work_orders=` answers one work order's own KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import U, eventually
from tests.integration.test_lifecycle import submit, wait_offer

pytestmark = pytest.mark.integration


def test_a_status_page_view_reaches_the_rollups_and_a_work_orders_own_kpis_are_served(stack, api, ops_headers):
    created = submit(api, U("unit-harbor-102"), "The kitchen cabinet door hinge is loose")
    wo_id = created["id"]
    wait_offer(stack, wo_id)
    for _ in range(2):  # a refresh in the same hour counts once
        assert api.get(created["status_url"]).status == 200
    eventually(lambda: stack.repo.status_views(wo_id) == 1)
    eventually(lambda: any(c.get("status_views") == 1 for c in stack.repo.rollup_facts(wo_id)[0].values()))

    today = datetime.now(UTC).date()
    period = f"from={(today - timedelta(days=1)).isoformat()}&to={today.isoformat()}"
    wo_property = stack.repo.get_work_order(wo_id).property_id
    report = api.get(f"/ops/kpis?{period}&property_id={wo_property}", headers=ops_headers)
    assert report.status == 200, report.body
    kpis = {k["id"]: k for k in report.json()["kpis"]}
    assert kpis["status_deflection"]["status_views"] >= 1
    assert kpis["cost_per_unit"]["units"] == len(stack.repo.unit_ids(wo_property)) > 0
    assert kpis["aws_cost_per_work_order"]["estimate"] is True

    own = api.get(f"/ops/kpis?work_orders={wo_id}", headers=ops_headers)
    assert own.status == 200, own.body
    first_offer = next(k for k in own.json()["kpis"] if k["id"] == "first_offer")
    assert first_offer["count"] == 1 and first_offer["mean"] is not None
