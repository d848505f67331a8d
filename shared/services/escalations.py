"""Ways forward from an escalation: ops reassign the job (to a vendor or an in-house technician), restart
dispatch, resume it at the stage it stalled (or an earlier one) with a fresh timer, extend that timer, or add
a note (cancel and close, with a reason, are in workorders/invoicing).

Each action checks the work order's state (409 naming it), changes it in one versioned write with a timeline
entry naming the ops actor, is recorded in the ops audit log, announces what changed (the tenant and the
vendors hear it: shared/rules/messages.json) and starts the lifecycle again as a new named execution at the
ASL's `ResumeAt` step (steering.restart): the timers, reminders and the PMS sync run again from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.domain import nte
from shared.domain.errors import InvalidInput, InvalidTransition, NotFound
from shared.domain.steering import MAX_EXTENSION_HOURS, RESUMABLE, resume_target, stalled_stage
from shared.domain.workorder import MONEY_STATUSES, Status, TimerOverride, WorkOrder
from shared.observability import logger
from shared.services import steering
from shared.services.container import Services
from shared.services.workorders import cancel
from shared.services.writes import Edit, entry, mutate, publish

if TYPE_CHECKING:  # only the API validates requests
    from shared.schemas import Steer

# Statuses in which the work is done: a new assignee or a new dispatch makes no sense (resume or close).
WORK_DONE = MONEY_STATUSES | {Status.COMPLETED}


@dataclass(frozen=True)
class Steered:
    """What an action did: the saved work order, the step its lifecycle goes on at (None: a note) and the
    new execution."""

    work_order: WorkOrder
    resume_at: str | None = None
    execution_arn: str | None = None


def _require_escalated(wo: WorkOrder, action: str) -> None:
    if wo.status != Status.ESCALATED:
        raise InvalidTransition(f"Only an escalated job can be {action}: this one is {wo.status.value}.",
                                {"status": wo.status.value, "action": action})
    if wo.incident_id and wo.incident_id != wo.id:  # its lifecycle is the incident primary's
        raise InvalidTransition(f"This report is part of the building incident {wo.incident_id}: steer that "
                                "work order, or close or cancel this one.",
                                {"status": wo.status.value, "incident_id": wo.incident_id})


def _require_triaged(wo: WorkOrder) -> None:
    if wo.trade is None or wo.priority is None:  # it stalled in triage: the lifecycle's retry restarts it there
        raise InvalidTransition("This job was never triaged: retry its lifecycle (POST .../retry) or close it.",
                                {"status": wo.status.value})


def _require_work_not_done(wo: WorkOrder, action: str) -> None:
    if wo.escalated_from in WORK_DONE:
        raise InvalidTransition(f"The work on this job is done ({wo.escalated_from.value}); it cannot be "
                                f"{action}: resume it at a later stage or close it.",
                                {"status": wo.status.value, "escalated_from": wo.escalated_from.value})


def _restarted(svc: Services, restarted: steering.Restarted, action: str, actor: str, reason: str,
               **detail: Any) -> Steered:
    steering.record(svc, f"work_order_{action}", restarted.work_order.id, actor, reason=reason,
                    resume_at=restarted.resume_at, execution_arn=restarted.execution_arn, **detail)
    logger.info("escalated work order steered", extra={"action": action, "work_order_id": restarted.work_order.id,
                                                       "resume_at": restarted.resume_at})
    return Steered(restarted.work_order, restarted.resume_at, restarted.execution_arn)


def _withdrawn(svc: Services, wo: WorkOrder, before: WorkOrder) -> None:
    """The assignee the job had is told it is no longer theirs."""
    if before.vendor_id and before.vendor_id != wo.vendor_id:
        publish(svc, "JobWithdrawn", wo, f"withdrawn:{wo.restarts}:{before.vendor_id}", vendor_id=before.vendor_id)


# ---------------------------------------------------------------- reassign
def reassign(svc: Services, wo_id: str, vendor_id: str, reason: str, actor: str,
             in_house: bool | None = None) -> Steered:
    """A named vendor or in-house technician (`in_house`: which of the two the caller means, None: either)
    takes the job: accepted by them, the lifecycle resumes at scheduling (a fresh schedule timer); they get
    the job link as on an accepted offer, the tenant hears who is coming, an earlier assignee that the job
    was withdrawn."""
    assignee = svc.repo.find_vendor(vendor_id)
    wanted = {True: "in-house technician", False: "vendor", None: "vendor or technician"}[in_house]
    if assignee is None or (in_house is not None and assignee.in_house != in_house):
        raise NotFound(f"No such {wanted}.", {"id": vendor_id})
    if not assignee.active:
        raise InvalidInput(f"{assignee.name} is not active.", [{"field": "vendor_id", "message": "inactive"}])
    kind = "in-house technician" if assignee.in_house else "vendor"
    limit = _not_to_exceed(svc, svc.repo.get_work_order(wo_id))

    def decide(wo: WorkOrder) -> Edit[str]:
        _require_escalated(wo, "reassigned")
        _require_triaged(wo)
        _require_work_not_done(wo, "reassigned")
        previous = wo.vendor_id if wo.vendor_id != vendor_id else wo.previous_vendor_id
        return Edit(wo.model_copy(update={**limit,
            "status": Status.ACCEPTED, "vendor_id": vendor_id, "previous_vendor_id": previous, "window": None,
            "proposal": None, "proposed_at": None, "arrived_at": None, "visit_missed": False,
            "window_version": wo.window_version + 1, "reminders": {}, "timer_override": None}),
            [entry(svc, "reassigned", f"Assigned to {assignee.name} ({kind}) by ops: {reason}", actor=actor)],
            result="schedule")

    done = steering.restart(svc, wo_id, decide)
    wo = done.work_order
    publish(svc, "WorkOrderAssigned", wo, f"assigned:{wo.restarts}", vendor_id=vendor_id, in_house=assignee.in_house,
            reason=reason)
    _withdrawn(svc, wo, done.before)
    return _restarted(svc, done, "reassign", actor, reason, vendor_id=vendor_id)


def _not_to_exceed(svc: Services, wo: WorkOrder) -> dict[str, Any]:
    """The job's not-to-exceed as an offer sets it, for a job assigned without one (never offered)."""
    if wo.nte_cents is not None or wo.trade is None or wo.priority is None:
        return {}
    cents, currency = nte.rules().with_overrides(svc.repo.get_config("nte_overrides")).amount(
        wo.trade, wo.priority, wo.property_id)
    return {"nte_cents": cents, "currency": currency}


