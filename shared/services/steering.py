"""Ops steering: dead-letter queues redriven to their sources, failed lifecycles restarted. Every action is
recorded with who did it and when (the ops audit log; a retry also on the work order's timeline)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.domain.errors import InvalidInput, InvalidTransition, NotFound
from shared.domain.steering import MoveTask, restart_execution_name, resume_at, retry_execution_name
from shared.domain.workorder import ENDED, Status, WorkOrder
from shared.observability import logger
from shared.services.container import Services
from shared.services.writes import Edit, entry, mutate

AUDIT = "OPSAUDIT"  # the audit log's collection (one item per action, sorted by time)


# ---------------------------------------------------------------- audit
def record(svc: Services, action: str, target: str, actor: str, **detail: Any) -> dict[str, Any]:
    at = svc.clock().isoformat()
    item = {"at": at, "action": action, "target": target, "actor": actor, **detail}
    svc.repo.put_listed(AUDIT, f"{at}#{uuid.uuid4().hex[:8]}", item)
    return item


def audit_log(svc: Services, limit: int = 100) -> list[dict[str, Any]]:
    """The latest ops actions, newest first."""
    items = sorted(svc.repo.listed(AUDIT), key=lambda i: i.get("at", ""), reverse=True)
    return [{k: v for k, v in i.items() if k not in ("PK", "SK")} for i in items[:limit]]


# ---------------------------------------------------------------- dead-letter queues
def dead_letter_queues(svc: Services) -> dict[str, str]:
    """Logical name -> queue URL of every dead-letter queue that has a source queue (DEAD_LETTER_QUEUES)."""
    raw = svc.settings.dead_letter_queues
    try:
        mapping = json.loads(raw or "{}")
    except ValueError as exc:
        raise ValueError(f"DEAD_LETTER_QUEUES is not JSON: {exc}") from exc
    return {str(k): str(v) for k, v in mapping.items()}


def _queue_url(svc: Services, queue: str) -> str:
    queues = dead_letter_queues(svc)
    if queue not in queues:
        raise NotFound(f"No dead-letter queue {queue!r}.", {"queues": sorted(queues)})
    return queues[queue]


def _running(tasks: list[MoveTask]) -> MoveTask | None:
    return next((t for t in tasks if t.running), None)


def dead_letters(svc: Services) -> list[dict[str, Any]]:
    """Each dead-letter queue's approximate depth and its running move task (None when none runs)."""
    out = []
    for name, url in sorted(dead_letter_queues(svc).items()):
        info = svc.queues.info(url)
        running = _running(svc.queues.move_tasks(info.arn))
        out.append({"queue": name, "depth": info.depth, "moving": running.as_dict() if running else None})
    return out


def redrive(svc: Services, queue: str, actor: str) -> dict[str, Any]:
    """Start moving a dead-letter queue's messages back to their source queue (an SQS message-move task).
    One move at a time per queue: while one runs, this is a 409 naming it."""
    url = _queue_url(svc, queue)
    info = svc.queues.info(url)
    running = _running(svc.queues.move_tasks(info.arn))
    if running is None:
        if info.depth == 0:
            raise InvalidInput(f"The {queue} dead-letter queue is empty.")
        try:
            handle = svc.queues.start_move(info.arn)
        except Exception:
            running = _running(svc.queues.move_tasks(info.arn))  # another ops call started one meanwhile
            if running is None:
                raise
        else:
            record(svc, "dlq_redrive", queue, actor, task=handle, depth=info.depth)
            logger.info("dead-letter redrive started", extra={"queue": queue, "depth": info.depth})
            return {"queue": queue, "task": handle, "depth": info.depth}
    raise InvalidTransition(f"A redrive of the {queue} dead-letter queue is already running.",
                            {"queue": queue, "task": running.as_dict()})


# ---------------------------------------------------------------- failed lifecycles
@dataclass(frozen=True)
class Retry:
    work_order: WorkOrder
    resume_at: str
    execution_arn: str


