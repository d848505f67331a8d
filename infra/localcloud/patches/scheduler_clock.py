"""Patch + pump: a local clock that fires EventBridge Scheduler schedules.

Moto gap closed: moto's Scheduler backend stores schedules but never invokes a target. The local
clock (one per account/region, like moto's backends) keeps, for each schedule, the next time it is
due (see :mod:`infra.localcloud.schedules` for the expressions) and fires it: Lambda targets get
an asynchronous invoke with the target ``Input`` as the event, SQS targets a message with the Input
as body (``SqsParameters.MessageGroupId`` for FIFO queues), Step Functions targets a
``StartExecution`` with the Input. Scheduler's context attributes (``<aws.scheduler.schedule-arn>``,
``<aws.scheduler.scheduled-time>``, ``<aws.scheduler.execution-id>``,
``<aws.scheduler.attempt-number>``) are replaced in the Input, as Scheduler does; nothing else is
changed. ``State`` DISABLED schedules do not fire; ``StartDate``/``EndDate`` bound recurring ones;
``ActionAfterCompletion: DELETE`` deletes a schedule after its last firing.

Time: the clock runs in real time (a background thread sleeping on a condition until the next due
time, at most :data:`IDLE_SECONDS`), or is *frozen*: then only :meth:`LocalClock.advance` moves it,
firing what became due in order, each at its scheduled time. :meth:`LocalClock.fire` fires one
schedule now (or for a given scheduled time) without touching its next due time, so the same
scheduled time can be delivered twice on purpose. Every firing is appended to
:attr:`LocalClock.history`.

Step Functions measures its ``Wait`` states and task timeouts/heartbeats on the same clock (see
:mod:`infra.localcloud.patches.sfn_clock`): a waiting thread sleeps with :meth:`LocalClock.sleep_until`
and wakes when its deadline passes on this clock, however the clock got there (real time, an
advance). :meth:`LocalClock.wakeups` lists their deadlines.

The patch on ``create_schedule``/``update_schedule``/``delete_schedule`` records when a schedule was
created on the local clock (a rate schedule without ``StartDate`` fires at once, then every
period) and wakes the clock.

Not emulated: retries (``RetryPolicy``) and ``DeadLetterConfig`` (a failed firing is logged and
recorded with its error), flexible windows (a FLEXIBLE schedule fires at the start of its window,
which AWS may also do), universal ``aws-sdk`` targets and targets other than Lambda, SQS and
Step Functions (rejected at deploy), KMS encryption of the Input.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from infra.localcloud import schedules

if TYPE_CHECKING:
    from infra.localcloud.cloud import LocalCloud

log = logging.getLogger("infra.localcloud.scheduler")

SETTLE_SECONDS = 5.0
"""How long an advance waits (real time) for the waits it ended to return."""

IDLE_SECONDS = 1.0
"""Longest sleep of the real-time clock with nothing due (new schedules wake it at once)."""

_applied = False
_lock = threading.Lock()
_clocks: dict[tuple[str, str], LocalClock] = {}
_created: dict[tuple[str, str, str], datetime] = {}  # (account, region, schedule arn) -> local-clock time


class UnsupportedScheduleTarget(ValueError):
    """A schedule the local clock cannot fire as written (raised when it is deployed)."""


def target_kind(arn: str) -> str:
    """``lambda``, ``sqs`` or ``states`` for a supported target ARN; raises otherwise."""
    parts = arn.split(":")
    if arn.startswith("arn:") and len(parts) >= 4 and parts[2] == "scheduler" and "aws-sdk" in arn:
        raise UnsupportedScheduleTarget(
            f"universal target {arn!r} is not emulated (use a Lambda, SQS or Step Functions ARN)"
        )
    if len(parts) >= 6 and parts[0] == "arn":
        service = parts[2]
        if service == "lambda" and parts[5] == "function":
            return "lambda"
        if service == "sqs":
            return "sqs"
        if service == "states" and parts[5] == "stateMachine":
            return "states"
    raise UnsupportedScheduleTarget(
        f"target {arn!r} is not emulated (supported: Lambda function, SQS queue, Step Functions state machine)"
    )


def validate_schedule(props: dict[str, Any]) -> None:
    """Fail loudly at deploy time for what the local clock would not fire as AWS does."""
    schedules.parse(str(props.get("ScheduleExpression", "")), props.get("ScheduleExpressionTimezone"))
    mode = (props.get("FlexibleTimeWindow") or {}).get("Mode", "OFF")
    if mode not in ("OFF", "FLEXIBLE"):
        raise UnsupportedScheduleTarget(f"FlexibleTimeWindow Mode {mode!r} is not OFF or FLEXIBLE")
    state = props.get("State", "ENABLED")
    if state not in ("ENABLED", "DISABLED"):
        raise UnsupportedScheduleTarget(f"State {state!r} is not ENABLED or DISABLED")
    schedules.parse_date(props.get("StartDate"))
    schedules.parse_date(props.get("EndDate"))
    target = props.get("Target") or {}
    if not target.get("Arn"):
        raise UnsupportedScheduleTarget("Target.Arn is required")
    target_kind(str(target["Arn"]))


@dataclass(frozen=True)
class Firing:
    """One invocation of a schedule's target."""

    schedule: str
    group: str
    arn: str
    scheduled_time: datetime
    target_arn: str
    input: str
    error: str | None = None


