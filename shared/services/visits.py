"""Visit scheduling and its timers.

The vendor picks one of the tenant's windows (scheduled at once), sets a time directly (one already
agreed with the tenant), or proposes another time, which the tenant confirms (scheduled) or declines
(the vendor is asked again). The tenant may ask to reschedule, or say nobody came. Each change of the
visit time bumps `window_version`; reminders before the visit and the arrive timer (no check-in by the
window's end plus the priority's grace: the no-show path) are one-time Scheduler schedules that carry
the version they were made for, so the timers of an old time do nothing when they fire.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shared.domain.errors import InvalidInput, InvalidTransition
from shared.domain.workorder import Status, Window, WorkOrder, tenant_actions
from shared.observability import count, logger
from shared.services.container import Services
from shared.services.workorders import escalate, resume_stage
from shared.services.writes import Edit, entry, mutate, publish, tenant_scope, vendor_mutate

if TYPE_CHECKING:  # only the API parses a visit time (the schemas stay out of the timers' cold start)
    from shared.schemas import VisitTime

MISSED_VISITS_BEFORE_ESCALATION = 2  # the second no-show of a job goes to ops as an escalation


def _zone(svc: Services, wo: WorkOrder) -> ZoneInfo:
    prop = svc.repo.get_property(wo.property_id)
    return ZoneInfo(prop.time_zone or svc.settings.default_time_zone)


def tenant_windows(wo: WorkOrder) -> list[Window]:
    return wo.availability if isinstance(wo.availability, list) else []


def _resolve(svc: Services, wo: WorkOrder, choice: VisitTime) -> Window:
    try:
        window = choice.resolve(tenant_windows(wo), _zone(svc, wo))
    except ValueError as exc:
        raise InvalidInput(str(exc), [{"field": "window", "message": str(exc)}]) from exc
    if window.end <= svc.clock():
        raise InvalidInput("The visit window is in the past.", [{"field": "end", "message": "must be in the future"}])
    return window


def _fmt(window: Window) -> str:
    return f"{window.start.isoformat()} to {window.end.isoformat()}"


def _schedule_update(wo: WorkOrder, window: Window) -> dict[str, Any]:
    """A new visit time: a new window version (old timers go stale), no proposal, no check-in yet."""
    return {"status": Status.SCHEDULED, "window": window, "window_version": wo.window_version + 1,
            "proposal": None, "arrived_at": None, "visit_missed": False,
            "stage_wait": None if wo.stage_wait and wo.stage_wait.stage == "schedule" else wo.stage_wait}


def _scheduled(svc: Services, before: WorkOrder, wo: WorkOrder, how: str) -> None:
    assert wo.window is not None
    publish(svc, "VisitScheduled", wo, f"scheduled:{wo.window_version}", vendor_id=wo.vendor_id,
             start=wo.window.start.isoformat(), end=wo.window.end.isoformat(), window_version=wo.window_version,
             rescheduled=before.status == Status.SCHEDULED, how=how)
    resume_stage(svc, before, "schedule", "scheduled")


# ---------------------------------------------------------------- the vendor (signed link)
def vendor_schedule(svc: Services, token: str, choice: VisitTime) -> WorkOrder:
    """One of the tenant's windows, or a time already agreed with the tenant: scheduled at once."""
    how = "tenant_window" if choice.window is not None else "set_by_vendor"

    def build(wo: WorkOrder, vendor_id: str) -> Edit[None]:
        window = _resolve(svc, wo, choice)
        verb = "rescheduled" if wo.status == Status.SCHEDULED else "scheduled"
        said = " (one of the tenant's windows)" if how == "tenant_window" else ""
        return Edit(wo.model_copy(update=_schedule_update(wo, window)),
                    [entry(svc, "scheduled", f"Visit {verb}: {_fmt(window)}{said}", actor=f"vendor:{vendor_id}")])

    change = vendor_mutate(svc, token, "schedule", build)
    _scheduled(svc, change.before, change.saved, how)
    return change.saved


