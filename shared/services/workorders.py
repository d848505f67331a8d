"""Use cases that change a work order. Each is one optimistic, versioned write plus its events."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from shared.domain import compliance, links, nte
from shared.domain.correlation import building_fault
from shared.domain.directory import Contact, Property, Ranking, Vendor, rank_vendors
from shared.domain.errors import InvalidInput, InvalidTransition, NotFound
from shared.domain.workorder import (
    TRANSITIONS,
    Offer,
    SafetyQuestion,
    Source,
    StageWait,
    Status,
    TimelineEntry,
    WorkOrder,
    held_triage_change,
    new_work_order_id,
    tenant_actions,
)
from shared.observability import count, logger
from shared.services import satisfaction
from shared.services.container import Services
from shared.services.incidents import correlate
from shared.services.writes import Edit, entry, mutate, publish, tenant_scope, vendor_mutate

if TYPE_CHECKING:  # only the API validates requests (the schemas stay out of the other functions' cold start)
    from shared.schemas import NewRequest

# The status a stage waits in, and the outcome reported once the work order has moved on.
STAGE_WAITS_IN = {"schedule": Status.ACCEPTED, "completion": Status.SCHEDULED, "followup": Status.COMPLETED}


# ---------------------------------------------------------------- intake
def submit_request(svc: Services, req: NewRequest, source: Source = Source.WEB,
                   idempotency_key: str | None = None, **links: Any) -> WorkOrder:
    """Persist the request (before anyone is told it was received), then announce it."""
    try:
        unit = svc.repo.get_unit(req.unit_id)
    except NotFound as exc:
        raise InvalidInput("Unknown unit.", [{"field": "unit_id", "message": "no unit with this id"}]) from exc
    known = unit.tenant
    tenant = Contact(name=req.name, phone=req.phone or (known.phone if known else None),
                     email=str(req.email) if req.email else (known.email if known else None),
                     language=getattr(req, "language", None) or (known.language if known else None))
    now = svc.clock()
    wo = WorkOrder(id=new_work_order_id(), source=source, property_id=unit.property_id, unit_id=unit.id,
                   tenant=tenant, description=req.description, created_at=now, updated_at=now,
                   entry_permission=getattr(req, "entry_permission", False), pets=getattr(req, "pets", None),
                   drill=unit.drill,
                   **{k: v for k, v in links.items() if v is not None},
                   availability=[w.to_domain() for w in req.availability]
                   if isinstance(req.availability, list) else req.availability)
    idem = None
    if idempotency_key:
        fingerprint = hashlib.sha256(req.model_dump_json().encode()).hexdigest()
        idem = (f"{unit.id}#{idempotency_key}", fingerprint)
    stored = svc.repo.create_work_order(wo, entry(svc, "received", f"Request received via {source.value}",
                                                   actor="tenant"), idem)
    if stored.id == wo.id or stored.status == Status.RECEIVED:
        # New, or a replay of a request whose announcement may have failed (not triaged yet): (re)announce; the
        # lifecycle start is idempotent on the work-order id.
        publish(svc, "WorkOrderReceived", stored, "received", source=stored.source.value)
    return stored


def start_lifecycle(svc: Services, wo_id: str) -> str:
    """Start the work order's lifecycle, named by its id (a second start is a no-op). Nothing is written: the
    first execution's ARN follows from the id (`lifecycle_arn`); an ops retry or restart records its own."""
    return svc.workflow.start(wo_id, {"work_order_id": wo_id, "reopen": False})


def lifecycle_arn(svc: Services, wo: WorkOrder) -> str:
    """The ARN of the work order's current execution: the last one ops started, else the first (named by its id)."""
    return wo.execution_arn or svc.workflow.execution_arn(wo.id)


# ---------------------------------------------------------------- triage
def triage(svc: Services, wo_id: str) -> dict[str, Any]:
    """Trade and priority (`triaged`), as the workflow reads them (`triage_output`)."""
    return triage_output(svc, triaged(svc, wo_id)[0])