@dataclass
class _Entry:
    signature: tuple[Any, ...]
    anchor: datetime
    next_due: datetime | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_input(template: str | None, schedule_arn: str, scheduled_time: datetime) -> str:
    """The target Input with Scheduler's context attributes replaced (``{}`` when there is none)."""
    text = "{}" if template is None else template
    for key, value in (
        ("<aws.scheduler.schedule-arn>", schedule_arn),
        ("<aws.scheduler.scheduled-time>", _iso(scheduled_time)),
        ("<aws.scheduler.execution-id>", uuid.uuid4().hex[:16]),
        ("<aws.scheduler.attempt-number>", "1"),
    ):
        text = text.replace(key, value)
    return text


def _deliver(target: dict[str, Any], body: str) -> None:
    arn = str(target["Arn"])
    kind = target_kind(arn)
    parts = arn.split(":")
    region, account = parts[3], parts[4]
    if kind == "lambda":
        from moto.awslambda.utils import get_backend

        get_backend(account, region).invoke(arn, None, body, {"x-amz-invocation-type": "Event"}, {})
    elif kind == "sqs":
        from moto.sqs.models import sqs_backends

        group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
        sqs_backends[account][region].send_message(parts[5], body, group_id=group_id)
    else:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        stepfunctions_parser_backends[account][region].start_execution(
            arn, name=str(uuid.uuid4()), execution_input=body
        )


