"""The money side on the local cloud: invoice intake, the named checks, GL coding, approval through signed
links (with the workflow's task-token waits), the bill in (fake) Buildium and closure with its record."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest

from shared.domain.enums import Priority
from tests.integration.conftest import TIMERS, VENDORS, U, eventually
from tests.integration.test_lifecycle import execution, submit, tenant_messages, wait_offer, wait_status, window

pytestmark = pytest.mark.integration
APPROVAL_LINK = re.compile(r"/approvals/(\S+)")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
OPS = ("+15550100009", "ops@opslayer.example.com")


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def invoice(number: str, labour_rate: str = "95.00", hours: str = "1", materials: str = "42.50",
            trip: str = "75.00", tax: str = "3.40", attachment: bytes | None = PDF, **extra) -> dict:
    lines = [{"kind": "labour", "description": "Plumber", "quantity": hours, "unit_price": labour_rate},
             {"kind": "material", "description": "Supply line and fittings", "quantity": "1", "unit_price": materials},
             {"kind": "trip", "description": "Trip charge", "quantity": "1", "unit_price": trip},
             {"kind": "tax", "description": "Sales tax on materials", "quantity": "1", "unit_price": tax}]
    total = sum(round(float(x["quantity"]) * float(x["unit_price"]), 2) for x in lines)
    body = {"invoice_number": number, "invoice_date": today(), "currency": "USD", "lines": lines,
            "total": f"{total:.2f}", **extra}
    if attachment is not None:
        body["attachment"] = {"filename": f"{number}.pdf", "content_type": "application/pdf",
                              "data_base64": base64.b64encode(attachment).decode()}
    return body


def verified_job(stack, api, ops_headers, unit: str, description: str) -> tuple[str, str, str]:
    """A job done and verified by the tenant: (work order id, vendor id, vendor job token)."""
    wo_id = submit(api, unit, description)["id"]
    vendor_id, token = wait_offer(stack, wo_id)
    assert api.post(f"/vendor/jobs/{token}/accept").status == 200
    assert api.post(f"/vendor/jobs/{token}/schedule", window(1)).status == 200
    assert api.post(f"/vendor/jobs/{token}/checkin", {}).status == 200  # on site now
    assert api.post(f"/vendor/jobs/{token}/complete", {"notes": "Replaced the supply line"}).status == 200
    question = eventually(lambda: [m for m in tenant_messages(stack, unit, wo_id) if "Is it fixed" in m["body"]])
    tenant_token = re.search(r"\?token=(\S+)", question[0]["body"]).group(1)
    assert api.post(f"/requests/{wo_id}/feedback?token={tenant_token}", {"resolved": True}).status == 200
    wait_status(api, ops_headers, wo_id, "invoice_awaited")
    return wo_id, vendor_id, token


def bills_for(fake, wo_id: str, stack, api, ops_headers) -> list[dict]:
    order = api.get(f"/ops/work-orders/{wo_id}", headers=ops_headers).json()["pms"]["work_order_id"]
    return [b for b in fake.list("bill") if str(b.get("WorkOrderId")) == str(order)] if order else []


def approval_token(stack, wo_id: str, to: tuple[str, ...]) -> str:
    msgs = eventually(lambda: [m for m in stack.cloud.outbox() if m["to"] in to and wo_id in m["body"]
                               and "/approvals/" in m["body"]])
    return APPROVAL_LINK.search(msgs[-1]["body"]).group(1)


def test_clean_invoice_is_auto_approved_billed_in_buildium_and_closed(stack, api, ops_headers, fake_buildium):
    unit = U("unit-maple-2a")
    wo_id, _, token = verified_job(stack, api, ops_headers, unit, "Kitchen faucet has a slow drip")
    resp = api.post(f"/vendor/jobs/{token}/invoice", invoice("AQ-1001"))
    assert resp.status == 202, resp.body
    assert resp.json()["total"] == "215.90" and resp.json()["currency"] == "USD"

    full = wait_status(api, ops_headers, wo_id, "closed")
    assert eventually(lambda: execution(stack, wo_id)["status"] == "SUCCEEDED")
    events = [e["event"] for e in full["timeline"]]
    for expected in ("invoice_awaited", "invoice_received", "invoice_checked", "invoice_coded", "invoice_approved",
                     "billed", "closed"):
        assert expected in events, events

    record = api.get(f"/ops/work-orders/{wo_id}/record", headers=ops_headers).json()
    inv = record["invoice"]
    assert inv["status"] == "billed" and inv["approval"]["route"] == "auto" and inv["approval"]["approver"] == "auto"
    assert all(c["passed"] for c in inv["checks"]), inv["checks"]
    assert {c["rule"] for c in inv["checks"]} >= {"arithmetic", "over_nte", "duplicate_number", "labour_rate",
                                                  "trip_charge", "hours_vs_visit", "recall", "invoice_date",
                                                  "work_verified"}
    coding = inv["coding"]
    assert (coding["gl_account_number"], coding["gl_account_name"], coding["rule"]) == \
        ("6010", "Plumbing Repairs", "plumbing")
    assert coding["cost_center"].endswith("-RM") and coding["property_id"] == full["property_id"]
    assert "task_token" not in json.dumps(record)

    # The bill in Buildium: linked to the work order there, coded to the GL account, with the PDF.
    bill = eventually(lambda: bills_for(fake_buildium, wo_id, stack, api, ops_headers))[0]
    assert str(bill["Id"]) == record["bill"]["bill_id"] == inv["bill_pms_id"]
    assert record["bill"]["provider"] == "buildium"
    assert bill["ReferenceNumber"] == "AQ-1001"
    # The PDF is kept in the documents bucket: versioned and encrypted with the data key.
    s3, bucket = stack.cloud.client("s3"), stack.cloud.physical("DocumentBucket")
    assert s3.get_object(Bucket=bucket, Key=inv["attachment"]["key"])["Body"].read() == PDF
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    files = fake_buildium.bill_files(bill["Id"])
    assert [f["data"] for f in files] == [PDF] and "AQ-1001.pdf" in str(files[0])
    assert sum(float(line["Amount"]) for line in bill["Lines"]) == pytest.approx(215.90)
    assert {line["GLAccount"]["AccountNumber"] for line in bill["Lines"]} == {"6010"}

    report = api.get(f"/ops/work-orders/{wo_id}/report", headers={**ops_headers, "Accept": "text/html"})
    assert report.status == 200 and "AQ-1001" in report.text and str(bill["Id"]) in report.text
    assert "Plumbing Repairs" in report.text and "invoice_approved" in report.text
    assert "Buildium task / work order" in report.text

    # Closed means closed: another invoice is refused, and the tenant still just sees "verified".
    again = api.post(f"/vendor/jobs/{token}/invoice", invoice("AQ-1002"))
    assert again.status == 409 and again.json()["error"] == "conflict"
    # A retry of the same invoice answers with the stored one (no duplicate bill).
    assert api.post(f"/vendor/jobs/{token}/invoice", invoice("AQ-1001")).status == 202
    assert len(bills_for(fake_buildium, wo_id, stack, api, ops_headers)) == 1


def test_failed_checks_go_to_ops_rejection_returns_to_vendor_corrected_invoice_closes(stack, api, ops_headers,
                                                                                      fake_buildium):
    unit = U("unit-maple-3b")
    wo_id, vendor_id, token = verified_job(stack, api, ops_headers, unit, "Bathroom sink drains slowly")
    # 2 hours at 150/h for a visit that lasted minutes, and a rate above the rate card.
    assert api.post(f"/vendor/jobs/{token}/invoice", invoice("PL-77", labour_rate="150.00", hours="2")).status == 202
    wait_status(api, ops_headers, wo_id, "coded")
    approval = approval_token(stack, wo_id, OPS)
    view = api.get(f"/approvals/{approval}").json()
    failed = {c["rule"]: c["reason"] for c in view["checks"] if not c["passed"]}
    assert set(failed) == {"labour_rate", "hours_vs_visit"}, failed
    assert "above the rate card" in failed["labour_rate"] and view["allowed_actions"] == ["approve", "reject"]
    html = api.get(f"/approvals/{approval}", headers={"Accept": "text/html"})
    assert html.status == 200 and "FAILED" in html.text and "Reject" in html.text

    resp = api.post(f"/approvals/{approval}/reject", {"reason": "Rate card is 110/h; bill the hours on site"})
    assert resp.status == 200 and resp.json()["status"] == "rejected"
    assert api.post(f"/approvals/{approval}/approve").status == 409  # one decision per invoice
    wait_status(api, ops_headers, wo_id, "invoice_awaited")
    vendor = VENDORS[vendor_id]
    told = eventually(lambda: [m for m in stack.cloud.outbox() if m["to"] in (vendor.phone, vendor.email)
                               and "not approved" in m["body"] and wo_id in m["body"]])
    assert "Rate card is 110/h" in told[0]["body"]
    job = api.get(f"/vendor/jobs/{token}").json()
    assert job["invoices"][0]["status"] == "rejected" and "invoice" in job["allowed_actions"]

    assert api.post(f"/vendor/jobs/{token}/invoice", invoice("PL-77", labour_rate="100.00")).status == 202
    wait_status(api, ops_headers, wo_id, "closed")
    record = api.get(f"/ops/work-orders/{wo_id}/record", headers=ops_headers).json()
    statuses = [i["status"] for i in record["invoices"]]
    assert statuses == ["rejected", "billed"]
    assert record["invoices"][0]["approval"]["decision"] == "rejected"
    assert record["invoices"][0]["approval"]["approver"] == "ops"


def test_a_vendor_emails_the_invoice_with_its_pdf_and_the_job_closes(stack, api, ops_headers, fake_buildium):
    from tests.integration.test_photos_email import mail

    # The only appliance job at this unit: a second plumbing job there would be a recall (ops must approve).
    wo_id, vendor_id, _ = verified_job(stack, api, ops_headers, U("unit-maple-2b"), "The dishwasher will not drain")
    vendor = VENDORS[vendor_id]
    body = (f"Hello, please find our invoice for {wo_id} attached.\n\nInvoice number: EM-42\nDate: {today()}\n"
            "Labour: 1 h x 95.00\nMaterials: 18.50\nTrip charge: 75.00\nTotal: 188.50\n\nThanks,\nDispatch")
    stack.cloud.receive_email(mail(f"{vendor.name} <{vendor.email}>", f"Invoice EM-42 for job {wo_id}", body,
                                   [("EM-42.pdf", "application/pdf", PDF)]))
    full = wait_status(api, ops_headers, wo_id, "closed")
    record = api.get(f"/ops/work-orders/{wo_id}/record", headers=ops_headers).json()
    inv = record["invoice"]
    assert inv["source"] == "email" and inv["total"] == "188.50" and inv["attachment"]["filename"] == "EM-42.pdf"
    assert [line["kind"] for line in inv["lines"]] == ["labour", "material", "trip"]
    assert fake_buildium.bill_files(int(full["bill_pms_id"]))[0]["data"] == PDF
    assert any(m["to"] == vendor.email and "received your invoice" in m["body"] for m in stack.cloud.outbox())


def timer(api, ops_headers, wo_id: str, stage: str) -> int:
    """The work order's timer for a stage (its priority's, from shared/rules/timers.json)."""
    priority = api.get(f"/ops/work-orders/{wo_id}", headers=ops_headers).json()["priority"]
    return TIMERS.stages[stage][Priority(priority)]


def test_no_invoice_reminds_the_vendor_then_escalates_to_ops(stack, api, ops_headers, clock):
    unit = U("unit-maple-3a")
    wo_id, vendor_id, _ = verified_job(stack, api, ops_headers, unit, "The refrigerator stopped cooling")
    vendor = VENDORS[vendor_id]
    for _ in range(3):  # the invoice timer runs out three times: two reminders, then ops
        clock.expire(wo_id, timer(api, ops_headers, wo_id, "invoice"))
    full = wait_status(api, ops_headers, wo_id, "escalated")
    eventually(lambda: len([m for m in stack.cloud.outbox() if m["to"] == vendor.phone and wo_id in m["body"]
                            and m["body"].startswith("Reminder")]) == 2)  # InvoiceReminders = 2, then ops
    assert [e["event"] for e in full["timeline"]].count("invoice_reminder") == 2
    assert any("No invoice from the vendor after reminders" in e["detail"] for e in full["timeline"])
    eventually(lambda: any(m["to"] in OPS and wo_id in m["body"] for m in stack.cloud.outbox()))
    assert eventually(lambda: execution(stack, wo_id)["status"] == "SUCCEEDED")
    # Ops own it now: they can still close it (e.g. the vendor invoices by phone, entered in Buildium).
    assert api.post(f"/ops/work-orders/{wo_id}/close", {"reason": "Vendor billed in Buildium directly"},
                    headers=ops_headers).json()["status"] == "closed"


def test_owner_who_does_not_answer_hands_over_to_ops_who_approve(stack, api, ops_headers, clock):
    unit = U("unit-harbor-301")  # Harbor Lofts has an owner who approves large invoices
    wo_id, _, token = verified_job(stack, api, ops_headers, unit, "The refrigerator stopped cooling")
    # Harbor Lofts' owner approves clean invoices over 400.00 (shared/rules/invoice_rules.json); within the NTE.
    big = invoice("BIG-1", materials="280.00", hours="1", labour_rate="95.00", attachment=None)
    assert api.post(f"/vendor/jobs/{token}/invoice", big).status == 202
    owner_link = approval_token(stack, wo_id, ("owner@harbor-lofts.example.com",))
    owner_view = api.get(f"/approvals/{owner_link}").json()
    assert owner_view["approver"] == "owner" and "owner-approval limit" in owner_view["reason"]
    # Nobody answers: the approval timer runs out three times (two reminders to the owner), then ops get it.
    for _ in range(3):
        clock.expire(wo_id, timer(api, ops_headers, wo_id, "approval"))
    ops_link = approval_token(stack, wo_id, OPS)
    assert api.get(f"/approvals/{owner_link}").json()["allowed_actions"] == []
    assert api.post(f"/approvals/{owner_link}/approve").status in (403, 409)
    assert api.post(f"/approvals/{ops_link}/approve").json()["status"] == "approved"
    full = wait_status(api, ops_headers, wo_id, "closed")
    events = [e["event"] for e in full["timeline"]]
    assert events.count("approval_reminder") == 2 and "approval_rerouted" in events
