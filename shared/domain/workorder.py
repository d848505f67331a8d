"""The work order and its lifecycle rules (pure: no I/O)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from shared.domain.directory import Contact
from shared.domain.enums import Hazard, Priority, Trade
from shared.domain.errors import InvalidTransition
from shared.domain.model import Model
from shared.domain.oncall import Page
from shared.domain.photos import Photo
from shared.domain.satisfaction import RATING_OPEN_DAYS, Satisfaction, still_open


class Status(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    VERIFIED = "verified"
    REOPENED = "reopened"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"
    # The money side, after the tenant verified the fix (or ops closed it without an invoice).
    INVOICE_AWAITED = "invoice_awaited"
    CODED = "coded"  # invoice checked and coded, waiting for approval
    APPROVED = "approved"
    BILLED = "billed"  # a bill in the PMS
    CLOSED = "closed"


# The repair is over: nothing more for the tenant, vendor visits, sensors or incidents.
MONEY_STATUSES = frozenset({Status.VERIFIED, Status.INVOICE_AWAITED, Status.CODED, Status.APPROVED,
                            Status.BILLED, Status.CLOSED})
TERMINAL = MONEY_STATUSES | {Status.ESCALATED, Status.CANCELLED}
ENDED = frozenset({Status.CLOSED, Status.ESCALATED, Status.CANCELLED})  # nothing more happens on its own
OPEN_STATUSES = tuple(s for s in Status if s not in TERMINAL)

# Which status may follow which. Everything not listed here is a 409.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.TRIAGED}),
    Status.TRIAGED: frozenset({Status.OFFERED}),
    Status.OFFERED: frozenset({Status.OFFERED, Status.ACCEPTED, Status.TRIAGED}),  # triaged: ops corrected it
    Status.ACCEPTED: frozenset({Status.SCHEDULED, Status.TRIAGED}),
    Status.SCHEDULED: frozenset({Status.SCHEDULED, Status.COMPLETED}),
    Status.COMPLETED: frozenset({Status.VERIFIED, Status.REOPENED}),
    Status.REOPENED: frozenset({Status.OFFERED}),
    Status.VERIFIED: frozenset({Status.INVOICE_AWAITED}),
    Status.INVOICE_AWAITED: frozenset({Status.CODED}),
    Status.CODED: frozenset({Status.APPROVED, Status.INVOICE_AWAITED}),  # approved, or rejected to the vendor
    Status.APPROVED: frozenset({Status.BILLED}),
    Status.BILLED: frozenset({Status.CLOSED}),
    Status.ESCALATED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.CLOSED: frozenset(),
}
for _status in OPEN_STATUSES:  # any open work order can be escalated or cancelled
    TRANSITIONS[_status] = TRANSITIONS[_status] | {Status.ESCALATED, Status.CANCELLED}
for _status in MONEY_STATUSES - {Status.CLOSED}:  # the money side can be escalated, or closed by ops
    TRANSITIONS[_status] = TRANSITIONS[_status] | {Status.ESCALATED, Status.CLOSED}
# Ops take an escalated job on (shared/services/escalations.py): close or cancel it with a reason, or put it
# back where it stalled (the status that stage waits in), or to a new assignee (accepted) or dispatch (triaged).
TRANSITIONS[Status.ESCALATED] = frozenset({Status.CLOSED, Status.CANCELLED, Status.TRIAGED, Status.ACCEPTED,
                                           Status.SCHEDULED, Status.COMPLETED, Status.INVOICE_AWAITED,
                                           Status.CODED})


# A vendor may invoice once the work is done (one invoice processed at a time).
INVOICE_STATUSES = frozenset({Status.COMPLETED, Status.VERIFIED, Status.INVOICE_AWAITED})

SAFETY_QUESTION_STATUSES = frozenset({Status.RECEIVED, Status.TRIAGED, Status.OFFERED, Status.ACCEPTED,
                                      Status.SCHEDULED})


class Source(StrEnum):
    WEB = "web"
    SMS = "sms"
    EMAIL = "email"
    PMS = "pms"
    IOT = "iot"
    PREVENTIVE = "preventive"


class Window(Model):
    start: datetime
    end: datetime


class Offer(Model):
    vendor_id: str
    index: int
    task_token: str
    offered_at: datetime
    expires_at: datetime


class StageWait(Model):
    """A task-token wait for a person (schedule, completion, follow-up)."""

    stage: str
    task_token: str


class SafetyQuestion(Model):
    """Triage was unsure whether this is an emergency, so the tenant was asked at once (the job goes on)."""

    hazard: Hazard
    asked_at: datetime
    answer: str | None = None  # "yes", "no", "no_answer", or "ops" when a triage correction settled it
    answered_at: datetime | None = None
    answered_by: str | None = None


class TriageCorrection(Model):
    """Ops changed the triage; kept as a labelled example for the next rules and model."""

    at: datetime
    actor: str
    reason: str
    before: dict[str, str | None]
    after: dict[str, str | None]


class TimerOverride(Model):
    """Ops extended a stalled stage's timer: the resumed lifecycle waits `seconds` at `stage` (the ASL's
    timeout for that stage, read from the triage output), instead of the priority's timer."""

    stage: str  # the ASL's timer name: offer, schedule, completion, followup, invoice, approval
    seconds: int