def vendor_propose(svc: Services, token: str, choice: VisitTime) -> WorkOrder:
    """Another time: the tenant is asked to confirm it (the current visit, if any, stands meanwhile).
    A tenant we cannot reach (no phone, no email) cannot confirm: the time is scheduled as proposed."""
    def build(wo: WorkOrder, vendor_id: str) -> Edit[bool]:
        """Result: whether the tenant is asked (else the time is scheduled as proposed)."""
        window = _resolve(svc, wo, choice)
        actor = f"vendor:{vendor_id}"
        if not (wo.tenant.phone or wo.tenant.email):
            return Edit(wo.model_copy(update=_schedule_update(wo, window)), [entry(
                svc, "scheduled", f"Visit scheduled as the vendor proposed (the tenant cannot be reached to "
                                  f"confirm): {_fmt(window)}", actor=actor)], result=False)
        return Edit(wo.model_copy(update={"proposal": window, "proposed_at": svc.clock()}), [entry(
            svc, "proposed", f"Vendor proposed {_fmt(window)}; waiting for the tenant to confirm", actor=actor)],
            result=True)

    change = vendor_mutate(svc, token, "propose", build, link_action="schedule")
    wo = change.saved
    if not change.result:
        _scheduled(svc, change.before, wo, "set_by_vendor")
        return wo
    assert wo.proposal is not None
    publish(svc, "VisitProposed", wo, f"proposed:{wo.version}", vendor_id=wo.vendor_id,
             start=wo.proposal.start.isoformat(), end=wo.proposal.end.isoformat())
    return wo


# ---------------------------------------------------------------- the tenant (status page, SMS)
def tenant_visit(svc: Services, wo_id: str, token: str | None, action: str, comment: str | None = None) -> WorkOrder:
    """Confirm or decline a proposed time, ask to reschedule, or say nobody came (with the tenant's link)."""
    tenant_scope(svc, wo_id, token, "visit")
    return visit_answer(svc, wo_id, action, comment)


def visit_answer(svc: Services, wo_id: str, action: str, comment: str | None = None) -> WorkOrder:
    """The tenant's answer about the visit, once their identity is established (link, or phone on file)."""
    said = f" - {comment}" if comment else ""

    def apply(wo: WorkOrder) -> Edit[None]:
        if action not in tenant_actions(wo, svc.clock()):
            why = ""
            if action in ("confirm", "decline"):
                why = " and the proposed time has passed" if wo.proposal else " with no proposed time"
            raise InvalidTransition(f"The action '{action}' is not possible now: the request is "
                                    f"{wo.status.value}{why}.", {"status": wo.status.value, "action": action})
        if action == "confirm":
            assert wo.proposal is not None
            verb = "rescheduled" if wo.status == Status.SCHEDULED else "scheduled"
            return Edit(wo.model_copy(update=_schedule_update(wo, wo.proposal)), [entry(
                svc, "scheduled", f"Visit {verb}: {_fmt(wo.proposal)} (proposed by the vendor, confirmed by the "
                                  f"tenant)", actor="tenant")])
        if action == "decline":
            return Edit(wo.model_copy(update={"proposal": None}), [
                entry(svc, "proposal_declined", f"Tenant cannot make the proposed time{said}", actor="tenant")])
        if action == "reschedule":
            return Edit(wo, [entry(svc, "reschedule_requested", f"Tenant asked for another time{said}",
                                   actor="tenant")])
        return _missed(svc, wo, "tenant", said)

    change = mutate(svc, wo_id, apply)
    wo = change.saved
    if action == "confirm":
        _scheduled(svc, change.before, wo, "confirmed_by_tenant")
    elif action == "decline":
        publish(svc, "ProposalDeclined", wo, f"declined:{wo.version}", vendor_id=wo.vendor_id,
                 detail=comment or "")
    elif action == "reschedule":
        publish(svc, "RescheduleRequested", wo, f"reschedule:{wo.version}", vendor_id=wo.vendor_id,
                 detail=comment or "")
    else:
        _after_missed(svc, wo, "tenant")
    return wo