# ---------------------------------------------------------------- restart dispatch
def restart_dispatch(svc: Services, wo_id: str, reason: str, actor: str) -> Steered:
    """Rank the trade's vendors and technicians again (a fresh ranking: directory changes count) and offer
    the job from the top, as a new dispatch round."""
    def decide(wo: WorkOrder) -> Edit[str]:
        _require_escalated(wo, "dispatched again")
        _require_triaged(wo)
        _require_work_not_done(wo, "dispatched again")
        return Edit(wo.model_copy(update={
            "status": Status.TRIAGED, "vendor_id": None, "previous_vendor_id": wo.vendor_id or wo.previous_vendor_id,
            "candidates": [], "window": None, "proposal": None, "proposed_at": None, "arrived_at": None,
            "window_version": wo.window_version + 1, "dispatch_round": wo.dispatch_round + 1, "reminders": {},
            "timer_override": None}),
            [entry(svc, "dispatch_restarted", f"Dispatch restarted by ops: {reason}", actor=actor)],
            result="dispatch")

    done = steering.restart(svc, wo_id, decide)
    wo = done.work_order
    publish(svc, "DispatchRestarted", wo, f"redispatched:{wo.restarts}", reason=reason)
    _withdrawn(svc, wo, done.before)
    return _restarted(svc, done, "restart_dispatch", actor, reason)


