"""Patch: Step Functions ``Wait`` states and task timeouts on the local clock.

Moto gap closed: moto's interpreter measures ``Wait`` states (``Seconds``, ``SecondsPath``,
``Timestamp``, ``TimestampPath``), a task's ``TimeoutSeconds``/``TimeoutSecondsPath`` and a
``.waitForTaskToken`` task's ``HeartbeatSeconds`` on real time (``Event.wait(seconds)``). Here they
are measured on the local clock of the execution's account/region
(:class:`~infra.localcloud.patches.scheduler_clock.LocalClock`, the one that fires EventBridge
Scheduler schedules): in real time (``make local``) nothing changes; on a frozen clock a wait ends
only when the clock is advanced past its deadline, and then at once. A task that times out fails
with ``States.Timeout`` exactly as before (moto maps its timeout errors to it), so ``Retry`` and
``Catch`` on ``States.Timeout`` behave as on AWS.

Where no local clock exists for the account/region (moto used without :class:`LocalCloud`), the
waits are moto's own.

Not on the clock: ``Retry`` intervals (``IntervalSeconds``; real seconds, short in this project),
execution-level ``TimeoutSeconds``, activity tasks (not used here).
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, timedelta
from typing import Any

from infra.localcloud.patches import scheduler_clock

_applied = False
_lock = threading.Lock()
_bound = threading.local()  # .clock: the clock of the execution a thread is evaluating a state of


def clock_of(env: Any) -> scheduler_clock.LocalClock | None:
    """The local clock of the execution an evaluation environment belongs to (None: there is none)."""
    try:
        arn = str(env.states.context_object.context_object_data["Execution"]["Id"])
    except (AttributeError, KeyError, TypeError):
        return None
    parts = arn.split(":")  # arn:aws:states:<region>:<account>:execution:<machine>:<name>
    if len(parts) < 5:
        return None
    return scheduler_clock.clock_for(parts[4], parts[3], create=False)


class _ClockEvent(threading.Event):
    """An event whose ``wait(seconds)`` counts the seconds on a local clock."""

    def __init__(self, clock: scheduler_clock.LocalClock) -> None:
        super().__init__()
        self._clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None:
            return super().wait()
        return self._clock.sleep(self, timeout)


class _ThreadingForStateTimeouts:
    """Stands in for ``threading`` in moto's ``execute_state`` module, whose only use of it is the
    event a state's ``TimeoutSeconds`` waits on: that event counts on the clock bound to the thread."""

    @staticmethod
    def Event() -> threading.Event:
        clock = getattr(_bound, "clock", None)
        return threading.Event() if clock is None else _ClockEvent(clock)


def _wait_for_heartbeats(clock: scheduler_clock.LocalClock, env: Any, callback_endpoint: Any,
                         heartbeat_endpoint: Any) -> Any:
    """moto's ``_wait_for_task_token_heartbeat`` with ``HeartbeatEndpoint.clear_and_wait`` on the clock."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimedOut

    beat: threading.Event = heartbeat_endpoint._next_heartbeat_event
    outcome = None
    while env.is_running() and outcome is None:
        with heartbeat_endpoint._mutex:
            received = beat.is_set()
            if received:
                beat.clear()
        if not received:
            received = clock.sleep(beat, heartbeat_endpoint._heartbeat_seconds)
        outcome = HeartbeatTimedOut() if not received and env.is_running() else callback_endpoint.get_outcome()
    return outcome


def apply() -> None:
    """Put the interpreter's waits on the local clock (idempotent; before the busy-tracking wraps)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
        from moto.stepfunctions.parser.asl.component.state.exec import execute_state
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_callback as callback_mod,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp, wait_function
        from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeTimedOut

        original_wait_interval = wait_function.WaitFunction._wait_interval

        def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
            clock = clock_of(env)
            if clock is None:
                return original_wait_interval(self, env, wait_seconds)
            deadline = clock.now() + timedelta(seconds=wait_seconds)
            # Ends at the deadline, or when the execution stops (set_stop/set_ended set the event).
            clock.sleep_until(deadline, env.program_state_event, lambda: not env.is_running())
            return None

        original_timestamp_seconds = timestamp.Timestamp._get_wait_seconds

        def timestamp_wait_seconds(self: Any, env: Any) -> int:
            clock = clock_of(env)
            if clock is None:
                return original_timestamp_seconds(self, env)
            self.string.eval(env=env)
            text = env.stack.pop()
            moment = self._from_timestamp_string(timestamp=text)
            if moment is None:
                raise FailureEventException(self._create_failure_event(env, text))
            # moto compares with naive *local* time; the Timestamp is UTC. Round up: never end early.
            return max(0, math.ceil((moment.replace(tzinfo=UTC) - clock.now()).total_seconds()))

        original_wait_for_task_token = callback_mod.StateTaskServiceCallback._eval_wait_for_task_token

        def wait_for_task_token(self: Any, env: Any, timeout_seconds: int, callback_endpoint: Any,
                                heartbeat_endpoint: Any) -> Any:
            clock = clock_of(env)
            if clock is None:
                return original_wait_for_task_token(self, env, timeout_seconds, callback_endpoint,
                                                    heartbeat_endpoint)
            if heartbeat_endpoint is not None:
                outcome = _wait_for_heartbeats(clock, env, callback_endpoint, heartbeat_endpoint)
            else:
                clock.sleep(callback_endpoint._notify_event, timeout_seconds)
                outcome = callback_endpoint.get_outcome()
            return CallbackOutcomeTimedOut(callback_id=callback_endpoint.callback_id) if outcome is None else outcome

        original_evaluate_with_timeout = execute_state.ExecutionState._evaluate_with_timeout

        def evaluate_with_timeout(self: Any, env: Any) -> None:
            previous = getattr(_bound, "clock", None)
            _bound.clock = clock_of(env)
            try:
                return original_evaluate_with_timeout(self, env)
            finally:
                _bound.clock = previous

        wait_function.WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
        timestamp.Timestamp._get_wait_seconds = timestamp_wait_seconds  # type: ignore[method-assign]
        callback_mod.StateTaskServiceCallback._eval_wait_for_task_token = wait_for_task_token  # type: ignore[method-assign]
        execute_state.ExecutionState._evaluate_with_timeout = evaluate_with_timeout  # type: ignore[method-assign]
        execute_state.threading = _ThreadingForStateTimeouts  # type: ignore[assignment]
        _applied = True