def triaged(svc: Services, wo_id: str, rank_too: bool = False) -> tuple[WorkOrder, dict[str, int] | None]:
    """Trade and priority from the rules (or as a sensor/schedule pre-classified them), then incident
    correlation: a report that joins an open building incident is not dispatched on its own. Idempotent: a
    triaged job keeps its first decision. With `rank_too`, a job triaged now and not joined to an incident is
    ranked in the same write (`ranked`); the second value is then its $.dispatch (else None: not ranked here)."""
    from shared.domain.triage import classify  # cold start: only triage loads the rules and the model

    wo = svc.repo.get_work_order(wo_id)
    if wo.status == Status.RECEIVED:
        if wo.trade and wo.priority:  # pre-classified by a sensor rule or a preventive schedule
            update = {"trade": wo.trade, "priority": wo.priority}
            detail = f"{wo.trade.value}, {wo.priority.value} (from the {wo.source.value} rules)"
        else:
            result = classify(wo.description)
            update = {"trade": result.trade, "priority": result.priority, "emergency_reason": result.emergency_reason,
                      "hazard": result.hazard if result.hazard.value != "none" else None,
                      "vulnerable": result.vulnerable, "emergency_probability": result.emergency_probability,
                      "triage_rules_version": result.rules_version, "matched_rules": list(result.matched_rules)}
            if result.ask:
                update["safety_question"] = SafetyQuestion(hazard=result.hazard, asked_at=svc.clock())
            detail = f"{result.trade.value}, {result.priority.value}"
            if result.emergency_reason:
                detail += f" ({result.emergency_reason})"
        classified = wo.model_copy(update=update)
        primary = correlate(svc, classified)
        incident = primary or (wo.id if _is_building_fault(classified) else None)
        entries = [entry(svc, "triaged", detail)]
        if "safety_question" in update:
            entries.append(entry(svc, "safety_question", f"Unsure whether it is an emergency "
                                                          f"({update['hazard'].value.replace('_', ' ')}): the tenant "
                                                          "is asked now; the job goes on meanwhile"))
        if primary:
            entries.append(entry(svc, "joined_incident", f"Same fault already reported in the building; "
                                                          f"handled with {primary}"))

        plan = ranked(svc, classified.model_copy(update={"incident_id": incident}), reopen=False) \
            if rank_too and not primary else None
        if plan:
            update.update(plan.update)
            entries.extend(plan.entries)

        def apply(current: WorkOrder) -> Edit[None] | None:
            if current.status != Status.RECEIVED:
                return None  # replayed step: keep the first decision
            current.require_transition(Status.TRIAGED)
            return Edit(current.model_copy(update={**update, "status": Status.TRIAGED, "incident_id": incident}),
                        entries)

        saved = mutate(svc, wo_id, apply, loaded=wo).after
        wo = saved or svc.repo.get_work_order(wo_id)
        dispatch = plan.dispatch if plan and saved else None
        if saved:
            publish(svc, "WorkOrderTriaged", wo, "triaged", trade=wo.trade, priority=wo.priority,
                     incident_id=wo.incident_id)
            if wo.asking_safety and wo.safety_question and not (wo.incident_id and wo.incident_id != wo.id):
                publish(svc, "SafetyQuestionAsked", wo, "safety", hazard=wo.safety_question.hazard.value)
        return wo, dispatch
    return wo, None


def triage_step(svc: Services, wo_id: str, state: dict[str, Any], task_token: str) -> dict[str, Any]:
    """The workflow's first step, a wait that answers itself (Step Functions bills every state entered): triage,
    then rank the vendors of a job that goes to dispatch from here, so a routine lifecycle goes from this one
    state straight to its first offer ("ranked"). An emergency, a report joined to a building incident, and an
    ops retry of a lifecycle (`resume_at`) take the detour "routed" to the workflow's ResumeAt choice. Either
    answer carries the execution's state with `triage` and `dispatch` (the ranking) set."""
    resume_at = state.get("resume_at")
    wo, dispatch = triaged(svc, wo_id, rank_too=resume_at in (None, "triage"))  # triaged and ranked in one write
    result = triage_output(svc, wo)
    # Triaged by an earlier try of this step (or by a first execution that failed, retried by ops at triage), or
    # an ops retry at dispatch: ranked now.
    if dispatch is None and not result["linked"] and (
            resume_at == "dispatch" or (resume_at in (None, "triage") and wo.status == Status.TRIAGED)):
        dispatch = rank(svc, wo_id, reopen=False, loaded=wo)
    ranked_here = dispatch is not None
    # Not offered from here: RankVendors ranks on the way to an offer (a reopened job, an ops correction).
    dispatch = dispatch or {"count": 0, "index": 0}
    routine = ranked_here and not result["emergency"] and resume_at is None
    svc.workflow.resume(task_token, {"outcome": "ranked" if routine else "routed",
                                     "state": {**state, "triage": result, "dispatch": dispatch}})
    return {**result, "dispatch": dispatch}


