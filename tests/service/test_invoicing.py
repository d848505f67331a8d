"""The money side as use cases on in-memory fakes: invoice intake (link and email), the named checks, GL
coding, the approval route and decisions, reminders, the bill in the PMS and closure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.errors import InvalidInput, InvalidTransition, LinkRejected
from shared.domain.invoices import InvoiceStatus
from shared.domain.workorder import Status
from shared.pms.models import EntityKind, PmsBill
from shared.pms.port import PmsError, PmsRejected
from shared.services import invoicing, views
from shared.services.container import Services
from shared.services.records import full_record
from shared.services.writes import Edit, mutate
from tests.service.journeys import (
    LEAK,
    PDF,
    completed,
    fake_pms,
    invoice,
    invoice_awaited,
    link_demo_to_pms,
    submit,
    workflow,
)

MAPLE = "unit-maple-2a"  # Maple Court: AquaFix is the preferred plumber
HARBOR = "unit-harbor-301"  # Harbor Lofts: has an owner who approves large invoices
ALL_CHECKS = ["arithmetic", "currency", "over_nte", "duplicate_number", "labour_rate", "trip_charge",
              "hours_vs_visit", "recall", "invoice_date", "work_verified"]


def today(svc: Services):
    return svc.clock().date()


def timeline(svc: Services, wo_id: str) -> list[str]:
    return [e.event for e in svc.repo.get_work_order(wo_id, with_timeline=True).timeline if e.event != "notified"]


def approval_token(svc: Services, wo_id: str, route: str = "ops") -> str:
    """The approver's link token, as the InvoiceApprovalRequested message carries it."""
    wo = svc.repo.get_work_order(wo_id)
    assert wo.invoice_id is not None
    url = invoicing.approval_link(svc, wo, wo.invoice_id, route, svc.settings.public_base_url)
    return url.rsplit("/approvals/", 1)[1]


def coded_for_approval(svc: Services, wo_id: str) -> str:
    """Code the submitted invoice and park the workflow on its approval: the approval wait's task token."""
    invoicing.code_invoice(svc, wo_id)
    assert svc.repo.get_work_order(wo_id).status == Status.CODED
    wait = workflow(svc).wait_token("approval", execution=wo_id)
    invoicing.await_approval(svc, wo_id, wait)
    return wait


