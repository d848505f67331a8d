"""The ops dashboard on the deployed template: the dashboard exists (its URL output names it), a request
walked through the real functions and state machine writes StageSeconds records the dashboard reads (one per
status left, with the work order for the slowest-stages query), and the stuck sweep writes OpenWorkOrders."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import U
from tests.integration.test_lifecycle import submit, wait_offer
from tests.integration.test_observability import json_objects

pytestmark = pytest.mark.integration


def test_the_dashboard_is_deployed_and_the_functions_write_what_it_reads(stack, api, capfd) -> None:
    cloud = stack.cloud
    name = cloud.physical("OpsDashboard")
    assert name == "opslayer-test" and cloud.outputs["OpsDashboardUrl"].endswith(f"#dashboards/dashboard/{name}")
    body = json.loads(cloud.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    shown = {(m[1], m[m.index("Status") + 1]) for w in body["widgets"] if w["type"] == "metric"
             for m in w["properties"]["metrics"] if "Status" in m}
    assert ("StageSeconds", "received") in shown and ("OpenWorkOrders", "offered") in shown
    assert all("${" not in json.dumps(w) for w in body["widgets"])  # every substitution resolved

    capfd.readouterr()
    wo_id = submit(api, U("unit-maple-2a"), "The kitchen faucet drips constantly")["id"]
    wait_offer(stack, wo_id)
    cloud.wait_idle()
    records = [r for r in json_objects(capfd.readouterr().out) if "_aws" in r]
    left = [r["Status"] for r in records if "StageSeconds" in r and r.get("work_order_id") == wo_id]
    assert left == ["received", "triaged"]  # then OFFERED, waiting for the vendor

    answer = cloud.client("lambda").invoke(FunctionName=cloud.physical("StuckSweepFunction"),
                                           Payload=json.dumps({"action": "sweep"}).encode())
    assert "FunctionError" not in answer  # the invocation is synchronous: its records are printed by now
    sweep = [r for r in json_objects(capfd.readouterr().out) if "OpenWorkOrders" in r]
    offered = {r["Status"]: r["OpenWorkOrders"] for r in sweep}["offered"]
    assert offered >= 1
    assert all(r["Stage"] == "test" and r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Opslayer" for r in sweep)
