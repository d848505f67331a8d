"""Test journeys for the service tests: a work order walked to a given stage with the use cases themselves
(as the state machine and the people would; no repository shortcuts), the times a test talks in, and the
arrange helpers of the money side and the PMS.

Every stage returns a `Job`: the work order as that step left it (`job.wo`; `job.load(svc)` reads it
again), the workflow's triage and the handles a test acts with next. Each stage builds on the one before:
submit -> `triaged` -> `ranked` -> `offered` -> `accepted` -> `scheduled` -> `completed` -> `invoice_awaited`;
from `offered` a job may instead stall: `nobody_accepted` (escalated when every offer expired).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from infra import demo
from shared.domain.workorder import Status, Window, WorkOrder
from shared.invoice_schemas import InvoiceIn
from shared.schemas import NewRequest, VisitTime
from shared.services.container import Services
from shared.services.invoicing import await_invoice
from shared.services.notifications import notify
from shared.services.visits import vendor_schedule
from shared.services.workorders import (
    answer_follow_up,
    escalate,
    offer,
    offer_expired,
    rank,
    start_lifecycle,
    submit_request,
    triage,
    vendor_accept,
    vendor_checkin,
    vendor_complete,
)
from tests.fakes import FakeWorkflow, InMemoryPms, RecordingEvents
from tests.fakes.services import DEMO_TIME_ZONE

LEAK = "The kitchen faucet drips constantly"  # plumbing, routine
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# Demo records as the PMS knows them (the demo is seeded without PMS ids: `link_demo_to_pms` adds these).
PMS_IDS = {"prop-maple": "101", "prop-harbor": "102", "ven-aqua": "4101", "ven-pipeline": "4102",
           "ven-southflow": "4108", "ven-volt": "4103"}
GL_ACCOUNTS = {"6000": ("9010", "General Repairs"), "6010": ("9011", "Plumbing Repairs"),
               "6020": ("9012", "Electrical Repairs"), "6060": ("9016", "Preventive Maintenance")}


@dataclass
class Job:
    """A work order in flight and the handles a test acts with."""

    wo: WorkOrder  # as the last step left it (`load` for the current record)
    triage: dict[str, Any]  # the workflow's `$.triage`, as the offer step reads it
    vendor_id: str = ""  # the vendor currently offered the job (or doing it)
    vendor_token: str = ""  # that vendor's job link token (what the offer message carries)
    offer_token: str = ""  # the workflow's task token of the current offer
    invoice_wait: str = ""  # the workflow's task token of the wait for the invoice

    @property
    def id(self) -> str:
        return self.wo.id

    def load(self, svc: Services, with_timeline: bool = False) -> WorkOrder:
        """The work order as stored now."""
        return svc.repo.get_work_order(self.id, with_timeline=with_timeline)

    def events(self, svc: Services) -> list[str]:
        """The timeline's events in order, without the notification entries."""
        return [e.event for e in self.load(svc, with_timeline=True).timeline if e.event != "notified"]


# ---------------------------------------------------------------- the fakes a test looks into
def workflow(svc: Services) -> FakeWorkflow:
    assert isinstance(svc.workflow, FakeWorkflow)
    return svc.workflow


def fake_pms(svc: Services) -> InMemoryPms:
    pms = svc.pms()
    assert isinstance(pms, InMemoryPms)
    return pms


# ---------------------------------------------------------------- time
def local(svc: Services, days: int = 0, hour: int = 9, minute: int = 0) -> datetime:
    """A wall-clock time in the demo's time zone, `days` after the clock's current day."""
    today = svc.clock().astimezone(DEMO_TIME_ZONE).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=DEMO_TIME_ZONE)


def window(svc: Services, days: int = 1, hour: int = 9, hours: int = 2) -> Window:
    """A visit window starting at `local(svc, days, hour)` (tomorrow 09:00-11:00 by default)."""
    start = local(svc, days, hour)
    return Window(start=start, end=start + timedelta(hours=hours))


def at(w: Window) -> VisitTime:
    """The vendor's choice of exactly this window (start and end with their offset)."""
    return VisitTime(start=w.start, end=w.end)


# ---------------------------------------------------------------- links
def tenant_token(svc: Services, wo: WorkOrder) -> str:
    """A fresh tenant status link token, as the tenant's messages carry it."""
    return svc.link_tokens().issue(wo.id, "tenant", wo.unit_id, svc.settings.link_ttl_seconds)


def vendor_token(svc: Services, wo_id: str, vendor_id: str) -> str:
    """A fresh job link token for this vendor, as an offer message carries it."""
    return svc.link_tokens().issue(wo_id, "vendor", vendor_id, svc.settings.link_ttl_seconds)


