"""Portfolio and vendor directory: properties, units, vendors, contacts."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.domain.enums import Trade

ANY_AREA = "*"  # a vendor not (yet) restricted to service areas by ops


class Contact(BaseModel):
    name: str
    phone: str | None = None
    email: str | None = None
    language: str | None = None  # "en" | "es": messages and pages in the person's language


class Property(BaseModel):
    id: str
    pms_id: str | None = None
    name: str
    address: str
    service_area: str
    preferred_vendors: dict[str, list[str]] = Field(
        default_factory=dict, description="trade -> vendor ids, most preferred first"
    )
    on_call: Contact | None = None
    time_zone: str | None = None  # IANA name, for quiet hours; default: the deployment's DefaultTimeZone


class Unit(BaseModel):
    id: str
    pms_id: str | None = None
    tenant_pms_id: str | None = None
    property_id: str
    label: str
    access_instructions: str = ""
    tenant: Contact | None = None


class VendorStats(BaseModel):
    offers: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    completed: int = 0
    reopened: int = 0

    @property
    def score(self) -> float:
        """0..1: acceptance and first-time-fix, with a neutral prior for new vendors."""
        acceptance = (self.accepted + 1) / (self.offers + 2)
        quality = (self.completed - self.reopened + 1) / (self.completed + 2)
        return 0.6 * acceptance + 0.4 * max(quality, 0.0)


class Vendor(BaseModel):
    id: str
    pms_id: str | None = None
    active: bool = True
    name: str
    trades: list[Trade]
    service_areas: list[str]
    phone: str | None = None
    email: str | None = None
    available: bool = True
    # "en" | "es": the vendor's messages and job page; unset = English messages, the browser's language on pages
    language: str | None = None
    stats: VendorStats = Field(default_factory=VendorStats)


def rank_vendors(
    vendors: list[Vendor], trade: Trade, prop: Property, previous_vendor_id: str | None = None
) -> list[str]:
    """Order candidates: the previous vendor (recall), property preference, availability, performance."""
    preferred = prop.preferred_vendors.get(trade.value, [])

    def key(v: Vendor) -> tuple[int, int, int, float, str]:
        return (
            0 if v.id == previous_vendor_id else 1,
            preferred.index(v.id) if v.id in preferred else len(preferred),
            0 if v.available else 1,
            -v.stats.score,
            v.id,
        )

    eligible = [v for v in vendors if v.active and trade in v.trades
                and (prop.service_area in v.service_areas or ANY_AREA in v.service_areas)]
    return [v.id for v in sorted(eligible, key=key)]
