"""The stuck sweep (scheduled): open work orders that sat past their stage's timer plus a grace are noted on
their timeline once and counted (the StuckWorkOrders alarm tells ops)."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.stuck import SWEPT_STATUSES, stuck_after
from shared.domain.workorder import TimelineEntry, WorkOrder
from shared.observability import alarm_count, logger
from shared.services.container import Services

STUCK_METRIC = "StuckWorkOrders"
# Work orders read per status (the status index is queried, never the table scanned).
PER_STATUS_LIMIT = 1000


def sweep_stuck(svc: Services) -> list[str]:
    """Note every newly stuck work order (once per status it is stuck in) and count them. Returns their ids."""
    now = svc.clock()
    timeouts = svc.settings.timeouts
    grace = timedelta(seconds=timeouts.stuck_grace)
    found: list[str] = []
    for status in SWEPT_STATUSES:
        for wo in svc.repo.list_work_orders(status=status.value, limit=PER_STATUS_LIMIT):
            deadline = stuck_after(wo, timeouts.stages, svc.settings.invoice_reminders, grace)
            if deadline is not None and now >= deadline and _note(svc, wo, now - deadline + grace):
                found.append(wo.id)
    alarm_count(STUCK_METRIC, len(found))  # zero too: the alarm sees the sweep ran
    if found:
        logger.warning("stuck work orders", extra={"work_order_ids": found})
    return found


def _note(svc: Services, wo: WorkOrder, overdue: timedelta) -> bool:
    """The timeline note, once per work order and stuck status (a job stuck again later is noted again)."""
    key = f"stuck:{wo.id}:{wo.status.value}:{wo.updated_at.isoformat()}"
    if svc.repo.done(key):
        return False
    hours = max(1, round(overdue.total_seconds() / 3600))
    svc.repo.mark_done(key, wo.id, TimelineEntry(
        at=svc.clock(), event="stuck",
        detail=f"Still {wo.status.value} about {hours} h past the stage's timer; ops alerted"))
    return True