class LocalClock:
    """The Scheduler's clock for one account/region; also the ``scheduler`` pump."""

    name = "scheduler"

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.history: list[Firing] = []
        self._cond = threading.Condition()
        self._fire_lock = threading.RLock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        self._entries: dict[str, _Entry] = {}
        self._firing = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        # Threads sleeping on this clock: id -> (deadline, the condition their wake-up event notifies).
        self._sleepers: dict[int, tuple[datetime, threading.Condition]] = {}
        self._sleeper_ids = itertools.count()

    # -- time ------------------------------------------------------------------------------
    def now(self) -> datetime:
        with self._cond:
            if self._frozen_at is not None:
                return self._frozen_at
            return datetime.now(UTC) + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: datetime | None = None) -> None:
        """Stop real-time firing; the clock stays at ``at`` (default: now) until advanced."""
        moment = at if at is not None else self.now()
        with self._cond:
            self._frozen_at = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            self._cond.notify_all()
        self._wake_sleepers()

    def unfreeze(self) -> None:
        """Run in real time again, continuing from the frozen time."""
        with self._cond:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - datetime.now(UTC)
                self._frozen_at = None
            self._cond.notify_all()
        self._wake_sleepers()

    def _set_frozen_time(self, moment: datetime) -> None:
        with self._cond:
            if self._frozen_at is not None and moment > self._frozen_at:
                self._frozen_at = moment

    def changed(self) -> None:
        """Something about the schedules changed: look again."""
        with self._cond:
            self._cond.notify_all()

    # -- schedules -------------------------------------------------------------------------
    def _schedules(self) -> list[Any]:
        from moto.scheduler.models import scheduler_backends

        backend = scheduler_backends[self.account_id][self.region]
        return [s for group in list(backend.schedule_groups.values()) for s in list(group.schedules.values())]

    def find(self, name_or_arn: str, group: str | None = None) -> Any:
        matches = [
            s for s in self._schedules()
            if name_or_arn in (s.arn, s.name) and (group is None or s.group_name == group)
        ]
        if not matches:
            raise LookupError(f"no schedule {name_or_arn!r} in {self.account_id}/{self.region}")
        if len(matches) > 1:
            raise LookupError(f"schedule name {name_or_arn!r} is in several groups: pass group=")
        return matches[0]

    def _first_due(self, schedule: Any, expression: schedules.Expression, anchor: datetime,
                   after: datetime) -> datetime | None:
        if isinstance(expression, schedules.At):
            return expression.first_at_or_after(after, anchor)
        start = schedules.parse_date(schedule.start_date)
        end = schedules.parse_date(schedule.end_date)
        due = expression.first_at_or_after(max(after, start) if start else after, anchor)
        if due is not None and end is not None and due >= end:
            return None
        return due

    def _sync(self) -> None:
        """Register new schedules and recompute changed ones (call with the fire lock held)."""
        now = self.now()
        seen = set()
        for schedule in self._schedules():
            seen.add(schedule.arn)
            signature = (schedule.schedule_expression, schedule.schedule_expression_timezone,
                         schedule.start_date, schedule.end_date, schedule.state)
            entry = self._entries.get(schedule.arn)
            if entry is not None and entry.signature == signature:
                continue
            try:
                expression = schedules.parse(schedule.schedule_expression, schedule.schedule_expression_timezone)
            except schedules.UnsupportedSchedule as exc:
                log.warning("schedule %s is not run by the local clock: %s", schedule.name, exc)
                self._entries[schedule.arn] = _Entry(signature, now, None)
                continue
            created = _created.get((self.account_id, self.region, schedule.arn), now)
            start = schedules.parse_date(schedule.start_date)
            anchor = entry.anchor if entry is not None else created
            if isinstance(expression, schedules.Rate) and start is not None:
                anchor = start
            after = max(now, created) if entry is not None else created
            due = self._first_due(schedule, expression, anchor, after) if schedule.state == "ENABLED" else None
            self._entries[schedule.arn] = _Entry(signature, anchor, due)
        for arn in set(self._entries) - seen:
            del self._entries[arn]

    def next_due(self, name_or_arn: str) -> datetime | None:
        """When the schedule fires next on this clock (None: never again)."""
        with self._fire_lock:
            self._sync()
            entry = self._entries.get(self.find(name_or_arn).arn)
            return entry.next_due if entry else None

    # -- firing ----------------------------------------------------------------------------
    def fire(self, name_or_arn: str, scheduled_time: datetime | None = None, group: str | None = None) -> Firing:
        """Fire one schedule now (or for ``scheduled_time``), whatever its state and due time."""
        schedule = self.find(name_or_arn, group)
        when = scheduled_time or self.now()
        return self._fire(schedule, when if when.tzinfo else when.replace(tzinfo=UTC))

    def _fire(self, schedule: Any, scheduled_time: datetime) -> Firing:
        target = dict(schedule.target or {})
        body = render_input(target.get("Input"), schedule.arn, scheduled_time)
        error = None
        with self._cond:
            self._firing += 1
        try:
            _deliver(target, body)
        except Exception as exc:  # recorded; retries and DLQs are not emulated
            error = f"{type(exc).__name__}: {exc}"
            log.warning("schedule %s: delivery to %s failed: %s", schedule.name, target.get("Arn"), error)
        finally:
            with self._cond:
                self._firing -= 1
        firing = Firing(schedule.name, schedule.group_name, schedule.arn, scheduled_time,
                        str(target.get("Arn", "")), body, error)
        self.history.append(firing)
        return firing

    def _fire_due(self, until: datetime, move_frozen_time: bool) -> list[Firing]:
        """Fire everything due at or before ``until``, earliest first."""
        fired: list[Firing] = []
        with self._fire_lock:
            while True:
                self._sync()
                due = [(e.next_due, arn) for arn, e in self._entries.items()
                       if e.next_due is not None and e.next_due <= until]
                if not due:
                    return fired
                when, arn = min(due)
                schedule = next((s for s in self._schedules() if s.arn == arn), None)
                entry = self._entries[arn]
                if schedule is None:
                    continue
                if move_frozen_time:
                    self._set_frozen_time(when)
                fired.append(self._fire(schedule, when))
                expression = schedules.parse(schedule.schedule_expression, schedule.schedule_expression_timezone)
                entry.next_due = self._first_due(schedule, expression, entry.anchor, when + timedelta(seconds=1))
                if entry.next_due is None and schedule.action_after_completion == "DELETE":
                    from moto.scheduler.models import scheduler_backends

                    scheduler_backends[self.account_id][self.region].delete_schedule(
                        schedule.group_name, schedule.name
                    )

    def advance(self, seconds: float) -> list[Firing]:
        """Move the clock forward: fire the schedules that became due, in order, and end the
        Step Functions waits that became due (returns once they have returned); returns the firings.

        One step: schedules fire at their own times, but every wait due in the interval ends now,
        and a wait that starts because of it is measured from the new time (advance again for it).
        A clock that moves in real time keeps doing so, from the new time."""
        with self._fire_lock:
            target = self.now() + timedelta(seconds=seconds)
            if self.frozen:
                fired = self._fire_due(target, move_frozen_time=True)
                self._set_frozen_time(target)
            else:
                with self._cond:
                    self._offset += timedelta(seconds=seconds)
                fired = self._fire_due(target, move_frozen_time=False)
        self.changed()
        self._wake_sleepers()
        self._settle_sleepers()
        return fired

    # -- sleeping on the clock (Step Functions waits) --------------------------------------
    def sleep_until(self, deadline: datetime, wake: threading.Event, done: Callable[[], bool]) -> bool:
        """Block until ``done()`` (returns True) or this clock reaches ``deadline`` (returns False).

        ``wake`` is the event whose ``set()`` is what makes ``done()`` true. The sleeper waits on that
        event's condition (CPython's ``Event`` notifies ``_cond`` in ``set()``), so a ``set()`` and a
        move of this clock both wake it; checking ``done()`` under that condition means no ``set()``
        is missed. Frozen, nothing else wakes it; in real time, the deadline passing does. A stopped
        clock no longer moves: its sleepers then wait in real time."""
        condition: threading.Condition = wake._cond  # type: ignore[attr-defined]
        key = next(self._sleeper_ids)
        with self._cond:
            self._sleepers[key] = (deadline, condition)
        try:
            with condition:
                while not done():
                    remaining = (deadline - self.now()).total_seconds()
                    if remaining <= 0:
                        return False
                    condition.wait(None if self.frozen and not self._stopping else remaining)
                return True
        finally:
            with self._cond:
                del self._sleepers[key]
                self._cond.notify_all()

    def sleep(self, wake: threading.Event, seconds: float) -> bool:
        """``wake.wait(seconds)`` with the seconds measured on this clock."""
        return self.sleep_until(self.now() + timedelta(seconds=seconds), wake, wake.is_set)

    def wakeups(self) -> list[datetime]:
        """The deadlines of the threads sleeping on this clock, earliest first."""
        with self._cond:
            return sorted(deadline for deadline, _ in self._sleepers.values())

    def _wake_sleepers(self) -> None:
        with self._cond:
            conditions = [condition for _, condition in self._sleepers.values()]
        for condition in conditions:
            with condition:
                condition.notify_all()

    def _settle_sleepers(self) -> None:
        """Wait (briefly, in real time) until no sleeper's deadline has passed: the waits that
        became due have returned, so what they lead to is running when an advance returns."""
        limit = time.monotonic() + SETTLE_SECONDS
        with self._cond:
            while any(deadline <= self.now() for deadline, _ in self._sleepers.values()):
                left = limit - time.monotonic()
                if left <= 0:
                    log.warning("waits due on the local clock did not return within %.0fs", SETTLE_SECONDS)
                    return
                self._cond.wait(min(left, 0.05))

    # -- pump protocol ---------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="localcloud-scheduler-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._wake_sleepers()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with _lock:
            if _clocks.get((self.account_id, self.region)) is self:
                del _clocks[(self.account_id, self.region)]
                # Creation times belong to this clock's timeline; a later moto starts afresh.
                for key in [k for k in _created if k[:2] == (self.account_id, self.region)]:
                    del _created[key]

    def busy(self, owners: set[str] | None = None) -> bool:
        with self._cond:
            return self._firing > 0

    def _run(self) -> None:
        while True:
            timeout = IDLE_SECONDS
            with self._cond:
                if self._stopping:
                    return
                frozen = self._frozen_at is not None
            if not frozen:
                try:
                    self._fire_due(self.now(), move_frozen_time=False)
                    with self._fire_lock:
                        upcoming = [e.next_due for e in self._entries.values() if e.next_due is not None]
                    if upcoming:
                        wait = (min(upcoming) - self.now()).total_seconds()
                        timeout = min(IDLE_SECONDS, max(0.05, wait))
                except Exception:  # keep the clock running; a broken tick must not stop it
                    log.exception("scheduler clock tick failed")
            with self._cond:
                if not self._stopping:
                    self._cond.wait(timeout)


