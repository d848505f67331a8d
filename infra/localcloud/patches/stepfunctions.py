"""Patch: Step Functions executions that behave like AWS's and can be watched for idleness.

Moto gaps closed (on top of ``{"stepfunctions": {"execute_state_machine": True}}``, which the
local cloud turns on for both in-process and server mode):

* An unnamed ``StartExecution`` gets the name ``None`` (ARN ``...:None``) in moto; on AWS it gets a
  UUID. Here it gets a UUID.
* ``StopExecution`` right after ``StartExecution`` crashes (``'NoneType' object has no attribute
  'set_stop'``): the worker thread has not built its environment yet. Stop now waits (briefly)
  for it.
* Nothing tells whether an execution is doing work or only waiting for a person (a task token)
  or a ``Wait`` state. The worker, the task-token wait and the wait interval are wrapped so
  :func:`busy_executions` counts executions in a running, non-waiting step; ``LocalCloud.wait_idle``
  uses it.

Creating machines from CloudFormation (with ``DefinitionSubstitutions``) is a CFN model, see
:mod:`infra.localcloud.cfn`.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

_applied = False
_lock = threading.Lock()
_counter_lock = threading.Lock()
_busy = 0
_waits = threading.local()


def _adjust(delta: int) -> None:
    global _busy
    with _counter_lock:
        _busy += delta


def busy_executions() -> int:
    """Executions currently evaluating a step (not waiting on a token or a Wait state)."""
    with _counter_lock:
        return _busy


def apply() -> None:
    """Wrap start_execution naming and the execution worker / waits for busy tracking."""
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

        original_logic = execution_worker.ExecutionWorker._execution_logic

        def execution_logic(self: Any) -> None:
            _adjust(+1)
            try:
                original_logic(self)
            finally:
                _adjust(-1)

        def waiting(original: Any) -> Any:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                depth = getattr(_waits, "depth", 0)
                _waits.depth = depth + 1
                if depth == 0:  # the wait interval re-enters itself; count the outermost only
                    _adjust(-1)
                try:
                    return original(*args, **kwargs)
                finally:
                    _waits.depth = depth
                    if depth == 0:
                        _adjust(+1)

            wrapper.__wrapped__ = original  # type: ignore[attr-defined]
            return wrapper

        original_stop = execution_worker.ExecutionWorker.stop

        def stop(self: Any, stop_date: Any, error: Any, cause: Any) -> None:
            deadline = time.monotonic() + 2.0
            while getattr(self, "env", None) is None and time.monotonic() < deadline:
                time.sleep(0.005)
            original_stop(self, stop_date, error, cause)

        execution_worker.ExecutionWorker.stop = stop  # type: ignore[method-assign]
        StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
        execution_worker.ExecutionWorker._execution_logic = execution_logic  # type: ignore[method-assign]
        callback_mod.StateTaskServiceCallback._eval_wait_for_task_token = waiting(  # type: ignore[method-assign]
            callback_mod.StateTaskServiceCallback._eval_wait_for_task_token
        )
        wait_function.WaitFunction._wait_interval = waiting(  # type: ignore[method-assign]
            wait_function.WaitFunction._wait_interval
        )
        _applied = True
