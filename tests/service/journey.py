"""A work order walked to a given stage with the use cases themselves (no repository shortcuts), for the
service tests that start in the middle of a lifecycle: offered, accepted, scheduled, completed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.domain.workorder import WorkOrder
from shared.schemas import VisitTime
from shared.services.container import Services
from shared.services.visits import vendor_schedule
from shared.services.workorders import rank, start_lifecycle, triage, vendor_accept, vendor_complete
from tests.service.steps import offer_to, submit


@dataclass
class Job:
    """A work order in flight and the handles a test acts with."""

    id: str
    triage: dict[str, Any]
    offer_token: str = ""  # the workflow's task token of the current offer
    vendor_id: str = ""  # the vendor currently offered the job (or doing it)
    link: str = ""  # that vendor's job link

    def load(self, svc: Services, with_timeline: bool = False) -> WorkOrder:
        return svc.repo.get_work_order(self.id, with_timeline=with_timeline)

    def events(self, svc: Services) -> list[str]:
        """The timeline's events in order, without the notification entries."""
        return [e.event for e in self.load(svc, with_timeline=True).timeline if e.event != "notified"]


def vendor_token(svc: Services, wo_id: str, vendor_id: str) -> str:
    """A vendor's job link, as the offer message carries it."""
    return svc.link_tokens().issue(wo_id, "vendor", vendor_id, svc.settings.link_ttl_seconds)


def tenant_token(svc: Services, wo: WorkOrder) -> str:
    """The tenant's status link, as their messages carry it."""
    return svc.link_tokens().issue(wo.id, "tenant", wo.unit_id, svc.settings.link_ttl_seconds)


def triaged(svc: Services, unit_id: str, text: str, **fields: Any) -> Job:
    """Submitted, lifecycle started, triaged and ranked (not offered yet)."""
    wo = submit(svc, unit_id, text, **fields)
    start_lifecycle(svc, wo.id)
    decided = triage(svc, wo.id)
    rank(svc, wo.id, reopen=False)
    return Job(wo.id, decided)


def offer_next(svc: Services, job: Job, index: int) -> Job:
    """The workflow offers candidate `index` (a fresh task token and a fresh vendor link)."""
    job.offer_token = offer_to(svc, job.id, index, job.triage)
    job.vendor_id = job.load(svc).candidates[index]
    job.link = vendor_token(svc, job.id, job.vendor_id)
    return job


def offered(svc: Services, unit_id: str, text: str, **fields: Any) -> Job:
    return offer_next(svc, triaged(svc, unit_id, text, **fields), 0)


def visit(svc: Services, hours_from_now: float = 2, length_hours: float = 2) -> VisitTime:
    start = svc.clock() + timedelta(hours=hours_from_now)
    return VisitTime(start=start, end=start + timedelta(hours=length_hours))


def accepted(svc: Services, unit_id: str, text: str, **fields: Any) -> Job:
    job = offered(svc, unit_id, text, **fields)
    vendor_accept(svc, job.link)
    return job


def scheduled(svc: Services, unit_id: str, text: str, **fields: Any) -> Job:
    job = accepted(svc, unit_id, text, **fields)
    vendor_schedule(svc, job.link, visit(svc))
    return job


def completed(svc: Services, unit_id: str, text: str, notes: str = "Fixed it", **fields: Any) -> Job:
    job = scheduled(svc, unit_id, text, **fields)
    vendor_complete(svc, job.link, notes)
    return job
