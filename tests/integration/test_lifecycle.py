"""The work-order lifecycle end to end on the local cloud: real template, real ASL, real handlers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.enums import Priority
from shared.domain.links import TOKEN_PATTERN
from tests.integration.conftest import TIMERS, UNITS, VENDORS, U, V, eventually

JOB_LINK = re.compile(rf"/vendor/jobs/({TOKEN_PATTERN})")
STATUS_LINK = re.compile(rf"/requests/(wo-[0-9a-f]+)\?token=({TOKEN_PATTERN})")
VENDOR_BY_PHONE = {v.phone: v for v in VENDORS.values()}
pytestmark = pytest.mark.integration


def submit(api, unit_id: str, description: str, **extra):
    unit = UNITS[unit_id]
    body = {"unit_id": unit_id, "name": unit.tenant.name, "phone": unit.tenant.phone, "email": unit.tenant.email,
            "description": description, **extra}
    resp = api.post("/requests", body)
    assert resp.status == 202, resp.body
    return resp.json()


def offers(stack, wo_id: str) -> list[tuple[str, str]]:
    """(vendor id, job token) of every SMS offer for this work order, newest first."""
    found = []
    for msg in stack.cloud.outbox():
        if msg["channel"] == "sms" and msg["to"] in VENDOR_BY_PHONE and wo_id in msg["body"] \
                and "Accept or decline" in msg["body"]:
            found.append((VENDOR_BY_PHONE[msg["to"]].id, JOB_LINK.search(msg["body"]).group(1)))
    return found


def wait_offer(stack, wo_id: str, count: int = 1) -> tuple[str, str]:
    return eventually(lambda: len(offers(stack, wo_id)) >= count and offers(stack, wo_id)[0])


def record(api, ops_headers, wo_id: str) -> dict:
    resp = api.get(f"/ops/work-orders/{wo_id}", headers=ops_headers)
    assert resp.status == 200, resp.body
    return resp.json()


# "verified" lasts a moment: the workflow goes straight on to wait for the invoice.
REACHED = {"verified": {"verified", "invoice_awaited", "coded", "approved", "billed", "closed"}}


def wait_status(api, ops_headers, wo_id: str, status: str) -> dict:
    accepted = REACHED.get(status, {status})
    return eventually(lambda: (r := record(api, ops_headers, wo_id))["status"] in accepted and r)


def tenant_messages(stack, unit_id: str, wo_id: str) -> list[dict]:
    tenant = UNITS[unit_id].tenant
    return [m for m in stack.cloud.outbox() if m["to"] in (tenant.phone, tenant.email) and wo_id in m["body"]]


def window(hours_from_now: int = 2) -> dict[str, str]:
    start = datetime.now(UTC).astimezone(datetime.now().astimezone().tzinfo) + timedelta(hours=hours_from_now)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}


def execution(stack, wo_id: str) -> dict:
    sfn = stack.cloud.client("stepfunctions")
    arn = stack.cloud.physical("WorkOrderStateMachine").replace(":stateMachine:", ":execution:") + f":{wo_id}"
    try:
        return sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return {}  # not started yet: intake is asynchronous


def test_emergency_runs_from_request_to_verified_fix(stack, api, ops_headers):
    unit = U("unit-maple-1a")
    created = submit(api, unit, "Water is pouring through my kitchen ceiling and the floor is flooding")
    wo_id = created["id"]
    assert created["status"] == "received" and created["status_url"].startswith("http://testserver/requests/")

    # Tenant acknowledged (SMS and email), on-call paged, preferred plumber offered with full context.
    eventually(lambda: {m["channel"] for m in tenant_messages(stack, unit, wo_id)} >= {"sms", "email"})
    on_call = ("+15550100001", "oncall@maple.example.com")  # Maple Court's on-call contact (the vendor's offer says
    eventually(lambda: [m for m in stack.cloud.outbox() if m["to"] in on_call  # EMERGENCY too, maybe first)
                        and "EMERGENCY" in m["body"] and wo_id in m["body"]])
    vendor_id, token = wait_offer(stack, wo_id)
    assert vendor_id == V("ven-aqua")  # the property's preferred plumber
    offer_sms = next(m for m in stack.cloud.outbox() if token in m["body"] and m["channel"] == "sms")
    for context in ("120 Maple Ave", "unit 1A", "lockbox", "Ana Lopez", UNITS[unit].tenant.phone, "EMERGENCY",
                    "pouring through my kitchen ceiling"):
        assert context in offer_sms["body"]

    job = api.get(f"/vendor/jobs/{token}").json()
    assert job["allowed_actions"] == ["accept", "decline"] and job["priority"] == "emergency"
    assert api.post(f"/vendor/jobs/{token}/accept").json()["status"] == "accepted"
    eventually(lambda: any("AquaFix Plumbing accepted" in m["body"] for m in tenant_messages(stack, unit, wo_id)))

    slot = window()
    resp = api.post(f"/vendor/jobs/{token}/schedule", slot)
    assert resp.status == 200 and resp.json()["status"] == "scheduled"
    eventually(lambda: any("will come to" in m["body"] for m in tenant_messages(stack, unit, wo_id)))

    assert api.post(f"/vendor/jobs/{token}/complete", {"notes": "Replaced the burst supply line"}).status == 200
    question = eventually(lambda: [m for m in tenant_messages(stack, unit, wo_id) if "Is it fixed" in m["body"]])
    link_wo, tenant_token = STATUS_LINK.search(question[0]["body"]).groups()
    assert link_wo == wo_id
    resp = api.post(f"/requests/{wo_id}/feedback?token={tenant_token}", {"resolved": True, "comment": "All dry"})
    assert resp.status == 200 and resp.json()["status"] == "verified"

    # The repair is done; the money side starts: the workflow now waits for the vendor's invoice.
    full = wait_status(api, ops_headers, wo_id, "invoice_awaited")
    assert execution(stack, wo_id)["status"] == "RUNNING"
    eventually(lambda: any(m["to"] in (VENDORS[vendor_id].phone, VENDORS[vendor_id].email) and
                           "send your invoice" in m["body"] and wo_id in m["body"] for m in stack.cloud.outbox()))
    events = [e["event"] for e in full["timeline"]]
    for expected in ("received", "triaged", "vendors_ranked", "offered", "accepted", "scheduled", "completed",
                     "verified", "notified"):
        assert expected in events
    assert full["trade"] == "plumbing" and full["priority"] == "emergency" and full["vendor_id"] == V("ven-aqua")
    assert full["window"]["start"] == datetime.fromisoformat(slot["start"]).astimezone(UTC).isoformat() \
        or full["window"]["start"].startswith(slot["start"][:16])
    assert "task_token" not in str(full)

    status = api.get(f"/requests/{wo_id}?token={tenant_token}").json()
    assert status["status"] == "verified" and status["vendor"] == {"name": "AquaFix Plumbing"}
    assert {"at", "event", "detail"} <= set(status["timeline"][0])
    assert all(e["event"] != "vendors_ranked" for e in status["timeline"])


def test_declines_move_down_the_list_then_escalate_to_ops(stack, api, ops_headers):
    unit = U("unit-maple-2a")
    wo_id = submit(api, unit, "Kitchen faucet has a slow drip, not urgent")["id"]
    first, token1 = wait_offer(stack, wo_id)
    assert api.post(f"/vendor/jobs/{token1}/decline", {"reason": "Booked solid this week"}).status == 200
    second, token2 = wait_offer(stack, wo_id, count=2)
    assert {first, second} == {V("ven-aqua"), V("ven-pipeline")}
    # The first vendor's link no longer allows anything.
    assert api.get(f"/vendor/jobs/{token1}").json()["allowed_actions"] == []
    assert api.post(f"/vendor/jobs/{token1}/accept").status == 409
    assert api.post(f"/vendor/jobs/{token2}/decline", {"reason": "Out of area today"}).status == 200

    full = wait_status(api, ops_headers, wo_id, "escalated")
    assert any("No vendor accepted" in e["detail"] for e in full["timeline"])
    ops_alert = eventually(lambda: [m for m in stack.cloud.outbox()
                                    if m["to"] in ("+15550100009", "ops@opslayer.example.com") and wo_id in m["body"]])
    assert "ESCALATED" in ops_alert[0]["body"] or "needs a person" in ops_alert[0]["body"]
    eventually(lambda: execution(stack, wo_id)["status"] == "SUCCEEDED")


def test_reopen_goes_back_to_the_same_vendor_first(stack, api, ops_headers):
    unit = U("unit-maple-2b")
    wo_id = submit(api, unit, "Bathroom sink drains slowly")["id"]
    _, token = wait_offer(stack, wo_id)
    api.post(f"/vendor/jobs/{token}/decline", {"reason": "No capacity"})
    second, token = wait_offer(stack, wo_id, count=2)
    api.post(f"/vendor/jobs/{token}/accept")
    api.post(f"/vendor/jobs/{token}/schedule", window())
    api.post(f"/vendor/jobs/{token}/complete", {"notes": "Cleared the trap"})
    question = eventually(lambda: [m for m in tenant_messages(stack, unit, wo_id) if "Is it fixed" in m["body"]])
    _, tenant_token = STATUS_LINK.search(question[0]["body"]).groups()
    resp = api.post(f"/requests/{wo_id}/feedback?token={tenant_token}", {"resolved": False, "comment": "Still slow"})
    assert resp.json()["status"] == "reopened"
    recall_vendor, recall_token = wait_offer(stack, wo_id, count=3)
    assert recall_vendor == second
    assert api.post(f"/vendor/jobs/{recall_token}/accept").status == 200
    full = record(api, ops_headers, wo_id)
    assert full["reopen_count"] == 1 and full["vendor_id"] == second and full["status"] == "accepted"


def test_offer_times_out_and_goes_to_the_next_vendor(stack, api, ops_headers, clock):
    # Nobody answers within the urgent accept timer: both plumbers time out (States.Timeout), ops is alerted.
    accept = TIMERS.stages["accept"][Priority.URGENT]
    unit = U("unit-harbor-101")
    # Not borderline for triage: no safety question (its 10-minute timer would run out in the same advance).
    wo_id = submit(api, unit, "Kitchen sink drain is clogged and water backs up")["id"]
    first, _ = wait_offer(stack, wo_id)
    full = record(api, ops_headers, wo_id)
    assert full["priority"] == "urgent" and full["safety_question"] is None
    clock.expire(wo_id, accept)
    second, _ = wait_offer(stack, wo_id, count=2)
    assert second != first
    clock.expire(wo_id, accept)
    full = wait_status(api, ops_headers, wo_id, "escalated")
    assert [e["event"] for e in full["timeline"]].count("offer_expired") == 2


def test_duplicate_intake_message_starts_one_execution(stack, api):
    wo_id = submit(api, U("unit-harbor-201"), "Smoke detector chirping every minute")["id"]
    eventually(lambda: execution(stack, wo_id).get("status") == "RUNNING")
    # Replay the WorkOrderReceived event, as EventBridge or SQS may deliver twice.
    events = stack.cloud.client("events")
    events.put_events(Entries=[{"EventBusName": stack.cloud.physical("EventBus"), "Source": "opslayer.workorders",
                                "DetailType": "WorkOrderReceived",
                                "Detail": f'{{"work_order_id": "{wo_id}", "event_key": "{wo_id}:received"}}'}])
    stack.cloud.wait_idle()
    sfn = stack.cloud.client("stepfunctions")
    names = [e["name"] for e in sfn.list_executions(
        stateMachineArn=stack.cloud.physical("WorkOrderStateMachine"))["executions"]]
    assert names.count(wo_id) == 1
    acks = [m for m in tenant_messages(stack, U("unit-harbor-201"), wo_id)
            if "we received" in m["body"] and m["channel"] == "sms"]
    assert len(acks) == 1  # the acknowledgement was not sent twice either
