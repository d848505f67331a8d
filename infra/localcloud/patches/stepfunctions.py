"""Patch: Step Functions executions that behave like AWS's and can be watched for idleness.

Moto gaps closed (on top of ``{"stepfunctions": {"execute_state_machine": True}}``, which the
local cloud turns on for both in-process and server mode):

* An unnamed ``StartExecution`` gets the name ``None`` (ARN ``...:None``) in moto; on AWS it gets a
  UUID. Here it gets a UUID.
* ``StopExecution`` right after ``StartExecution`` crashes (``'NoneType' object has no attribute
  'set_stop'``): the worker thread has not built its environment yet. Stop now waits (briefly)
  for it. And a stopped execution that waits on a task token stays RUNNING until the token's
  timeout (days, in this project): on AWS ``StopExecution`` aborts at once. Stop now marks it
  ABORTED and wakes its callback waits (the interpreter's loops check ``is_running`` and end).
* Nothing tells whether an execution is doing work or only waiting for a person (a task token)
  or a ``Wait`` state. The task-token wait and the wait interval are wrapped to record waiting
  executions, so :func:`busy_executions` lists those in a running, non-waiting step;
  ``LocalCloud.wait_idle`` uses it.
* ``SendTaskFailure`` drops its ``cause`` (the waiting task fails with a null cause; on AWS the cause goes
  with the error to the state's ``Catch``), and it "succeeds" with the token of a run that has ended (it
  looks in every execution; ``SendTaskSuccess`` only in running ones, as AWS). The cause now goes through,
  and a failure of a finished wait is refused like a success.

Creating machines from CloudFormation (with ``DefinitionSubstitutions``) is a CFN model, see
:mod:`infra.localcloud.cfn`.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections import Counter
from typing import Any

_applied = False
_lock = threading.Lock()
_waiting_lock = threading.Lock()
_waiting: Counter[str] = Counter()  # execution ARN -> waits in progress (task token / Wait state)
_depth = threading.local()  # per thread: wait nesting depth (the wait interval re-enters itself)


def _execution_of(env: Any) -> str:
    """The ARN of the execution an evaluation environment belongs to ("" if unknown).

    Waits run on the state's own worker thread, not the execution thread, so it comes from the
    context object rather than a thread-local."""
    try:
        return str(env.states.context_object.context_object_data["Execution"]["Id"])
    except (AttributeError, KeyError, TypeError):
        return ""


def busy_executions(account_id: str, region: str, machine_arns: set[str] | None = None) -> list[str]:
    """ARNs of RUNNING executions (of the given machines) that are not waiting on a task token or
    in a Wait state, i.e. evaluating a step. RUNNING is set before the worker thread starts, so
    there is no gap right after StartExecution."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[account_id][region]
    with _waiting_lock:
        waiting = set(_waiting)
    return [
        execution.execution_arn
        for machine in list(backend.state_machines)
        if machine_arns is None or machine.arn in machine_arns
        for execution in list(machine.executions)
        if execution.status == ExecutionStatus.RUNNING and execution.execution_arn not in waiting
    ]


