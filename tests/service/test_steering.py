"""Ops steering on the fakes: dead-letter redrives (SQS message-move tasks) and retries of failed lifecycles."""

from __future__ import annotations

import json

import pytest

from shared.domain.errors import InvalidInput, InvalidTransition, NotFound
from shared.domain.workorder import Status
from shared.services import steering
from shared.services.container import Services
from shared.services.workorders import escalate, stage_overdue
from tests.fakes import FakeQueues, FakeWorkflow
from tests.service.journeys import accepted, deliver, ranked, scheduled

UNIT = "unit-maple-1a"
DRIP = "The kitchen sink drips all day"
OPS_PHONE = "+15550100009"  # ops at Maple Court
ANA = "+15550100010"  # the tenant of maple-1a


def _queues(svc: Services) -> FakeQueues:
    assert isinstance(svc.queues, FakeQueues)
    return svc.queues


def _urls(svc: Services) -> dict[str, str]:
    return json.loads(svc.settings.dead_letter_queues)


def _fail_into_intake_dlq(svc: Services, n: int = 2) -> tuple[str, str]:
    source = svc.settings.pms_inbound_queue_url.replace("pms-inbound", "intake")
    dlq = _urls(svc)["intake"]
    for i in range(n):
        _queues(svc).dead_letter(source, dlq, json.dumps({"detail": {"work_order_id": f"wo-{i}"}}))
    return source, dlq


def _fail_lifecycle(svc: Services, wo_id: str) -> None:
    """What the ASL's RecordFailure runs (functions/workflow.py, action "fail")."""
    escalate(svc, wo_id, "automation_error", "Automation error (States.TaskFailed)",
             automation_failed=True)


def test_dead_letter_queues_show_depth_and_running_moves(svc: Services) -> None:
    _fail_into_intake_dlq(svc, 3)

    listed = {q["queue"]: q for q in steering.dead_letters(svc)}

    assert set(listed) == {"intake", "notifications"}
    assert listed["intake"]["depth"] == 3 and listed["intake"]["moving"] is None
    assert listed["notifications"]["depth"] == 0


def test_redrive_moves_dead_letters_back_to_their_source_and_is_recorded(svc: Services) -> None:
    source, _ = _fail_into_intake_dlq(svc, 2)

    started = steering.redrive(svc, "intake", actor="ops:key")

    assert started["depth"] == 2 and started["task"]
    moving = {q["queue"]: q for q in steering.dead_letters(svc)}["intake"]["moving"]
    assert moving["status"] == "RUNNING" and moving["handle"] == started["task"]
    _queues(svc).finish_moves()
    assert [m.json()["detail"]["work_order_id"] for m in _queues(svc).on(source)] == ["wo-0", "wo-1"]
    assert {q["queue"]: q for q in steering.dead_letters(svc)}["intake"] == {"queue": "intake", "depth": 0,
                                                                             "moving": None}
    [action] = steering.audit_log(svc)
    assert action["action"] == "dlq_redrive" and action["target"] == "intake"
    assert action["actor"] == "ops:key" and action["task"] == started["task"]
    assert action["at"] == svc.clock().isoformat()


def test_a_second_redrive_while_one_runs_is_a_conflict_naming_it(svc: Services) -> None:
    _fail_into_intake_dlq(svc)
    first = steering.redrive(svc, "intake", actor="ops:key")

    with pytest.raises(InvalidTransition) as again:
        steering.redrive(svc, "intake", actor="ops:someone-else")

    assert again.value.details["task"]["handle"] == first["task"]
    assert len(steering.audit_log(svc)) == 1
    _queues(svc).finish_moves()
    _fail_into_intake_dlq(svc, 1)
    assert steering.redrive(svc, "intake", actor="ops:key")["task"] != first["task"]  # the next one may run


