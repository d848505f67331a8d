"""The lifecycle steps the state machine runs (state_machines/work_order.asl.json), as plain calls for
service tests, and the notification consumer applied to what was published."""

from __future__ import annotations

from typing import Any

from shared.schemas import NewRequest
from shared.services.container import Services
from shared.services.notifications import notify
from shared.services.workorders import offer, submit_request
from tests.fakes import FakeWorkflow, RecordingEvents


def submit(svc: Services, unit_id: str, description: str, idempotency_key: str | None = None,
           **fields: Any) -> Any:
    """A tenant's web request for a demo unit (name from the unit's tenant unless given)."""
    unit = svc.repo.get_unit(unit_id)
    name = fields.pop("name", unit.tenant.name if unit.tenant else "Tenant")
    request = NewRequest(unit_id=unit_id, name=name, description=description, **fields)
    return submit_request(svc, request, idempotency_key=idempotency_key)


def offer_to(svc: Services, wo_id: str, index: int, triage: dict[str, Any]) -> str:
    """OfferToVendor: a task-token wait for candidate `index`, with the priority's offer timeout."""
    workflow = svc.workflow
    assert isinstance(workflow, FakeWorkflow)
    token = workflow.wait_token(f"offer{index}", execution=wo_id)
    offer(svc, wo_id, index, token, triage["timeouts"]["offer"], triage)
    return token


def deliver(svc: Services, *detail_types: str) -> int:
    """Run the notification consumer on the published events of these types (all when none given), as
    the EventBridge rule -> SQS -> notification function would; returns the messages sent."""
    events = svc.events
    assert isinstance(events, RecordingEvents)
    return sum(notify(svc, t, d) for t, d in list(events.published) if not detail_types or t in detail_types)