def retry(svc: Services, wo_id: str, actor: str) -> Retry:
    """Restart a lifecycle whose automation failed (escalated by the ASL's RecordFailure), at the step the
    status it failed in implies, as a new named execution. A second retry while one runs is a 409."""

    def apply(wo: WorkOrder) -> Edit[tuple[str, str]]:
        if wo.status != Status.ESCALATED or wo.failed_in is None:
            if wo.retries and wo.status not in ENDED:
                raise InvalidTransition("A retry of this work order is already running.",
                                        {"execution_arn": wo.execution_arn, "status": wo.status.value})
            raise InvalidTransition("Only a work order whose automation failed can be retried.",
                                    {"status": wo.status.value})
        stage = resume_at(wo.failed_in)
        attempt = wo.retries + 1
        name = retry_execution_name(wo.id, attempt)
        arn = svc.workflow.execution_arn(name)
        return Edit(wo.model_copy(update={"status": wo.failed_in, "failed_in": None, "escalated_from": None,
                                          "retries": attempt, "execution_arn": arn}),
                    [entry(svc, "retried", f"Automation restarted at the {stage.replace('_', ' ')} step "
                                           f"(retry {attempt})", actor=actor)], result=(name, stage))

    change = mutate(svc, wo_id, apply)
    assert change.after is not None and change.result is not None
    name, stage = change.result
    try:
        arn = svc.workflow.start(name, {"work_order_id": wo_id, "reopen": False, "resume_at": stage})
    except Exception:
        _undo_retry(svc, wo_id, change.before)
        raise
    record(svc, "work_order_retry", wo_id, actor, resume_at=stage, execution_arn=arn)
    return Retry(change.after, stage, arn)


def _undo_retry(svc: Services, wo_id: str, before: WorkOrder) -> None:
    """The execution did not start: the work order goes back to escalated-by-failure (retryable again)."""
    def apply(wo: WorkOrder) -> Edit[None] | None:
        if wo.retries != before.retries + 1 or wo.failed_in is not None:
            return None
        return Edit(wo.model_copy(update={"status": Status.ESCALATED, "failed_in": before.failed_in,
                                          "escalated_from": before.escalated_from,
                                          "execution_arn": before.execution_arn}),
                    [entry(svc, "retry_failed", "The restarted lifecycle did not start; still escalated")])

    mutate(svc, wo_id, apply)


# ---------------------------------------------------------------- lifecycles started again from an escalation
@dataclass(frozen=True)
class Restarted:
    before: WorkOrder
    work_order: WorkOrder
    resume_at: str
    execution_arn: str


def restart(svc: Services, wo_id: str, decide: Callable[[WorkOrder], Edit[str]]) -> Restarted:
    """Start the lifecycle of an escalated job again (shared/services/escalations.py, a late invoice): `decide`
    moves the work order to the status its step waits in (or refuses with InvalidTransition) and names the
    step (the ASL's `ResumeAt`). The new execution is named by the restart count, so repeating a start is a
    no-op; the work order records it before it starts, and goes back to escalated if it cannot start."""

    def apply(wo: WorkOrder) -> Edit[tuple[str, str]]:
        edit = decide(wo)
        assert edit.result is not None
        attempt = wo.restarts + 1
        name = restart_execution_name(wo.id, attempt)
        after = edit.after.model_copy(update={"restarts": attempt, "execution_arn": svc.workflow.execution_arn(name),
                                              "escalated_from": None, "failed_in": None, "stage_wait": None,
                                              "offer": None})
        return Edit(after, edit.entries, result=(name, edit.result))

    change = mutate(svc, wo_id, apply)
    assert change.result is not None
    name, stage = change.result
    try:
        arn = svc.workflow.start(name, {"work_order_id": wo_id, "reopen": False, "resume_at": stage})
    except Exception:
        _undo_restart(svc, wo_id, change.before)
        raise
    return Restarted(change.before, change.saved, stage, arn)


def _undo_restart(svc: Services, wo_id: str, before: WorkOrder) -> None:
    """The execution did not start: the work order is escalated again as it was (ops may try again)."""
    def apply(wo: WorkOrder) -> Edit[None] | None:
        if wo.restarts != before.restarts + 1:
            return None
        restored = before.model_copy(update={"version": wo.version, "timeline": wo.timeline,
                                             "invoice_id": wo.invoice_id})
        return Edit(restored, [entry(svc, "restart_failed", "The lifecycle did not start again; still escalated")])

    mutate(svc, wo_id, apply)