# ---------------------------------------------------------------- resume and extend
def resume(svc: Services, wo_id: str, stage: str | None, reason: str, actor: str,
           extend_hours: int | None = None) -> Steered:
    """Put the job back at `stage` (default: the stage it stalled at) with a fresh timer - the stage's
    usual one, or `extend_hours` (an extension: the timer the resumed stage waits)."""
    if extend_hours is not None and not 0 < extend_hours <= MAX_EXTENSION_HOURS:
        raise InvalidInput("An extension is 1 hour to 30 days.",
                           [{"field": "extend_hours", "message": f"1..{MAX_EXTENSION_HOURS}"}])

    def decide(wo: WorkOrder) -> Edit[str]:
        _require_escalated(wo, "extended" if extend_hours else "resumed")
        at = stage or stalled_stage(wo.escalated_from)
        stalled = wo.escalated_from.value if wo.escalated_from else None
        if at is None:
            raise InvalidTransition(f"This job has no stage to resume (it stalled while {stalled}): reassign it, "
                                    "restart dispatch, or close it.", {"status": wo.status.value,
                                                                       "escalated_from": stalled})
        target = resume_target(at, wo.escalated_from, wo.vendor_id is not None, wo.invoice_id is not None)
        timer = RESUMABLE[at][1]
        if extend_hours and timer is None:
            raise InvalidInput(f"The {at} step has no timer to extend: resume it.",
                               [{"field": "extend_hours", "message": f"not for {at}"}])
        override = TimerOverride(stage=timer, seconds=extend_hours * 3600) if extend_hours and timer else None
        update: dict[str, Any] = {"status": target, "reminders": {}, "timer_override": override}
        if at == "schedule":
            update.update(window=None, proposal=None, proposed_at=None, arrived_at=None, visit_missed=False,
                          window_version=wo.window_version + 1)
        what = f"Resumed at {at} by ops" + (f", timer extended to {extend_hours} h" if extend_hours else "")
        return Edit(wo.model_copy(update=update), [entry(svc, "resumed", f"{what}: {reason}", actor=actor)],
                    result=at)

    done = steering.restart(svc, wo_id, decide)
    wo = done.work_order
    publish(svc, "WorkOrderResumed", wo, f"resumed:{wo.restarts}", stage=done.resume_at, vendor_id=wo.vendor_id,
            extend_hours=extend_hours, reason=reason)
    return _restarted(svc, done, "extend" if extend_hours else "resume", actor, reason, stage=done.resume_at,
                      extend_hours=extend_hours)


# ---------------------------------------------------------------- note
def note(svc: Services, wo_id: str, text: str, actor: str) -> Steered:
    """A note on the timeline (any status; the tenant and vendor are not told)."""
    def apply(wo: WorkOrder) -> Edit[None]:
        return Edit(wo, [entry(svc, "ops_note", text, actor=actor)])

    wo = mutate(svc, wo_id, apply).saved
    steering.record(svc, "work_order_note", wo_id, actor)
    return Steered(wo)


# ---------------------------------------------------------------- one entry point (the ops API)
def steer(svc: Services, wo_id: str, request: Steer, actor: str) -> Steered:
    """Apply one way forward (POST /ops/work-orders/{id}/steer); cancel and close are recorded too."""
    reason = request.reason or ""
    if request.action == "reassign":
        assert request.assignee is not None
        return reassign(svc, wo_id, request.assignee, reason, actor, in_house=request.technician_id is not None)
    if request.action == "restart_dispatch":
        return restart_dispatch(svc, wo_id, reason, actor)
    if request.action in ("resume", "extend"):
        return resume(svc, wo_id, request.stage, reason, actor,
                      extend_hours=request.extend_hours if request.action == "extend" else None)
    if request.action == "note":
        assert request.text is not None
        return note(svc, wo_id, request.text, actor)
    if request.action == "cancel":
        return Steered(cancel_recorded(svc, wo_id, reason, actor))
    return Steered(close_recorded(svc, wo_id, reason, actor))


def cancel_recorded(svc: Services, wo_id: str, reason: str, actor: str) -> WorkOrder:
    """Cancel (an open or escalated job), recorded in the ops audit log with the reason."""
    wo = cancel(svc, wo_id, reason, actor=actor)
    steering.record(svc, "work_order_cancel", wo_id, actor, reason=reason)
    return wo


def close_recorded(svc: Services, wo_id: str, reason: str, actor: str) -> WorkOrder:
    """Close without an invoice (escalated, or on the money side), recorded in the ops audit log."""
    from shared.services.invoicing import close_without_invoice  # the money side only for a close

    wo = close_without_invoice(svc, wo_id, reason, actor=actor)
    steering.record(svc, "work_order_close", wo_id, actor, reason=reason)
    return wo
