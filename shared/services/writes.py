"""The write core every use case shares: one optimistic, versioned change of a work order, its timeline
entries, the event that announces it, and the link checks that authorise a tenant's or a vendor's write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from shared.domain import links
from shared.domain.errors import ConcurrentUpdate, InvalidTransition, LinkRejected
from shared.domain.workorder import Status, TimelineEntry, WorkOrder, vendor_actions
from shared.observability import alarm_count, count, stage_metric
from shared.services.container import Services

T = TypeVar("T")

# Events an ops alarm watches (template.yaml): also counted once per deployment (observability.alarm_count).
ALARMED_EVENTS = frozenset({"WorkOrderEscalated", "OnCallExhausted"})


class Edit(NamedTuple, Generic[T]):
    """What a change function returns when there is something to do: the new state, the timeline entries
    that explain it, and anything the caller wants to know about the decision (`result`)."""

    after: WorkOrder
    entries: list[TimelineEntry]
    result: T | None = None


@dataclass(frozen=True)
class Change(Generic[T]):
    """What `mutate` did. `before` is the state the change was decided on; `after` the saved state, None
    when the change function said there was nothing to do (then `result` is None too)."""

    before: WorkOrder
    after: WorkOrder | None
    result: T | None = None

    @property
    def saved(self) -> WorkOrder:
        """`after`, for a change function that refuses by raising and never returns None."""
        if self.after is None:
            raise AssertionError("the change function had nothing to do: nothing was saved")
        return self.after


ChangeFunction = Callable[[WorkOrder], Edit[T] | None]


def mutate(svc: Services, wo_id: str, change: ChangeFunction[T], attempts: int = 4,
           loaded: WorkOrder | None = None) -> Change[T]:
    """Load, apply `change` (which may refuse with InvalidTransition or return None: nothing to do), save
    with a version check. On a concurrent update the change is decided again on the fresh state, so it
    must not act outside the work order (it is a pure decision; side effects follow the returned Change).
    `loaded`: the work order as the caller just read it (consistently, without its timeline): the first attempt
    decides on it instead of reading it again; the version check refuses it if it changed since, and the next
    attempt reads the fresh state."""
    for attempt in range(attempts):
        before = loaded if attempt == 0 and loaded is not None else svc.repo.get_work_order(wo_id)
        edit = change(before)
        if edit is None:
            return Change(before, None)
        now = svc.clock()
        moved = edit.after.status != before.status
        try:
            saved = svc.repo.save(edit.after.model_copy(update={"updated_at": now, **(
                {"status_since": now} if moved else {})}), before.version, edit.entries)
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
            continue
        if moved:
            _stage_left(before, saved)
        return Change(before, saved, edit.result)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _stage_left(before: WorkOrder, after: WorkOrder) -> None:
    """`StageSeconds`: how long the work order sat in the status it just left, by that status and priority.
    Once per transition (a replayed change finds the status already moved and saves nothing); never for
    drill work; skipped when the start is unknown (an order stored before `status_since` existed)."""
    since = before.status_since or (before.created_at if before.status == Status.RECEIVED else None)
    if after.drill or since is None or after.status_since is None:
        return
    priority = after.priority or before.priority
    stage_metric("StageSeconds", round((after.status_since - since).total_seconds(), 3), "Seconds",
                 details={"work_order_id": after.id}, Status=before.status.value,
                 Priority=priority.value if priority else "unknown")


def entry(svc: Services, event: str, detail: str = "", actor: str = "system") -> TimelineEntry:
    """A timeline entry stamped with the services' clock."""
    return TimelineEntry(at=svc.clock(), event=event, detail=detail, actor=actor)


def publish(svc: Services, detail_type: str, wo: WorkOrder, key: str, **extra: Any) -> None:
    """Announce a change on the bus. `key` makes the event's `event_key` (consumers dedupe on it)."""
    drill = {"drill": True} if wo.drill else {}  # consumers and KPIs tell drill work from real work
    svc.events.publish(detail_type, {"work_order_id": wo.id, "status": wo.status.value,
                                     "event_key": f"{wo.id}:{key}", **drill, **extra})
    if wo.drill:  # the drill's own metrics are DrillFailed and its step timings (functions/drill.py)
        return
    count(detail_type)
    if detail_type in ALARMED_EVENTS:
        alarm_count(detail_type)


# ---------------------------------------------------------------- who may write (their link)
def vendor_scope(svc: Services, token: str, action: str) -> links.LinkScope:
    """The vendor link's scope if it allows `action` (else LinkRejected)."""
    scope = svc.link_tokens().verify(token)
    links.require(scope, None, "vendor", action)
    return scope


VendorChangeFunction = Callable[[WorkOrder, str], Edit[T]]


def vendor_mutate(svc: Services, token: str, action: str, build: VendorChangeFunction[T],
                  link_action: str | None = None) -> Change[T]:
    """Apply a vendor's action if their link allows it (`link_action`, default the action itself) and the
    work order's state does (else 409). `build` gets the work order and the vendor's id."""
    scope = vendor_scope(svc, token, link_action or action)

    def apply(wo: WorkOrder) -> Edit[T]:
        if action not in vendor_actions(wo, scope.party_id):
            raise InvalidTransition(f"The action '{action}' is not possible now: the job is {wo.status.value}.",
                                    {"status": wo.status.value, "action": action})
        links.require_unanswered(scope, action)
        return build(wo, scope.party_id)

    change = mutate(svc, scope.work_order_id, apply)
    if action in links.SINGLE_USE:  # an offer is answered once per link; a new offer comes with a new link
        svc.link_tokens().answered(token, action)
    return change


def tenant_scope(svc: Services, wo_id: str, token: str | None, action: str) -> links.LinkScope:
    """The tenant link's scope if it is for this work order and allows `action` (else LinkRejected)."""
    if not token:
        raise LinkRejected("This page needs the link we sent you (token missing).", {"reason": "missing"})
    scope = svc.link_tokens().verify(token)
    links.require(scope, wo_id, "tenant", action)
    return scope
