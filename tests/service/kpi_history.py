"""A seeded 120-day history for the KPI tests: several hundred work orders with known timestamps, offers,
visits, touches, status answers, pages, recalls and invoices, written to the repository as the use cases
would have left them (timeline entries and final fields), in two phases (half the timeline first, the rest
later) so the rollup consumer sees each work order change.

Beside every work order the generator keeps its `Truth`: the figures it chose (durations in seconds,
outcomes). The tests compute the expected KPIs from those, never from the timeline with the code under test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from shared.domain.directory import Contact
from shared.domain.enums import Priority, Trade
from shared.domain.invoices import Invoice, InvoiceLine, InvoiceStatus, LineKind
from shared.domain.oncall import Page
from shared.domain.workorder import Status, TimelineEntry, Window, WorkOrder
from shared.services.container import Services

DAYS = 120
VENDORS = ("ven-aqua", "ven-pipeline", "ven-volt", "ven-handy", "ven-breeze")
PROPERTIES = ("prop-maple", "prop-harbor")
TRADES = (Trade("plumbing"), Trade("electrical"), Trade("hvac"), Trade("general"))
OPS = "ops:arn:aws:iam::123456789012:user/dana"


@dataclass
class Offer:
    vendor_id: str
    outcome: str  # accepted | declined | expired
    response_s: int | None  # accept or decline: seconds after the offer


@dataclass
class Truth:
    """What the generator decided for one work order (the test's independent source of expected figures)."""

    id: str
    created_at: datetime
    property_id: str
    trade: str
    priority: str
    vendor_id: str | None = None
    drill: bool = False
    ack_s: int | None = None
    first_offer_s: int | None = None
    offers: list[Offer] = field(default_factory=list)
    accept_s: int | None = None  # the accepted offer's wait
    schedule_s: int | None = None
    visit: str | None = None  # on_time | late | no_show
    late_by_s: int = 0  # after the window's end, for a late check-in
    complete_s: int | None = None
    completed: bool = False
    reopened: bool = False
    verified_s: int | None = None  # received -> verified
    billed_s: int | None = None  # received -> billed
    escalated_from: str | None = None
    touches: list[str] = field(default_factory=list)  # events of the ops actions
    status_answers: int = 0
    cost_cents: int = 0
    page_ack_s: int | None = None
    recall_of: str | None = None
    recall_within_30: bool = False
    completed_at: datetime | None = None


@dataclass
class Written:
    truth: Truth
    final: WorkOrder
    entries: list[TimelineEntry]
    invoices: list[Invoice]


def _entry(at: datetime, event: str, detail: str = "", actor: str = "system") -> TimelineEntry:
    return TimelineEntry(at=at, event=event, detail=detail, actor=actor)


def generate(now: datetime, count: int = 360, seed: int = 12) -> list[Written]:
    rnd = random.Random(seed)
    start = now - timedelta(days=DAYS)
    jobs: list[Written] = []
    for n in range(count):
        created = start + timedelta(minutes=rnd.randrange(0, (DAYS - 1) * 24 * 60))
        priority = rnd.choices(list(Priority), weights=(1, 3, 8))[0]
        truth = Truth(id=f"wo-kpi{n:05d}", created_at=created, property_id=rnd.choice(PROPERTIES),
                      trade=rnd.choice(TRADES).value, priority=priority.value, drill=rnd.random() < 0.04)
        jobs.append(_job(rnd, truth))
    # Recalls: a later job of the same unit recalls an earlier completed one (some within 30 days).
    done = sorted((j for j in jobs if j.truth.completed_at and not j.truth.drill), key=lambda j: j.truth.created_at)
    for original in done[:40:4]:
        later = [j for j in jobs if j.truth.created_at > original.truth.completed_at and not j.truth.drill
                 and not j.truth.recall_of and j.truth.id != original.truth.id]
        if not later:
            continue
        recall = rnd.choice(later[:30])
        recall.truth.recall_of = original.truth.id
        recall.truth.recall_within_30 = recall.truth.created_at - original.truth.completed_at <= timedelta(days=30)
        recall.final = recall.final.model_copy(update={"recall_of": original.truth.id})
        recall.entries.insert(1, _entry(recall.truth.created_at, "recall", f"Recall of {original.truth.id}"))
    return jobs


def _job(rnd: random.Random, t: Truth) -> Written:
    at = t.created_at
    entries = [_entry(at, "received", "Request received", "tenant")]
    if rnd.random() < 0.93:
        t.ack_s = rnd.randint(5, 900)
        entries.append(_entry(at + timedelta(seconds=t.ack_s), "notified", "SMS to tenant: We got your request"))
    entries.append(_entry(at + timedelta(seconds=2), "triaged", "Triaged"))
    fields: dict = {}
    clock = at + timedelta(seconds=rnd.randint(30, 1800))
    t.first_offer_s = int((clock - at).total_seconds())
    accepted_at = None
    for vendor_id in rnd.sample(VENDORS, 3):
        entries.append(_entry(clock, "offered", f"Offered to {vendor_id.title()} (vendor {vendor_id})"))
        roll = rnd.random()
        if roll < 0.6:
            wait = rnd.randint(60, 20000)
            t.offers.append(Offer(vendor_id, "accepted", wait))
            accepted_at = clock + timedelta(seconds=wait)
            entries.append(_entry(accepted_at, "accepted", "Vendor accepted the job", f"vendor:{vendor_id}"))
            t.vendor_id, t.accept_s = vendor_id, wait
            break
        if roll < 0.8:
            wait = rnd.randint(60, 5000)
            t.offers.append(Offer(vendor_id, "declined", wait))
            clock += timedelta(seconds=wait)
            entries.append(_entry(clock, "declined", "Vendor declined: busy", f"vendor:{vendor_id}"))
        else:
            t.offers.append(Offer(vendor_id, "expired", None))
            clock += timedelta(seconds=7200)
            entries.append(_entry(clock, "offer_expired", f"No answer in time (vendor {vendor_id})"))
        clock += timedelta(seconds=5)
    status = Status.OFFERED
    if accepted_at is None:
        clock += timedelta(seconds=10)
        entries.append(_entry(clock, "escalated", "No vendor left"))
        t.escalated_from = "offered"
        status = Status.ESCALATED
    else:
        status = Status.ACCEPTED
        fields["vendor_id"] = t.vendor_id
        _visit(rnd, t, entries, fields, accepted_at)
        status = fields.pop("_status")
    for _ in range(rnd.choice((0, 0, 1, 2, 3))):
        event = rnd.choice(("ops_note", "ops_note", "triage_corrected", "resumed"))
        t.touches.append(event)
        entries.append(_entry(at + timedelta(seconds=rnd.randint(60, 3600)), event, "ops did something", OPS))
    for _ in range(rnd.choice((0, 0, 0, 1, 2))):
        t.status_answers += 1
        entries.append(_entry(at + timedelta(seconds=rnd.randint(60, 7200)), "notified",
                              "SMS to tenant: reply to STATUS (sms)"))
    if t.priority == "emergency" and rnd.random() < 0.8:
        t.page_ack_s = rnd.randint(30, 2400)
        fields["page"] = Page(levels=[], started_at=at, acked_at=at + timedelta(seconds=t.page_ack_s),
                              acknowledged_after_s=t.page_ack_s)
    invoices = []
    if t.completed and rnd.random() < 0.85:
        cents = rnd.randint(5000, 250000)
        state = rnd.choice((InvoiceStatus.APPROVED, InvoiceStatus.BILLED, InvoiceStatus.REJECTED))
        if state != InvoiceStatus.REJECTED:
            t.cost_cents = cents
        invoices.append(_invoice(t, cents, state))
        if state == InvoiceStatus.BILLED:
            t.billed_s = t.verified_s + rnd.randint(3600, 10 * 86400) if t.verified_s else None
            if t.billed_s:
                entries.append(_entry(at + timedelta(seconds=t.billed_s), "billed", "Bill created", "pms"))
    if t.escalated_from and status != Status.ESCALATED:
        status = Status.ESCALATED
    final = WorkOrder(id=t.id, status=status, property_id=t.property_id, unit_id=f"{t.property_id}-u1",
                      tenant=Contact(name="Tenant", phone="+15550100999"), description="Something broke",
                      trade=Trade(t.trade), priority=Priority(t.priority), drill=t.drill,
                      escalated_from=Status(t.escalated_from) if t.escalated_from else None,
                      completed_at=t.completed_at, created_at=at, updated_at=at, **fields)
    return Written(t, final, entries, invoices)


def _visit(rnd: random.Random, t: Truth, entries: list[TimelineEntry], fields: dict, accepted_at: datetime) -> None:
    """Scheduling, the visit (on time, late or a no-show), completion, the follow-up."""
    t.schedule_s = rnd.randint(300, 3 * 86400)
    scheduled_at = accepted_at + timedelta(seconds=t.schedule_s)
    entries.append(_entry(scheduled_at, "scheduled", "Visit scheduled", f"vendor:{t.vendor_id}"))
    window_start = scheduled_at + timedelta(hours=rnd.randint(2, 72))
    window = Window(start=window_start, end=window_start + timedelta(hours=4))
    fields["window"] = window
    roll = rnd.random()
    if roll < 0.1:
        t.visit = "no_show"
        entries.append(_entry(window.end + timedelta(hours=2), "no_show", "Nobody came", "tenant"))
        entries.append(_entry(window.end + timedelta(hours=3), "escalated", "Visit missed"))
        t.escalated_from = "scheduled"
        fields["_status"] = Status.ESCALATED
        return
    if roll < 0.25:
        t.visit, t.late_by_s = "late", rnd.randint(60, 6 * 3600)
        checkin_at = window.end + timedelta(seconds=t.late_by_s)
    else:
        t.visit = "on_time"
        checkin_at = window.start + timedelta(seconds=rnd.randint(0, 4 * 3600))
    entries.append(_entry(checkin_at, "checkin", "Technician checked in", f"vendor:{t.vendor_id}"))
    completed_at = checkin_at + timedelta(seconds=rnd.randint(600, 3 * 3600))
    t.complete_s = int((completed_at - scheduled_at).total_seconds())
    t.completed, t.completed_at = True, completed_at
    entries.append(_entry(completed_at, "completed", "Work completed", f"vendor:{t.vendor_id}"))
    follow = completed_at + timedelta(seconds=rnd.randint(600, 2 * 86400))
    if rnd.random() < 0.12:
        t.reopened = True
        entries.append(_entry(follow, "reopened", "Tenant says it is not fixed", "tenant"))
        follow += timedelta(days=2)
        entries.append(_entry(follow - timedelta(hours=2), "completed", "Work completed again",
                              f"vendor:{t.vendor_id}"))
    if rnd.random() < 0.9:
        entries.append(_entry(follow, "verified", "Tenant confirmed the fix", "tenant"))
        t.verified_s = int((follow - t.created_at).total_seconds())
        fields["_status"] = Status.VERIFIED
    else:
        fields["_status"] = Status.COMPLETED


def _invoice(t: Truth, cents: int, state: InvoiceStatus) -> Invoice:
    amount = Decimal(cents) / 100
    return Invoice(id=f"inv-{t.id}", work_order_id=t.id, vendor_id=t.vendor_id or "", invoice_number=f"N-{t.id}",
                   invoice_date=t.created_at.date(), currency="USD", total=amount, source="link", status=state,
                   lines=[InvoiceLine(kind=LineKind.LABOUR, description="Labour", quantity=Decimal(1),
                                      unit_price=amount)],
                   work_order_status_at_submission="verified", submitted_at=t.completed_at or t.created_at)


def write_first_half(svc: Services, job: Written) -> None:
    """The work order as it stood half-way: the first half of its timeline, no vendor, triage only."""
    half = max(1, len(job.entries) // 2)
    early = job.final.model_copy(update={"status": Status.TRIAGED, "vendor_id": None, "window": None,
                                         "page": None, "completed_at": None, "escalated_from": None})
    svc.repo.create_work_order(early, job.entries[0])
    for e in job.entries[1:half]:
        svc.repo.add_timeline(job.final.id, e)


def write_rest(svc: Services, job: Written) -> None:
    half = max(1, len(job.entries) // 2)
    current = svc.repo.get_work_order(job.final.id)
    svc.repo.save(job.final, current.version, job.entries[half:])
    for inv in job.invoices:
        svc.repo.save_invoice(inv, None)
