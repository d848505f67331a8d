"""Ops correct a triage: the job is dispatched again or re-timed, and the correction is kept.

A correction while the job waits for a vendor's answer (offered) or for a visit time (accepted)
resumes the workflow with ``{"outcome": "retriaged"}``: it pages on-call if the job is now an
emergency and dispatches again with the new trade and the new priority's timers. While the safety
question is open, the correction answers it. Later on, the correction is recorded (and kept as an
example) without moving the job. Every correction is also written to a collection that
``opslayer triage export`` reads (one Query, no Scan) for the next rules and model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain.enums import Priority, Trade
from shared.domain.errors import InvalidTransition
from shared.domain.workorder import OPEN_STATUSES, Status, TriageCorrection, WorkOrder
from shared.services.container import Services
from shared.services.workorders import _entry, _publish, mutate, triage_output

CORRECTIONS = "TRIAGE_CORRECTIONS"
REDISPATCH_FROM = {Status.OFFERED, Status.ACCEPTED}


@dataclass(frozen=True)
class Corrected:
    work_order: WorkOrder
    redispatched: bool
    tenant_told: bool


def correct_triage(svc: Services, wo_id: str, trade: Trade, priority: Priority, reason: str,
                   actor: str = "ops") -> Corrected:
    before: list[WorkOrder] = []

    def apply(wo: WorkOrder):
        if wo.status not in OPEN_STATUSES or wo.trade is None or wo.priority is None:
            raise InvalidTransition(f"A work order that is {wo.status.value} cannot be re-triaged.",
                                    {"status": wo.status.value})
        if wo.trade == trade and wo.priority == priority:
            raise InvalidTransition("The triage already says this trade and priority.",
                                    {"trade": trade.value, "priority": priority.value})
        before[:] = [wo]
        correction = TriageCorrection(
            at=svc.clock(), actor=actor, reason=reason,
            before={"trade": wo.trade.value, "priority": wo.priority.value,
                    "hazard": wo.hazard.value if wo.hazard else None},
            after={"trade": trade.value, "priority": priority.value})
        update: dict[str, Any] = {
            "trade": trade, "priority": priority,
            "emergency_reason": f"set by ops: {reason}" if priority is Priority.EMERGENCY else None,
            "triage_corrections": [*wo.triage_corrections, correction]}
        q = wo.safety_question
        if q and q.answer is None:
            update["safety_question"] = q.model_copy(update={"answer": "ops", "answered_at": svc.clock(),
                                                             "answered_by": actor})
        if wo.status in REDISPATCH_FROM:
            update |= {"status": Status.TRIAGED, "offer": None, "stage_wait": None, "vendor_id": None,
                       "candidates": [], "window": None, "proposal": None}
        detail = (f"{wo.trade.value}, {wo.priority.value} -> {trade.value}, {priority.value}: {reason}"
                  + ("; dispatching again" if wo.status in REDISPATCH_FROM else ""))
        return wo.model_copy(update=update), [_entry(svc, "triage_corrected", detail, actor=actor)]

    saved = mutate(svc, wo_id, apply)
    assert saved is not None and before
    old = before[0]
    svc.repo.put_listed(CORRECTIONS, f"{svc.clock().isoformat()}#{wo_id}", {
        "work_order_id": wo_id, "text": old.description, "actor": actor, "reason": reason,
        "before": saved.triage_corrections[-1].before, "after": saved.triage_corrections[-1].after,
        "language": old.tenant.language or ""})

    redispatched = False
    output = triage_output(svc, saved)
    if old.safety_question and old.safety_question.answer is None and old.safety_question.task_token:
        redispatched = svc.workflow.resume(old.safety_question.task_token, output)
    elif old.status == Status.OFFERED and old.offer:
        redispatched = svc.workflow.resume(old.offer.task_token, {"outcome": "retriaged", "triage": output})
    elif old.status == Status.ACCEPTED and old.stage_wait:
        redispatched = svc.workflow.resume(old.stage_wait.task_token, {"outcome": "retriaged", "triage": output})

    # The tenant hears of it when it changes what happens to them: emergency handling, or another trade.
    tenant_told = (old.trade != trade) or ((old.priority is Priority.EMERGENCY) != (priority is Priority.EMERGENCY))
    withdrawn = old.vendor_id or (old.offer.vendor_id if old.offer else None)
    key = f"triage:{len(saved.triage_corrections)}"
    if tenant_told:
        _publish(svc, "TriageCorrected", saved, key, trade=trade.value, priority=priority.value)
    if withdrawn and old.status in REDISPATCH_FROM:
        _publish(svc, "JobWithdrawn", saved, key, vendor_id=withdrawn)
    return Corrected(saved, redispatched, tenant_told)


def corrections(svc: Services) -> list[dict[str, Any]]:
    """Every triage correction, oldest first, as labelled examples (text, the corrected labels, why)."""
    return sorted(svc.repo.listed(CORRECTIONS), key=lambda c: c.get("SK", ""))