# ---------------------------------------------------------------- the workflow's steps, one at a time
def submit(svc: Services, unit_id: str, description: str, idempotency_key: str | None = None,
           **fields: Any) -> WorkOrder:
    """A tenant's web request for a demo unit (name from the unit's tenant unless given): RECEIVED, no
    workflow started."""
    unit = svc.repo.get_unit(unit_id)
    name = fields.pop("name", unit.tenant.name if unit.tenant else "Tenant")
    request = NewRequest(unit_id=unit_id, name=name, description=description, **fields)
    return submit_request(svc, request, idempotency_key=idempotency_key)


def offer_to(svc: Services, wo_id: str, index: int, triage: dict[str, Any]) -> str:
    """OfferToVendor: a task-token wait for candidate `index`, with the priority's offer timeout; returns
    the task token. The work order is OFFERED to that candidate (unless the step handed the workflow a
    changed triage instead)."""
    token = workflow(svc).wait_token(f"offer{index}", execution=wo_id)
    offer(svc, wo_id, index, token, triage["timeouts"]["offer"], triage)
    return token


def deliver(svc: Services, *detail_types: str) -> int:
    """Run the notification consumer on the published events of these types (all when none given), as
    the EventBridge rule -> SQS -> notification function would; returns the messages sent."""
    events = svc.events
    assert isinstance(events, RecordingEvents)
    return sum(notify(svc, t, d) for t, d in list(events.published) if not detail_types or t in detail_types)


def offer_next(svc: Services, job: Job, index: int) -> Job:
    """The workflow offers `job` to candidate `index` (a fresh task token and a fresh vendor link); the
    work order is OFFERED to that vendor."""
    job.offer_token = offer_to(svc, job.id, index, job.triage)
    job.wo = job.load(svc)
    job.vendor_id = job.wo.candidates[index]
    job.vendor_token = vendor_token(svc, job.id, job.vendor_id)
    return job


# ---------------------------------------------------------------- a work order brought to a stage
def triaged(svc: Services, unit_id: str, description: str, **fields: Any) -> Job:
    """Submitted, its lifecycle started and triaged: TRIAGED, no candidates ranked yet."""
    wo = submit(svc, unit_id, description, **fields)
    start_lifecycle(svc, wo.id)
    decided = triage(svc, wo.id)
    return Job(svc.repo.get_work_order(wo.id), decided)


def ranked(svc: Services, unit_id: str, description: str, **fields: Any) -> Job:
    """Triaged and its vendors ranked: still TRIAGED, `candidates` set (a recall flagged), not offered."""
    job = triaged(svc, unit_id, description, **fields)
    rank(svc, job.id, reopen=False)
    job.wo = job.load(svc)
    return job


def offered(svc: Services, unit_id: str, description: str, **fields: Any) -> Job:
    """Ranked and offered to the first candidate: OFFERED (`vendor_token`, `offer_token` set)."""
    return offer_next(svc, ranked(svc, unit_id, description, **fields), 0)


def nobody_accepted(svc: Services, unit_id: str, description: str, **fields: Any) -> Job:
    """Offered to each ranked candidate in turn, every offer's timer fired unanswered (the clock does not
    move), then NoVendorLeft escalated it (functions/dispatch.py): ESCALATED from OFFERED, no assignee."""
    job = offered(svc, unit_id, description, **fields)
    for index in range(len(job.wo.candidates)):
        if index:
            offer_next(svc, job, index)
        workflow(svc).expire(job.offer_token)
        offer_expired(svc, job.id, index)
    escalate(svc, job.id, "no_vendor_accepted", "No vendor accepted the job; ops alerted")
    job.wo = job.load(svc)
    job.vendor_id = job.vendor_token = job.offer_token = ""  # nobody is offered the job or doing it
    assert job.wo.status == Status.ESCALATED
    return job


def accepted(svc: Services, unit_id: str, description: str, **fields: Any) -> Job:
    """Offered and accepted by the first candidate: ACCEPTED, no visit booked."""
    job = offered(svc, unit_id, description, **fields)
    vendor_accept(svc, job.vendor_token)
    job.wo = job.load(svc)
    return job


def scheduled(svc: Services, unit_id: str, description: str, visit: Window | None = None,
              **fields: Any) -> Job:
    """Accepted and the visit booked by the vendor (tomorrow 09:00-11:00 unless `visit` is given):
    SCHEDULED."""
    job = accepted(svc, unit_id, description, **fields)
    vendor_schedule(svc, job.vendor_token, at(visit or window(svc)))
    job.wo = job.load(svc)
    return job