class TimelineEntry(Model):
    at: datetime
    event: str
    detail: str = ""
    actor: str = "system"


class WorkOrder(Model):
    id: str
    status: Status = Status.RECEIVED
    version: int = 0
    source: Source = Source.WEB
    property_id: str
    unit_id: str
    tenant: Contact
    description: str
    availability: list[Window] | str | None = None
    entry_permission: bool = False
    pets: str | None = None
    trade: Trade | None = None
    priority: Priority | None = None
    emergency_reason: str | None = None
    hazard: Hazard | None = None  # the emergency's hazard class (or the one a safety question asked about)
    vulnerable: bool = False  # a vulnerable occupant was mentioned
    emergency_probability: float | None = None  # the learned model's opinion at triage
    safety_question: SafetyQuestion | None = None
    page: Page | None = None  # an emergency's on-call chain: who was paged, acknowledged when and by whom
    triage_corrections: list[TriageCorrection] = Field(default_factory=list)
    triage_rules_version: str | None = None
    matched_rules: list[str] = Field(default_factory=list)
    candidates: list[str] = Field(default_factory=list)
    offer: Offer | None = None
    stage_wait: StageWait | None = None
    vendor_id: str | None = None
    previous_vendor_id: str | None = None
    window: Window | None = None
    # Scheduling: a time the vendor proposed, waiting for the tenant's yes or no; the window's version
    # (bumped whenever the visit time changes, so reminders and the arrive timer of an old time are
    # skipped); the vendor's check-in for the current window (stops the arrive timer); no-shows.
    proposal: Window | None = None
    proposed_at: datetime | None = None  # when the tenant was asked to confirm the proposal
    window_version: int = 0
    arrived_at: datetime | None = None
    visit_missed: bool = False
    missed_visits: int = 0
    # Not-to-exceed for the vendor, set when the job is offered (shared/rules/nte.json); integer cents.
    nte_cents: int | None = None
    currency: str = "USD"
    completion_notes: str | None = None
    reopen_count: int = 0
    dispatch_round: int = 0  # bumped when a re-triage dispatches the job again (offers of a new round are new)
    execution_arn: str | None = None
    # Set when the lifecycle's automation failed (the ASL's RecordFailure): the status it failed in, so
    # ops can restart it at that step (POST /ops/work-orders/{id}/retry); retries counts those restarts.
    failed_in: Status | None = None
    retries: int = 0
    # Set by every escalation: the status the job stalled in (where ops may resume it, and whether a late
    # invoice can still be taken); `restarts` counts the lifecycles ops started again from an escalation
    # (each a named execution); `timer_override` is a stage timer ops extended for the restarted lifecycle.
    escalated_from: Status | None = None
    restarts: int = 0
    timer_override: TimerOverride | None = None
    # The PMS records (its task and work order): set at creation for orders that came from the PMS,
    # else from the PMS sync state (a separate item, see the repository).
    pms_task_id: str | None = None
    pms_work_order_id: str | None = None
    sensor_id: str | None = None
    asset_id: str | None = None
    incident_id: str | None = None  # set when this report joined a building incident
    recall_of: str | None = None  # the earlier job this one recalls (its vendor is offered first, no charge)
    # A fire-drill work order (on a drill unit): its messages go to the drill sink, never to the PMS;
    # its events carry `drill: true` so reports and KPIs leave it out.
    drill: bool = False
    # Satisfaction (shared/domain/satisfaction.py): when the tenant who confirmed the fix was asked for a
    # 1-5 rating, and their answer (one per job).
    rating_asked_at: datetime | None = None
    satisfaction: Satisfaction | None = None
    completed_at: datetime | None = None
    invoice_id: str | None = None  # the invoice being processed (None again after a rejection)
    bill_pms_id: str | None = None
    reminders: dict[str, int] = Field(default_factory=dict)  # reminders sent per waiting stage
    photos: list[Photo] = Field(default_factory=list)  # checked photos (tenant's and vendor's), oldest first
    # When it entered its current status (set by every status change; None before the first one, or on an
    # order stored before the field existed): the start of the StageSeconds metric (shared/services/writes.py).
    status_since: datetime | None = None
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @property
    def asking_safety(self) -> bool:
        """True while the tenant's YES or NO would answer triage's safety question: unanswered, and the
        job not done yet (after completion the tenant is asked "is it fixed?" instead)."""
        return bool(self.safety_question and self.safety_question.answer is None
                    and self.status in SAFETY_QUESTION_STATUSES)

    def require_transition(self, target: Status) -> None:
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransition(
                f"A work order that is {self.status.value} cannot become {target.value}.",
                {"status": self.status.value, "requested": target.value},
            )


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_work_order_id() -> str:
    """Time-sortable, unguessable id; also the Step Functions execution name."""
    return f"wo-{int(time.time() * 1000):011x}{secrets.token_hex(5)}"


