"""Opslayer -> PMS: every work order is logged in the PMS right after intake (resident request + work
order) and kept in sync as its lifecycle moves. State-based: each message says "sync work order X" and
the writer pushes X's current state, so duplicated or reordered messages are harmless."""

from __future__ import annotations

from shared.observability import count, logger
from shared.pms.models import NewResidentRequest, NewWorkOrder, WorkOrderSync
from shared.pms.port import PmsPort, UnitCannotHoldRequests
from shared.services.container import Services


def sync_out(svc: Services, pms: PmsPort, wo_id: str) -> str:
    wo = svc.repo.get_work_order(wo_id)
    if wo.drill:  # a fire drill's work order is never real work in the PMS
        count("PmsSkippedDrill")
        logger.info("drill work order not written to the PMS")
        return "drill"
    state = svc.repo.pms_state(wo_id)
    task_id = state.get("pms_task_id") or wo.pms_task_id
    order_id = state.get("pms_work_order_id") or wo.pms_work_order_id
    if task_id and state.get("synced_version", -1) >= wo.version:
        return "up_to_date"
    unit = svc.repo.get_unit(wo.unit_id)
    prop = svc.repo.get_property(wo.property_id)
    if not (unit.pms_id and prop.pms_id):
        return "not_in_pms"  # a unit the PMS does not know: nothing to write to
    title = f"{(wo.trade or 'maintenance').title()}: {wo.description[:60]}"
    try:
        task_id = task_id or pms.ensure_resident_request(NewResidentRequest(
            reference=wo.id, property_pms_id=prop.pms_id, unit_pms_id=unit.pms_id,
            requested_by_pms_id=unit.tenant_pms_id, title=title, description=wo.description,
            priority=(wo.priority or "routine")))
    except UnitCannotHoldRequests:
        # E.g. Buildium ties resident requests to a lease: a vacant unit's work order stays in Opslayer only.
        logger.warning("not written to the PMS: the unit cannot hold requests there", extra={"unit_id": unit.id})
        return "no_lease"
    vendor_pms = svc.repo.get_vendor(wo.vendor_id).pms_id if wo.vendor_id else None
    if order_id is None and vendor_pms:  # PMS work orders may need a vendor: created at acceptance
        order_id = pms.ensure_work_order(NewWorkOrder(
            reference=wo.id, task_pms_id=task_id, vendor_pms_id=vendor_pms, title=title,
            description=wo.description, priority=(wo.priority or "routine")))
    pms.sync_work_order(order_id, task_id, WorkOrderSync(
        status=wo.status.value, vendor_pms_id=vendor_pms,
        scheduled_start=wo.window.start if wo.window else None, scheduled_end=wo.window.end if wo.window else None,
        notes=wo.completion_notes or ""))
    # Kept apart from the work order: recording a PMS write never competes with a person's action.
    svc.repo.put_pms_state(wo_id, task_id, order_id, wo.version)
    count("PmsWritten")
    logger.info("work order written to the PMS", extra={"pms_task_id": task_id, "pms_work_order_id": order_id})
    return "synced"
