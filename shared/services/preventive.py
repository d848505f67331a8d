"""Preventive maintenance: assets with service intervals get a work order `lead_days` before they are
due. One work order per asset and due date, however often the schedule fires. When such a work order is
verified (its WorkOrderVerified event names the asset), the asset's next cycle counts from that day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import Field

from shared.domain.directory import Contact
from shared.domain.enums import Priority, Trade
from shared.domain.model import Model
from shared.domain.workorder import Source, TimelineEntry
from shared.observability import count, logger
from shared.services.container import Services
from shared.services.workorders import submit_request

ASSETS = "ASSETS"


class Asset(Model):
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
    from shared.schemas import NewRequest  # cold start: the request schema only on the schedule's path

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


def serviced(svc: Services, asset_id: str, on: date) -> Asset | None:
    """The asset's work order was verified: the next cycle counts from this date. Returns the asset as
    updated (None when it is unknown or already serviced since)."""
    found = next((a for a in assets(svc) if a.id == asset_id), None)
    if found is None or on <= found.last_service:
        return None
    updated = found.model_copy(update={"last_service": on})
    put_asset(svc, updated)
    return updated


def on_verified(svc: Services, detail: dict[str, Any]) -> str:
    """A preventive work order was verified (the WorkOrderVerified event's detail, with `asset_id` and
    `serviced_on`). Once per event: a redelivery changes nothing; the work order's timeline says when
    the asset is due next."""
    once = f"serviced:{detail['event_key']}"
    if svc.repo.done(once, detail["work_order_id"]):
        return "duplicate"
    updated = serviced(svc, detail["asset_id"], date.fromisoformat(detail["serviced_on"]))
    note = (f"Asset {updated.id} serviced: next service due {updated.due.isoformat()}" if updated
            else f"Asset {detail['asset_id']}: already serviced since, or unknown; nothing changed")
    svc.repo.mark_done(once, detail["work_order_id"], TimelineEntry(at=svc.clock(), event="asset_serviced",
                                                                    detail=note))
    count("PreventiveAssetServiced" if updated else "PreventiveAssetUnchanged")
    return "serviced" if updated else "unchanged"
