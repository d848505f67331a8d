"""A way forward from an escalation, on the local cloud: no vendor accepts, ops reassign the job to an in-house
technician through the API, and the job still runs to a bill in the (fake) Buildium - the restarted lifecycle
keeps its timers, messages and the PMS sync."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.enums import Priority
from shared.domain.links import TOKEN_PATTERN
from tests.integration.conftest import IDS, TIMERS, UNITS, VENDORS, U, V, eventually

pytestmark = pytest.mark.integration

JOB_LINK = re.compile(rf"/vendor/jobs/({TOKEN_PATTERN})")
STATUS_LINK = re.compile(r"\?token=(\S+)")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# Harbor Lofts 102 has no other appliance job in the suite (a completed one there would make this a recall).
UNIT = U("unit-harbor-102")


def _record(api, ops_headers, wo_id: str) -> dict:
    resp = api.get(f"/ops/work-orders/{wo_id}", headers=ops_headers)
    assert resp.status == 200, resp.body
    return resp.json()


def _status(api, ops_headers, wo_id: str, *statuses: str) -> dict:
    return eventually(lambda: (r := _record(api, ops_headers, wo_id))["status"] in statuses and r)


def _messages(stack, to: tuple[str | None, ...], wo_id: str, text: str) -> list[dict]:
    return [m for m in stack.cloud.outbox() if m["to"] in to and wo_id in m["body"] and text in m["body"]]


def _window(hours_from_now: int) -> dict[str, str]:
    start = datetime.now(UTC) + timedelta(hours=hours_from_now)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}


def _invoice(number: str) -> dict:
    lines = [{"kind": "labour", "description": "Technician", "quantity": "1", "unit_price": "95.00"},
             {"kind": "material", "description": "Door switch", "quantity": "1", "unit_price": "42.50"}]
    return {"invoice_number": number, "invoice_date": datetime.now(UTC).date().isoformat(), "currency": "USD",
            "lines": lines, "total": "137.50",
            "attachment": {"filename": f"{number}.pdf", "content_type": "application/pdf",
                           "data_base64": base64.b64encode(PDF).decode()}}


def test_no_vendor_accepts_ops_reassign_to_an_in_house_technician_and_the_job_is_billed(
        stack, api, ops_headers, clock, fake_buildium):
    # The in-house technician, set up through the config API. Their area is one no demo property is in, so
    # other tests' dispatch never offers them a job; an assignment by ops does not depend on it.
    tech_id = f"tech-{uuid.uuid4().hex[:8]}"
    phone, email = f"+1555031{uuid.uuid4().int % 10000:04d}", f"{tech_id}@maintenance.example.com"
    in_house_pms_vendor = str(IDS.buildium["vendor"]["ven-handy"])  # the PMS record in-house bills go to
    made = api.call("PUT", f"/ops/config/technicians/{tech_id}", json_body={
        "name": "Sam Rivera (in-house)", "trades": ["appliance"], "service_areas": ["east"], "phone": phone,
        "email": email,
        "working_hours": [{"weekday": d, "start": "07:00", "end": "19:00"} for d in range(7)],
        "time_zone": "America/Chicago", "pms_vendor_id": in_house_pms_vendor}, headers={**ops_headers, "If-Match": "0"})
    assert made.status == 200, made.body

    # Nobody accepts: the only appliance vendor's offer runs out, and the job is escalated.
    wo_id = api.post("/requests", {"unit_id": UNIT, "name": UNITS[UNIT].tenant.name, "phone": UNITS[UNIT].tenant.phone,
                                   "description": "The microwave does not turn on at all"}).json()["id"]
    eventually(lambda: _messages(stack, (VENDORS[V("ven-appliance")].phone,), wo_id, "Accept or decline"))
    assert _record(api, ops_headers, wo_id)["priority"] == "routine"
    clock.expire(wo_id, TIMERS.stages["accept"][Priority.ROUTINE])
    escalated = _status(api, ops_headers, wo_id, "escalated")
    assert escalated["escalated_from"] == "offered"

    steered = api.post(f"/ops/work-orders/{wo_id}/steer", {"action": "reassign", "technician_id": tech_id,
                                                            "reason": "No vendor answered; Sam has the part"},
                       headers=ops_headers)

    assert steered.status == 202, steered.body
    body = steered.json()
    assert (body["status"], body["vendor_id"], body["resume_at"]) == ("accepted", tech_id, "schedule")
    assert body["execution_arn"].endswith(f":{wo_id}-ops-1")
    again = api.post(f"/ops/work-orders/{wo_id}/steer", {"action": "reassign", "technician_id": tech_id,
                                                         "reason": "twice"}, headers=ops_headers)
    assert again.status == 409 and again.json()["error"] == "conflict"
    # The technician gets the job link, the tenant hears who is coming (by email too: an SMS may wait for the
    # end of quiet hours).
    assigned = eventually(lambda: _messages(stack, (phone, email), wo_id, "/vendor/jobs/"))
    token = JOB_LINK.search(assigned[0]["body"]).group(1)
    tenant = UNITS[UNIT].tenant
    eventually(lambda: _messages(stack, (tenant.phone, tenant.email), wo_id, "Sam Rivera"))

    # The technician books, comes and completes; the tenant confirms; the internal invoice is billed.
    assert api.post(f"/vendor/jobs/{token}/schedule", _window(1)).status == 200
    assert api.post(f"/vendor/jobs/{token}/checkin", {}).status == 200
    assert api.post(f"/vendor/jobs/{token}/complete", {"notes": "Replaced the door switch"}).status == 200
    question = eventually(lambda: _messages(stack, (tenant.phone, tenant.email), wo_id, "Is it fixed"))
    tenant_token = STATUS_LINK.search(question[0]["body"]).group(1)
    assert api.post(f"/requests/{wo_id}/feedback?token={tenant_token}", {"resolved": True}).status == 200
    _status(api, ops_headers, wo_id, "invoice_awaited")
    assert api.post(f"/vendor/jobs/{token}/invoice", _invoice("SAM-1")).status == 202

    closed = _status(api, ops_headers, wo_id, "closed")
    record = api.get(f"/ops/work-orders/{wo_id}/record", headers=ops_headers).json()
    assert record["invoice"]["status"] == "billed" and record["invoice"]["vendor_id"] == tech_id
    order = closed["pms"]["work_order_id"]
    bill = next(b for b in fake_buildium.list("bill") if str(b["Id"]) == record["bill"]["bill_id"])
    assert str(bill["VendorId"]) == in_house_pms_vendor and str(bill.get("WorkOrderId")) == str(order)
    assert bill["ReferenceNumber"] == "SAM-1"
    events = [(e["event"], e["actor"]) for e in closed["timeline"]]
    assert ("reassigned", "ops:key") in events and ("completed", f"vendor:{tech_id}") in events
    sfn = stack.cloud.client("stepfunctions")
    assert eventually(lambda: sfn.describe_execution(executionArn=body["execution_arn"])["status"] == "SUCCEEDED")
    audit = api.get("/ops/audit", headers=ops_headers).json()["actions"]
    assert [(a["actor"], a["vendor_id"]) for a in audit
            if a["action"] == "work_order_reassign" and a["target"] == wo_id] == [("ops:key", tech_id)]