def triage_output(svc: Services, wo: WorkOrder) -> dict[str, Any]:
    """What the workflow reads as ``$.triage`` (after triage, a safety answer, or an ops correction)."""
    assert wo.priority is not None and wo.trade is not None
    linked = bool(wo.incident_id and wo.incident_id != wo.id)
    timeouts = svc.settings.timeouts.for_priority(wo.priority)
    if wo.timer_override and wo.timer_override.stage in timeouts:  # ops extended the stage it stalled at
        timeouts[wo.timer_override.stage] = wo.timer_override.seconds
    return {"trade": wo.trade.value, "priority": wo.priority.value,
            "emergency": wo.priority.value == "emergency" and not linked, "linked": linked,
            "timeouts": timeouts}


def _is_building_fault(wo: WorkOrder) -> bool:
    return building_fault(wo.trade.value if wo.trade else None, wo.emergency_reason) is not None


# ---------------------------------------------------------------- dispatch
def rank(svc: Services, wo_id: str, reopen: bool, loaded: WorkOrder | None = None) -> dict[str, int]:
    """Candidates in order (`ranked`), written to the work order."""
    wo = loaded or svc.repo.get_work_order(wo_id)
    plan = ranked(svc, wo, reopen)
    mutate(svc, wo_id, lambda current: Edit(current.model_copy(update=plan.update), plan.entries), loaded=wo)
    return plan.dispatch


class Ranked(NamedTuple):
    """A ranking to write: the work order's new fields, its timeline entries, and what the workflow reads."""

    update: dict[str, Any]
    entries: list[TimelineEntry]
    dispatch: dict[str, int]  # {"count": candidates, "index": 0}: $.dispatch


def ranked(svc: Services, wo: WorkOrder, reopen: bool) -> Ranked:
    """Candidates in order. A recall - the tenant said "not fixed", or the same unit needs the same trade
    within the recall window of a completed job - goes to that job's vendor first, flagged."""
    prop = svc.repo.get_property(wo.property_id)
    assert wo.trade is not None
    vendors = svc.repo.vendors_for(wo.trade.value, prop.service_area)
    recall_of = wo.recall_of
    previous = wo.previous_vendor_id if reopen else None
    if previous:
        recall_of = recall_of or wo.id
    elif not reopen and not recall_of:
        earlier = find_recall(svc, wo)
        if earlier:
            recall_of, previous = earlier.id, earlier.vendor_id
    ranking = rank_vendors(vendors, wo.trade, prop, on=job_date(svc, prop),
                           insurance=compliance.rules().insurance, previous_vendor_id=previous, at=svc.clock(),
                           emergency=wo.priority is not None and wo.priority.value == "emergency",
                           default_zone=svc.settings.default_time_zone)
    candidates = ranking.candidates
    detail = f"{len(candidates)} candidate vendor(s)" + (", previous vendor first" if previous else "")
    entries = [entry(svc, "vendors_ranked", detail + ranking_notes(ranking, vendors))]
    update: dict[str, Any] = {"candidates": candidates}
    if recall_of and recall_of != wo.recall_of:
        update.update(recall_of=recall_of, previous_vendor_id=previous)
        if recall_of != wo.id:
            entries.append(entry(svc, "recall", f"Recall of {recall_of}: same unit and trade within "
                                                 f"{svc.settings.recall_window_days} days; same vendor first"))
    return Ranked(update, entries, {"count": len(candidates), "index": 0})


def job_date(svc: Services, prop: Property) -> date:
    """Today where the property is (the day compliance is checked for)."""
    return svc.clock().astimezone(ZoneInfo(prop.time_zone or svc.settings.default_time_zone)).date()


def ranking_notes(ranking: Ranking, vendors: list[Vendor]) -> str:
    """What the ranking record adds: "; skipped: Aqua Plumbing (insurance expired 2026-11-30)"."""
    names = {v.id: v.name for v in vendors}
    text = ""
    for label, reasons in (("skipped", ranking.skipped), ("note", ranking.notes)):
        if reasons:
            text += f"; {label}: " + ", ".join(f"{names.get(vid, vid)} ({why})" for vid, why in reasons.items())
    return text