def completed(svc: Services, unit_id: str, description: str, hours_on_site: float | None = None,
              **fields: Any) -> Job:
    """Scheduled and completed by the vendor: COMPLETED, the tenant's follow-up pending. Without
    `hours_on_site` the vendor completes it now (no check-in; the clock does not move); with it the clock
    moves to the visit's start, the vendor checks in and completes that many hours later."""
    job = scheduled(svc, unit_id, description, **fields)
    if hours_on_site is not None:
        assert job.wo.window is not None
        svc.clock.set(job.wo.window.start)
        vendor_checkin(svc, job.vendor_token, None)
        svc.clock.advance(hours=hours_on_site)
    job.wo = vendor_complete(svc, job.vendor_token, "Replaced the washer")
    assert job.wo.status == Status.COMPLETED
    return job


def invoice_awaited(svc: Services, unit_id: str, description: str = LEAK, hours_on_site: float = 1) -> Job:
    """Completed after `hours_on_site` on site, the tenant confirmed the fix and the workflow waits for the
    invoice (`invoice_wait` is its task token): INVOICE_AWAITED."""
    job = completed(svc, unit_id, description, hours_on_site=hours_on_site)
    answer_follow_up(svc, job.id, resolved=True, comment=None)
    job.invoice_wait = workflow(svc).wait_token("invoice", execution=job.id)
    await_invoice(svc, job.id, job.invoice_wait)
    job.wo = job.load(svc)
    assert job.wo.status == Status.INVOICE_AWAITED
    return job


# ---------------------------------------------------------------- invoices and the PMS
def invoice_lines(hours: str = "1", labour_rate: str = "95.00", materials: str = "42.50", trip: str = "75.00",
                  tax: str = "3.40") -> list[dict[str, str]]:
    """An invoice's lines; a line priced 0 is left out."""
    lines = [{"kind": "labour", "description": "Plumber", "quantity": hours, "unit_price": labour_rate},
             {"kind": "material", "description": "Supply line and fittings", "quantity": "1", "unit_price": materials},
             {"kind": "trip", "description": "Trip charge", "quantity": "1", "unit_price": trip},
             {"kind": "tax", "description": "Sales tax on materials", "quantity": "1", "unit_price": tax}]
    return [line for line in lines if Decimal(line["unit_price"]) > 0]


def invoice(number: str, *, on: date, attachment: bytes | None = PDF, content_type: str = "application/pdf",
            **amounts: str) -> InvoiceIn:
    """A valid invoice body (the total is the sum of the lines); `amounts` as in `invoice_lines`."""
    extra = amounts.pop("currency", None)
    lines = invoice_lines(**amounts)
    total = sum((Decimal(x["quantity"]) * Decimal(x["unit_price"])).quantize(Decimal("0.01")) for x in lines)
    body: dict[str, Any] = {"invoice_number": number, "invoice_date": on.isoformat(), "currency": extra or "USD",
                            "lines": lines, "total": str(total)}
    if attachment is not None:
        extension = {"image/jpeg": "jpg", "image/png": "png"}.get(content_type, "pdf")
        body["attachment"] = {"filename": f"{number}.{extension}", "content_type": content_type,
                              "data_base64": base64.b64encode(attachment).decode()}
    return InvoiceIn.model_validate(body)


def link_demo_to_pms(svc: Services) -> None:
    """Give the demo's properties, units and some vendors PMS ids, and list the PMS's GL accounts (what
    the initial import does on a deployed stack)."""
    for prop_id in ("prop-maple", "prop-harbor"):
        prop = svc.repo.get_property(prop_id)
        svc.repo.put_property(prop.model_copy(update={"pms_id": PMS_IDS[prop_id]}))
    for n, demo_unit in enumerate(demo.UNITS):
        unit = svc.repo.get_unit(demo_unit.id)
        svc.repo.put_unit(unit.model_copy(update={"pms_id": str(2001 + n), "tenant_pms_id": str(3001 + n)}))
    for vendor_id, pms_id in PMS_IDS.items():
        if vendor_id.startswith("ven-"):
            vendor = svc.repo.get_vendor(vendor_id)
            svc.repo.put_vendor(vendor.model_copy(update={"pms_id": pms_id}))
    for number, (pms_id, name) in GL_ACCOUNTS.items():
        svc.repo.put_listed("GLACCOUNTS", pms_id, {"pms_id": pms_id, "number": number, "name": name})


def pms_ids_in_view(view: dict[str, Any]) -> dict[str, Any]:
    """The PMS task and work-order ids an ops view shows (the one place that knows their field names)."""
    if "pms" in view and isinstance(view["pms"], dict):
        return {"task_id": view["pms"].get("task_id"), "work_order_id": view["pms"].get("work_order_id")}
    return {"task_id": view.get("buildium_task_id"), "work_order_id": view.get("buildium_work_order_id")}
