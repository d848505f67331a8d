"""A work order brought to a given stage with the use cases themselves (as the state machine and the
people would), for service tests of what happens next. Each helper returns the stored work order and,
where a person acts next, the link token they would hold."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.domain.workorder import Window, WorkOrder
from shared.schemas import VisitTime
from shared.services.container import Services
from shared.services.workorders import rank, start_lifecycle, triage, vendor_accept, vendor_complete
from tests.fakes.services import DEMO_TIME_ZONE
from tests.service.steps import offer_to, submit


def local(svc: Services, days: int = 0, hour: int = 9, minute: int = 0) -> datetime:
    """A wall-clock time in the demo's time zone, `days` after the clock's current day."""
    today = svc.clock().astimezone(DEMO_TIME_ZONE).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=DEMO_TIME_ZONE)


def window(svc: Services, days: int = 1, hour: int = 9, hours: int = 2) -> Window:
    start = local(svc, days, hour)
    return Window(start=start, end=start + timedelta(hours=hours))


def at(w: Window) -> VisitTime:
    """The vendor's choice of exactly this window (start and end with their offset)."""
    return VisitTime(start=w.start, end=w.end)


def tenant_token(svc: Services, wo: WorkOrder) -> str:
    return svc.link_tokens().issue(wo.id, "tenant", wo.unit_id, svc.settings.link_ttl_seconds)


def vendor_token(svc: Services, wo_id: str, vendor_id: str) -> str:
    return svc.link_tokens().issue(wo_id, "vendor", vendor_id, svc.settings.link_ttl_seconds)


def triaged(svc: Services, unit_id: str, description: str, **fields: Any) -> WorkOrder:
    """Received, its lifecycle started and triaged."""
    wo = submit(svc, unit_id, description, **fields)
    start_lifecycle(svc, wo.id)
    triage(svc, wo.id)
    return svc.repo.get_work_order(wo.id)


def offered(svc: Services, unit_id: str, description: str, **fields: Any) -> tuple[WorkOrder, str]:
    """Offered to the first ranked vendor; returns the work order and that vendor's link."""
    wo = triaged(svc, unit_id, description, **fields)
    rank(svc, wo.id, reopen=False)
    decided = triage(svc, wo.id)  # a replay: the first decision, as the workflow reads it
    offer_to(svc, wo.id, 0, decided)
    wo = svc.repo.get_work_order(wo.id)
    assert wo.offer is not None
    return wo, vendor_token(svc, wo.id, wo.offer.vendor_id)


def accepted(svc: Services, unit_id: str, description: str, **fields: Any) -> tuple[WorkOrder, str]:
    """Accepted by the first ranked vendor; returns the work order and the vendor's link."""
    wo, token = offered(svc, unit_id, description, **fields)
    vendor_accept(svc, token)
    return svc.repo.get_work_order(wo.id), token


def scheduled(svc: Services, unit_id: str, description: str, visit: Window | None = None,
              **fields: Any) -> tuple[WorkOrder, str]:
    """Accepted and scheduled by the vendor (tomorrow 09:00-11:00 unless `visit` is given)."""
    from shared.services.visits import vendor_schedule

    wo, token = accepted(svc, unit_id, description, **fields)
    vendor_schedule(svc, token, at(visit or window(svc)))
    return svc.repo.get_work_order(wo.id), token


def completed(svc: Services, unit_id: str, description: str, **fields: Any) -> tuple[WorkOrder, str]:
    """Scheduled and completed by the vendor; returns the work order and the vendor's link."""
    wo, token = scheduled(svc, unit_id, description, **fields)
    vendor_complete(svc, token, "Replaced the washer")
    return svc.repo.get_work_order(wo.id), token