def clock_for(account_id: str, region: str, create: bool = True) -> LocalClock | None:
    """The clock of an account/region (made on first use when ``create``)."""
    with _lock:
        clock = _clocks.get((account_id, region))
        if clock is None and create:
            clock = _clocks[(account_id, region)] = LocalClock(account_id, region)
        return clock


def make_pump(cloud: LocalCloud) -> LocalClock:
    clock = clock_for(cloud.account_id, cloud.region)
    assert clock is not None
    frozen_at = getattr(cloud, "frozen_clock_at", None)
    if frozen_at is not None:
        clock.freeze(frozen_at)
    return clock


def apply() -> None:
    """Record creation times on the local clock and wake it on changes (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.scheduler.models import EventBridgeSchedulerBackend

        original_create = EventBridgeSchedulerBackend.create_schedule
        original_update = EventBridgeSchedulerBackend.update_schedule
        original_delete = EventBridgeSchedulerBackend.delete_schedule

        def create_schedule(self: Any, *args: Any, **kwargs: Any) -> Any:
            schedule = original_create(self, *args, **kwargs)
            clock = clock_for(self.account_id, self.region_name, create=False)
            if clock is not None:
                _created[(self.account_id, self.region_name, schedule.arn)] = clock.now()
                clock.changed()
            return schedule

        def update_schedule(self: Any, *args: Any, **kwargs: Any) -> Any:
            schedule = original_update(self, *args, **kwargs)
            clock = clock_for(self.account_id, self.region_name, create=False)
            if clock is not None:
                clock.changed()
            return schedule

        def delete_schedule(self: Any, group_name: str | None, name: str) -> None:
            original_delete(self, group_name, name)
            clock = clock_for(self.account_id, self.region_name, create=False)
            if clock is not None:
                clock.changed()

        EventBridgeSchedulerBackend.create_schedule = create_schedule  # type: ignore[method-assign]
        EventBridgeSchedulerBackend.update_schedule = update_schedule  # type: ignore[method-assign]
        EventBridgeSchedulerBackend.delete_schedule = delete_schedule  # type: ignore[method-assign]
        _applied = True

