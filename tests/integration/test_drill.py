"""The drill itself, over real HTTP, against the session's local cloud."""

from __future__ import annotations

import pytest

from infra.drill import Drill
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration



def test_drill_plays_both_scenarios_and_reports_every_step(served):
    # The flow, not the speed: a loaded CI machine may take longer than the drill's 10 s step budget (the
    # timings are a benchmark: `make bench`); lateness itself is tested below with a tiny budget.
    drill = Drill(served, step_budget_s=120)
    assert drill.run(), drill.table()
    names = [(s.scenario, s.name) for s in drill.steps]
    assert ("emergency", "on-call paged") in names and ("routine", "recall goes to the same vendor") in names
    assert ("pms", "status written back to Buildium") in names and ("iot", "on-call paged") in names
    # Web requests carry tenant windows (the vendor picks one); the others go by proposal and confirmation.
    assert ("emergency", "vendor picks a tenant window") in names and ("pms", "tenant confirms the time") in names
    assert ("sms", "tenant texts YES to the time") in names
    # A text triage is unsure about: asked at once, answered YES, paged, and on as an emergency.
    assert ("unsure", "safety question asked (sms)") in names and ("unsure", "now an emergency") in names
    assert ("unsure", "on-call paged") in names
    assert all(s.ok for s in drill.steps) and len(drill.steps) >= 30
    table = drill.table()
    assert table.count("\n") == len(drill.steps) and " ms" in table
    # Every scenario runs to closed with a bill recorded by the fake Buildium, coded and checked.
    assert {i["scenario"] for i in drill.invoices} == {"emergency", "routine", "pms", "iot", "sms", "unsure"}
    assert all(i["bill_id"] and i["status"] == "billed" for i in drill.invoices)
    for inv in drill.invoices:  # clean invoices are approved automatically; a recall (should be free) goes to ops
        failed = {c["rule"] for c in inv["checks"] if not c["passed"]}
        assert failed <= {"recall"} and inv["approval"]["route"] == ("ops" if failed else "auto"), inv
    assert {i["scenario"]: i["approval"]["route"] for i in drill.invoices}["routine"] == "ops"
    assert ("routine", "ops approve by link") in names
    report = drill.invoice_report()
    assert "GL 6010 Plumbing Repairs" in report and "over_nte ok" in report and "recall FAILED" in report


def test_drill_fails_loudly_when_a_step_is_late(served):
    drill = Drill(served, step_budget_s=0.001)
    assert drill.run() is False
    assert any(not s.ok and "late" in s.note for s in drill.steps)


def test_local_routes_list_the_demo_and_the_outbox(served):
    import requests

    demo = requests.get(f"{served}/_local/demo", timeout=5).json()
    assert len(demo["properties"]) >= 2 and len(demo["units"]) >= 10 and len(demo["vendors"]) >= 6
    assert len({t for v in demo["vendors"] for t in v["trades"]}) >= 4
    assert len({a for v in demo["vendors"] for a in v["service_areas"]}) >= 2
    assert demo["ops_key"] and {"name", "phone", "email"} <= set(demo["units"][0]["tenant"])
    form = requests.get(demo["units"][0]["request_url"], headers={"Accept": "text/html"}, timeout=5)
    assert form.status_code == 200 and "What is wrong?" in form.text
    unit = demo["units"][0]
    requests.post(f"{served}/requests", json={"unit_id": unit["id"], "name": unit["tenant"]["name"],
                                             "description": "Cabinet door hinge is loose"}, timeout=5)
    outbox = eventually(lambda: requests.get(f"{served}/_local/outbox", timeout=5).json()["messages"])
    assert outbox and {"channel", "to", "body", "sent_at"} <= set(outbox[0])
    assert [m["sent_at"] for m in outbox] == sorted((m["sent_at"] for m in outbox), reverse=True)
    assert requests.get(f"{served}/health", timeout=5).json()["status"] == "ok"