# ---------------------------------------------------------------- the happy path
def test_a_clean_small_invoice_is_auto_approved_billed_with_its_pdf_and_closed(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-1001", on=today(svc)))

    assert (inv.status, str(inv.total), inv.source, inv.vendor_id) == (InvoiceStatus.SUBMITTED, "215.90", "link",
                                                                       "ven-aqua")
    assert svc.documents().read(inv.attachment.key) == PDF
    assert workflow(svc).output_for(job.invoice_wait) == {"outcome": "submitted", "invoice_id": inv.id}
    assert svc.events.last("InvoiceReceived") == {"work_order_id": job.id, "status": "invoice_awaited",
                                                  "event_key": f"{job.id}:invoice:{inv.id}",
                                                  "vendor_id": "ven-aqua", "invoice_id": inv.id}

    assert invoicing.code_invoice(svc, job.id) == {"route": "auto", "invoice_id": inv.id}
    coded = svc.repo.get_invoice(job.id, inv.id)
    assert [c.rule for c in coded.checks] == ALL_CHECKS and all(c.passed for c in coded.checks)
    assert coded.coding is not None
    assert (coded.coding.gl_account_number, coded.coding.gl_account_name, coded.coding.gl_account_pms_id,
            coded.coding.cost_center, coded.coding.rule) == ("6010", "Plumbing Repairs", "9011", "prop-maple-RM",
                                                             "plumbing")
    assert coded.approval is not None and (coded.approval.route, coded.approval.approver) == ("auto", "auto")
    assert svc.repo.get_work_order(job.id).status == Status.APPROVED
    assert svc.events.last("InvoiceCoded")["failed_checks"] == []

    bill = invoicing.post_bill(svc, job.id)
    stored = fake_pms(svc).entities[EntityKind.BILL][bill["bill_id"]]
    assert isinstance(stored, PmsBill)
    assert (stored.vendor_pms_id, stored.reference, str(stored.total), stored.opslayer_reference) == (
        "4101", "AQ-1001", "215.90", inv.id)
    assert fake_pms(svc).attachments[bill["bill_id"]].data == PDF
    assert svc.repo.get_invoice(job.id, inv.id).status == InvoiceStatus.BILLED
    # A retried step posts nothing twice.
    assert invoicing.post_bill(svc, job.id)["bill_id"] == bill["bill_id"]
    assert fake_pms(svc).calls.count("ensure_bill") == 1

    invoicing.close(svc, job.id)
    closed = svc.repo.get_work_order(job.id)
    assert (closed.status, closed.bill_pms_id) == (Status.CLOSED, bill["bill_id"])
    assert svc.events.last("WorkOrderClosed")["bill_id"] == bill["bill_id"]
    assert timeline(svc, job.id)[-7:] == ["invoice_awaited", "invoice_received", "invoice_checked", "invoice_coded",
                                         "invoice_approved", "billed", "closed"]


def test_the_same_invoice_sent_again_is_the_stored_one_and_a_closed_job_takes_no_other(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    first = invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-7", on=today(svc)))
    assert invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-7", on=today(svc))).id == first.id
    assert len(svc.repo.invoices_for(job.id)) == 1
    assert len(svc.events.of_type("InvoiceReceived")) == 1

    with pytest.raises(InvalidTransition, match="already submitted"):
        invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-8", on=today(svc)))
    invoicing.code_invoice(svc, job.id)
    invoicing.post_bill(svc, job.id)
    invoicing.close(svc, job.id)
    with pytest.raises(InvalidTransition, match="closed"):
        invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-9", on=today(svc)))
    assert invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-7", on=today(svc))).id == first.id


def test_the_workflows_bill_step_bills_and_closes_once_however_often_it_runs(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-21", on=today(svc)))
    invoicing.code_invoice(svc, job.id)
    approved = svc.repo.get_work_order(job.id).version

    bill = invoicing.bill_and_close(svc, job.id)
    assert svc.repo.get_work_order(job.id).version == approved + 1  # billed and closed in one write
    assert invoicing.bill_and_close(svc, job.id) == bill  # a retried step

    closed = svc.repo.get_work_order(job.id)
    assert (closed.status, closed.bill_pms_id) == (Status.CLOSED, bill["bill_id"])
    assert fake_pms(svc).calls.count("ensure_bill") == 1
    assert timeline(svc, job.id)[-2:] == ["billed", "closed"] and timeline(svc, job.id).count("closed") == 1
    assert len(svc.events.of_type("InvoiceBilled")) == len(svc.events.of_type("WorkOrderClosed")) == 1


def test_the_bill_step_closes_a_job_billed_before_without_billing_it_again(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-22", on=today(svc)))
    invoicing.code_invoice(svc, job.id)
    billed = invoicing.post_bill(svc, job.id)  # an earlier try billed it and stopped there
    before = svc.repo.get_work_order(job.id)
    assert before.status == Status.BILLED

    assert invoicing.bill_and_close(svc, job.id) == billed
    closed = svc.repo.get_work_order(job.id)
    assert (closed.status, closed.version) == (Status.CLOSED, before.version + 1)
    assert fake_pms(svc).calls.count("ensure_bill") == 1
    assert len(svc.events.of_type("InvoiceBilled")) == len(svc.events.of_type("WorkOrderClosed")) == 1


def test_the_coding_step_bills_and_closes_an_invoice_approved_at_once_and_answers_its_own_wait(svc: Services) -> None:
    """The workflow's coding step (one state for the routine money side): coded, approved, billed with its PDF and
    closed, the wait answered "billed"; run again (a retried step), it codes nothing, bills nothing and closes once."""
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-31", on=today(svc)))
    wait = workflow(svc).wait_token("code", execution=job.id)

    done = invoicing.code_step(svc, job.id, wait)
    assert done["route"] == "auto" and done["bill_id"] and not done["escalated"]
    assert workflow(svc).output_for(wait) == {"outcome": "billed", "bill_id": done["bill_id"], "escalated": False}
    closed = svc.repo.get_work_order(job.id)
    assert (closed.status, closed.bill_pms_id, closed.stage_wait) == (Status.CLOSED, done["bill_id"], None)
    assert timeline(svc, job.id)[-5:] == ["invoice_checked", "invoice_coded", "invoice_approved", "billed", "closed"]

    again = workflow(svc).wait_token("code", execution=job.id)
    assert invoicing.code_step(svc, job.id, again)["bill_id"] == done["bill_id"]
    assert workflow(svc).output_for(again)["outcome"] == "billed"
    assert fake_pms(svc).calls.count("ensure_bill") == 1
    assert timeline(svc, job.id).count("invoice_coded") == 1 and timeline(svc, job.id).count("closed") == 1


def test_the_coding_step_parks_for_a_person_whose_approval_goes_on_to_the_bill_step(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-32", on=today(svc), hours="6"))  # past the visit
    wait = workflow(svc).wait_token("code", execution=job.id)

    assert invoicing.code_step(svc, job.id, wait)["parked"] is True
    wo = svc.repo.get_work_order(job.id)
    assert wo.status == Status.CODED and wo.stage_wait is not None and wo.stage_wait.task_token == wait
    assert workflow(svc).output_for(wait) is None and fake_pms(svc).calls.count("ensure_bill") == 0
    assert svc.events.last("InvoiceApprovalRequested")["route"] == "ops"

    invoicing.decide(svc, approval_token(svc, job.id), approve=True, reason=None)
    assert workflow(svc).output_for(wait) == {"outcome": "approved"}  # a detour: on to PostBill
    assert svc.repo.get_work_order(job.id).status == Status.APPROVED and fake_pms(svc).calls.count("ensure_bill") == 0


def test_a_pms_outage_in_the_coding_step_hands_the_bill_to_the_bill_steps_retries(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-33", on=today(svc)))
    wait = workflow(svc).wait_token("code", execution=job.id)
    fake_pms(svc).fail_next("ensure_bill", PmsError("503 from the PMS"))

    assert invoicing.code_step(svc, job.id, wait)["billed"] is False
    assert workflow(svc).output_for(wait) == {"outcome": "approved"}
    assert svc.repo.get_work_order(job.id).status == Status.APPROVED
    assert invoicing.bill_or_escalate(svc, job.id)["bill_id"]  # the bill step, retried by the workflow
    assert svc.repo.get_work_order(job.id).status == Status.CLOSED


def test_a_bill_the_pms_refuses_in_the_coding_step_goes_to_ops_and_ends_the_wait(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("HAND-2", on=today(svc)))
    fake_pms(svc).add(EntityKind.BILL, PmsBill(pms_id="778", vendor_pms_id="4101", reference="HAND-2"))
    wait = workflow(svc).wait_token("code", execution=job.id)

    assert invoicing.code_step(svc, job.id, wait)["escalated"] is True
    assert workflow(svc).output_for(wait) == {"outcome": "billed", "bill_id": "", "escalated": True}
    wo = svc.repo.get_work_order(job.id)
    assert (wo.status, wo.escalated_from) == (Status.ESCALATED, Status.APPROVED)


# ---------------------------------------------------------------- refused at intake
def test_invoices_that_do_not_fit_the_job_are_refused_and_nothing_is_stored(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)

    with pytest.raises(InvalidInput, match="billed in USD"):
        invoicing.submit_by_link(svc, job.vendor_token, invoice("X1", on=today(svc), currency="EUR"))
    with pytest.raises(InvalidInput, match="not what it says") as wrong_type:
        invoicing.submit_by_link(svc, job.vendor_token, invoice("X1", on=today(svc), attachment=b"MZ\x90\x00 an exe"))
    assert "not a PDF, JPEG or PNG" in str(wrong_type.value.details)
    with pytest.raises(InvalidInput, match="not what it says"):
        invoicing.submit_by_link(svc, job.vendor_token,
                                 invoice("X1", on=today(svc), attachment=b"\x89PNG\r\n\x1a\nrest"))
    with pytest.raises(InvalidInput, match="too large"):
        invoicing.submit_by_link(svc, job.vendor_token, invoice("X1", on=today(svc),
                                                     attachment=b"%PDF-1.4\n" + b"0" * (4 * 1024 * 1024 - 8)))
    not_base64 = invoice("X1", on=today(svc)).model_copy(deep=True)
    assert not_base64.attachment is not None
    not_base64.attachment.data_base64 = "***not base64***"
    with pytest.raises(InvalidInput, match="not valid base64"):
        invoicing.submit_by_link(svc, job.vendor_token, not_base64)

    assert svc.repo.invoices_for(job.id) == []
    assert svc.repo.get_work_order(job.id).invoice_id is None
    assert svc.events.of_type("InvoiceReceived") == []


def test_an_image_attachment_is_kept_with_its_sniffed_type(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    jpeg = b"\xff\xd8\xff\xe0 a photo of the receipt"
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("IMG-1", on=today(svc), attachment=jpeg,
                                                       content_type="image/jpeg"))
    assert inv.attachment is not None and inv.attachment.content_type == "image/jpeg"
    assert svc.documents().content_type(inv.attachment.key) == "image/jpeg"
    assert inv.attachment.key == f"invoices/{job.id}/{inv.id}/IMG-1.jpg"


def test_only_the_assigned_vendor_may_invoice_and_only_once_the_work_is_done(svc: Services) -> None:
    wo = completed(svc, MAPLE, LEAK, hours_on_site=1).wo
    other = svc.link_tokens().issue(wo.id, "vendor", "ven-pipeline", 3600)
    with pytest.raises(LinkRejected):
        invoicing.submit_by_link(svc, other, invoice("P-1", on=today(svc)))


    fresh = submit(svc, "unit-maple-1b", "The bathroom sink is clogged")
    mutate(svc, fresh.id, lambda w: Edit(w.model_copy(update={"vendor_id": "ven-aqua"}), []))
    early = svc.link_tokens().issue(fresh.id, "vendor", "ven-aqua", 3600)
    with pytest.raises(InvalidTransition, match="the job is received"):
        invoicing.submit_by_link(svc, early, invoice("A-1", on=today(svc)))
    assert svc.repo.invoices_for(fresh.id) == []


# ---------------------------------------------------------------- checks and routes
def test_failed_checks_go_to_ops_whose_rejection_returns_the_job_to_the_vendor(svc: Services) -> None:
    link_demo_to_pms(svc)
    # Half an hour on site; 2 hours billed at 150/h, above the default rate card (110/h).
    job = invoice_awaited(svc, MAPLE, hours_on_site=0.5)
    inv = invoicing.submit_by_link(svc, job.vendor_token,
                                   invoice("PL-77", on=today(svc), hours="2", labour_rate="150.00"))
    wait = coded_for_approval(svc, job.id)

    coded = svc.repo.get_invoice(job.id, inv.id)
    failed = {c.rule: c.reason for c in coded.failed_checks()}
    assert set(failed) == {"labour_rate", "hours_vs_visit"}
    assert failed["labour_rate"] == "Labour rate 150.00 is above the rate card (default: 110.00)"
    assert failed["hours_vs_visit"] == "2 labour hours billed, but the visit lasted 0.5 h (allowed 1.6 h)"
    assert coded.approval is not None and coded.approval.route == "ops"
    assert coded.approval.reason == "Failed checks: labour_rate, hours_vs_visit"
    assert svc.events.last("InvoiceApprovalRequested") == {
        "work_order_id": job.id, "status": "coded", "event_key": f"{job.id}:approval:{inv.id}:ops",
        "invoice_id": inv.id, "route": "ops"}

    approver = approval_token(svc, job.id)
    view = invoicing.approval_view(svc, approver).as_json()
    assert (view["approver"], view["pending"], view["allowed_actions"]) == ("ops", True, ["approve", "reject"])
    assert (view["total"], view["nte"], view["vendor"]) == ("420.90", "500.00", "AquaFix Plumbing")
    assert [c["rule"] for c in view["checks"] if not c["passed"]] == ["labour_rate", "hours_vs_visit"]

    rejected = invoicing.decide(svc, approver, approve=False, reason="Rate card is 110/h")
    assert (rejected.status, rejected.rejection_reason) == (InvoiceStatus.REJECTED, "Rate card is 110/h")
    assert rejected.approval is not None and (rejected.approval.approver, rejected.approval.decision) == (
        "ops", "rejected")
    assert workflow(svc).output_for(wait) == {"outcome": "rejected"}
    back = svc.repo.get_work_order(job.id)
    assert (back.status, back.invoice_id) == (Status.INVOICE_AWAITED, None)
    assert svc.events.last("InvoiceRejected")["reason"] == "Rate card is 110/h"
    with pytest.raises(InvalidTransition, match="rejected"):
        invoicing.decide(svc, approver, approve=True, reason=None)  # one decision per invoice
    seen = views.vendor_job(svc, job.vendor_token).as_json()
    assert seen["invoices"] == [{"invoice_number": "PL-77", "total": "420.90 USD", "status": "rejected",
                                 "rejection_reason": "Rate card is 110/h"}]
    assert "invoice" in seen["allowed_actions"]

    # The corrected invoice (same number, same job: not a duplicate) goes through.
    again = workflow(svc).wait_token("invoice", execution=job.id)
    invoicing.await_invoice(svc, job.id, again)
    fixed = invoicing.submit_by_link(svc, job.vendor_token, invoice("PL-77", on=today(svc), labour_rate="100.00"))
    assert fixed.duplicate_of is None
    assert workflow(svc).output_for(again) == {"outcome": "submitted", "invoice_id": fixed.id}
    assert invoicing.code_invoice(svc, job.id)["route"] == "auto"
    invoicing.post_bill(svc, job.id)
    invoicing.close(svc, job.id)
    assert [i["status"] for i in full_record(svc, job.id)["invoices"]] == ["rejected", "billed"]


def raise_nte(svc: Services, wo_id: str, nte_cents: int) -> None:
    """Ops raised the job's not-to-exceed amount (a larger job than triage assumed)."""
    mutate(svc, wo_id, lambda w: Edit(w.model_copy(update={"nte_cents": nte_cents}), []))


def test_ops_approve_an_invoice_over_the_auto_limit(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    raise_nte(svc, job.id, 100000)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("BIG-2", on=today(svc), materials="420.00", tax="0"))
    wait = coded_for_approval(svc, job.id)
    assert svc.repo.get_invoice(job.id, inv.id).approval.reason == (
        "590.00 is over the auto-approval limit 500.00")
    # A replayed coding step keeps the first decision; a replayed wait publishes nothing new.
    assert invoicing.code_invoice(svc, job.id) == {"route": "ops", "invoice_id": inv.id}
    invoicing.await_approval(svc, job.id, wait)
    assert len(svc.events.of_type("InvoiceApprovalRequested")) == 1

    approved = invoicing.decide(svc, approval_token(svc, job.id), approve=True, reason="Checked with the vendor")
    assert approved.status == InvoiceStatus.APPROVED
    assert workflow(svc).output_for(wait) == {"outcome": "approved"}
    assert svc.repo.get_work_order(job.id).status == Status.APPROVED
    assert svc.events.last("InvoiceApproved")["invoice_id"] == inv.id
    detail = svc.repo.get_work_order(job.id, with_timeline=True).timeline[-1].detail
    assert detail == "Invoice BIG-2 approved by ops: Checked with the vendor"


def test_an_invoice_before_the_tenant_verified_is_kept_and_flagged_when_coded(svc: Services) -> None:
    from shared.services.workorders import answer_follow_up

    job = completed(svc, MAPLE, LEAK, hours_on_site=1)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("EARLY-1", on=today(svc), materials="0", tax="0"))
    assert inv.work_order_status_at_submission == "completed"
    assert svc.repo.get_work_order(job.id).status == Status.COMPLETED

    answer_follow_up(svc, job.id, resolved=True, comment=None)
    wait = workflow(svc).wait_token("invoice", execution=job.id)
    invoicing.await_invoice(svc, job.id, wait)
    # It came early: no wait, no request to the vendor; the workflow goes straight on.
    assert workflow(svc).output_for(wait) == {"outcome": "submitted", "invoice_id": inv.id}
    assert svc.events.of_type("InvoiceRequested") == []
    awaited = svc.repo.get_work_order(job.id, with_timeline=True)
    assert awaited.stage_wait is None and awaited.timeline[-1].detail == "Invoice already received"

    invoicing.code_invoice(svc, job.id)
    failed = svc.repo.get_invoice(job.id, inv.id).failed_checks()
    assert [c.rule for c in failed] == ["work_verified"]
    assert failed[0].reason == "Invoiced while the work order was completed, before the tenant verified the fix"


def test_a_reused_invoice_number_and_a_future_date_are_flagged_for_ops(svc: Services) -> None:
    first = invoice_awaited(svc, "unit-harbor-201")
    invoicing.submit_by_link(svc, first.vendor_token, invoice("DUP-9", on=today(svc), attachment=None))
    second = invoice_awaited(svc, "unit-harbor-202", "The bathroom faucet drips all night")
    assert second.vendor_id == first.vendor_id
    future = today(svc) + timedelta(days=10)
    # numbers compare case-insensitively
    inv = invoicing.submit_by_link(svc, second.vendor_token,
                                   invoice("dup-9", on=future))
    assert inv.duplicate_of is not None and first.id in inv.duplicate_of

    assert invoicing.code_invoice(svc, second.id)["route"] == "ops"
    failed = {c.rule: c.reason for c in svc.repo.get_invoice(second.id, inv.id).failed_checks()}
    assert set(failed) == {"duplicate_number", "invoice_date"}
    assert first.id in failed["duplicate_number"]
    assert failed["invoice_date"] == f"Invoice date {future} is in the future"
    assert svc.events.last("InvoiceCoded")["failed_checks"] == ["duplicate_number", "invoice_date"]


def test_an_invoice_over_the_nte_goes_to_ops(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("NTE-1", on=today(svc), materials="480.00", tax="0"))
    invoicing.code_invoice(svc, job.id)
    failed = {c.rule: c.reason for c in svc.repo.get_invoice(job.id, inv.id).failed_checks()}
    assert failed == {"over_nte": "Total 650.00 is over the not-to-exceed amount 500.00"}
    assert svc.repo.get_invoice(job.id, inv.id).approval.reason == "Failed checks: over_nte"


def test_an_unknown_gl_account_is_coded_but_the_bill_is_not_possible(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)  # no PMS ids: nothing was imported from a PMS
    invoicing.submit_by_link(svc, job.vendor_token, invoice("NOPMS-1", on=today(svc)))
    invoicing.code_invoice(svc, job.id)
    inv = invoicing.current_invoice(svc, svc.repo.get_work_order(job.id))
    assert inv is not None and inv.coding is not None
    assert (inv.coding.gl_account_name, inv.coding.gl_account_pms_id) == ("(not in the PMS)", None)
    with pytest.raises(invoicing.BillNotPossible, match="vendor, GL account, property"):
        invoicing.post_bill(svc, job.id)
    assert fake_pms(svc).calls == [] and svc.repo.get_work_order(job.id).status == Status.APPROVED


def test_no_invoice_to_code_or_bill_is_a_conflict(svc: Services) -> None:
    wo = invoice_awaited(svc, MAPLE).wo
    with pytest.raises(InvalidTransition, match="No invoice to code"):
        invoicing.code_invoice(svc, wo.id)
    with pytest.raises(InvalidTransition, match="No approved invoice"):
        invoicing.post_bill(svc, wo.id)


# ---------------------------------------------------------------- the bill in the PMS
def test_a_pms_outage_fails_the_bill_step_and_its_retry_posts_once(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("OUT-1", on=today(svc)))
    invoicing.code_invoice(svc, job.id)
    fake_pms(svc).fail_next("ensure_bill", PmsError("503 from the PMS"))
    with pytest.raises(PmsError):
        invoicing.post_bill(svc, job.id)
    assert svc.repo.get_work_order(job.id).status == Status.APPROVED
    assert fake_pms(svc).entities[EntityKind.BILL] == {}

    bill = invoicing.post_bill(svc, job.id)
    assert list(fake_pms(svc).entities[EntityKind.BILL]) == [bill["bill_id"]]
    assert svc.repo.get_work_order(job.id).status == Status.BILLED


def test_a_bill_the_pms_refuses_for_good_is_not_marked_billed(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("HAND-1", on=today(svc)))
    invoicing.code_invoice(svc, job.id)
    # Someone already entered this vendor's invoice number by hand in the PMS.
    fake_pms(svc).add(EntityKind.BILL, PmsBill(pms_id="777", vendor_pms_id="4101", reference="HAND-1"))
    with pytest.raises(PmsRejected, match="already has invoice number HAND-1"):
        invoicing.post_bill(svc, job.id)
    inv = invoicing.current_invoice(svc, svc.repo.get_work_order(job.id))
    assert inv is not None and (inv.status, inv.bill_pms_id) == (InvoiceStatus.APPROVED, None)
    assert svc.events.of_type("InvoiceBilled") == []


# ---------------------------------------------------------------- reminders and the owner
def test_no_invoice_reminds_the_vendor_twice_then_escalates_to_ops(svc: Services) -> None:
    wo = invoice_awaited(svc, MAPLE).wo
    assert svc.events.last("InvoiceRequested")["vendor_id"] == "ven-aqua"

    assert invoicing.remind(svc, wo.id, "invoice") == {"again": True}
    assert invoicing.remind(svc, wo.id, "invoice") == {"again": True}
    assert [d["event_key"] for d in svc.events.of_type("InvoiceReminder")] == [
        f"{wo.id}:invoice_reminder:1:None", f"{wo.id}:invoice_reminder:2:None"]
    assert svc.repo.get_work_order(wo.id).reminders == {"invoice": 2}

    assert invoicing.remind(svc, wo.id, "invoice") == {"again": False}
    escalated = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert escalated.status == Status.ESCALATED
    assert escalated.timeline[-1].detail == "No invoice from the vendor after reminders; ops alerted"
    assert svc.events.last("WorkOrderEscalated")["reason"] == "invoice_overdue"
    assert timeline(svc, wo.id).count("invoice_reminder") == 2

    # Ops own it now and may still close it.
    closed = invoicing.close_without_invoice(svc, wo.id, "Vendor billed in the PMS directly")
    assert closed.status == Status.CLOSED


def test_a_reminder_for_a_wait_that_is_over_asks_nothing(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("R-1", on=today(svc)))
    invoicing.code_invoice(svc, job.id)  # auto-approved: nothing waits for an invoice any more
    assert invoicing.remind(svc, job.id, "invoice") == {"again": True}
    assert invoicing.remind(svc, job.id, "approval") == {"again": True}
    assert svc.events.of_type("InvoiceReminder") == [] and svc.events.of_type("ApprovalReminder") == []


def test_an_owner_who_does_not_answer_hands_the_approval_to_ops(svc: Services) -> None:
    job = invoice_awaited(svc, HARBOR)
    # A large job: its NTE raised by ops so that the invoice passes every check.
    raise_nte(svc, job.id, 300000)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("BIG-1", on=today(svc), materials="1600.00", tax="0",
                                                       trip="0", attachment=None))
    wait = coded_for_approval(svc, job.id)
    coded = svc.repo.get_invoice(job.id, inv.id)
    assert coded.approval is not None and coded.approval.route == "owner"
    assert coded.approval.reason == "1695.00 is over the owner-approval limit 1500.00"
    assert coded.coding is not None and coded.coding.owner == "Harbor Lofts Owner LLC"
    owner_link = approval_token(svc, job.id, "owner")
    assert invoicing.approval_view(svc, owner_link).as_json()["allowed_actions"] == ["approve", "reject"]

    for n in (1, 2):
        assert invoicing.remind(svc, job.id, "approval") == {"again": True}
        assert svc.events.last("ApprovalReminder")["route"] == "owner"
        assert svc.repo.get_work_order(job.id).reminders == {"approval": n}
    assert invoicing.remind(svc, job.id, "approval") == {"again": True}  # rerouted, not escalated
    rerouted = svc.repo.get_invoice(job.id, inv.id)
    assert rerouted.approval is not None and rerouted.approval.route == "ops"
    assert rerouted.approval.reason.endswith("; the owner did not answer")
    assert svc.events.last("InvoiceApprovalRequested")["route"] == "ops"
    assert svc.repo.get_work_order(job.id).reminders == {"approval": 0}

    view = invoicing.approval_view(svc, owner_link).as_json()
    assert (view["pending"], view["allowed_actions"]) == (False, [])
    with pytest.raises(LinkRejected, match="replaced"):
        invoicing.decide(svc, owner_link, approve=True, reason=None)
    invoicing.decide(svc, approval_token(svc, job.id, "ops"), approve=True, reason=None)
    assert workflow(svc).output_for(wait) == {"outcome": "approved"}
    assert timeline(svc, job.id)[-5:] == ["approval_requested", "approval_reminder", "approval_reminder",
                                         "approval_rerouted", "invoice_approved"]


def test_an_owner_approves_through_their_link(svc: Services) -> None:
    job = invoice_awaited(svc, HARBOR)
    raise_nte(svc, job.id, 300000)
    invoicing.submit_by_link(svc, job.vendor_token,
                             invoice("BIG-3", on=today(svc), materials="1600.00", attachment=None))
    coded_for_approval(svc, job.id)
    decided = invoicing.decide(svc, approval_token(svc, job.id, "owner"), approve=True, reason=None)
    assert decided.approval is not None and decided.approval.approver == "owner:prop-harbor"
    assert svc.repo.get_work_order(job.id, with_timeline=True).timeline[-1].detail == (
        "Invoice BIG-3 approved by owner")


def test_ops_approving_late_is_an_escalation_after_the_reminders(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    raise_nte(svc, job.id, 100000)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("LATE-1", on=today(svc), materials="420.00"))
    coded_for_approval(svc, job.id)
    for _ in range(2):
        invoicing.remind(svc, job.id, "approval")
    assert svc.events.last("ApprovalReminder")["route"] == "ops"
    assert invoicing.remind(svc, job.id, "approval") == {"again": False}
    assert svc.repo.get_work_order(job.id).status == Status.ESCALATED
    assert svc.events.last("WorkOrderEscalated")["reason"] == "approval_overdue"


def test_a_wait_for_a_decision_already_made_returns_at_once(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("Q-1", on=today(svc)))
    invoicing.code_invoice(svc, job.id)  # auto-approved
    late = workflow(svc).wait_token("approval", execution=job.id)
    invoicing.await_approval(svc, job.id, late)
    assert workflow(svc).output_for(late) == {"outcome": "approved"}



@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
def test_a_wait_parked_while_a_decision_is_half_written_gets_that_decision(svc: Services, monkeypatch,
                                                                           approve: bool) -> None:
    """Ops decide through a link they already hold (e.g. after a retry of the approval step) while the retried
    wait is parking: the decision writes the invoice, then the work order. A wait that runs between the two sees a
    coded job with a decided invoice: it parks, and the decision resumes it (it ended the lifecycle as "closed",
    leaving the job approved with no workflow to bill it: found by the fault scenario at the approval wait)."""
    job = invoice_awaited(svc, MAPLE)
    raise_nte(svc, job.id, 100000)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("RACE-1", on=today(svc), materials="420.00", tax="0"))
    coded_for_approval(svc, job.id)
    retried = workflow(svc).wait_token("approval", execution=f"{job.id}-retry-1")
    save_invoice = svc.repo.save_invoice

    def decision_then_the_wait(inv, version):  # the wait runs between the decision's two writes
        saved = save_invoice(inv, version)
        monkeypatch.setattr(svc.repo, "save_invoice", save_invoice)
        invoicing.await_approval(svc, job.id, retried)
        return saved

    monkeypatch.setattr(svc.repo, "save_invoice", decision_then_the_wait)
    invoicing.decide(svc, approval_token(svc, job.id), approve=approve, reason="ok" if approve else "Too much")
    assert workflow(svc).output_for(retried) == {"outcome": "approved" if approve else "rejected"}
    assert svc.repo.get_work_order(job.id).status == (Status.APPROVED if approve else Status.INVOICE_AWAITED)
    assert len(svc.events.of_type("InvoiceApprovalRequested")) == 1  # the parked wait asked nobody again


def test_a_replayed_invoice_wait_on_a_closed_job_ends_at_once(svc: Services) -> None:
    wo = invoice_awaited(svc, MAPLE).wo
    invoicing.close_without_invoice(svc, wo.id, "Warranty work after all")
    replayed = workflow(svc).wait_token("invoice", execution=wo.id)
    invoicing.await_invoice(svc, wo.id, replayed)
    assert workflow(svc).output_for(replayed) == {"outcome": "closed", "invoice_id": None}
    assert svc.repo.get_work_order(wo.id).stage_wait is None


def test_an_approval_link_for_an_unknown_invoice_is_not_valid(svc: Services) -> None:
    wo = invoice_awaited(svc, MAPLE).wo
    forged = svc.link_tokens().issue(wo.id, "approver", "ops:inv-00000000", 3600)
    with pytest.raises(LinkRejected, match="not valid"):
        invoicing.approval_view(svc, forged)
    vendor = svc.link_tokens().issue(wo.id, "vendor", "ven-aqua", 3600)
    with pytest.raises(LinkRejected):
        invoicing.approval_view(svc, vendor)  # a vendor link is not an approval link


def test_invoice_message_variables_carry_the_reason_and_a_signed_link_only_when_asked(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    raise_nte(svc, job.id, 100000)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("V-1", on=today(svc), materials="420.00"))
    invoicing.code_invoice(svc, job.id)
    current = svc.repo.get_work_order(job.id)
    plain = invoicing.invoice_variables(svc, current, {"invoice_id": inv.id}, with_link=False)
    assert plain == {"invoice_number": "V-1", "invoice_total": "593.40 USD",
                     "reason": "593.40 is over the auto-approval limit 500.00"}
    linked = invoicing.invoice_variables(svc, current, {"invoice_id": inv.id, "reason": "x"}, with_link=True)
    assert "reason" not in linked and linked["approval_url"].startswith("https://opslayer.test/approvals/olk1_")
    assert invoicing.approval_view(svc, linked["approval_url"].rsplit("/", 1)[1]).approver == "ops"


# ---------------------------------------------------------------- closing without an invoice
def test_ops_close_a_job_without_an_invoice_which_ends_the_invoice_wait(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    closed = invoicing.close_without_invoice(svc, job.id, "In-house handyman, no invoice")
    assert closed.status == Status.CLOSED
    assert workflow(svc).output_for(job.invoice_wait) == {"outcome": "closed"}
    assert svc.events.last("WorkOrderClosed")["reason"] == "In-house handyman, no invoice"
    with pytest.raises(InvalidTransition, match="cannot be closed"):
        invoicing.close_without_invoice(svc, job.id, "again")
    with pytest.raises(InvalidTransition, match="closed"):
        invoicing.submit_by_link(svc, job.vendor_token, invoice("LATE-1", on=today(svc)))


def test_closing_without_an_invoice_supersedes_the_one_waiting_for_approval(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("S-1", on=today(svc), materials="420.00"))
    wait = coded_for_approval(svc, job.id)
    invoicing.close_without_invoice(svc, job.id, "Warranty: the vendor will not be paid")
    assert svc.repo.get_invoice(job.id, inv.id).status == InvoiceStatus.SUPERSEDED
    assert workflow(svc).output_for(wait) == {"outcome": "closed"}
    with pytest.raises(InvalidTransition):
        invoicing.decide(svc, approval_token(svc, job.id), approve=True, reason=None)


def test_a_billed_job_closes_through_the_workflow_only(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    invoicing.submit_by_link(svc, job.vendor_token, invoice("B-1", on=today(svc)))
    invoicing.code_invoice(svc, job.id)
    invoicing.post_bill(svc, job.id)
    with pytest.raises(InvalidTransition, match="billed cannot be closed"):
        invoicing.close_without_invoice(svc, job.id, "by hand")
    invoicing.close(svc, job.id)
    invoicing.close(svc, job.id)  # a replayed step
    assert len(svc.events.of_type("WorkOrderClosed")) == 1


# ---------------------------------------------------------------- invoices by email
def email_body(wo_id: str, number: str = "EM-42", total: str = "188.50") -> str:
    return (f"Hello, please find our invoice for {wo_id} attached.\n\nInvoice number: {number}\n"
            f"Labour: 1 h x 95.00\nMaterials: 18.50\nTrip charge: 75.00\nTotal: {total}\n\nThanks,\nDispatch")


def test_an_emailed_invoice_with_its_pdf_is_matched_to_the_job(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    vendor = svc.repo.get_vendor("ven-aqua")
    assert vendor.email is not None
    result = invoicing.submit_by_email(svc, vendor.email.upper(), f"Invoice EM-42 for job {job.id}",
                                       email_body(job.id), ("EM-42.pdf", "application/pdf", PDF), "msg-1")
    inv = svc.repo.get_invoice(job.id, result["invoice_id"])
    assert (inv.source, str(inv.total), inv.invoice_date) == ("email", "188.50", today(svc))
    assert [(line.kind.value, str(line.quantity), str(line.unit_price)) for line in inv.lines] == [
        ("labour", "1", "95.00"), ("material", "1", "18.50"), ("trip", "1", "75.00")]
    assert inv.attachment is not None and svc.documents().read(inv.attachment.key) == PDF
    assert workflow(svc).output_for(job.invoice_wait) == {"outcome": "submitted", "invoice_id": inv.id}
    assert invoicing.exceptions(svc) == []


def test_unmatched_or_unreadable_emailed_invoices_land_in_the_ops_exception_queue(svc: Services) -> None:
    wo = invoice_awaited(svc, MAPLE).wo
    aqua = "dispatch@aquafix.example.com"
    cases = [
        (aqua, "Invoice 7781", "Invoice number: 7781\nTotal: 120.00"),
        (aqua, "Invoice for wo-00000000000aaaaaaaaaa", "See attached."),
        ("office@voltelectric.example.com", f"Invoice for {wo.id}", email_body(wo.id)),
        (aqua, f"Invoice for {wo.id}", "Please pay what you think is fair."),
        (aqua, f"Invoice for {wo.id}", email_body(wo.id, total="999.00")),  # lines do not add up
    ]
    for n, (sender, subject, body) in enumerate(cases):
        svc.clock.advance(minutes=1)  # the queue lists by arrival
        assert "exception" in invoicing.submit_by_email(svc, sender, subject, body, None, f"m-{n}")
    listed = invoicing.exceptions(svc)
    assert [e["reason"] for e in listed] == [
        "no work-order reference in the email", "unknown work order wo-00000000000aaaaaaaaaa",
        "the sender is not the job's vendor", "could not read invoice number and total from the email",
        "invoice not accepted: 1 validation error for InvoiceIn"]
    assert [e.get("work_order_id") for e in listed] == [None, None, wo.id, wo.id, wo.id]
    assert all(e["source"] == "email" and "@" not in str(e) for e in listed)  # no sender address kept
    assert svc.repo.invoices_for(wo.id) == []


def test_an_emailed_invoice_the_job_cannot_take_is_an_exception_not_an_error(svc: Services) -> None:
    wo = invoice_awaited(svc, MAPLE).wo
    invoicing.close_without_invoice(svc, wo.id, "Warranty")
    result = invoicing.submit_by_email(svc, "dispatch@aquafix.example.com", f"Invoice {wo.id}",
                                       email_body(wo.id), None, "m-closed")
    [exc] = invoicing.exceptions(svc)
    assert result == {"exception": exc["id"]}
    assert exc["reason"] == "invoice not accepted: This work order is closed; it takes no more invoices."


def test_the_invoice_fields_a_vendor_types_in_an_email_are_read() -> None:
    read = invoicing.read_email_invoice("Invoice #: A-9\nInvoice date: 2026-06-01\nLabor: 2.5 hours @ 1,100\n"
                                        "Material: $40.00\nTrip: 85\nTax: 3.20\nTotal: $2,878.20\nCurrency: usd")
    assert read == {"invoice_number": "A-9", "invoice_date": "2026-06-01", "currency": "USD", "total": "2878.20",
                    "lines": [{"kind": "labour", "description": "Labour", "quantity": "2.5", "unit_price": "1100"},
                              {"kind": "material", "description": "Materials", "quantity": "1",
                               "unit_price": "40.00"},
                              {"kind": "trip", "description": "Trip charge", "quantity": "1", "unit_price": "85"},
                              {"kind": "tax", "description": "Tax", "quantity": "1", "unit_price": "3.20"}]}
    flat = invoicing.read_email_invoice("Invoice no: 5\nLabour: 120.00 flat\nTotal: 120.00")
    assert flat is not None and flat["lines"] == [{"kind": "labour", "description": "Labour", "quantity": "1",
                                                   "unit_price": "120.00"}]
    assert invoicing.read_email_invoice("Total: 10.00") is None


def test_an_emailed_attachment_that_is_not_what_it_says_is_an_exception(svc: Services) -> None:
    wo = invoice_awaited(svc, MAPLE).wo
    result = invoicing.submit_by_email(svc, "dispatch@aquafix.example.com", f"Invoice {wo.id}", email_body(wo.id),
                                       ("scan.png", "image/png", b"not a png"), "m-png")
    [exc] = invoicing.exceptions(svc)
    assert result == {"exception": exc["id"]} and exc["has_attachment"] is True
    assert exc["reason"] == "invoice not accepted: The attachment is not what it says it is."


def test_the_bill_is_coded_per_line_and_linked_to_the_pms_work_order(svc: Services, monkeypatch) -> None:
    from shared.pms.models import NewBill
    from shared.services.pms_writer import sync_out

    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    sync_out(svc, fake_pms(svc), job.id)  # the writer logged the job (and its PMS work order) in the PMS
    order_id = svc.repo.pms_state(job.id)["pms_work_order_id"]
    sent: list[NewBill] = []
    real = fake_pms(svc).ensure_bill
    monkeypatch.setattr(fake_pms(svc), "ensure_bill", lambda bill: sent.append(bill) or real(bill))

    invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-2", on=today(svc), tax="0"))
    invoicing.code_invoice(svc, job.id)
    invoicing.post_bill(svc, job.id)
    [bill] = sent
    assert (bill.vendor_pms_id, bill.work_order_pms_id, bill.invoice_number) == ("4101", order_id, "AQ-2")
    assert bill.due_date == bill.bill_date + timedelta(days=30)
    assert bill.memo == f"{job.id}: plumbing at 2A"
    assert [(line.gl_account_pms_id, str(line.amount), line.memo, line.property_pms_id, line.unit_pms_id)
            for line in bill.lines] == [("9011", "95.00", "labour: Plumber", "101", "2003"),
                                        ("9011", "42.50", "material: Supply line and fittings", "101", "2003"),
                                        ("9011", "75.00", "trip: Trip charge", "101", "2003")]
    assert bill.attachment is not None and bill.attachment.filename == "AQ-2.pdf"


def test_a_bill_posted_before_the_pms_writer_logged_the_job_is_still_linked_to_its_pms_work_order(
        svc: Services) -> None:
    """The workflow can reach the bill while the PMS writer's queue is behind (seen on the local cloud): the bill step
    logs the job in the PMS itself, once, and links the bill to that work order."""
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    assert svc.repo.pms_state(job.id).get("pms_work_order_id") is None  # the writer has not run for this job

    invoicing.submit_by_link(svc, job.vendor_token, invoice("AQ-3", on=today(svc), tax="0"))
    invoicing.code_invoice(svc, job.id)
    invoicing.post_bill(svc, job.id)
    order_id = svc.repo.pms_state(job.id)["pms_work_order_id"]
    assert order_id
    [bill] = [b for b in fake_pms(svc).list(EntityKind.BILL) if b.reference == "AQ-3"]
    assert bill.work_order_pms_id == order_id
    task_id = svc.repo.pms_state(job.id)["pms_task_id"]
    assert [w.pms_id for w in fake_pms(svc).list(EntityKind.WORK_ORDER) if w.task_pms_id == task_id] == [order_id]
    # The writer's own run afterwards (its queue caught up) finds the job logged: nothing created twice.
    from shared.services.pms_writer import sync_out

    sync_out(svc, fake_pms(svc), job.id)
    assert [w.pms_id for w in fake_pms(svc).list(EntityKind.WORK_ORDER) if w.task_pms_id == task_id] == [order_id]


def test_the_over_nte_reason_shows_the_nte_as_money(svc: Services) -> None:
    job = invoice_awaited(svc, MAPLE)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("NTE-2", on=today(svc), materials="480.00", tax="0"))
    invoicing.code_invoice(svc, job.id)
    [failed] = svc.repo.get_invoice(job.id, inv.id).failed_checks()
    assert failed.reason == "Total 650.00 is over the not-to-exceed amount 500.00"


def test_an_approved_job_ops_close_is_not_billed_afterwards(svc: Services) -> None:
    link_demo_to_pms(svc)
    job = invoice_awaited(svc, MAPLE)
    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("C-1", on=today(svc)))
    invoicing.code_invoice(svc, job.id)  # auto-approved: the workflow goes on to the bill
    invoicing.close_without_invoice(svc, job.id, "Paid from the owner's warranty")
    assert svc.repo.get_invoice(job.id, inv.id).status == InvoiceStatus.SUPERSEDED
    with pytest.raises(InvalidTransition, match="No approved invoice to bill"):
        invoicing.post_bill(svc, job.id)
    assert fake_pms(svc).calls == [] and svc.repo.get_work_order(job.id).status == Status.CLOSED
