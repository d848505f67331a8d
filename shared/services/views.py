"""Read models: what a tenant, a vendor and ops may see of a work order."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from shared.domain import links
from shared.domain.invoices import CheckResult, Coding
from shared.domain.messages import message_book
from shared.domain.model import Model
from shared.domain.nte import money
from shared.domain.workorder import MONEY_STATUSES, Status, WorkOrder, tenant_actions, vendor_actions
from shared.services import kpis, photos
from shared.services.container import Services
from shared.services.writes import tenant_scope, vendor_scope

# Timeline events a tenant sees, in plain words (internal steps such as ranking stay internal).
TENANT_EVENTS = {"received", "triaged", "offered", "accepted", "scheduled", "completed", "verified",
                 "reopened", "escalated", "cancelled", "notified", "proposed", "proposal_declined",
                 "reschedule_requested", "no_show", "checkin",
                 "photo_added", "photo_rejected", "safety_question", "safety_answered", "safety_unanswered",
                 "rated"}


class View(Model):
    """A read model. Its JSON leaves out the optional parts a view did not fill in (e.g. a vendor's access
    details when the job is not theirs), so the API answers with the same fields it always has."""

    model_config = ConfigDict(frozen=True)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class VisitWindow(View):
    start: str  # ISO 8601 with the property's offset
    end: str


class PhotoLink(View):
    url: str  # short-lived (the bucket is private)
    party: str
    content_type: str
    size: int
    uploaded_at: str


class TimelineItem(View):
    at: str
    event: str
    detail: str


class SafetyQuestion(View):
    hazard: str
    question: str


class Named(View):
    name: str


class TenantStatus(View):
    """What a tenant sees of their request."""

    id: str
    status: str
    trade: str | None
    priority: str | None
    timeline: list[TimelineItem]
    feedback_due: bool
    language: str
    allowed_actions: list[str]
    proposal: VisitWindow | None
    photos: list[PhotoLink]
    photo_upload: bool
    safety_question: SafetyQuestion | None = None
    vendor: Named | None = None
    window: VisitWindow | None = None
    rating_due: bool = False  # the 1-5 rating is asked and this link may answer it
    rating: int | None = None  # the tenant's rating of the repair, once given


class NotToExceed(View):
    cents: int
    currency: str
    text: str


class TenantContact(View):
    name: str
    phone: str | None


class VendorInvoice(View):
    invoice_number: str
    total: str
    status: str
    rejection_reason: str | None


class VendorJob(View):
    """What a vendor sees of a job; the contact and access details only when it is offered or assigned
    to them, their invoices only when it is assigned to them."""

    work_order_id: str
    status: str
    allowed_actions: list[str]
    trade: str | None
    priority: str | None
    property: str
    address: str
    unit: str
    description: str
    window: VisitWindow | None
    recall: bool
    nte: NotToExceed | None
    language: str | None
    currency: str
    access_instructions: str | None = None
    entry_permission: bool | None = None
    pets: str | None = None
    tenant: TenantContact | None = None
    availability: str | list[VisitWindow] | None = None
    photos: list[PhotoLink] = []
    photo_upload: bool = False
    proposal: VisitWindow | None = None
    checked_in: bool = False
    time_zone: str | None = None
    invoices: list[VendorInvoice] | None = None


class InvoiceLineView(View):
    kind: str
    description: str
    quantity: str
    unit_price: str
    amount: str


class ApprovalView(View):
    """What the owner or ops see of one invoice they are asked to approve."""

    work_order_id: str
    invoice_id: str
    approver: str  # the route: "owner" or "ops"
    pending: bool
    status: str
    property: str
    unit: str
    trade: str | None
    description: str
    vendor: str
    invoice_number: str
    invoice_date: str
    currency: str
    total: str
    nte: str | None
    lines: list[InvoiceLineView]
    checks: list[CheckResult]
    coding: Coding | None
    reason: str | None
    decision: str | None
    completion_notes: str | None
    allowed_actions: list[str]


def _for_tenant(event: str, detail: str) -> bool:
    return event in TENANT_EVENTS and (event != "notified" or " to tenant:" in detail)


def window_of(wo: WorkOrder, proposal: bool = False) -> dict[str, str] | None:
    """The visit window (or the proposed one) as ISO 8601 with its offset."""
    w = wo.proposal if proposal else wo.window
    return {"start": w.start.isoformat(), "end": w.end.isoformat()} if w else None


def tenant_status(svc: Services, wo_id: str, token: str | None) -> TenantStatus:
    """The tenant's status page (HTML or JSON). Reading it counts as a status view for the KPIs (once an hour
    per work order: `kpis.note_status_view`); nothing else is written."""
    scope = tenant_scope(svc, wo_id, token, "view")
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    kpis.note_status_view(svc, wo)  # a status question answered without a call (at most one an hour)
    view: dict[str, Any] = {
        # After the fix is verified the rest (invoice, bill) is not the tenant's business: it stays "verified".
        "id": wo.id, "status": Status.VERIFIED.value if wo.status in MONEY_STATUSES else wo.status.value,
        "trade": wo.trade, "priority": wo.priority,
        "timeline": [{"at": e.at.isoformat(), "event": e.event, "detail": e.detail}
                     for e in wo.timeline if _for_tenant(e.event, e.detail)],
        # A link that already answered does not ask again (the new question came with a new link).
        "feedback_due": wo.status == Status.COMPLETED and not scope.answered,
        "language": wo.tenant.language or "en",
        "allowed_actions": tenant_actions(wo, svc.clock()), "proposal": window_of(wo, proposal=True),
        "photos": photos.view_links(svc, wo), "photo_upload": photos.tenant_may_add(wo),
    }
    view["rating_due"] = bool(wo.rating_asked_at and wo.satisfaction is None and scope.allows("rate"))
    view["rating"] = wo.satisfaction.rating if wo.satisfaction else None
    if wo.asking_safety and wo.safety_question:
        view["safety_question"] = {"hazard": wo.safety_question.hazard.value, "question": message_book(
            ).safety_question(wo.safety_question.hazard.value, view["language"])}
    if wo.vendor_id:
        view["vendor"] = {"name": svc.repo.get_vendor(wo.vendor_id).name}
    if wo.window:
        view["window"] = window_of(wo)
    return TenantStatus.model_validate(view)


def vendor_job(svc: Services, token: str) -> VendorJob:
    scope = vendor_scope(svc, token, "view")
    wo = svc.repo.get_work_order(scope.work_order_id)
    unit = svc.repo.get_unit(wo.unit_id)
    prop = svc.repo.get_property(wo.property_id)
    possible = vendor_actions(wo, scope.party_id)
    involved = bool(possible) or wo.vendor_id == scope.party_id
    # A link that answered an offer does not offer a later one (that one came with its own link).
    allowed = [a for a in possible if not (scope.answered and a in links.SINGLE_USE)]
    job: dict[str, Any] = {
        "work_order_id": wo.id, "status": wo.status.value if involved else "no_longer_available",
        "allowed_actions": allowed, "trade": wo.trade, "priority": wo.priority,
        "property": prop.name, "address": prop.address, "unit": unit.label,
        "description": wo.description, "window": window_of(wo), "recall": bool(wo.recall_of),
        "nte": {"cents": wo.nte_cents, "currency": wo.currency, "text": money(wo.nte_cents, wo.currency)}
        if wo.nte_cents is not None else None,
        "language": getattr(svc.repo.find_vendor(scope.party_id), "language", None),
        "currency": wo.currency,
    }
    if involved:  # contact and access details only for the vendor the job is offered or assigned to
        job["access_instructions"] = unit.access_instructions
        job["entry_permission"] = wo.entry_permission
        job["pets"] = wo.pets
        job["tenant"] = {"name": wo.tenant.name, "phone": wo.tenant.phone}
        job["availability"] = wo.availability if isinstance(wo.availability, str) else [
            {"start": w.start.isoformat(), "end": w.end.isoformat()} for w in (wo.availability or [])]
        job["photos"] = photos.view_links(svc, wo)
        job["photo_upload"] = photos.vendor_may_add(wo, scope.party_id)
        job["proposal"] = window_of(wo, proposal=True)
        job["checked_in"] = wo.arrived_at is not None
        job["time_zone"] = prop.time_zone or svc.settings.default_time_zone
        if wo.vendor_id == scope.party_id:
            job["invoices"] = _vendor_invoices(svc, wo)
    return VendorJob.model_validate(job)


def _vendor_invoices(svc: Services, wo: WorkOrder) -> list[dict[str, Any]]:
    """What the vendor sees of their invoices: number, total, status and a rejection's reason."""
    return [{"invoice_number": i.invoice_number, "total": f"{i.total:.2f} {i.currency}", "status": i.status.value,
             "rejection_reason": i.rejection_reason} for i in svc.repo.invoices_for(wo.id)]


