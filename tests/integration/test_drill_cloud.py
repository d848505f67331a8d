"""The scheduled fire drill on the local cloud: the DrillSchedule fires the Drill function, which plays its
scenarios through the API - ops routes (the X-Ops-Key in this key-mode stack) and public routes, no /_local -
on the drill's own records; its messages stay in the drill sink and nothing reaches the PMS. The frozen clock
is moved past the primary on-call's ack-by while the drill waits for the secondary's page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from shared.drill_runner import NO_VENDOR_JOB, UNACKNOWLEDGED_EMERGENCY
from shared.services.drill import DRILL_BILL_PREFIX, PROPERTY_ID, TECHNICIAN_ID, is_drill_address
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def drill_function(stack, served) -> Iterator[str]:
    """The Drill function pointed at the API served over HTTP (its template URL is execute-api's), put back
    afterwards."""
    functions = stack.cloud.client("lambda")
    name = stack.cloud.physical("DrillFunction")
    env = functions.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    functions.update_function_configuration(FunctionName=name,
                                            Environment={"Variables": {**env, "DRILL_API_URL": served}})
    yield name
    functions.update_function_configuration(FunctionName=name, Environment={"Variables": env})


def drill_work_orders(served: str, ops_headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor = ""
    while True:
        page = requests.get(f"{served}/ops/work-orders", headers=ops_headers, timeout=10, params={
            "property_id": PROPERTY_ID, "limit": 200, **({"cursor": cursor} if cursor else {})}).json()
        found |= {w["id"]: w for w in page["work_orders"]}
        if not (cursor := page.get("next_cursor")):
            return found


def fire(stack) -> None:
    """Fire the DrillSchedule once. While its first fire (at its creation: a rate starts at once) is due, the
    clock fires it - else the clock's first advance would start a second drill; afterwards, fire it now."""
    cloud, name = stack.cloud, stack.cloud.physical("DrillSchedule")
    due = cloud.next_fire_time("DrillSchedule")
    if due is not None and due <= cloud.clock_now():
        assert [f.error for f in cloud.advance_clock(0) if f.schedule == name] == [None]
    else:
        assert cloud.fire_schedule("DrillSchedule").error is None


def fire_and_wait(stack, capsys, served: str, ops_headers: dict[str, str]) -> dict[str, Any]:
    """Fire the schedule; the function reports when it is done (its DrillFailed metric and its log line).
    Meanwhile the frozen clock is advanced past the primary's ack-by of the secondary_acknowledges emergency
    once it was paged, as time would pass on AWS (the drill then waits for the secondary's page)."""
    known = set(drill_work_orders(served, ops_headers))
    fire(stack)
    printed: list[str] = []

    def reported() -> dict[str, Any] | None:
        advance_past_the_primarys_ack_by(stack, served, ops_headers, known)
        printed.extend(capsys.readouterr().out.splitlines())
        lines = [json.loads(x) for x in printed if x.startswith("{") and ("DrillFailed" in x or '"drill ' in x)]
        metric = next((x for x in lines if "DrillFailed" in x), None)
        outcome = next((x for x in lines if x.get("message") in ("drill passed", "drill FAILED")), None)
        return {"metric": metric, "outcome": outcome} if metric and outcome else None

    return eventually(reported, timeout=600, interval=0.2)


def failure(report: dict[str, Any]) -> str:
    return f"{report['outcome'].get('failed')}\n{report['outcome'].get('table')}"


def advance_past_the_primarys_ack_by(stack, served: str, ops_headers: dict[str, str], known: set[str]) -> None:
    """When a new drill work order is the unacknowledged emergency, paged to its primary only: move the clock
    past that page's ack-by (its one-time check fires and pages the secondary). Other work orders are
    remembered in `known` and not read again."""
    for wo_id in set(drill_work_orders(served, ops_headers)) - known:
        record = requests.get(f"{served}/ops/work-orders/{wo_id}", headers=ops_headers, timeout=10).json()
        if record["description"] != UNACKNOWLEDGED_EMERGENCY:
            known.add(wo_id)
            continue
        page = record.get("page")
        if page and page["level"] == 0 and page["due_at"] and not page["acked_at"]:
            due = datetime.fromisoformat(page["due_at"])
            fired = stack.cloud.advance_clock(max((due - stack.cloud.clock_now()).total_seconds() + 1, 1))
            assert any(f.schedule == f"{wo_id}-oncall-0" and f.error is None for f in fired)
            known.add(wo_id)


def test_the_scheduled_drill_passes_its_messages_stay_in_the_sink_and_nothing_reaches_the_pms(
        stack, served, ops_headers, fake_buildium, drill_function, clock, capsys) -> None:
    capsys.readouterr()
    before = set(drill_work_orders(served, ops_headers))
    report = fire_and_wait(stack, capsys, served, ops_headers)
    assert report["metric"]["DrillFailed"] == 0 and report["metric"]["Stage"] == "test", failure(report)
    assert report["outcome"]["passed"] and set(report["outcome"]["seconds"]) == {
        "setup", "emergency", "routine", "no_vendor_accepts", "secondary_acknowledges"}

    ran = {i: w for i, w in drill_work_orders(served, ops_headers).items() if i not in before}
    records = {i: requests.get(f"{served}/ops/work-orders/{i}", headers=ops_headers, timeout=10).json() for i in ran}
    assert len(ran) == 4 and all(r["drill"] is True for r in records.values())
    [unacknowledged] = [r for r in records.values() if r["description"] == UNACKNOWLEDGED_EMERGENCY]
    closed = [r for r in records.values() if r is not unacknowledged]
    assert all(r["status"] == "closed" and r["bill_pms_id"].startswith(DRILL_BILL_PREFIX) for r in closed)
    # No vendor took the closet door: ops reassigned it to the drill's in-house technician, who did it.
    [by_technician] = [r for r in closed if r["description"] == NO_VENDOR_JOB]
    assert by_technician["vendor_id"] == TECHNICIAN_ID
    events = [e["event"] for e in by_technician["timeline"]]
    assert events.index("escalated") < events.index("reassigned") < events.index("completed")
    # The emergency nobody answered at first: the secondary acknowledged, then ops cancelled it.
    page = unacknowledged["page"]
    assert (page["acked_by"], page["acked_level"], page["acked_via"]) == ("Drill On-Call Secondary (secondary)", 1,
                                                                         "link")
    assert unacknowledged["status"] == "cancelled"

    # Every message of theirs went to the sink (tenant, vendors, on-call), none by SMS or email ...
    sink = requests.get(f"{served}/ops/drill/messages", headers=ops_headers, timeout=10).json()["messages"]
    for wo_id in ran:
        kept = [m for m in sink if wo_id in m["body"]]
        assert len(kept) >= 6 and {m["channel"] for m in kept} == {"sms", "email"}
    assert [m for m in sink if unacknowledged["id"] in m["body"] and "You are on call (secondary)" in m["body"]]
    # The emergency paged the drill property's on-call contact, a drill address.
    assert any("EMERGENCY" in m["body"] and is_drill_address(m["to"]) for m in sink if any(w in m["body"]
                                                                                             for w in ran))
    assert not [m for m in stack.cloud.outbox() if is_drill_address(m["to"]) or any(w in m["body"] for w in ran)]
    # ... and nothing reached the (fake) Buildium: no resident request, work order or bill.
    assert not [r for r in fake_buildium.requests if any(w in json.dumps(r, default=str) for w in ran)]
