"""Building incidents: the first report of a building-wide fault is the primary (it is dispatched);
later reports in the window join it, stop their own lifecycle, mirror the primary's progress and
their tenants are told at every stage."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.correlation import building_fault
from shared.domain.workorder import TERMINAL, Status, WorkOrder
from shared.observability import count
from shared.services.container import Services
from shared.services.writes import Edit, entry, mutate

MIRRORED = {"VendorAccepted", "VisitScheduled", "WorkCompleted", "WorkOrderVerified", "WorkOrderEscalated",
            "WorkOrderCancelled"}


def correlate(svc: Services, wo: WorkOrder) -> str | None:
    """Called at triage. Returns the primary's id when `wo` joins an open incident, else None
    (and `wo` becomes the primary of a new incident when its fault is building-wide)."""
    rule = building_fault(wo.trade.value if wo.trade else None, wo.emergency_reason)
    if rule is None:
        return None
    now = svc.clock()
    key = f"INCIDENT#{wo.property_id}#{rule.id}"
    current = svc.repo.get_record(key, "OPEN")
    if current and current["until"] > now.isoformat() and current["primary"] != wo.id:
        primary = svc.repo.get_work_order(current["primary"])
        if primary.status not in TERMINAL:
            svc.repo.add_to_set(key, "OPEN", "members", wo.id)
            count("IncidentJoined")
            return primary.id
    until = (now + timedelta(minutes=rule.window_minutes)).isoformat()
    svc.repo.put_record(key, "OPEN", {"primary": wo.id, "rule": rule.id, "until": until, "members": [wo.id]})
    return None


def members(svc: Services, primary: WorkOrder) -> list[str]:
    """Work orders that joined this primary's incident (not the primary itself)."""
    if primary.incident_id != primary.id or not primary.trade:
        return []
    rule = building_fault(primary.trade.value, primary.emergency_reason)
    record = svc.repo.get_record(f"INCIDENT#{primary.property_id}#{rule.id}", "OPEN") if rule else None
    if not record or record.get("primary") != primary.id:
        return []
    return [m for m in record.get("members", []) if m != primary.id]


def mirror(svc: Services, detail_type: str, primary: WorkOrder) -> list[WorkOrder]:
    """Bring every member to the primary's stage (status, vendor, window) with a timeline entry."""
    if detail_type not in MIRRORED:
        return []
    updated = []
    for member_id in members(svc, primary):
        def apply(m: WorkOrder) -> Edit[None] | None:
            if m.status in TERMINAL or (m.status == primary.status and m.window == primary.window):
                return None
            return Edit(m.model_copy(update={"status": primary.status, "vendor_id": primary.vendor_id,
                                             "window": primary.window}),
                        [entry(svc, primary.status.value, f"Building incident {primary.id}: {primary.status.value}")])

        saved = mutate(svc, member_id, apply).after
        if saved:
            updated.append(saved)
    return updated


def is_member(wo: WorkOrder) -> bool:
    return bool(wo.incident_id) and wo.incident_id != wo.id and wo.status != Status.CANCELLED