def ops_work_order(svc: Services, wo_id: str) -> dict[str, Any]:
    return ops_view(svc, svc.repo.get_work_order(wo_id, with_timeline=True))


def ops_view(svc: Services, wo: WorkOrder) -> dict[str, Any]:
    """What ops see of a work order (loaded with its timeline)."""
    from shared.services.workorders import lifecycle_arn  # cold start: the functions that show links never need it

    record = wo.model_dump(mode="json")
    record["execution_arn"] = lifecycle_arn(svc, wo)  # the first execution's is not stored: it is the id's
    for secret_field in ("offer", "stage_wait"):  # task tokens are capabilities: never shown
        if record.get(secret_field):
            record[secret_field].pop("task_token", None)
    # The PMS's task and work order: on the work order when it came from the PMS, else in the sync state
    # (the bill stays in bill_pms_id, set when it is entered).
    synced = svc.repo.pms_state(wo.id) if not (wo.pms_task_id and wo.pms_work_order_id) else {}
    record["pms"] = {"provider": svc.settings.pms_provider,
                     "task_id": record.pop("pms_task_id") or synced.get("pms_task_id"),
                     "work_order_id": record.pop("pms_work_order_id") or synced.get("pms_work_order_id")}
    return record


def tenant_link(svc: Services, wo: WorkOrder, base_url: str) -> str:
    token = svc.link_tokens().issue(wo.id, "tenant", wo.unit_id, svc.settings.link_ttl_seconds)
    return f"{base_url.rstrip('/')}/requests/{wo.id}?token={token}"


def unit_request_link(svc: Services, unit_id: str, base_url: str) -> str:
    """A new per-unit request form link (printed as the lobby/door QR code): a token so unit ids cannot be
    guessed into spam, long-lived (UnitLinkTtlSeconds) because it is printed. Earlier ones keep working."""
    key = svc.link_tokens().issue(unit_id, "unit", unit_id, svc.settings.unit_link_ttl_seconds)
    return f"{base_url.rstrip('/')}/units/{unit_id}/request?key={key}"


def vendor_link(svc: Services, wo: WorkOrder, vendor_id: str, base_url: str) -> str:
    token = svc.link_tokens().issue(wo.id, "vendor", vendor_id, svc.settings.link_ttl_seconds)
    return f"{base_url.rstrip('/')}/vendor/jobs/{token}"
