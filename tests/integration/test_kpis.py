"""KPIs on the local cloud (wiring only; the figures are tested in tests/service/test_kpis.py): lifecycle
events reach the KpiRollupFunction through the bus and its queue, the rollups answer /ops/kpis (JSON and
CSV), the vendor's scorecard, the baseline and the backfill route, and `opslayer ops scorecard`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import U, eventually
from tests.integration.test_lifecycle import submit, wait_offer

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_lifecycle_events_build_the_rollups_the_kpi_routes_read(stack, api, ops_headers, served):
    wo_id = submit(api, U("unit-harbor-101"), "The bedroom closet door hinge is loose")["id"]
    vendor_id, token = wait_offer(stack, wo_id)
    assert api.post(f"/vendor/jobs/{token}/accept").json()["status"] == "accepted"

    # The consumer recomputed this work order's facts: its offer counts for the vendor who accepted it.
    repo = stack.repo

    def accepted_offer() -> bool:
        facts, _ = repo.rollup_facts(wo_id)
        return any(key.endswith(f"|{vendor_id}") and counters.get("vendor_acceptance.num") == 1
                   for key, counters in facts.items())

    eventually(accepted_offer)
    today = datetime.now(UTC).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}

    report = api.get(f"/ops/kpis?from={period['from']}&to={period['to']}&group_by=vendor", headers=ops_headers)
    assert report.status == 200, report.body
    groups = {g["vendor"]: {k["id"]: k for k in g["kpis"]} for g in report.json()["groups"]}
    assert groups[vendor_id]["vendor_acceptance"]["numerator"] >= 1

    as_csv = api.get(f"/ops/kpis?from={period['from']}&to={period['to']}",
                     headers={**ops_headers, "Accept": "text/csv"})
    content_type = {k.lower(): v for k, v in as_csv.headers.items()}["content-type"]
    assert as_csv.status == 200 and content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert int(next(r for r in rows if r["id"] == "work_orders")["value"]) >= 1

    card = api.get(f"/ops/vendors/{vendor_id}/scorecard", headers=ops_headers)
    assert card.status == 200 and card.json()["vendor_id"] == vendor_id
    assert api.get("/ops/kpis", headers={}).status in (401, 403)  # ops only

    put = api.call("PUT", "/ops/kpis/baseline", json_body={"figures": {"resolution": 259200}},
                   headers=ops_headers)
    assert put.status == 200 and put.json()["figures"] == {"resolution": 259200}
    assert api.get("/ops/kpis/baseline", headers=ops_headers).json()["deployed_on"] == today.isoformat()
    bad = api.call("PUT", "/ops/kpis/baseline", json_body={"from": "last spring"}, headers=ops_headers)
    assert bad.status == 422 and "from" in bad.text  # validated by its model, the field named

    backfill = api.post("/ops/kpis/backfill", {"from": today.isoformat(), "to": today.isoformat()},
                        headers=ops_headers)
    assert backfill.status == 200 and backfill.json()["work_orders"] >= 1
    assert accepted_offer()  # the backfill recomputed the same facts

    done = subprocess.run([sys.executable, "-m", "infra.cli", "ops", "scorecard", vendor_id, "--url", served,
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["vendor_id"] == vendor_id