def find_recall(svc: Services, wo: WorkOrder) -> WorkOrder | None:
    """The latest job at this unit, of this trade, completed within the recall window (None if none).

    Each completion records itself as its unit's latest job of its trade, so this is one read whatever the
    size of the property. A unit and trade with no record yet (jobs completed before the record existed) are
    looked up once among the property's recent work orders, and what was found is recorded."""
    assert wo.trade is not None
    since = svc.clock() - timedelta(days=svc.settings.recall_window_days)
    known = svc.repo.last_completed_job(wo.unit_id, wo.trade.value)
    if known is None:
        earlier = _latest_completed(svc, wo, since - timedelta(days=60))
        svc.repo.seed_completed_job(wo.unit_id, wo.trade.value, earlier.id if earlier else None,
                                    earlier.completed_at if earlier else None)
    elif known.work_order_id is None or known.work_order_id == wo.id or not known.completed_at \
            or known.completed_at < since:
        return None
    else:
        try:
            earlier = svc.repo.get_work_order(known.work_order_id)
        except NotFound:
            return None
    if earlier is None or earlier.id == wo.id or not earlier.vendor_id or not earlier.completed_at \
            or earlier.completed_at < since:
        return None
    return earlier


def _latest_completed(svc: Services, wo: WorkOrder, created_since: datetime) -> WorkOrder | None:
    """The latest completed job of the unit and trade among the property's work orders created since then."""
    done = [w for w in svc.repo.recent_work_orders(wo.property_id, created_since)
            if w.id != wo.id and w.unit_id == wo.unit_id and w.trade == wo.trade and w.vendor_id and w.completed_at]
    return max(done, key=lambda w: w.completed_at or created_since) if done else None


def offer(svc: Services, wo_id: str, index: int, task_token: str, timeout_seconds: int,
          held_triage: dict[str, Any] | None = None, count: int | None = None) -> None:
    """Offer the job to candidate `index` until the workflow's timeout (the task token waits for the answer).
    Past the `count` candidates the workflow ranked, the answer is "exhausted" at once (the workflow escalates:
    no vendor accepted), so the workflow needs no Choice state before each offer.
    A job re-triaged while no wait could be resumed (between two offers, or while being ranked) is not
    offered on the old triage: the step hands the workflow the new one instead (see `held_triage_change`).
    A re-triage that dropped the candidates (the workflow's count is stale) sends it back to ranking."""
    if count is not None and index >= count:
        svc.workflow.resume(task_token, {"outcome": "exhausted"})
        return
    current = svc.repo.get_work_order(wo_id)
    behind = "retriaged" if index >= len(current.candidates) else \
        held_triage_change(held_triage, current) if held_triage is not None else None
    if behind:
        logger.info("offer step: the workflow's triage is out of date", extra={"outcome": behind})
        svc.workflow.resume(task_token, {"outcome": behind, "triage": triage_output(svc, current)})
        return

    def apply(wo: WorkOrder) -> Edit[bool]:
        """Result: whether this is a new offer (else a retried step refreshing its task token)."""
        vendor_id = wo.candidates[index]
        now = svc.clock()
        new_offer = Offer(vendor_id=vendor_id, index=index, task_token=task_token, offered_at=now,
                          expires_at=now + timedelta(seconds=timeout_seconds))
        if wo.status == Status.OFFERED and wo.offer and wo.offer.index == index:
            return Edit(wo.model_copy(update={"offer": new_offer}), [], result=False)  # refresh the token only
        wo.require_transition(Status.OFFERED)
        vendor = svc.repo.get_vendor(vendor_id)
        assert wo.trade is not None and wo.priority is not None
        overrides = svc.repo.get_config("nte_overrides")  # ops' per-property setup, if any
        nte_cents, currency = nte.rules().with_overrides(overrides).amount(wo.trade, wo.priority, wo.property_id)
        return Edit(wo.model_copy(update={"status": Status.OFFERED, "offer": new_offer, "nte_cents": nte_cents,
                                          "currency": currency}),
                    [entry(svc, "offered", f"Offered to {vendor.name} (vendor {vendor_id})")], result=True)

    change = mutate(svc, wo_id, apply, loaded=current)
    wo = change.after
    if wo and change.result and wo.offer:
        svc.repo.bump_vendor_stat(wo.offer.vendor_id, "offers")
        publish(svc, "VendorOffered", wo, f"offer:{wo.reopen_count}:{wo.dispatch_round}:{index}",
                 vendor_id=wo.offer.vendor_id)


