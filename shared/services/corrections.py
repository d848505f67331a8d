"""Change a work order's triage after the fact: ops correct it, or the tenant's safety answer raises it.

What happens to the job depends on where it is:
- offered (waiting for a vendor's answer): the offer is withdrawn and the job dispatched again with the
  new trade and the new priority's timers (the workflow resumes with ``retriaged``);
- between two offers (the last declined or expired, the next not made yet): no wait to resume, so the
  next offer step finds the workflow's triage behind and hands it the new one (``retriaged`` for another
  trade, whose candidates are dropped now; ``retimed`` for another priority: the same candidates);
- accepted (waiting for a visit time): a new trade dispatches again (``retriaged``, the vendor is told the
  job is withdrawn); the same trade with another priority re-times the wait (``retimed``);
- earlier (being ranked): the triage is changed, and the first offer step hands it to the workflow;
- later (scheduled and on): the triage is changed, without moving the job.
Raised to an emergency, the on-call contact is paged at once whatever the stage (deduplicated with the
workflow's own page). The tenant is told when it changes what happens to them. Ops corrections are also
written to a collection that ``opslayer triage export`` reads (one Query, no Scan) for the next rules
and model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain.enums import Priority, Trade
from shared.domain.errors import InvalidTransition
from shared.domain.workorder import OPEN_STATUSES, Status, TriageCorrection, WorkOrder
from shared.observability import count
from shared.services.container import Services
from shared.services.workorders import triage_output
from shared.services.writes import Edit, entry, mutate, publish

CORRECTIONS = "TRIAGE_CORRECTIONS"


@dataclass(frozen=True)
class Retriaged:
    work_order: WorkOrder
    redispatched: bool
    retimed: bool
    tenant_told: bool


def _path(old: WorkOrder, trade: Trade) -> str:
    """What the workflow does with the change: redispatch, retime, or nothing (record only)."""
    if old.status == Status.OFFERED:
        return "retriaged" if old.offer else "next_offer"
    if old.status == Status.ACCEPTED and old.stage_wait and old.stage_wait.stage == "schedule":
        return "retriaged" if trade != old.trade else "retimed"
    return "record"


def retriage(svc: Services, wo_id: str, trade: Trade, priority: Priority, reason: str, actor: str,
             event: str = "triage_corrected", keep_example: bool = True) -> Retriaged:
    def apply(wo: WorkOrder) -> Edit[None]:
        if wo.status not in OPEN_STATUSES or wo.trade is None or wo.priority is None:
            raise InvalidTransition(f"A work order that is {wo.status.value} cannot be re-triaged.",
                                    {"status": wo.status.value})
        if wo.trade == trade and wo.priority == priority:
            raise InvalidTransition("The triage already says this trade and priority.",
                                    {"trade": trade.value, "priority": priority.value})
        path = _path(wo, trade)
        update: dict[str, Any] = {
            "trade": trade, "priority": priority,
            "emergency_reason": reason if priority is Priority.EMERGENCY else None}
        if keep_example:
            update["triage_corrections"] = [*wo.triage_corrections, TriageCorrection(
                at=svc.clock(), actor=actor, reason=reason,
                before={"trade": wo.trade.value, "priority": wo.priority.value,
                        "hazard": wo.hazard.value if wo.hazard else None},
                after={"trade": trade.value, "priority": priority.value})]
        if wo.asking_safety and wo.safety_question and event == "triage_corrected":
            update["safety_question"] = wo.safety_question.model_copy(update={
                "answer": "ops", "answered_at": svc.clock(), "answered_by": actor})
        if path == "retriaged" or (path == "next_offer" and trade != wo.trade):
            update |= {"status": Status.TRIAGED, "offer": None, "stage_wait": None, "vendor_id": None,
                       "candidates": [], "proposal": None, "dispatch_round": wo.dispatch_round + 1}
        detail = (f"{wo.trade.value}, {wo.priority.value} -> {trade.value}, {priority.value}: {reason}"
                  + {"retriaged": "; dispatching again", "retimed": "; timers reset",
                     "next_offer": "; the next offer follows it", "record": ""}[path])
        return Edit(wo.model_copy(update=update), [entry(svc, event, detail, actor=actor)])

    change = mutate(svc, wo_id, apply)
    old, saved = change.before, change.after
    assert saved is not None
    path = _path(old, trade)
    if keep_example:
        correction = saved.triage_corrections[-1]
        svc.repo.put_listed(CORRECTIONS, f"{correction.at.isoformat()}#{wo_id}", {
            "work_order_id": wo_id, "text": old.description, "actor": actor, "reason": reason,
            "before": correction.before, "after": correction.after, "language": old.tenant.language or ""})
        count("TriageCorrected")

    key = f"retriage:{saved.version}"
    if priority is Priority.EMERGENCY and old.priority is not Priority.EMERGENCY:
        # The same event (and key) the workflow's PageOnCall state sends: on-call is paged once.
        publish(svc, "EmergencyDeclared", saved, "EmergencyDeclared", trade=trade.value, priority=priority.value)
    moved = False
    if path == "retriaged":
        token = old.offer.task_token if old.status == Status.OFFERED and old.offer else old.stage_wait.task_token
        moved = svc.workflow.resume(token, {"outcome": "retriaged", "triage": triage_output(svc, saved)})
        withdrawn = old.vendor_id or (old.offer.vendor_id if old.offer else None)
        if withdrawn and trade != old.trade:  # same trade: the new offer (new priority) is their news
            publish(svc, "JobWithdrawn", saved, key, vendor_id=withdrawn)
    elif path == "retimed" and old.stage_wait:
        moved = svc.workflow.resume(old.stage_wait.task_token, {"outcome": "retimed",
                                                                "triage": triage_output(svc, saved)})
    # The tenant hears of it when it changes what happens to them: emergency handling, or another trade.
    tenant_told = trade != old.trade or (priority is Priority.EMERGENCY) != (old.priority is Priority.EMERGENCY)
    if tenant_told and actor != "tenant":  # the tenant's own YES is answered where they gave it
        publish(svc, "TriageCorrected", saved, key, trade=trade.value, priority=priority.value)
    return Retriaged(saved, path == "retriaged" and moved, path == "retimed" and moved, tenant_told)


def correct_triage(svc: Services, wo_id: str, trade: Trade, priority: Priority, reason: str,
                   actor: str = "ops") -> Retriaged:
    """Ops correct a triage (kept as a labelled example)."""
    return retriage(svc, wo_id, trade, priority, reason, actor)


def corrections(svc: Services) -> list[dict[str, Any]]:
    """Every ops correction, oldest first, as labelled examples (text, the corrected labels, why)."""
    return sorted(svc.repo.listed(CORRECTIONS), key=lambda c: c.get("SK", ""))