def _missed(svc: Services, wo: WorkOrder, by: str, said: str = "") -> Edit[None]:
    who = "Tenant says nobody came" if by == "tenant" else "No check-in by the end of the visit window"
    return Edit(wo.model_copy(update={"visit_missed": True, "missed_visits": wo.missed_visits + 1}),
                [entry(svc, "no_show", f"{who}{said}; the vendor is asked to reschedule", actor=by)])


def _after_missed(svc: Services, wo: WorkOrder, by: str) -> None:
    count("VisitMissed")
    if wo.missed_visits >= MISSED_VISITS_BEFORE_ESCALATION:
        escalate(svc, wo.id, "repeated_no_show", f"The technician missed {wo.missed_visits} visits; ops alerted")
        return
    publish(svc, "VisitMissed", wo, f"missed:{wo.window_version}", vendor_id=wo.vendor_id, reported_by=by)


# ---------------------------------------------------------------- timers (one-time Scheduler schedules)
def _reminder_kind(lead_seconds: int) -> str:
    return f"remind_{lead_seconds // 3600}h" if lead_seconds % 3600 == 0 else f"remind_{lead_seconds}s"


def _reminder_hours(kind: str) -> int:
    """How long before the visit a reminder is (as its kind names it), in whole hours, at least 1."""
    amount = int(kind.removeprefix("remind_")[:-1])
    return max(1, amount if kind.endswith("h") else round(amount / 3600))


def timer_plan(svc: Services, wo: WorkOrder) -> dict[str, Any]:
    """kind -> when: a reminder per lead time before the start, and the arrive deadline after the end."""
    assert wo.window is not None and wo.priority is not None
    timeouts = svc.settings.timeouts
    plan = {_reminder_kind(lead): wo.window.start - timedelta(seconds=lead) for lead in timeouts.reminders_before_visit}
    plan["arrive"] = wo.window.end + timedelta(seconds=timeouts.arrive_grace(wo.priority))
    return plan


def plan_timers(svc: Services, wo_id: str, window_version: int) -> list[str]:
    """Create (or move) the visit's timers. A stale event (the time changed again since) does nothing;
    a reminder whose moment has passed is not made. Returns the kinds scheduled."""
    wo = svc.repo.get_work_order(wo_id)
    if wo.status != Status.SCHEDULED or wo.window_version != window_version or wo.window is None:
        logger.info("visit timers skipped: stale", extra={"work_order_id": wo_id})
        return []
    now = svc.clock()
    made = []
    timers = svc.schedules()
    for kind, at in timer_plan(svc, wo).items():
        if at <= now:
            continue
        timers.put(f"{wo.id}-{kind}", at, {"action": "fire", "work_order_id": wo.id, "kind": kind,
                                              "window_version": window_version})
        made.append(kind)
    return made


def timer_fired(svc: Services, wo_id: str, kind: str, window_version: int) -> str:
    """A reminder goes to tenant and vendor; the arrive timer starts the no-show path unless the vendor
    checked in. Only for the visit time it was made for (else "stale"); sends are deduplicated."""
    wo = svc.repo.get_work_order(wo_id)
    if wo.status != Status.SCHEDULED or wo.window_version != window_version or wo.window is None:
        return "stale"
    if kind.startswith("remind_"):
        publish(svc, "VisitReminder", wo, f"reminder:{window_version}:{kind}", vendor_id=wo.vendor_id,
                 hours=_reminder_hours(kind))
        return "reminded"
    if kind != "arrive":
        raise ValueError(f"unknown visit timer {kind!r}")

    def apply(current: WorkOrder) -> Edit[None] | None:
        if current.window_version != window_version or current.arrived_at or current.visit_missed \
                or current.status != Status.SCHEDULED:
            return None
        return _missed(svc, current, "system")

    missed = mutate(svc, wo_id, apply).after
    if missed is None:
        return "arrived"
    _after_missed(svc, missed, "system")
    return "no_show"
