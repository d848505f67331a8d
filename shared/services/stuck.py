"""The stuck sweep (scheduled): open work orders that sat past their stage's timer plus a grace are noted on
their timeline once and counted (the StuckWorkOrders alarm tells ops); on the way, the work orders waiting in
each status are counted for the ops dashboard (OpenWorkOrders)."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.domain.stuck import SWEPT_STATUSES, stuck_after
from shared.domain.workorder import Status, TimelineEntry, WorkOrder
from shared.observability import alarm_count, logger, stage_metric
from shared.services.container import Services

STUCK_METRIC = "StuckWorkOrders"
OPEN_METRIC = "OpenWorkOrders"
# The statuses counted for the dashboard: every one a work order can wait in. Closed and cancelled only grow
# (their Query would read the whole history every hour), so they are not; drill work is never counted.
COUNTED_STATUSES: tuple[Status, ...] = tuple(s for s in Status if s not in (Status.CLOSED, Status.CANCELLED))


def sweep_stuck(svc: Services) -> list[str]:
    """Note every newly stuck work order (once per status it is stuck in) and count them. Returns their ids."""
    now = svc.clock()
    timeouts = svc.settings.timeouts
    grace = timedelta(seconds=timeouts.stuck_grace)
    found: list[str] = []
    for status in COUNTED_STATUSES:  # one status-index Query each (paged), never a Scan
        in_status = svc.repo.work_orders_in_status(status.value)
        stage_metric(OPEN_METRIC, sum(not wo.drill for wo in in_status), Status=status.value)
        if status not in SWEPT_STATUSES:
            continue
        for listed in in_status:
            if not _past(svc, listed, now, grace):
                continue
            wo = svc.repo.get_work_order(listed.id)  # the index lags: confirm on the work order itself
            deadline = _past(svc, wo, now, grace)
            if deadline and _note(svc, wo, now - deadline + grace):
                found.append(wo.id)
    alarm_count(STUCK_METRIC, len(found))  # zero too: the alarm sees the sweep ran
    if found:
        logger.warning("stuck work orders", extra={"work_order_ids": found})
    return found


def _past(svc: Services, wo: WorkOrder, now: datetime, grace: timedelta) -> datetime | None:
    """Its stuck deadline if that has passed (else None)."""
    deadline = stuck_after(wo, svc.settings.timeouts.stages, svc.settings.invoice_reminders, grace)
    return deadline if deadline is not None and now >= deadline else None


def _note(svc: Services, wo: WorkOrder, overdue: timedelta) -> bool:
    """The timeline note, once per work order and stuck status (a job stuck again later is noted again)."""
    key = f"stuck:{wo.id}:{wo.status.value}:{wo.updated_at.isoformat()}"
    if svc.repo.done(key, wo.id):
        return False
    hours = max(1, round(overdue.total_seconds() / 3600))
    svc.repo.mark_done(key, wo.id, TimelineEntry(
        at=svc.clock(), event="stuck",
        detail=f"Still {wo.status.value} about {hours} h past the stage's timer; ops alerted"))
    return True
