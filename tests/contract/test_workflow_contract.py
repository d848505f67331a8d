"""One contract for the workflow port: Workflow on moto's Step Functions, which runs the state machine (as the
local cloud's does: a `.waitForTaskToken` step hands its token out on an SQS queue, and resuming it ends
the run), and its twin FakeWorkflow (tests/fakes), whose tokens the test hands out itself."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.adapters.aws import error_code
from shared.adapters.messaging import DETOUR, DETOURS, Workflow
from tests.fakes import FakeWorkflow

ACCOUNT = "123456789012"
REGION = "ca-central-1"  # not the local cloud's: a frozen local clock of an earlier test never holds these waits
LONG = 3600  # seconds a step waits for its token unless a test wants it to time out
_machines = itertools.count(1)


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """moto whose Step Functions executes the machines, with the local cloud's fix that a stop ends a run
    waiting for a task token (infra/localcloud/patches/stepfunctions.py). The patches go in in the local
    cloud's order (`PATCHES`: the local clock before the busy tracking that wraps the same waits), since they
    are process-wide: installed the other way round, a later local-cloud session in this process would take
    every task-token wait for a running step."""
    from moto import mock_aws

    from infra.localcloud.patches import sfn_clock, stepfunctions

    sfn_clock.apply()
    stepfunctions.apply()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


@dataclass
class Backend:
    make: Callable[[int], Workflow | FakeWorkflow]  # a workflow whose one step waits this long for a token
    token: Callable[[str], str]  # the task token a run (by execution ARN) waits on
    runs: Callable[[str], list[dict[str, Any]]]  # the input of each run with this execution ARN
    resumed_with: Callable[[str, str], dict[str, Any] | None]  # (execution ARN, token): what the wait got
    stopped: Callable[[str], bool]  # whether a run was stopped
    time_out: Callable[[str, str], None]  # (execution ARN, token): the step's timeout fires


@pytest.fixture(params=["stepfunctions", "memory"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        yield memory_backend()
        return
    request.getfixturevalue("aws")
    import boto3

    sfn, sqs = boto3.client("stepfunctions", region_name=REGION), boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName=f"contract-tokens-{next(_machines)}")["QueueUrl"]
    tokens: dict[str, str] = {}  # execution ARN -> the token its step handed out
    machines: list[str] = []

    def make(timeout_seconds: int) -> Workflow:
        definition = {"StartAt": "Wait for a person", "States": {"Wait for a person": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token",
                                                              "execution.$": "$$.Execution.Id"}},
            "TimeoutSeconds": timeout_seconds, "End": True}}}
        machines.append(sfn.create_state_machine(
            name=f"contract-workflow-{next(_machines)}", definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/contract-workflow")["stateMachineArn"])
        return Workflow(machines[-1], client=sfn)

    def token(execution_arn: str) -> str:
        deadline = time.monotonic() + 10
        while execution_arn not in tokens and time.monotonic() < deadline:
            for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
                body = json.loads(m["Body"])
                tokens[body["execution"]] = body["token"]
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return tokens[execution_arn]

    def listed(execution_arn: str) -> list[dict[str, Any]]:
        machine = execution_arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
        return [e for e in sfn.list_executions(stateMachineArn=machine)["executions"]
                if e["executionArn"] == execution_arn]

    def runs(execution_arn: str) -> list[dict[str, Any]]:
        return [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
                for e in listed(execution_arn)]

    def ended(execution_arn: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while (run := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"{execution_arn} still running"
            time.sleep(0.02)
        return run

    def resumed_with(execution_arn: str, token: str) -> dict[str, Any] | None:
        run = ended(execution_arn)
        if run["status"] == "SUCCEEDED":
            return json.loads(run["output"])
        if run["status"] == "FAILED" and run.get("error") == DETOUR:  # the wait failed on a detour: its cause
            return json.loads(run["cause"])
        return None

    def time_out(execution_arn: str, token: str) -> None:
        assert ended(execution_arn)["status"] == "FAILED"  # States.Timeout, nothing catches it

    yield Backend(make, token, runs, resumed_with,
                  lambda arn: [e["status"] for e in listed(arn)] == ["ABORTED"], time_out)
    for machine in machines:  # no run stays waiting for an hour after its test
        for e in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
            sfn.stop_execution(executionArn=e["executionArn"])


def memory_backend() -> Backend:
    twins: list[FakeWorkflow] = []

    def make(timeout_seconds: int) -> FakeWorkflow:
        twins.append(FakeWorkflow(f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:contract-{next(_machines)}"))
        return twins[-1]

    def find(execution_arn: str) -> tuple[FakeWorkflow, str] | None:
        return next(((w, e.name) for w in twins for e in w.executions.values() if e.arn == execution_arn), None)

    def token(execution_arn: str) -> str:
        found = find(execution_arn)
        assert found, f"{execution_arn} was not started"
        workflow, name = found
        return workflow.wait_token("wait", execution=name)

    def runs(execution_arn: str) -> list[dict[str, Any]]:
        found = find(execution_arn)
        return [found[0].executions[found[1]].input] if found else []

    def resumed_with(execution_arn: str, token: str) -> dict[str, Any] | None:
        return next((out for w in twins if (out := w.output_for(token)) is not None), None)

    def stopped(execution_arn: str) -> bool:
        found = find(execution_arn)
        if found is None:
            return False
        workflow, name = found
        return workflow.executions[name].stopped is not None

    def time_out(execution_arn: str, token: str) -> None:
        for workflow in twins:
            workflow.expire(token)

    return Backend(make, token, runs, resumed_with, stopped, time_out)


def test_start_runs_the_named_execution_and_returns_its_arn(backend: Backend) -> None:
    workflow = backend.make(LONG)

    arn = workflow.start("wo-1", {"work_order_id": "wo-1", "priority": "urgent"})

    assert arn == workflow.execution_arn("wo-1")
    assert arn.startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:execution:") and arn.endswith(":wo-1")
    assert backend.runs(arn) == [{"work_order_id": "wo-1", "priority": "urgent"}]


def test_a_second_start_of_a_name_returns_the_first_run_and_starts_nothing(backend: Backend) -> None:
    workflow = backend.make(LONG)
    arn = workflow.start("wo-2", {"work_order_id": "wo-2"})

    assert workflow.start("wo-2", {"work_order_id": "wo-2"}) == arn  # the same request again
    assert workflow.start("wo-2", {"work_order_id": "wo-2", "retry": 1}) == arn  # another input
    assert workflow.resume(backend.token(arn), {"outcome": "accepted"}) is True
    backend.resumed_with(arn, backend.token(arn))  # the run is over
    assert workflow.start("wo-2", {"work_order_id": "wo-2"}) == arn

    assert backend.runs(arn) == [{"work_order_id": "wo-2"}]


def test_resume_hands_the_output_to_the_wait_once(backend: Backend) -> None:
    workflow = backend.make(LONG)
    arn = workflow.start("wo-3", {"work_order_id": "wo-3"})
    token = backend.token(arn)

    assert workflow.resume(token, {"outcome": "accepted", "vendor_id": "v-1", "slots": [1, 2]}) is True

    assert backend.resumed_with(arn, token) == {"outcome": "accepted", "vendor_id": "v-1", "slots": [1, 2]}
    assert workflow.resume(token, {"outcome": "declined"}) is False  # the wait is over
    assert backend.resumed_with(arn, token) == {"outcome": "accepted", "vendor_id": "v-1", "slots": [1, 2]}


@pytest.mark.parametrize("outcome", sorted(DETOURS))
def test_a_detour_reaches_the_wait_with_its_whole_answer(backend: Backend, outcome: str) -> None:
    """Step Functions: the task fails with the error `Detour` and the answer as its cause (the ASL's Catch
    routes it), so the routine answers need no Choice state after each wait."""
    workflow = backend.make(LONG)
    arn = workflow.start(f"wo-detour-{outcome}", {})
    token = backend.token(arn)
    answer = {"outcome": outcome, "triage": {"trade": "plumbing", "timeouts": {"offer": 60}}}

    assert workflow.resume(token, answer) is True

    assert backend.resumed_with(arn, token) == answer
    assert workflow.resume(token, {"outcome": "accepted"}) is False  # the wait is over


def test_resume_of_a_token_nobody_handed_out_is_false(backend: Backend) -> None:
    workflow = backend.make(LONG)
    workflow.start("wo-4", {})

    assert workflow.resume("AAAAKgAAAAIAAAAAAAAAAf-not-a-token", {"outcome": "accepted"}) is False


def test_resume_after_the_step_timed_out_is_false(backend: Backend) -> None:
    workflow = backend.make(1)
    arn = workflow.start("wo-5", {"work_order_id": "wo-5"})
    token = backend.token(arn)

    backend.time_out(arn, token)

    assert workflow.resume(token, {"outcome": "accepted"}) is False
    assert backend.resumed_with(arn, token) is None


def test_stop_ends_the_run_and_its_wait(backend: Backend) -> None:
    workflow = backend.make(LONG)
    arn = workflow.start("wo-6", {"work_order_id": "wo-6"})
    token = backend.token(arn)
    other = workflow.start("wo-7", {"work_order_id": "wo-7"})

    workflow.stop(arn, "cancelled: " + "tenant moved out " * 30)  # a cause longer than Step Functions keeps

    assert backend.stopped(arn) and not backend.stopped(other)
    assert workflow.resume(token, {"outcome": "accepted"}) is False
    assert workflow.resume(backend.token(other), {"outcome": "accepted"}) is True


def test_stop_of_a_run_that_is_over_stopped_or_never_started_is_harmless(backend: Backend) -> None:
    workflow = backend.make(LONG)
    done = workflow.start("wo-8", {})
    token = backend.token(done)
    workflow.resume(token, {"outcome": "accepted"})
    backend.resumed_with(done, token)
    stopped = workflow.start("wo-9", {})
    backend.token(stopped)
    workflow.stop(stopped, "cancelled")

    workflow.stop(done, "cancelled")
    workflow.stop(stopped, "cancelled again")
    workflow.stop(workflow.execution_arn("never-started"), "cancelled")

    assert backend.stopped(stopped) and not backend.stopped(workflow.execution_arn("never-started"))
    assert backend.runs(workflow.execution_arn("never-started")) == []


def test_stop_of_something_that_is_no_execution_arn_fails(backend: Backend) -> None:
    workflow = backend.make(LONG)

    with pytest.raises(Exception) as refused:
        workflow.stop("wo-10", "cancelled")

    assert error_code(refused.value) == "InvalidArn"


def test_a_payload_or_output_json_cannot_hold_fails_before_anything_is_sent(backend: Backend) -> None:
    workflow = backend.make(LONG)
    at = datetime(2026, 6, 10, 14, 30, tzinfo=UTC)

    with pytest.raises(TypeError):
        workflow.start("wo-11", {"at": at})
    assert backend.runs(workflow.execution_arn("wo-11")) == []

    arn = workflow.start("wo-11", {"at": at.isoformat()})
    with pytest.raises(TypeError):
        workflow.start("wo-11", {"at": at})  # even when the run exists
    token = backend.token(arn)
    with pytest.raises(TypeError):
        workflow.resume(token, {"at": at})
    assert workflow.resume(token, {"at": at.isoformat()}) is True  # the wait was still live
    assert backend.resumed_with(arn, token) == {"at": at.isoformat()}
