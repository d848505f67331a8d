"""Portfolio and vendor directory: properties, units, vendors, contacts."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import Field

from shared.domain.compliance import InsuranceRules, VendorInsurance, insurance_standing
from shared.domain.enums import Trade
from shared.domain.model import Model

ANY_AREA = "*"  # a vendor not (yet) restricted to service areas by ops


class Contact(Model):
    name: str
    phone: str | None = None
    email: str | None = None
    language: str | None = None  # "en" | "es": messages and pages in the person's language


class Property(Model):
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
    drill: bool = False  # the fire drill's own property (shared/services/drill.py): never real work


class Unit(Model):
    id: str
    pms_id: str | None = None
    tenant_pms_id: str | None = None
    property_id: str
    label: str
    access_instructions: str = ""
    tenant: Contact | None = None
    drill: bool = False  # a drill unit: its work orders are drill work orders


class VendorStats(Model):
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


class Shift(Model):
    """An in-house technician's working hours on one weekday (0 = Monday), local times "HH:MM"; an end
    before the start runs past midnight."""

    weekday: int = Field(ge=0, le=6)
    start: str
    end: str

    def covers(self, local: datetime) -> bool:
        start, end, now = time.fromisoformat(self.start), time.fromisoformat(self.end), local.time()
        today = local.weekday() == self.weekday
        if start <= end:
            return today and start <= now < end
        yesterday = (local.weekday() - 1) % 7 == self.weekday
        return (today and now >= start) or (yesterday and now < end)


class Vendor(Model):
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
    insurance: VendorInsurance | None = None  # synced from the PMS; None: none on file
    # An in-house technician (staff, set up through /ops/config/technicians): offered and assigned like a
    # vendor (the same job links and invoice), no insurance check, dispatched for an emergency only while on
    # duty. `pms_id` is then the PMS vendor record their internal bills are entered against.
    in_house: bool = False
    drill: bool = False  # a drill vendor: offered drill work orders only, and only those
    working_hours: list[Shift] = Field(default_factory=list)
    time_zone: str | None = None  # IANA name the working hours are in; default: the property's

    def on_duty(self, at: datetime, default_zone: str) -> bool:
        """An in-house technician within their working hours at `at` (a vendor: always)."""
        if not self.in_house:
            return True
        local = at.astimezone(ZoneInfo(self.time_zone or default_zone))
        return any(shift.covers(local) for shift in self.working_hours)


class Ranking(Model):
    """Dispatch's candidates in order, the vendors left out for compliance and why, and notes for ops
    about candidates (e.g. no insurance on file): what the ranking record says."""

    candidates: list[str]
    skipped: dict[str, str] = Field(default_factory=dict)  # vendor id -> reason
    notes: dict[str, str] = Field(default_factory=dict)  # vendor id -> note


def rank_vendors(
    vendors: list[Vendor], trade: Trade, prop: Property, on: date, insurance: InsuranceRules,
    previous_vendor_id: str | None = None, at: datetime | None = None, emergency: bool = False,
    default_zone: str = "UTC",
) -> Ranking:
    """Order candidates: the previous vendor (recall), property preference, in-house staff (no extra
    cost), availability, performance. Drill vendors serve the drill property only, and it only them. A vendor
    whose insurance does not cover the job's date (`on`) is skipped, with the reason; so is an in-house
    technician off duty `at` the time of an emergency."""
    preferred = prop.preferred_vendors.get(trade.value, [])

    def key(v: Vendor) -> tuple[int, int, int, int, float, str]:
        return (
            0 if v.id == previous_vendor_id else 1,
            preferred.index(v.id) if v.id in preferred else len(preferred),
            0 if v.in_house else 1,
            0 if v.available else 1,
            -v.stats.score,
            v.id,
        )

    matching = [v for v in vendors if v.active and trade in v.trades and v.drill == prop.drill
                and (prop.service_area in v.service_areas or ANY_AREA in v.service_areas)]
    eligible: list[Vendor] = []
    skipped: dict[str, str] = {}
    notes: dict[str, str] = {}
    for v in sorted(matching, key=key):
        if v.in_house:
            if emergency and at is not None and not v.on_duty(at, prop.time_zone or default_zone):
                skipped[v.id] = "in-house, off duty"
            else:
                eligible.append(v)
            continue
        standing = insurance_standing(v.insurance, on, insurance)
        if not standing.allowed:
            skipped[v.id] = standing.reason or "not compliant"
            continue
        eligible.append(v)
        if standing.reason:
            notes[v.id] = standing.reason
    return Ranking(candidates=[v.id for v in eligible], skipped=skipped, notes=notes)
