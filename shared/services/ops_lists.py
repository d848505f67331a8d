"""The ops work-order list, page by page: one index partition Query at a time (a property's, or a status's
in a fixed order), never a Scan; filters that are no key condition (source, overdue, a status within a
property) are applied while the page fills. The cursor is opaque and signed (shared/domain/ops_lists.py)."""

from __future__ import annotations

from typing import Any

from shared.domain.ops_lists import Cursor, ListFilters, bad_cursor, decode_cursor, encode_cursor, is_overdue
from shared.domain.workorder import WorkOrder
from shared.services.container import Services


def _partitions(filters: ListFilters) -> list[str]:
    if filters.property_id:
        return [f"PROPERTY#{filters.property_id}"]
    return [f"STATUS#{s.value}" for s in filters.statuses()]


def page(svc: Services, filters: ListFilters, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """One page: ``{"work_orders": [...], "count": n, "next_cursor": str | None}``. A page may be shorter than
    `limit` while a cursor still follows (a filter that rarely matches); the list ends when it is None."""
    key = svc.link_key()
    partitions = _partitions(filters)
    now = svc.clock()
    if cursor:
        at = decode_cursor(cursor, key, filters)
        if at.partition not in partitions:
            raise bad_cursor("it belongs to other filters")
        start, after, before = partitions.index(at.partition), at.after or None, at.created_before
    else:
        start, after = 0, None
        before = (now - filters.older_than).isoformat() if filters.older_than else None
    timers, reminders = svc.settings.timeouts.stages, svc.settings.invoice_reminders

    def keep(wo: WorkOrder) -> bool:
        return ((filters.status is None or wo.status == filters.status)
                and (filters.source is None or wo.source == filters.source)
                and (not filters.overdue or is_overdue(wo, now, timers, reminders)))

    found: list[WorkOrder] = []
    next_cursor = None
    for n in range(start, len(partitions)):
        got, resume = svc.repo.page_work_orders(partitions[n], limit - len(found), after=after,
                                                created_before=before, keep=keep)
        found += got
        after = None
        if resume is not None:
            next_cursor = Cursor(partitions[n], resume, before, filters.fingerprint())
            break
        if len(found) >= limit and n + 1 < len(partitions):  # full at a partition's end: the next one is next
            next_cursor = Cursor(partitions[n + 1], "", before, filters.fingerprint())
            break
    found = _latest_of_each(found)
    return {"work_orders": [summary(svc, w, now, timers, reminders) for w in found], "count": len(found),
            "next_cursor": encode_cursor(next_cursor, key) if next_cursor else None}


def _latest_of_each(found: list[WorkOrder]) -> list[WorkOrder]:
    """A job that moved to another status while the page was read (from one status partition to a later one)
    was read twice: it is listed once, as its newer version, where it was first seen."""
    newest: dict[str, WorkOrder] = {}
    for wo in found:
        if wo.id not in newest or wo.version > newest[wo.id].version:
            newest[wo.id] = wo
    seen: set[str] = set()
    return [newest[wo.id] for wo in found if not (wo.id in seen or seen.add(wo.id))]


def summary(svc: Services, w: WorkOrder, now: Any, timers: Any, reminders: int) -> dict[str, Any]:
    return {"id": w.id, "status": w.status.value, "source": w.source.value, "property_id": w.property_id,
            "unit_id": w.unit_id, "trade": w.trade, "priority": w.priority, "vendor_id": w.vendor_id,
            "pms": {"provider": svc.settings.pms_provider, "task_id": w.pms_task_id}, "incident_id": w.incident_id,
            "created_at": w.created_at.isoformat(), "updated_at": w.updated_at.isoformat(),
            "overdue": is_overdue(w, now, timers, reminders)}
