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
