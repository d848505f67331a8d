"""Ways forward from an escalation on the fakes (shared/services/escalations.py): reassign to a vendor or an
in-house technician, restart dispatch, resume or extend at a stage, note, cancel and close; each checked
against the state, on the timeline and in the audit log, announced, and started again as a named execution.
A late invoice after an escalation restarts invoicing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shared.domain.directory import Vendor
from shared.domain.enums import Trade
from shared.domain.errors import InvalidInput, InvalidTransition, NotFound
from shared.domain.stuck import stuck_after
from shared.domain.workorder import Status
from shared.schemas import Steer
from shared.services import escalations, invoicing, steering
from shared.services.container import Services
from shared.services.visits import vendor_schedule
from shared.services.workorders import escalate, rank, stage_overdue, triage_output, vendor_complete
from tests.service.journeys import (
    accepted,
    at,
    deliver,
    invoice,
    invoice_awaited,
    nobody_accepted,
    scheduled,
    submit,
    vendor_token,
    window,
    workflow,
)

UNIT = "unit-maple-1a"
DRIP = "The kitchen sink drips all day"
OPS = "ops:arn:aws:iam::1:user/dana"
SAM = "tech-sam"


def _hire_sam(svc: Services, **fields: Any) -> Vendor:
    """An in-house plumber in the demo's north area (as /ops/config/technicians writes one)."""
    tech = Vendor(id=SAM, name="Sam Rivera (in-house)", trades=[Trade.PLUMBING], service_areas=["north"],
                  phone="+15550300001", email="sam@maintenance.example.com", in_house=True, **fields)
    svc.repo.put_vendor(tech)
    return tech


def _execution(svc: Services, wo_id: str, n: int = 1) -> dict[str, Any]:
    return workflow(svc).executions[f"{wo_id}-ops-{n}"].input


# ---------------------------------------------------------------- escalation keeps where it stalled
def test_an_escalation_keeps_the_status_it_stalled_in(svc: Services) -> None:
    job = nobody_accepted(svc, UNIT, DRIP)
    wo = job.load(svc)
    assert wo.status == Status.ESCALATED and wo.escalated_from == Status.OFFERED and wo.failed_in is None


# ---------------------------------------------------------------- reassign
def test_reassign_to_an_in_house_technician_who_then_does_the_job(svc: Services) -> None:
    job = nobody_accepted(svc, UNIT, DRIP)
    _hire_sam(svc)
    previous = job.load(svc).vendor_id

    done = escalations.reassign(svc, job.id, SAM, "No vendor answered; Sam is free", OPS, in_house=True)

    wo = job.load(svc, with_timeline=True)
    assert wo.status == Status.ACCEPTED and wo.vendor_id == SAM and wo.escalated_from is None
    assert wo.nte_cents is not None and wo.restarts == 1
    assert done.resume_at == "schedule" and wo.execution_arn == done.execution_arn
    assert _execution(svc, job.id) == {"work_order_id": job.id, "reopen": False, "resume_at": "schedule"}
    last = wo.timeline[-1]
    assert last.event == "reassigned" and last.actor == OPS and "in-house technician" in last.detail
    [audit] = [a for a in steering.audit_log(svc) if a["action"] == "work_order_reassign"]
    assert audit["target"] == job.id and audit["actor"] == OPS and audit["vendor_id"] == SAM
    assert [d["vendor_id"] for d in svc.events.of_type("WorkOrderAssigned")] == [SAM]
    assert previous is None  # the expired offers left no assignee: nobody to withdraw from
    assert svc.events.of_type("JobWithdrawn") == []

    svc.messenger.clear()
    deliver(svc, "WorkOrderAssigned")
    to_sam = svc.messenger.sms_to("+15550300001")
    assert len(to_sam) == 1 and "/vendor/jobs/" in to_sam[0].body  # the job link, as on an accepted offer
    tenant = wo.tenant.phone or ""
    assert any("Sam Rivera" in m.body for m in svc.messenger.sms_to(tenant))

    link = vendor_token(svc, job.id, SAM)
    vendor_schedule(svc, link, at(window(svc)))
    done_wo = vendor_complete(svc, link, "Replaced the washer")
    assert done_wo.status == Status.COMPLETED and done_wo.vendor_id == SAM


