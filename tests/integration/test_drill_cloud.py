"""The cloud drill on the local cloud: only ops routes (signed; here the X-Ops-Key) and public routes - no
/_local - on the drill's own records, its messages in the drill sink, nothing in the PMS."""

from __future__ import annotations

import json

import pytest
import requests

from shared.drill_runner import DrillRun, key_auth
from shared.services.drill import DRILL_BILL_PREFIX, is_drill_address

pytestmark = pytest.mark.integration


def test_the_drill_plays_on_its_own_records_and_nothing_leaves_the_sink(served, stack, fake_buildium, ops_headers):
    drill = DrillRun(served, key_auth(ops_headers["X-Ops-Key"]), step_budget_s=120, poll_s=0.05)
    assert drill.run(), drill.table()

    names = [(s.scenario, s.name) for s in drill.steps]
    assert ("emergency", "on-call paged") in names and ("routine", "next vendor offered") in names
    assert ("routine", "no bill posted to the PMS") in names
    wo_ids = [i["work_order_id"] for i in drill.invoices]
    assert len(wo_ids) == 2 and all(i["bill_id"].startswith(DRILL_BILL_PREFIX) for i in drill.invoices)
    for wo_id in wo_ids:
        record = requests.get(f"{served}/ops/work-orders/{wo_id}", headers=ops_headers, timeout=10).json()
        assert record["drill"] is True and record["status"] == "closed"

    # Every message went to the sink: the tenant's, the vendors', on-call's and ops' (the approval, if any).
    sink = requests.get(f"{served}/ops/drill/messages", params={"since": drill.records["messages_since"]},
                        headers=ops_headers, timeout=10).json()["messages"]
    for wo_id in wo_ids:
        assert any(wo_id in m["body"] for m in sink)
    on_call = drill.records["property"]["on_call"]["phone"]
    assert any(m["to"] == on_call and "EMERGENCY" in m["body"] for m in sink)
    # None was sent by SMS or email, and none reached the (fake) Buildium.
    sent = stack.cloud.outbox()
    assert not [m for m in sent if is_drill_address(m["to"]) or any(w in m["body"] for w in wo_ids)]
    assert not [r for r in fake_buildium.requests if any(w in json.dumps(r, default=str) for w in wo_ids)]

    # The next day's drill repeats yesterday's jobs on the same units: recalls. The previous vendor is offered
    # first and the invoice's recall check sends it to ops, whose approval link reaches the sink too.
    again = DrillRun(served, key_auth(ops_headers["X-Ops-Key"]), step_budget_s=120, poll_s=0.05)
    assert again.run(), again.table()
    assert ("emergency", "ops approve by link") in [(s.scenario, s.name) for s in again.steps]
    assert {i["approval"]["route"] for i in again.invoices} == {"ops"}