def test_redrive_refuses_unknown_and_empty_queues(svc: Services) -> None:
    with pytest.raises(NotFound) as unknown:
        steering.redrive(svc, "scheduler", actor="ops:key")
    assert unknown.value.details == {"queues": ["intake", "notifications"]}
    with pytest.raises(InvalidInput):
        steering.redrive(svc, "notifications", actor="ops:key")
    assert _queues(svc).tasks == []


def test_a_failed_lifecycle_is_restarted_where_it_failed(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    _fail_lifecycle(svc, job.id)
    failed = job.load(svc)
    assert failed.status == Status.ESCALATED and failed.failed_in == Status.ACCEPTED

    done = steering.retry(svc, job.id, actor="ops:arn:aws:iam::1:user/dana")

    assert done.resume_at == "schedule"
    wo = job.load(svc, with_timeline=True)
    assert wo.status == Status.ACCEPTED and wo.failed_in is None and wo.retries == 1
    assert wo.execution_arn == done.execution_arn
    workflow = svc.workflow
    assert isinstance(workflow, FakeWorkflow)
    execution = workflow.executions[f"{job.id}-retry-1"]
    assert execution.arn == done.execution_arn
    assert execution.input == {"work_order_id": job.id, "reopen": False, "resume_at": "schedule"}
    retried = wo.timeline[-1]
    assert retried.event == "retried" and retried.actor == "ops:arn:aws:iam::1:user/dana"
    assert steering.audit_log(svc)[0]["action"] == "work_order_retry"


def test_a_second_retry_while_one_runs_is_a_conflict(svc: Services) -> None:
    job = ranked(svc, UNIT, DRIP)
    _fail_lifecycle(svc, job.id)
    first = steering.retry(svc, job.id, actor="ops:key")
    assert first.resume_at == "dispatch"

    with pytest.raises(InvalidTransition) as again:
        steering.retry(svc, job.id, actor="ops:key")

    assert again.value.details["execution_arn"] == first.execution_arn
    _fail_lifecycle(svc, job.id)  # the retry failed too: a next retry is a new execution
    assert steering.retry(svc, job.id, actor="ops:key").execution_arn.endswith(f"{job.id}-retry-2")


def test_each_failure_of_a_lifecycle_tells_ops_once_naming_the_status_it_failed_in(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    _fail_lifecycle(svc, job.id)
    deliver(svc, "WorkOrderEscalated")
    steering.retry(svc, job.id, actor="ops:key")
    _fail_lifecycle(svc, job.id)  # the retried lifecycle failed too: ops are told again (it was deduped away)

    deliver(svc, "WorkOrderEscalated")
    deliver(svc, "WorkOrderEscalated")  # every event delivered again: nothing more

    told = svc.messenger.sms_to(OPS_PHONE)
    assert len(told) == 2
    assert all("Automation error (States.TaskFailed) while accepted; ops alerted" in m.body for m in told)
    assert len(svc.messenger.sms_to(ANA)) == 2  # and the tenant that a person has it


def test_only_an_automation_failure_is_retried(svc: Services) -> None:
    running = scheduled(svc, UNIT, DRIP)
    with pytest.raises(InvalidTransition):
        steering.retry(svc, running.id, actor="ops:key")
    overdue = accepted(svc, "unit-maple-3b", "Bathroom fan is broken")
    stage_overdue(svc, overdue.id, "schedule")  # escalated by a timer, not by a failure
    with pytest.raises(InvalidTransition):
        steering.retry(svc, overdue.id, actor="ops:key")
    assert overdue.load(svc).status == Status.ESCALATED


def test_a_retry_whose_execution_does_not_start_stays_retryable(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    _fail_lifecycle(svc, job.id)
    workflow = svc.workflow
    assert isinstance(workflow, FakeWorkflow)

    def refuse(name: str, payload: dict) -> str:
        raise RuntimeError("throttled")

    workflow.start = refuse  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        steering.retry(svc, job.id, actor="ops:key")

    wo = job.load(svc)
    assert wo.status == Status.ESCALATED and wo.failed_in == Status.ACCEPTED
    assert steering.audit_log(svc) == []