def test_reassign_from_one_vendor_to_another_withdraws_the_first(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    first = job.load(svc).vendor_id
    stage_overdue(svc, job.id, "schedule")

    escalations.reassign(svc, job.id, "ven-pipeline", "AquaFix never booked a visit", OPS, in_house=False)

    wo = job.load(svc)
    assert wo.vendor_id == "ven-pipeline" and wo.previous_vendor_id == first and wo.window is None
    assert [d["vendor_id"] for d in svc.events.of_type("JobWithdrawn")] == [first]


def test_reassign_refusals_name_what_is_wrong(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    with pytest.raises(InvalidTransition) as running:
        escalations.reassign(svc, job.id, "ven-pipeline", "why not", OPS)
    assert running.value.details["status"] == "accepted"

    stage_overdue(svc, job.id, "schedule")
    with pytest.raises(NotFound):
        escalations.reassign(svc, job.id, "ven-nobody", "typo", OPS)
    with pytest.raises(NotFound):  # a vendor named as a technician
        escalations.reassign(svc, job.id, "ven-pipeline", "wrong kind", OPS, in_house=True)
    _hire_sam(svc, active=False)
    with pytest.raises(InvalidInput):
        escalations.reassign(svc, job.id, SAM, "on leave", OPS)
    escalated = job.load(svc)
    svc.repo.save(escalated.model_copy(update={"incident_id": "wo-primary"}), escalated.version)
    with pytest.raises(InvalidTransition) as member:  # a building incident's member follows its primary
        escalations.reassign(svc, job.id, "ven-pipeline", "a member", OPS)
    assert member.value.details["incident_id"] == "wo-primary"
    assert job.load(svc).status == Status.ESCALATED and steering.audit_log(svc) == []


def test_a_repeated_reassign_is_a_conflict_and_starts_nothing_new(svc: Services) -> None:
    job = nobody_accepted(svc, UNIT, DRIP)
    escalations.reassign(svc, job.id, "ven-pipeline", "call them", OPS)
    with pytest.raises(InvalidTransition) as again:
        escalations.reassign(svc, job.id, "ven-pipeline", "call them", OPS)
    assert again.value.details["status"] == "accepted"
    assert [n for n in workflow(svc).executions if "-ops-" in n] == [f"{job.id}-ops-1"]


def test_a_job_whose_work_is_done_is_not_reassigned_or_redispatched(svc: Services) -> None:
    job = invoice_awaited(svc, UNIT, DRIP)
    escalate(svc, job.id, "invoice_overdue", "No invoice")
    for act in (lambda: escalations.reassign(svc, job.id, "ven-pipeline", "x" * 3, OPS),
                lambda: escalations.restart_dispatch(svc, job.id, "again", OPS)):
        with pytest.raises(InvalidTransition) as done:
            act()
        assert done.value.details["escalated_from"] == "invoice_awaited"


def test_a_restart_that_cannot_start_leaves_the_job_escalated_as_it_was(svc: Services, monkeypatch) -> None:
    job = nobody_accepted(svc, UNIT, DRIP)

    def broken(name: str, payload: dict[str, Any]) -> str:
        raise RuntimeError("StartExecution throttled")

    monkeypatch.setattr(svc.workflow, "start", broken)
    with pytest.raises(RuntimeError):
        escalations.reassign(svc, job.id, "ven-pipeline", "call them", OPS)

    wo = job.load(svc, with_timeline=True)
    assert wo.status == Status.ESCALATED and wo.escalated_from == Status.OFFERED and wo.vendor_id is None
    assert wo.restarts == 0 and wo.timeline[-1].event == "restart_failed"
    monkeypatch.undo()
    assert escalations.reassign(svc, job.id, "ven-pipeline", "call them", OPS).resume_at == "schedule"


# ---------------------------------------------------------------- restart dispatch
def test_restart_dispatch_ranks_afresh_as_a_new_round(svc: Services) -> None:
    job = nobody_accepted(svc, UNIT, DRIP)
    round_before = job.load(svc).dispatch_round
    _hire_sam(svc)  # the directory changed since the first ranking

    done = escalations.restart_dispatch(svc, job.id, "Sam joined the team", OPS)

    wo = job.load(svc)
    assert done.resume_at == "dispatch" and wo.status == Status.TRIAGED and wo.candidates == []
    assert wo.dispatch_round == round_before + 1
    assert _execution(svc, job.id)["resume_at"] == "dispatch"
    assert len(svc.events.of_type("DispatchRestarted")) == 1
    rank(svc, job.id, reopen=False)  # RankVendors in the new execution
    assert SAM in job.load(svc).candidates


# ---------------------------------------------------------------- resume and extend
def test_resume_defaults_to_the_stage_it_stalled_at_with_a_fresh_timer(svc: Services) -> None:
    job = scheduled(svc, UNIT, DRIP)
    stage_overdue(svc, job.id, "completion")

    done = escalations.resume(svc, job.id, None, "The plumber is back from sick leave", OPS)

    wo = job.load(svc, with_timeline=True)
    assert done.resume_at == "completion" and wo.status == Status.SCHEDULED and wo.window is not None
    assert wo.timer_override is None and wo.timeline[-1].event == "resumed" and wo.timeline[-1].actor == OPS
    assert _execution(svc, job.id)["resume_at"] == "completion"
    [event] = svc.events.of_type("WorkOrderResumed")
    assert event["stage"] == "completion" and event["vendor_id"] == wo.vendor_id
    svc.messenger.clear()
    deliver(svc, "WorkOrderResumed")
    assert any("back on track" in m.body for m in svc.messenger.sms_to(wo.tenant.phone or ""))


def test_resume_refuses_a_stage_the_job_never_reached(svc: Services) -> None:
    stalled_in_dispatch = nobody_accepted(svc, UNIT, DRIP)
    with pytest.raises(InvalidTransition):
        escalations.resume(svc, stalled_in_dispatch.id, None, "go on", OPS)
    job = accepted(svc, "unit-maple-2b", DRIP)
    stage_overdue(svc, job.id, "schedule")
    with pytest.raises(InvalidTransition) as later:
        escalations.resume(svc, job.id, "completion", "skip ahead", OPS)
    assert later.value.details["stalled_at"] == "schedule"
    assert job.load(svc).status == Status.ESCALATED


def test_resume_at_approval_needs_an_invoice(svc: Services) -> None:
    job = invoice_awaited(svc, UNIT, DRIP)
    escalate(svc, job.id, "invoice_overdue", "No invoice")
    with pytest.raises(InvalidTransition):
        escalations.resume(svc, job.id, "approval", "approve it", OPS)
    assert escalations.resume(svc, job.id, "invoice", "ask again", OPS).resume_at == "invoice"
    assert job.load(svc).status == Status.INVOICE_AWAITED


def test_extend_gives_the_stalled_stage_a_longer_timer_and_a_later_resume_drops_it(svc: Services) -> None:
    job = scheduled(svc, UNIT, DRIP)
    stage_overdue(svc, job.id, "completion")

    done = escalations.resume(svc, job.id, None, "Parts on back order", OPS, extend_hours=72)

    wo = job.load(svc)
    assert done.resume_at == "completion" and wo.status == Status.SCHEDULED
    assert triage_output(svc, wo)["timeouts"]["completion"] == 72 * 3600  # what AwaitCompletion waits
    assert steering.audit_log(svc)[0]["action"] == "work_order_extend"
    stage_overdue(svc, job.id, "completion")
    escalations.resume(svc, job.id, None, "Back to normal", OPS)
    wo = job.load(svc)
    assert wo.timer_override is None
    assert triage_output(svc, wo)["timeouts"]["completion"] == svc.settings.timeouts.for_priority(
        wo.priority)["completion"]
    assert [n for n in workflow(svc).executions if "-ops-" in n] == [f"{job.id}-ops-1", f"{job.id}-ops-2"]


def test_an_extension_is_bounded(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    stage_overdue(svc, job.id, "schedule")
    with pytest.raises(InvalidInput):
        escalations.resume(svc, job.id, None, "forever", OPS, extend_hours=24 * 365)


# ---------------------------------------------------------------- note, cancel, close
def test_a_note_goes_on_the_timeline_in_any_status_and_tells_nobody(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    before = len(svc.events.published)  # type: ignore[attr-defined]

    escalations.note(svc, job.id, "Tenant called: the dog will be out", OPS)

    wo = job.load(svc, with_timeline=True)
    assert wo.status == Status.ACCEPTED and wo.timeline[-1].event == "ops_note" and wo.timeline[-1].actor == OPS
    assert len(svc.events.published) == before  # type: ignore[attr-defined]
    assert steering.audit_log(svc)[0]["action"] == "work_order_note"


def test_steer_cancels_and_closes_escalated_jobs_with_the_reason_recorded(svc: Services) -> None:
    cancelled = nobody_accepted(svc, UNIT, DRIP)
    escalations.steer(svc, cancelled.id, Steer(action="cancel", reason="Tenant moved out"), OPS)
    assert cancelled.load(svc).status == Status.CANCELLED
    closed = accepted(svc, "unit-maple-2b", DRIP)
    stage_overdue(svc, closed.id, "schedule")
    escalations.steer(svc, closed.id, Steer(action="close", reason="Fixed by the super"), OPS)
    assert closed.load(svc).status == Status.CLOSED
    assert {(a["action"], a["target"], a["reason"]) for a in steering.audit_log(svc)} == {
        ("work_order_cancel", cancelled.id, "Tenant moved out"), ("work_order_close", closed.id, "Fixed by the super")}


def test_steer_requests_name_what_each_action_needs() -> None:
    for body in ({"action": "reassign", "reason": "why"}, {"action": "extend", "reason": "why"},
                 {"action": "note"}, {"action": "close"},
                 {"action": "reassign", "reason": "why", "vendor_id": "a", "technician_id": "b"}):
        with pytest.raises(ValidationError):
            Steer.model_validate(body)
    assert Steer.model_validate({"action": "reassign", "technician_id": SAM, "reason": "why"}).assignee == SAM


# ---------------------------------------------------------------- a late invoice
def test_a_late_invoice_after_an_escalation_restarts_invoicing(svc: Services) -> None:
    job = invoice_awaited(svc, UNIT, DRIP)
    workflow(svc).expire(job.invoice_wait)
    for _ in range(int(svc.settings.invoice_reminders) + 1):
        invoicing.remind(svc, job.id, "invoice")
    escalated = job.load(svc)
    assert escalated.status == Status.ESCALATED and escalated.escalated_from == Status.INVOICE_AWAITED

    inv = invoicing.submit_by_link(svc, job.vendor_token, invoice("LATE-1", on=svc.clock().date()))

    after = job.load(svc, with_timeline=True)
    assert after.status == Status.INVOICE_AWAITED and after.invoice_id == inv.id and after.restarts == 1
    assert inv.work_order_status_at_submission == "invoice_awaited"  # for verified work: its checks pass
    assert "late_invoice" in [e.event for e in after.timeline]
    assert _execution(svc, job.id)["resume_at"] == "invoice"
    step = workflow(svc).wait_token("invoice", execution=f"{job.id}-ops-1")
    invoicing.await_invoice(svc, job.id, step)  # AwaitInvoice in the new execution finds it at once
    assert workflow(svc).output_for(step) == {"outcome": "submitted", "invoice_id": inv.id}


def test_an_invoice_for_a_job_escalated_before_the_work_was_done_is_refused(svc: Services) -> None:
    job = scheduled(svc, UNIT, DRIP)
    svc.clock.advance(hours=1)  # type: ignore[attr-defined]
    stage_overdue(svc, job.id, "completion")
    with pytest.raises(InvalidTransition):
        invoicing.submit_by_link(svc, job.vendor_token, invoice("EARLY-1", on=svc.clock().date()))


def test_an_extended_stage_is_not_stuck_or_overdue_before_its_new_timer(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    stage_overdue(svc, job.id, "schedule")
    escalations.resume(svc, job.id, None, "Vendor on holiday until next week", OPS, extend_hours=200)
    wo = job.load(svc)
    deadline = stuck_after(wo, svc.settings.timeouts.stages, 0, timedelta(0))
    assert deadline == wo.updated_at + timedelta(hours=200)


def test_a_bill_that_could_not_be_posted_is_posted_again_once_ops_fixed_the_cause(svc: Services) -> None:
    job = invoice_awaited(svc, UNIT, DRIP)
    wo = job.load(svc)  # approved (as after coding and approval), then PostBill found no PMS vendor id
    svc.repo.save(wo.model_copy(update={"status": Status.APPROVED, "invoice_id": "inv-1"}), wo.version)
    escalate(svc, job.id, "bill_not_possible", "The bill could not be entered in the PMS: no PMS id for the vendor")
    with pytest.raises(InvalidInput):  # the bill waits for nobody: no timer to extend
        escalations.resume(svc, job.id, None, "longer", OPS, extend_hours=24)

    done = escalations.resume(svc, job.id, None, "The vendor's PMS id is set now", OPS)

    assert done.resume_at == "bill" and job.load(svc).status == Status.APPROVED
    assert _execution(svc, job.id)["resume_at"] == "bill"


def test_a_job_never_triaged_is_not_reassigned_or_redispatched(svc: Services) -> None:
    wo = submit(svc, UNIT, DRIP)
    escalate(svc, wo.id, "automation_error", "Automation error (States.TaskFailed)",
             automation_failed=True)
    for act in (lambda: escalations.reassign(svc, wo.id, "ven-pipeline", "call them", OPS),
                lambda: escalations.restart_dispatch(svc, wo.id, "again", OPS),
                lambda: escalations.resume(svc, wo.id, None, "go on", OPS)):
        with pytest.raises(InvalidTransition):
            act()
    assert steering.retry(svc, wo.id, OPS).resume_at == "triage"  # the way forward for it