def apply() -> None:
    """Wrap start/stop of executions and the waits (for busy tracking); idempotent."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_callback as callback_mod,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
        from moto.stepfunctions.parser.backend import execution_worker
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        original_start = StepFunctionsParserBackend.start_execution

        def start_execution(
            self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None, trace_header: Any = None
        ) -> Any:
            return original_start(
                self, state_machine_arn, name=name or str(uuid.uuid4()),
                execution_input=execution_input, trace_header=trace_header,
            )

        def waiting(original: Any) -> Any:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                depth = getattr(_depth, "value", 0)
                _depth.value = depth + 1
                env = kwargs.get("env", args[1] if len(args) > 1 else None)
                execution_arn = _execution_of(env) if depth == 0 else ""
                if execution_arn:
                    with _waiting_lock:
                        _waiting[execution_arn] += 1
                try:
                    return original(*args, **kwargs)
                finally:
                    _depth.value = depth
                    if execution_arn:
                        with _waiting_lock:
                            _waiting[execution_arn] -= 1
                            if _waiting[execution_arn] <= 0:
                                del _waiting[execution_arn]

            wrapper.__wrapped__ = original  # type: ignore[attr-defined]
            return wrapper

        original_stop = execution_worker.ExecutionWorker.stop

        def stop(self: Any, stop_date: Any, error: Any, cause: Any) -> None:
            deadline = time.monotonic() + 2.0
            while getattr(self, "env", None) is None and time.monotonic() < deadline:
                time.sleep(0.005)
            original_stop(self, stop_date, error, cause)

        from moto.stepfunctions.parser.api import ExecutionStatus
        from moto.stepfunctions.parser.backend.execution import Execution

        original_execution_stop = Execution.stop

        def stop_execution(self: Any, stop_date: Any, error: Any, cause: Any) -> None:
            original_execution_stop(self, stop_date, error, cause)
            self.localcloud_stopped = True
            if self.exec_status == ExecutionStatus.RUNNING:
                self.exec_status = ExecutionStatus.ABORTED
                self.stop_date = datetime.datetime.now(tz=datetime.UTC)
            env = getattr(self.exec_worker, "env", None)
            if env is not None:
                for endpoint in list(env.callback_pool_manager._pool.values()):
                    endpoint.interrupt_all()

        from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

        original_terminated = BaseExecutionWorkerCommunication.terminated

        def terminated(self: Any) -> None:
            stop_date = self.execution.stop_date
            original_terminated(self)
            if getattr(self.execution, "localcloud_stopped", False):
                # The woken wait surfaces as an error inside the stopped program; it was a stop.
                self.execution.exec_status = ExecutionStatus.ABORTED
                self.execution.stop_date = stop_date or self.execution.stop_date
                self.execution.error = self.execution.cause = None

        original_get_executions = StepFunctionsParserBackend._get_executions

        def ready_executions(self: Any, execution_status: Any = None) -> list[Any]:
            # Callers (task callbacks, map runs) read each execution's environment; an execution started
            # a moment ago has none yet (its worker thread is starting) and cannot hold the token anyway.
            return [e for e in original_get_executions(self, execution_status)
                    if getattr(getattr(e, "exec_worker", None), "env", None) is not None]

        from moto.stepfunctions.responses import StepFunctionResponse

        def send_task_failure(self: Any) -> Any:
            from moto.core.responses import EmptyResult

            self.stepfunction_backend.send_task_failure(
                self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause"))
            return EmptyResult()

        def send_task_failure_of_running(self: Any, task_token: Any, error: Any = None, cause: Any = None) -> Any:
            """moto's own, over running executions only (as its send_task_success)."""
            from moto.stepfunctions.parser.api import (
                InvalidToken,
                SendTaskFailureOutput,
                TaskDoesNotExist,
                TaskTimedOut,
            )
            from moto.stepfunctions.parser.asl.eval.callback.callback import (
                CallbackConsumerTimeout,
                CallbackNotifyConsumerError,
                CallbackOutcomeFailure,
            )

            outcome = CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause)
            for execution in self._get_executions(ExecutionStatus.RUNNING):
                try:
                    if execution.exec_worker.env.callback_pool_manager.notify(callback_id=task_token,
                                                                              outcome=outcome):
                        return SendTaskFailureOutput()
                except CallbackNotifyConsumerError as consumer_error:
                    if isinstance(consumer_error, CallbackConsumerTimeout):
                        raise TaskTimedOut() from consumer_error
                    raise TaskDoesNotExist() from consumer_error
            raise InvalidToken()

        StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]
        StepFunctionsParserBackend.send_task_failure = send_task_failure_of_running  # type: ignore[method-assign]
        StepFunctionsParserBackend._get_executions = ready_executions  # type: ignore[method-assign]
        execution_worker.ExecutionWorker.stop = stop  # type: ignore[method-assign]
        Execution.stop = stop_execution  # type: ignore[method-assign]
        BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]
        StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
        callback_mod.StateTaskServiceCallback._eval_wait_for_task_token = waiting(  # type: ignore[method-assign]
            callback_mod.StateTaskServiceCallback._eval_wait_for_task_token
        )
        wait_function.WaitFunction._wait_interval = waiting(  # type: ignore[method-assign]
            wait_function.WaitFunction._wait_interval
        )
        _applied = True
