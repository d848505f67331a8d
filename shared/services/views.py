"""Read models: what a tenant, a vendor and ops may see of a work order."""

from __future__ import annotations

from typing import Any

from shared.domain import links
from shared.domain.workorder import Status, WorkOrder, vendor_actions
from shared.services import photos
from shared.services.container import Services
from shared.services.workorders import tenant_scope, vendor_scope

# Timeline events a tenant sees, in plain words (internal steps such as ranking stay internal).
TENANT_EVENTS = {"received", "triaged", "offered", "accepted", "scheduled", "completed", "verified",
                 "reopened", "escalated", "cancelled", "notified", "photo_added", "photo_rejected"}


def _for_tenant(event: str, detail: str) -> bool:
    return event in TENANT_EVENTS and (event != "notified" or " to tenant:" in detail)


def _window(wo: WorkOrder) -> dict[str, str] | None:
    return {"start": wo.window.start.isoformat(), "end": wo.window.end.isoformat()} if wo.window else None


def tenant_status(svc: Services, wo_id: str, token: str | None) -> dict[str, Any]:
    tenant_scope(svc, wo_id, token, "view")
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    view: dict[str, Any] = {
        "id": wo.id, "status": wo.status.value, "trade": wo.trade, "priority": wo.priority,
        "timeline": [{"at": e.at.isoformat(), "event": e.event, "detail": e.detail}
                     for e in wo.timeline if _for_tenant(e.event, e.detail)],
        "feedback_due": wo.status == Status.COMPLETED, "language": wo.tenant.language or "en",
        "photos": photos.view_links(svc, wo), "photo_upload": photos.tenant_may_add(wo),
    }
    if wo.vendor_id:
        view["vendor"] = {"name": svc.repo.get_vendor(wo.vendor_id).name}
    if wo.window:
        view["window"] = _window(wo)
    return view


def vendor_job(svc: Services, token: str) -> dict[str, Any]:
    scope = vendor_scope(svc, token, "view")
    wo = svc.repo.get_work_order(scope.work_order_id)
    unit = svc.repo.get_unit(wo.unit_id)
    prop = svc.repo.get_property(wo.property_id)
    allowed = vendor_actions(wo, scope.party_id)
    involved = bool(allowed) or wo.vendor_id == scope.party_id
    job: dict[str, Any] = {
        "work_order_id": wo.id, "status": wo.status.value if involved else "no_longer_available",
        "allowed_actions": allowed, "trade": wo.trade, "priority": wo.priority,
        "property": prop.name, "address": prop.address, "unit": unit.label,
        "description": wo.description, "window": _window(wo), "recall": bool(wo.recall_of),
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
    return job


def ops_work_order(svc: Services, wo_id: str) -> dict[str, Any]:
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    record = wo.model_dump(mode="json")
    for secret_field in ("offer", "stage_wait"):  # task tokens are capabilities: never shown
        if record.get(secret_field):
            record[secret_field].pop("task_token", None)
    # The PMS is Buildium today: name its ids the way Buildium users know them.
    record["buildium_task_id"] = wo.pms_task_id
    record["buildium_work_order_id"] = wo.pms_work_order_id
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
    token = links.issue(wo.id, "tenant", wo.unit_id, svc.settings.link_ttl_seconds, svc.link_key())
    return f"{base_url.rstrip('/')}/requests/{wo.id}?token={token}"


def unit_request_link(svc: Services, unit_id: str, base_url: str, ttl_seconds: int = 2 * 365 * 86400) -> str:
    """The per-unit request form link (printed as the lobby/door QR code): signed so unit ids cannot be
    guessed into spam, long-lived because it is printed."""
    key = links.issue(unit_id, "unit", unit_id, ttl_seconds, svc.link_key())
    return f"{base_url.rstrip('/')}/units/{unit_id}/request?key={key}"


def vendor_link(svc: Services, wo: WorkOrder, vendor_id: str, base_url: str) -> str:
    token = links.issue(wo.id, "vendor", vendor_id, svc.settings.link_ttl_seconds, svc.link_key())
    return f"{base_url.rstrip('/')}/vendor/jobs/{token}"
