"""Preventive maintenance: assets with service intervals get a work order `lead_days` before they are
due. One work order per asset and due date, however often the schedule fires."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field

from shared.domain.directory import Contact
from shared.domain.enums import Priority, Trade
from shared.domain.workorder import Source
from shared.observability import count, logger
from shared.services.container import Services

ASSETS = "ASSETS"


class Asset(BaseModel):
    id: str
    unit_id: str  # where the work happens (a common-area unit for building systems)
    kind: str  # "hvac_filter", "fire_alarm_test", "boiler_service", ...
    description: str
    trade: Trade
    interval_days: int = Field(gt=0)
    last_service: date

    @property
    def due(self) -> date:
        return self.last_service + timedelta(days=self.interval_days)


def put_asset(svc: Services, asset: Asset) -> None:
    svc.repo.put_listed(ASSETS, asset.id, asset.model_dump(mode="json"))


def assets(svc: Services) -> list[Asset]:
    return [Asset.model_validate(a) for a in svc.repo.listed(ASSETS)]


def generate(svc: Services, today: date | None = None) -> list[str]:
    """Create the work orders that are due within the lead time; returns their ids (new or existing)."""
    from shared.schemas import NewRequest
    from shared.services.workorders import submit_request

    today = today or svc.clock().date()
    lead = timedelta(days=svc.settings.preventive_lead_days)
    created = []
    for asset in assets(svc):
        if asset.due - lead > today:
            continue
        unit = svc.repo.find_unit(asset.unit_id)
        if unit is None:
            logger.warning("asset without a known unit", extra={"asset_id": asset.id})
            continue
        contact = unit.tenant or Contact(name="Building")
        text = f"Preventive maintenance: {asset.description} (due {asset.due.isoformat()})."
        req = NewRequest.model_construct(unit_id=unit.id, name=contact.name, phone=contact.phone,
                                         email=contact.email, description=text, availability=None)
        wo = submit_request(svc, req, source=Source.PREVENTIVE, idempotency_key=f"pm-{asset.id}-{asset.due}",
                            trade=asset.trade, priority=Priority.ROUTINE, asset_id=asset.id)
        created.append(wo.id)
    count("PreventiveWorkOrders", len(created))
    return created


def serviced(svc: Services, asset_id: str, on: date) -> None:
    """The asset's work order was verified: the next cycle counts from this date."""
    found = next((a for a in assets(svc) if a.id == asset_id), None)
    if found and on > found.last_service:
        put_asset(svc, found.model_copy(update={"last_service": on}))
