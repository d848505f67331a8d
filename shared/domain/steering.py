"""Ops steering rules: where a failed lifecycle restarts, and what a dead-letter move task looks like.

Pure data and functions (no I/O): shared/services/steering.py applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import InvalidTransition
from shared.domain.workorder import Status

# The work order's status when its automation failed -> the step the state machine restarts at
# (the ASL's `ResumeAt` choice reads `$.resume_at`; "triage" is the ordinary start).
RESUME_AT: dict[Status, str] = {
    Status.RECEIVED: "triage",
    Status.TRIAGED: "dispatch",
    Status.OFFERED: "dispatch",
    Status.REOPENED: "dispatch_reopened",
    Status.ACCEPTED: "schedule",
    Status.SCHEDULED: "completion",
    Status.COMPLETED: "followup",
    Status.VERIFIED: "invoice",
    Status.INVOICE_AWAITED: "invoice",
    Status.CODED: "approval",
    Status.APPROVED: "bill",
    Status.BILLED: "close",
}


def resume_at(failed_in: Status) -> str:
    """The restart step for a lifecycle that failed while the work order was `failed_in`."""
    try:
        return RESUME_AT[failed_in]
    except KeyError:
        raise InvalidTransition(f"A lifecycle that failed in {failed_in.value!r} cannot be restarted.") from None


def retry_execution_name(wo_id: str, attempt: int) -> str:
    """Each retry is its own named execution (a repeated start of the same retry is a no-op)."""
    return f"{wo_id}-retry-{attempt}"


# ---------------------------------------------------------------- ways forward from an escalation
# The stages ops may resume an escalated job at, in lifecycle order: the status the stage waits in (the job
# goes back to it), and the name of its timer in the triage output (`timeouts`, which the ASL's waits read;
# None: the step waits for nobody, e.g. the bill, posted again once ops fixed what stopped it).
RESUMABLE: dict[str, tuple[Status, str | None]] = {
    "schedule": (Status.ACCEPTED, "schedule"),
    "completion": (Status.SCHEDULED, "completion"),
    "followup": (Status.COMPLETED, "followup"),
    "invoice": (Status.INVOICE_AWAITED, "invoice"),
    "approval": (Status.CODED, "approval"),
    "bill": (Status.APPROVED, None),
}
# The stage a job stalled at, from the status it was escalated in (`escalated_from`).
STALLED_AT: dict[Status, str] = {status: RESUME_AT[status] for status in (
    Status.ACCEPTED, Status.SCHEDULED, Status.COMPLETED, Status.VERIFIED, Status.INVOICE_AWAITED, Status.CODED,
    Status.APPROVED)}  # the people's stages: the same step a failed lifecycle restarts at
MAX_EXTENSION_HOURS = 24 * 30


def stalled_stage(escalated_from: Status | None) -> str | None:
    """The stage an escalated job stalled at (None: it stalled in dispatch, or before)."""
    return STALLED_AT.get(escalated_from) if escalated_from else None


def resume_target(stage: str, escalated_from: Status | None, has_assignee: bool, has_invoice: bool) -> Status:
    """The status an escalated job goes back to when ops resume it at `stage`. The job must have reached
    that stage (resuming an earlier one is fine: a visit booked again): a job that stalled in dispatch needs
    a reassign or a dispatch restart, an approval needs an invoice."""
    if stage not in RESUMABLE:
        raise InvalidTransition(f"A job cannot be resumed at {stage!r}.",
                                {"stage": stage, "allowed": list(RESUMABLE)})
    stalled = stalled_stage(escalated_from)
    order = list(RESUMABLE)
    missing = None
    if stalled is None or not has_assignee:
        missing = "it never had an assignee; reassign it or restart dispatch"
    elif order.index(stage) > order.index(stalled):
        missing = f"it stalled earlier, at {stalled}"
    elif stage in ("approval", "bill") and not has_invoice:
        missing = "there is no invoice; resume at invoice"
    if missing:
        raise InvalidTransition(f"This job cannot be resumed at {stage}: {missing}.",
                                {"status": Status.ESCALATED.value, "stage": stage, "stalled_at": stalled})
    return RESUMABLE[stage][0]


def restart_execution_name(wo_id: str, restart: int) -> str:
    """Each lifecycle ops start again from an escalation is its own named execution: a repeated start of
    the same restart is a no-op, a later escalation's restart is a new one."""
    return f"{wo_id}-ops-{restart}"


@dataclass(frozen=True)
class QueueInfo:
    arn: str
    depth: int  # ApproximateNumberOfMessages (visible)


@dataclass(frozen=True)
class MoveTask:
    """An SQS message-move task (ListMessageMoveTasks): `handle` is only set while it runs."""

    status: str  # RUNNING | COMPLETED | CANCELLING | CANCELLED | FAILED
    source_arn: str
    handle: str | None = None
    moved: int = 0
    to_move: int | None = None
    started_at: int | None = None  # epoch milliseconds
    failure: str | None = None

    @property
    def running(self) -> bool:
        return self.status in ("RUNNING", "CANCELLING")

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "handle": self.handle, "moved": self.moved, "to_move": self.to_move,
                "started_at": self.started_at, "failure": self.failure}
