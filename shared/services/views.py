"""Read models: what a tenant, a vendor and ops may see of a work order."""

from __future__ import annotations

from typing import Any

from shared.domain import links
from shared.domain.messages import message_book
from shared.domain.nte import money
from shared.domain.workorder import MONEY_STATUSES, Status, WorkOrder, tenant_actions, vendor_actions
from shared.services import photos
from shared.services.container import Services
from shared.services.writes import tenant_scope, vendor_scope

# Timeline events a tenant sees, in plain words (internal steps such as ranking stay internal).
TENANT_EVENTS = {"received", "triaged", "offered", "accepted", "scheduled", "completed", "verified",
                 "reopened", "escalated", "cancelled", "notified", "proposed", "proposal_declined",
                 "reschedule_requested", "no_show", "checkin",
                 "photo_added", "photo_rejected", "safety_question", "safety_answered", "safety_unanswered"}


def _for_tenant(event: str, detail: str) -> bool:
    return event in TENANT_EVENTS and (event != "notified" or " to tenant:" in detail)


def window_of(wo: WorkOrder, proposal: bool = False) -> dict[str, str] | None:
    """The visit window (or the proposed one) as ISO 8601 with its offset."""
    w = wo.proposal if proposal else wo.window
    return {"start": w.start.isoformat(), "end": w.end.isoformat()} if w else None



def tenant_status(svc: Services, wo_id: str, token: str | None) -> dict[str, Any]:
    scope = tenant_scope(svc, wo_id, token, "view")
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
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
    if wo.asking_safety and wo.safety_question:
        view["safety_question"] = {"hazard": wo.safety_question.hazard.value, "question": message_book(
            ).safety_question(wo.safety_question.hazard.value, view["language"])}
    if wo.vendor_id:
        view["vendor"] = {"name": svc.repo.get_vendor(wo.vendor_id).name}
    if wo.window:
        view["window"] = window_of(wo)
    return view


def vendor_job(svc: Services, token: str) -> dict[str, Any]:
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
    return job


def _vendor_invoices(svc: Services, wo: WorkOrder) -> list[dict[str, Any]]:
    """What the vendor sees of their invoices: number, total, status and a rejection's reason."""
    return [{"invoice_number": i.invoice_number, "total": f"{i.total:.2f} {i.currency}", "status": i.status.value,
             "rejection_reason": i.rejection_reason} for i in svc.repo.invoices_for(wo.id)]


def ops_work_order(svc: Services, wo_id: str) -> dict[str, Any]:
    return ops_view(svc, svc.repo.get_work_order(wo_id, with_timeline=True))


def ops_view(svc: Services, wo: WorkOrder) -> dict[str, Any]:
    """What ops see of a work order (loaded with its timeline)."""
    record = wo.model_dump(mode="json")
    for secret_field in ("offer", "stage_wait"):  # task tokens are capabilities: never shown
        if record.get(secret_field):
            record[secret_field].pop("task_token", None)
    # The PMS is Buildium today: name its ids the way Buildium users know them.
    synced = svc.repo.pms_state(wo.id) if not (wo.pms_task_id and wo.pms_work_order_id) else {}
    record["buildium_task_id"] = wo.pms_task_id or synced.get("pms_task_id")
    record["buildium_work_order_id"] = wo.pms_work_order_id or synced.get("pms_work_order_id")
    return record


def ops_list(svc: Services, status: str | None, property_id: str | None, source: str | None) -> dict[str, Any]:
    items = svc.repo.list_work_orders(status=status, property_id=property_id, source=source)
    return {"work_orders": [{
        "id": w.id, "status": w.status.value, "source": w.source.value, "property_id": w.property_id,
        "unit_id": w.unit_id, "trade": w.trade, "priority": w.priority, "vendor_id": w.vendor_id,
        "buildium_task_id": w.pms_task_id, "incident_id": w.incident_id,
        "created_at": w.created_at.isoformat(), "updated_at": w.updated_at.isoformat()} for w in items],
        "count": len(items)}


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
