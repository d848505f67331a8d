"""When a work order counts as stuck: it has sat in its status past the timer of the stage it waits in
plus a grace. The workflow's own timer should have moved it on (or escalated it) by then, so a stuck job
means the automation lost it (a failed execution, a lost task token, a timer that never fired)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from shared.domain.enums import Priority
from shared.domain.workorder import Status, WorkOrder

# The stage (shared/rules/timers.json) a person's step waits in, per status.
STAGE_OF_STATUS: dict[Status, str] = {
    Status.OFFERED: "accept",
    Status.ACCEPTED: "schedule",
    Status.SCHEDULED: "complete",
    Status.COMPLETED: "followup",
    Status.INVOICE_AWAITED: "invoice",
    Status.CODED: "approval",
}
# Statuses the automation leaves within seconds (triage, dispatch): stuck after the grace alone.
AUTOMATIC_STATUSES: tuple[Status, ...] = (Status.RECEIVED, Status.TRIAGED, Status.REOPENED)
# The timer names the workflow (and an ops extension, `WorkOrder.timer_override`) use for those stages.
WORKFLOW_TIMER = {"accept": "offer", "complete": "completion"}
# Stages whose wait repeats once per reminder before it escalates.
REMINDED_STAGES = frozenset({"invoice", "approval"})

SWEPT_STATUSES: tuple[Status, ...] = (*AUTOMATIC_STATUSES, *STAGE_OF_STATUS)
"""Every status the stuck sweep reads (one status-index Query each)."""

StageTimers = Mapping[str, Mapping[Priority, int]]
"""Seconds per stage and priority (``shared.config.Timeouts.stages``)."""


def stuck_after(wo: WorkOrder, timers: StageTimers, reminders: int, grace: timedelta) -> datetime | None:
    """The moment `wo` counts as stuck if it is still in its current status then (None: never, for a status
    nobody times: escalated, cancelled, verified, billed...). Counted from its last change (`updated_at`:
    a reminder or an expired offer is a change, so each wait is measured from the latest one); a visit
    booked for later is not stuck before its window has ended."""
    if wo.status in AUTOMATIC_STATUSES:
        return wo.updated_at + grace
    stage = STAGE_OF_STATUS.get(wo.status)
    if stage is None:
        return None
    seconds = timers[stage][wo.priority or Priority.ROUTINE]
    if wo.timer_override and wo.timer_override.stage == WORKFLOW_TIMER.get(stage, stage):
        seconds = wo.timer_override.seconds  # ops extended this stage's timer
    if stage in REMINDED_STAGES:
        seconds *= reminders + 1
    start = wo.updated_at
    if wo.status == Status.SCHEDULED and wo.window and wo.window.end > start:
        start = wo.window.end
    return start + timedelta(seconds=seconds) + grace


def is_stuck(wo: WorkOrder, now: datetime, timers: StageTimers, reminders: int, grace: timedelta) -> bool:
    deadline = stuck_after(wo, timers, reminders, grace)
    return deadline is not None and now >= deadline
