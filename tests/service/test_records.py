"""The closed work order's record on in-memory fakes: every step, message, actor, invoice (with its checks,
coding, approval and a short-lived link to its file) and the bill, with no workflow capability in it."""

from __future__ import annotations

import json

import pytest

from shared.domain.errors import NotFound
from shared.domain.workorder import Photo
from shared.services import invoicing
from shared.services.container import Services
from shared.services.records import full_record
from shared.services.writes import Edit, mutate
from tests.service.journeys import deliver, invoice, invoice_awaited, link_demo_to_pms, pms_ids_in_view, submit

UNIT = "unit-maple-2a"


def test_the_record_of_a_billed_and_closed_job_tells_the_whole_story(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, UNIT)
    deliver(svc)  # the notification consumer ran: messages are in the timeline
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-1001", on=svc.clock().date()))
    invoicing.code_invoice(svc, job.id)
    bill_id = invoicing.post_bill(svc, job.id)["bill_id"]
    invoicing.close(svc, job.id)

    record = full_record(svc, job.id)
    assert record["work_order"]["status"] == "closed" and "timeline" not in record["work_order"]
    assert record["property"] == {"id": "prop-maple", "name": "Maple Court", "address": "120 Maple Ave, Springfield",
                                  "pms_id": "101"}
    assert record["unit"] == {"id": UNIT, "label": "2A", "pms_id": "2003"}
    assert record["vendor"] == {"id": "ven-aqua", "name": "AquaFix Plumbing", "pms_id": "4101"}
    assert record["bill"] == {"provider": "buildium", "bill_id": bill_id}
    assert record["generated_at"] == svc.clock().isoformat()

    actions = [e["event"] for e in record["actions"]]
    assert actions[-7:] == ["invoice_awaited", "invoice_received", "invoice_checked", "invoice_coded",
                           "invoice_approved", "billed", "closed"]
    assert record["messages"] and {e["event"] for e in record["messages"]} <= {"notified", "sms_deferred",
                                                                               "sms_suppressed"}
    assert len(record["messages"]) + len(record["actions"]) == len(record["timeline"])
    assert "notified" not in {e["event"] for e in record["actions"]}

    [kept] = record["invoices"]
    assert record["invoice"] == kept
    assert (kept["id"], kept["status"], kept["total"], kept["bill_pms_id"]) == (inv.id, "billed", "215.90", bill_id)
    assert [line["amount"] for line in kept["lines"]] == ["95.00", "42.50", "75.00", "3.40"]
    assert kept["coding"]["gl_account_number"] == "6010" and kept["approval"]["route"] == "auto"
    assert kept["attachment"]["download_url"] == (
        f"https://opslayer-test-documents.s3.fake.test/{inv.attachment.key}?expires=900")
    assert "task_token" not in json.dumps(record)


def test_the_record_keeps_a_rejected_invoice_beside_the_current_one_without_its_task_token(svc: Services) -> None:
    job = invoice_awaited(svc, UNIT)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("R-1", on=svc.clock().date(), labour_rate="150.00",
                                                 attachment=None))
    invoicing.code_invoice(svc, job.id)
    rejected = invoicing.current_invoice(svc, svc.repo.get_work_order(job.id))
    assert rejected is not None and rejected.approval is not None
    # An approval that ever held a workflow job.vendor_token never shows it.
    svc.repo.save_invoice(rejected.model_copy(update={"approval": rejected.approval.model_copy(
        update={"task_token": "secret-job.vendor_token"})}), rejected.version)
    approver = invoicing.approval_link(svc, svc.repo.get_work_order(job.id), rejected.id, "ops", "https://x.test")
    invoicing.decide(svc, approver.rsplit("/", 1)[1], approve=False, reason="Rate card is 110/h")
    svc.clock.advance(minutes=5)
    current = invoicing.submit_by_link(svc, job.vendor_token, invoice("R-1", on=svc.clock().date(), attachment=None))

    record = full_record(svc, job.id)
    assert [(i["id"], i["status"]) for i in record["invoices"]] == [(rejected.id, "rejected"),
                                                                     (current.id, "submitted")]
    assert record["invoices"][0]["approval"]["decision"] == "rejected"
    assert record["invoices"][0]["rejection_reason"] == "Rate card is 110/h"
    assert record["invoice"]["id"] == current.id and record["invoice"]["attachment"] is None
    assert record["bill"] is None
    assert "secret-job.vendor_token" not in json.dumps(record)


def test_the_record_of_a_fresh_request_has_no_vendor_invoice_or_bill(svc: Services) -> None:
    wo = submit(svc, UNIT, "The kitchen light flickers")
    record = full_record(svc, wo.id)
    assert (record["vendor"], record["invoice"], record["invoices"], record["bill"]) == (None, None, [], None)
    assert pms_ids_in_view(record["work_order"]) == {"task_id": None, "work_order_id": None}
    assert [e["event"] for e in record["actions"]] == ["received"] and record["messages"] == []


def test_the_record_links_photos_for_a_short_time(svc: Services) -> None:
    wo = submit(svc, UNIT, "The kitchen light flickers")
    photo = Photo(key=f"photos/{wo.id}/tenant/a.jpg", upload_key=f"uploads/{wo.id}/tenant/a", party="tenant",
                  content_type="image/jpeg", size=1234, uploaded_at=svc.clock())
    mutate(svc, wo.id, lambda w: Edit(w.model_copy(update={"photos": [photo]}), []))
    [shown] = full_record(svc, wo.id)["photos"]
    assert shown["url"].startswith(f"https://opslayer-test-photos.s3.fake.test/photos/{wo.id}/tenant/a.jpg?expires=")
    assert (shown["party"], shown["size"]) == ("tenant", 1234)


def test_the_record_of_an_unknown_work_order_is_not_found(svc: Services) -> None:
    with pytest.raises(NotFound):
        full_record(svc, "wo-0000000000000000")