def vendor_actions(wo: WorkOrder, vendor_id: str) -> list[str]:
    """What this vendor may do now (drives the job page and the 409s)."""
    if wo.status == Status.OFFERED and wo.offer and wo.offer.vendor_id == vendor_id:
        return ["accept", "decline"]
    if wo.vendor_id != vendor_id:
        return []
    if wo.status == Status.ACCEPTED:
        return ["schedule", "propose"]
    if wo.status == Status.SCHEDULED:
        return ["schedule", "propose", "checkin", "complete"]
    if wo.status in INVOICE_STATUSES and not wo.invoice_id:
        return ["invoice"]
    if wo.status == Status.ESCALATED and wo.escalated_from in INVOICE_STATUSES and not wo.invoice_id:
        return ["invoice"]  # a late invoice: the job stalled waiting for it; it still flows to a bill
    return []


def tenant_actions(wo: WorkOrder, now: datetime | None = None) -> list[str]:
    """What the tenant may do now: answer a proposed time, ask to reschedule, say nobody came
    (once the visit window has started and the technician has not checked in), answer the follow-up.
    A proposed time that has passed can only be declined (the vendor is asked for another)."""
    if wo.status == Status.COMPLETED:
        return ["feedback"]
    now = now or utcnow()
    actions = []
    if wo.proposal and wo.status in (Status.ACCEPTED, Status.SCHEDULED):
        actions += ["confirm", "decline"] if now < wo.proposal.end else ["decline"]
    if wo.status == Status.SCHEDULED and wo.window:
        actions.append("reschedule")
        if not wo.arrived_at and not wo.visit_missed and now >= wo.window.start:
            actions.append("no_show")
    return actions


def held_triage_change(held: dict[str, Any], wo: WorkOrder) -> str | None:
    """Whether the triage the workflow holds (its `$.triage`) is behind the work order's, and what the workflow
    must do: "retriaged" for another trade (rank that trade's vendors), "retimed" for another priority only
    (the same candidates, on the new priority's timers); None when it is current."""
    if wo.trade is None or wo.priority is None:
        return None
    if held.get("trade") != wo.trade.value:
        return "retriaged"
    if held.get("priority") != wo.priority.value:
        return "retimed"
    return None


def public_status(wo: WorkOrder) -> dict[str, Any]:
    """Plain-words summary for tenants (no internal ids, no tokens)."""
    return {"status": wo.status.value, "trade": wo.trade, "priority": wo.priority}


@dataclass(frozen=True)
class TenantQuestion:
    """A question a work order is waiting on the tenant for, which a plain YES or NO answers."""

    # triage's safety question, "is it fixed?", a visit time; "rating" (1-5) is answered by a number
    kind: Literal["safety", "feedback", "proposal", "rating"]
    work_order: WorkOrder
    asked_at: datetime


def open_questions(wo: WorkOrder, now: datetime) -> list[TenantQuestion]:
    """The questions this work order is waiting on the tenant for: the safety question while it is asked,
    the follow-up of a completed job, a proposed visit time that can still be confirmed."""
    asked: list[TenantQuestion] = []
    if wo.asking_safety and wo.safety_question:
        asked.append(TenantQuestion("safety", wo, wo.safety_question.asked_at))
    actions = tenant_actions(wo, now)
    if "feedback" in actions:
        asked.append(TenantQuestion("feedback", wo, wo.completed_at or wo.updated_at))
    if "confirm" in actions:
        asked.append(TenantQuestion("proposal", wo, wo.proposed_at or wo.updated_at))
    return asked


def question_to_answer(mine: list[WorkOrder], now: datetime) -> TenantQuestion | None:
    """The question a tenant's YES or NO answers: the newest one asked, whatever its kind and work order
    (asked "is it fixed?" and then to confirm a visit time, a YES confirms the visit). `mine`: the
    tenant's work orders, newest first (that order breaks a tie)."""
    asked = [q for wo in mine for q in open_questions(wo, now)]
    return max(asked, key=lambda q: q.asked_at, default=None)


def rating_open(wo: WorkOrder, now: datetime) -> bool:
    """The 1-5 rating question is asked and unanswered (it stays open RATING_OPEN_DAYS)."""
    return wo.satisfaction is None and still_open(wo.rating_asked_at, now, RATING_OPEN_DAYS)


def rating_to_answer(mine: list[WorkOrder], now: datetime) -> TenantQuestion | None:
    """The newest open rating question of a tenant's work orders (newest first; that order breaks a tie)."""
    asked = [TenantQuestion("rating", wo, wo.rating_asked_at) for wo in mine
             if wo.rating_asked_at and rating_open(wo, now)]
    return max(asked, key=lambda q: q.asked_at, default=None)