def offer_expired(svc: Services, wo_id: str, index: int) -> str:
    """The offer's timer fired. If the vendor accepted in the same instant, accepted wins."""
    def apply(wo: WorkOrder) -> Edit[None] | None:
        if wo.status == Status.OFFERED and wo.offer and wo.offer.index == index:
            return Edit(wo.model_copy(update={"offer": None}),
                        [entry(svc, "offer_expired",
                               f"No answer in time; offering the next vendor (vendor {wo.offer.vendor_id})")])
        return None

    change = mutate(svc, wo_id, apply)
    if change.after and change.before.offer:
        svc.repo.bump_vendor_stat(change.before.offer.vendor_id, "expired")
        return "expired"
    wo = svc.repo.get_work_order(wo_id)
    return "accepted" if wo.vendor_id and wo.status in (Status.ACCEPTED, Status.SCHEDULED) else "expired"


def escalate(svc: Services, wo_id: str, reason: str, detail: str, automation_failed: bool = False) -> None:
    """Hand the work order to ops, keeping the status it stalled in (`escalated_from`: where ops may resume
    it, shared/services/escalations.py). `automation_failed`: the lifecycle itself failed, so that status is
    also kept as `failed_in` for ops to retry it there, and named after `detail` (the error)."""
    def apply(wo: WorkOrder) -> Edit[str] | None:
        """Result: what ops are told (an automation failure names the status it failed in)."""
        if Status.ESCALATED not in TRANSITIONS[wo.status]:
            return None
        update: dict[str, Any] = {"status": Status.ESCALATED, "offer": None, "stage_wait": None,
                                  "escalated_from": wo.status}
        said = detail
        if automation_failed:
            update["failed_in"] = wo.status
            said = f"{detail} while {wo.status.value}; ops alerted"
        return Edit(wo.model_copy(update=update), [entry(svc, "escalated", said)], result=said)

    change = mutate(svc, wo_id, apply)
    if change.after and change.result:
        announce_escalation(svc, change.after, reason, change.result)


def announce_escalation(svc: Services, wo: WorkOrder, reason: str, detail: str) -> None:
    """Tell ops (and the tenant) about this escalation. Each escalation is its own event, keyed on the version it
    was saved at: a job escalated again after ops retried or resumed it tells ops again, while the same event
    delivered twice still sends each message once."""
    publish(svc, "WorkOrderEscalated", wo, f"escalated:{wo.version}", reason=reason, detail=detail)


# ---------------------------------------------------------------- people's steps (task-token waits)
def await_stage(svc: Services, wo_id: str, stage: str, task_token: str) -> None:
    """Park the workflow until a person acts. If they already did (a fast vendor), resume at once."""
    waits_in = STAGE_WAITS_IN[stage]

    def apply(wo: WorkOrder) -> Edit[None] | None:
        if wo.status != waits_in:
            return None
        return Edit(wo.model_copy(update={"stage_wait": StageWait(stage=stage, task_token=task_token)}), [])

    wo = mutate(svc, wo_id, apply).after
    if wo:
        if stage == "followup":
            publish(svc, "FollowUpRequested", wo, f"followup:{wo.reopen_count}")
        return
    current = svc.repo.get_work_order(wo_id)
    svc.workflow.resume(task_token, {"outcome": _outcome_after(stage, current.status)})


def _outcome_after(stage: str, status: Status) -> str:
    if stage == "followup":
        return "not_resolved" if status in (Status.REOPENED, Status.OFFERED) else "resolved"
    return {"schedule": "scheduled", "completion": "completed"}[stage]


def stage_overdue(svc: Services, wo_id: str, stage: str) -> None:
    escalate(svc, wo_id, f"{stage}_overdue", f"Nobody acted on the {stage} step in time; ops alerted")


