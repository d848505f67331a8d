"""The scheduled fire drill on the local cloud: the DrillSchedule fires the Drill function, which plays its
scenarios through the API - ops routes (the X-Ops-Key in this key-mode stack) and public routes, no /_local -
on the drill's own records; its messages stay in the drill sink and nothing reaches the PMS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from shared.services.drill import DRILL_BILL_PREFIX, PROPERTY_ID, is_drill_address
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


def fire_and_wait(stack, capsys) -> dict[str, Any]:
    """Fire the schedule; the function reports when it is done (its DrillFailed metric and its log line)."""
    assert stack.cloud.fire_schedule("DrillSchedule").error is None
    printed: list[str] = []

    def reported() -> dict[str, Any] | None:
        printed.extend(capsys.readouterr().out.splitlines())
        lines = [json.loads(x) for x in printed if x.startswith("{") and ("DrillFailed" in x or '"drill ' in x)]
        metric = next((x for x in lines if "DrillFailed" in x), None)
        outcome = next((x for x in lines if x.get("message") in ("drill passed", "drill FAILED")), None)
        return {"metric": metric, "outcome": outcome} if metric and outcome else None

    return eventually(reported, timeout=300, interval=0.2)


def test_the_scheduled_drill_passes_its_messages_stay_in_the_sink_and_nothing_reaches_the_pms(
        stack, served, ops_headers, fake_buildium, drill_function, capsys) -> None:
    capsys.readouterr()
    before = set(drill_work_orders(served, ops_headers))
    report = fire_and_wait(stack, capsys)
    assert report["metric"]["DrillFailed"] == 0 and report["metric"]["Stage"] == "test", report["outcome"]
    assert report["outcome"]["passed"] and set(report["outcome"]["seconds"]) == {"setup", "emergency", "routine"}

    ran = {i: w for i, w in drill_work_orders(served, ops_headers).items() if i not in before}
    assert len(ran) == 2 and all(w["status"] == "closed" for w in ran.values())
    for wo_id in ran:
        record = requests.get(f"{served}/ops/work-orders/{wo_id}", headers=ops_headers, timeout=10).json()
        assert record["drill"] is True and record["bill_pms_id"].startswith(DRILL_BILL_PREFIX)

    # Every message of theirs went to the sink (tenant, vendors, on-call), none by SMS or email ...
    sink = requests.get(f"{served}/ops/drill/messages", headers=ops_headers, timeout=10).json()["messages"]
    for wo_id in ran:
        kept = [m for m in sink if wo_id in m["body"]]
        assert len(kept) >= 6 and {m["channel"] for m in kept} == {"sms", "email"}
    # The emergency paged the drill property's on-call contact, a drill address.
    assert any("EMERGENCY" in m["body"] and is_drill_address(m["to"]) for m in sink if any(w in m["body"]
                                                                                             for w in ran))
    assert not [m for m in stack.cloud.outbox() if is_drill_address(m["to"]) or any(w in m["body"] for w in ran)]
    # ... and nothing reached the (fake) Buildium: no resident request, work order or bill.
    assert not [r for r in fake_buildium.requests if any(w in json.dumps(r, default=str) for w in ran)]

    # The next day's drill repeats the jobs on the same units: recalls. The previous vendor is offered first,
    # and the invoice's recall check sends it to ops, whose approval link reaches the sink too.
    seen = set(drill_work_orders(served, ops_headers))
    again = fire_and_wait(stack, capsys)
    assert again["metric"]["DrillFailed"] == 0, again["outcome"]
    assert "ops approve by link" in again["outcome"]["table"]
    assert len(set(drill_work_orders(served, ops_headers)) - seen) == 2
