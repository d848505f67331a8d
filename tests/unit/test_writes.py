"""The write core's contract (shared/services/writes.py) on a minimal hand-written repository: an optimistic,
versioned save; the change function decides (and may say why) and is decided again after a conflict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain.directory import Contact
from shared.domain.errors import ConcurrentUpdate, LinkRejected
from shared.domain.workorder import Status, TimelineEntry, WorkOrder
from shared.services.container import Services
from shared.services.writes import Change, Edit, entry, mutate, publish, tenant_scope

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


class VersionedRepo:
    """One work order, saved only when the expected version matches (as DynamoDB's condition does).
    Each `interfere` item runs before one save: someone else's write that gets there first."""

    def __init__(self, wo: WorkOrder) -> None:
        self.wo = wo
        self.timeline: list[TimelineEntry] = []
        self.saves = 0
        self.interfere: list[Any] = []

    def get_work_order(self, wo_id: str) -> WorkOrder:
        assert wo_id == self.wo.id
        return self.wo

    def save(self, wo: WorkOrder, expected_version: int, entries: list[TimelineEntry]) -> WorkOrder:
        if self.interfere:
            self.interfere.pop(0)(self)
        if self.wo.version != expected_version:
            raise ConcurrentUpdate("changed meanwhile", {"id": wo.id})
        self.saves += 1
        self.wo = wo.model_copy(update={"version": expected_version + 1})
        self.timeline += entries
        return self.wo


class RecordedEvents:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.sent.append((detail_type, detail))


def services(repo: VersionedRepo, events: RecordedEvents | None = None, now: datetime = T0) -> Services:
    return Services(settings=None, repo=repo, events=events or RecordedEvents(), workflow=None,  # type: ignore[arg-type]
                    messenger=None, secrets=None, clock=lambda: now)  # type: ignore[arg-type]


def work_order(**kw: Any) -> WorkOrder:
    base: dict[str, Any] = dict(id="wo-0123456789ab", property_id="p1", unit_id="u1", tenant=Contact(name="T"),
                                description="leak", created_at=T0, updated_at=T0, status=Status.TRIAGED)
    return WorkOrder(**{**base, **kw})


def escalate_unless_done(svc: Services):
    def change(wo: WorkOrder) -> Edit[str] | None:
        if wo.status == Status.ESCALATED:
            return None
        return Edit(wo.model_copy(update={"status": Status.ESCALATED}), [entry(svc, "escalated", "ops alerted")],
                    result=f"from {wo.status.value}")
    return change


def test_a_change_is_saved_with_its_entries_and_says_what_it_decided() -> None:
    repo = VersionedRepo(work_order(version=3))
    later = T0 + timedelta(minutes=5)
    svc = services(repo, now=later)
    change = mutate(svc, repo.wo.id, escalate_unless_done(svc))
    assert change.before.status == Status.TRIAGED and change.before.version == 3
    assert change.after is not None and change.after.status == Status.ESCALATED and change.after.version == 4
    assert change.after.updated_at == later and change.saved is change.after
    assert change.result == "from triaged"
    assert [(e.event, e.detail, e.at) for e in repo.timeline] == [("escalated", "ops alerted", later)]


def test_nothing_to_do_saves_nothing() -> None:
    repo = VersionedRepo(work_order(status=Status.ESCALATED))
    svc = services(repo)
    change = mutate(svc, repo.wo.id, escalate_unless_done(svc))
    assert change == Change(before=repo.wo, after=None, result=None)
    assert repo.saves == 0 and repo.timeline == []
    with pytest.raises(AssertionError, match="nothing was saved"):
        _ = change.saved


def test_a_concurrent_update_is_decided_again_on_the_fresh_state() -> None:
    repo = VersionedRepo(work_order(status=Status.OFFERED))
    repo.interfere.append(lambda r: setattr(r, "wo", r.wo.model_copy(update={"status": Status.ACCEPTED,
                                                                            "version": r.wo.version + 1})))
    svc = services(repo)
    decided_on: list[Status] = []

    def change(wo: WorkOrder) -> Edit[str]:
        decided_on.append(wo.status)
        return escalate_unless_done(svc)(wo)  # type: ignore[return-value]

    result = mutate(svc, repo.wo.id, change)
    assert decided_on == [Status.OFFERED, Status.ACCEPTED]
    assert result.before.status == Status.ACCEPTED and result.result == "from accepted"
    assert repo.saves == 1 and len(repo.timeline) == 1  # the first decision's entries were never written


class CountingRepo(VersionedRepo):
    def __init__(self, wo: WorkOrder) -> None:
        super().__init__(wo)
        self.reads = 0

    def get_work_order(self, wo_id: str) -> WorkOrder:
        self.reads += 1
        return super().get_work_order(wo_id)


def test_a_work_order_the_caller_just_read_is_not_read_again() -> None:
    repo = CountingRepo(work_order(version=3))
    svc = services(repo)
    change = mutate(svc, repo.wo.id, escalate_unless_done(svc), loaded=repo.wo)
    assert repo.reads == 0 and change.before.version == 3 and change.saved.version == 4


def test_a_loaded_work_order_that_changed_meanwhile_is_decided_again_on_a_fresh_read() -> None:
    repo = CountingRepo(work_order(status=Status.OFFERED))
    loaded = repo.wo
    repo.wo = repo.wo.model_copy(update={"status": Status.ACCEPTED, "version": repo.wo.version + 1})  # after the read
    svc = services(repo)
    decided_on: list[Status] = []

    def change(wo: WorkOrder) -> Edit[str]:
        decided_on.append(wo.status)
        return escalate_unless_done(svc)(wo)  # type: ignore[return-value]

    result = mutate(svc, repo.wo.id, change, loaded=loaded)
    assert decided_on == [Status.OFFERED, Status.ACCEPTED] and repo.reads == 1
    assert result.before.status == Status.ACCEPTED and repo.saves == 1 and len(repo.timeline) == 1


def test_a_fresh_state_can_turn_the_change_into_nothing_to_do() -> None:
    repo = VersionedRepo(work_order())
    repo.interfere.append(lambda r: setattr(r, "wo", r.wo.model_copy(update={"status": Status.ESCALATED,
                                                                            "version": r.wo.version + 1})))
    svc = services(repo)
    change = mutate(svc, repo.wo.id, escalate_unless_done(svc))
    assert change.after is None and change.result is None and change.before.status == Status.ESCALATED


def test_conflicts_on_every_attempt_give_up_loudly() -> None:
    repo = VersionedRepo(work_order())
    bump = lambda r: setattr(r, "wo", r.wo.model_copy(update={"version": r.wo.version + 1}))  # noqa: E731
    repo.interfere.extend([bump] * 3)
    svc = services(repo)
    with pytest.raises(ConcurrentUpdate):
        mutate(svc, repo.wo.id, escalate_unless_done(svc), attempts=3)
    assert repo.saves == 0


def test_publish_keys_the_event_on_the_work_order() -> None:
    repo, events = VersionedRepo(work_order()), RecordedEvents()
    publish(services(repo, events), "WorkOrderEscalated", repo.wo, "escalated", reason="stuck")
    assert events.sent == [("WorkOrderEscalated", {"work_order_id": repo.wo.id, "status": "triaged",
                                                   "event_key": f"{repo.wo.id}:escalated", "reason": "stuck"})]


def test_a_tenant_write_without_a_link_is_refused_before_anything_is_read() -> None:
    svc = services(VersionedRepo(work_order()))
    with pytest.raises(LinkRejected) as exc:
        tenant_scope(svc, "wo-0123456789ab", None, "feedback")
    assert exc.value.details == {"reason": "missing"}