def followup_unanswered(svc: Services, wo_id: str) -> None:
    def apply(wo: WorkOrder) -> Edit[None] | None:
        if wo.status != Status.COMPLETED:
            return None
        return Edit(wo.model_copy(update={"status": Status.VERIFIED, "stage_wait": None}),
                    [entry(svc, "verified", "No answer from the tenant in time; closed as resolved")])

    wo = mutate(svc, wo_id, apply).after
    if wo:
        _verified(svc, wo, answered=False)


def _verified(svc: Services, wo: WorkOrder, answered: bool) -> None:
    """A preventive job's event names its asset and the day it was serviced (the preventive function
    counts the asset's next cycle from it)."""
    asset = {"asset_id": wo.asset_id, "serviced_on": svc.clock().date().isoformat()} if wo.asset_id else {}
    publish(svc, "WorkOrderVerified", wo, "verified", answered=answered, **asset)
    satisfaction.note_verified(svc, wo)  # its tenant is due this quarter's NPS question


def resume_stage(svc: Services, old: WorkOrder, stage: str, outcome: str) -> None:
    """Resume the workflow parked on `stage` in the state before a person's action (if it was parked)."""
    if old.stage_wait and old.stage_wait.stage == stage:
        svc.workflow.resume(old.stage_wait.task_token, {"outcome": outcome})


# ---------------------------------------------------------------- vendor actions (their link)
def vendor_accept(svc: Services, token: str) -> WorkOrder:
    def build(wo: WorkOrder, vendor_id: str) -> Edit[None]:
        return Edit(wo.model_copy(update={"status": Status.ACCEPTED, "vendor_id": vendor_id, "offer": None}),
                    [entry(svc, "accepted", "Vendor accepted the job", actor=f"vendor:{vendor_id}")])

    change = vendor_mutate(svc, token, "accept", build)
    before, wo = change.before, change.saved
    assert before.offer is not None
    svc.repo.bump_vendor_stat(wo.vendor_id or "", "accepted")
    # one acceptance per dispatch: a redispatch (another trade) brings a new vendor the tenant must hear of
    publish(svc, "VendorAccepted", wo, f"accepted:{wo.reopen_count}:{wo.dispatch_round}", vendor_id=wo.vendor_id)
    svc.workflow.resume(before.offer.task_token, {"outcome": "accepted"})
    return wo


def vendor_decline(svc: Services, token: str, reason: str) -> WorkOrder:
    def build(wo: WorkOrder, vendor_id: str) -> Edit[None]:
        return Edit(wo.model_copy(update={"offer": None}),
                    [entry(svc, "declined", f"Vendor declined: {reason}", actor=f"vendor:{vendor_id}")])

    change = vendor_mutate(svc, token, "decline", build)
    before, wo = change.before, change.saved
    assert before.offer is not None
    svc.repo.bump_vendor_stat(before.offer.vendor_id, "declined")
    count("VendorDeclined")
    svc.workflow.resume(before.offer.task_token, {"outcome": "declined"})
    return wo


def vendor_checkin(svc: Services, token: str, eta_minutes: int | None) -> WorkOrder:
    """On the way (with an ETA) or on site: the tenant is told; the status stays scheduled. A check-in
    for the current window stops its arrive timer (no no-show)."""
    detail = f"Technician on the way, about {eta_minutes} min" if eta_minutes else "Technician on site"

    def build(wo: WorkOrder, vendor_id: str) -> Edit[None]:
        return Edit(wo.model_copy(update={"arrived_at": wo.arrived_at or svc.clock()}),
                    [entry(svc, "checkin", detail, actor=f"vendor:{vendor_id}")])

    wo = vendor_mutate(svc, token, "checkin", build).saved
    publish(svc, "VendorOnTheWay", wo, f"checkin:{wo.version}", vendor_id=wo.vendor_id,
             eta_minutes=eta_minutes)
    return wo


def vendor_complete(svc: Services, token: str, notes: str) -> WorkOrder:
    def build(wo: WorkOrder, vendor_id: str) -> Edit[None]:
        return Edit(wo.model_copy(update={"status": Status.COMPLETED, "completion_notes": notes,
                                          "stage_wait": None, "completed_at": svc.clock()}),
                    [entry(svc, "completed", f"Work completed: {notes}", actor=f"vendor:{vendor_id}")])

    change = vendor_mutate(svc, token, "complete", build)
    before, wo = change.before, change.saved
    if wo.trade is not None and wo.completed_at is not None:  # the unit's latest job of its trade (recalls)
        svc.repo.note_completed_job(wo.unit_id, wo.trade.value, wo.id, wo.completed_at)
    svc.repo.bump_vendor_stat(wo.vendor_id or "", "completed")
    publish(svc, "WorkCompleted", wo, f"completed:{wo.reopen_count}", vendor_id=wo.vendor_id)
    resume_stage(svc, before, "completion", "completed")
    return wo


# ---------------------------------------------------------------- tenant follow-up and ops
def tenant_feedback(svc: Services, wo_id: str, token: str | None, resolved: bool, comment: str | None) -> WorkOrder:
    """The tenant's answer through their link. A link answers once: the next follow-up question (after a
    reopen) comes with a new link, so an old one cannot settle it."""
    scope = tenant_scope(svc, wo_id, token, "feedback")
    wo = answer_follow_up(svc, wo_id, resolved, comment, scope)
    assert token is not None
    svc.link_tokens().answered(token, "feedback")
    return wo


def answer_follow_up(svc: Services, wo_id: str, resolved: bool, comment: str | None,
                     link: links.LinkScope | None = None) -> WorkOrder:
    """Is it fixed? Closes the job, or reopens it (a building incident's member is escalated instead).
    The caller has authenticated the tenant: their `link`, or an SMS from the phone on file."""
    def apply(wo: WorkOrder) -> Edit[None]:
        if "feedback" not in tenant_actions(wo):
            raise InvalidTransition(f"Feedback is not expected now: the request is {wo.status.value}.",
                                    {"status": wo.status.value})
        if link:
            links.require_unanswered(link, "feedback")
        said = f" - {comment}" if comment else ""
        if not resolved and wo.incident_id and wo.incident_id != wo.id:
            # Part of a building incident: no lifecycle of its own to reopen, so a person takes it.
            return Edit(wo.model_copy(update={"status": Status.ESCALATED, "stage_wait": None,
                                              "escalated_from": wo.status}), [
                entry(svc, "escalated", f"Tenant says it is not fixed{said} (building incident {wo.incident_id})",
                      actor="tenant")])
        if resolved:  # and a 1-5 rating is asked (shared/services/satisfaction.py)
            return Edit(wo.model_copy(update={"status": Status.VERIFIED, "stage_wait": None,
                                              **satisfaction.ask_rating_update(svc, wo)}), [
                entry(svc, "verified", f"Tenant confirmed the fix{said}", actor="tenant")])
        return Edit(wo.model_copy(update={
            "status": Status.REOPENED, "stage_wait": None, "previous_vendor_id": wo.vendor_id, "vendor_id": None,
            "window": None, "reopen_count": wo.reopen_count + 1}), [
            entry(svc, "reopened", f"Tenant says it is not fixed{said}", actor="tenant")])

    change = mutate(svc, wo_id, apply)
    before, wo = change.before, change.saved
    if resolved:
        _verified(svc, wo, answered=True)
        satisfaction.note_rating_asked(svc, wo)
    elif wo.status == Status.ESCALATED:
        announce_escalation(svc, wo, "not_fixed", "Tenant says it is not fixed")
    else:
        if before.vendor_id:
            svc.repo.bump_vendor_stat(before.vendor_id, "reopened")
        publish(svc, "WorkOrderReopened", wo, f"reopened:{wo.reopen_count}")
    resume_stage(svc, before, "followup", "resolved" if resolved else "not_resolved")
    return wo


def cancel(svc: Services, wo_id: str, reason: str, actor: str = "ops") -> WorkOrder:
    def apply(wo: WorkOrder) -> Edit[None]:
        wo.require_transition(Status.CANCELLED)
        return Edit(wo.model_copy(update={"status": Status.CANCELLED, "offer": None, "stage_wait": None}),
                    [entry(svc, "cancelled", reason, actor=actor)])

    wo = mutate(svc, wo_id, apply).saved
    svc.workflow.stop(lifecycle_arn(svc, wo), f"cancelled: {reason}")  # one that is over is left alone
    publish(svc, "WorkOrderCancelled", wo, "cancelled", reason=reason)
    logger.info("work order cancelled", extra={"work_order_id": wo.id})
    return wo
