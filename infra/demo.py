"""Demo portfolio for `make local`, the drill and the integration tests: 2 properties, 12 units with
tenants, 8 vendors over 6 trades and 2 service areas, an on-call and an ops contact."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shared.adapters.repository import Repository
from shared.domain.compliance import VendorInsurance
from shared.domain.directory import Contact, Property, Unit, Vendor
from shared.domain.enums import Trade

PROPERTIES = [
    Property(id="prop-maple", name="Maple Court", address="120 Maple Ave, Springfield", service_area="north",
             preferred_vendors={"plumbing": ["ven-aqua"]},
             on_call=Contact(name="Dana On-Call", phone="+15550100001", email="oncall@maple.example.com")),
    Property(id="prop-harbor", name="Harbor Lofts", address="8 Harbor St, Springfield", service_area="south"),
]

_TENANTS = [
    ("Ana Lopez", "1A"), ("Ben Carter", "1B"), ("Chloe Nguyen", "2A"), ("Dev Patel", "2B"), ("Eli Brooks", "3A"),
    ("Fatima Khan", "3B"), ("Gus Moreno", "101"), ("Hana Sato", "102"), ("Ivan Petrov", "201"),
    ("Jade Wilson", "202"), ("Kofi Mensah", "301"), ("Lena Fischer", "302"),
]


def _units() -> list[Unit]:
    units = []
    for n, (name, label) in enumerate(_TENANTS):
        prop = PROPERTIES[0] if n < 6 else PROPERTIES[1]
        slug = name.split()[0].lower()
        units.append(Unit(
            id=f"unit-{prop.id.removeprefix('prop-')}-{label.lower()}", property_id=prop.id, label=label,
            access_instructions=f"Key in lockbox 7{n:02d} by the side door; dog friendly" if n % 3 == 0
            else "Tenant lets you in; call on arrival",
            tenant=Contact(name=name, phone=f"+155501{n + 10:05d}", email=f"{slug}@tenant.example.com")))
    return units


UNITS = _units()

VENDORS = [
    Vendor(id="ven-aqua", name="AquaFix Plumbing", trades=[Trade.PLUMBING], service_areas=["north"],
           phone="+15550200001", email="dispatch@aquafix.example.com"),
    Vendor(id="ven-pipeline", name="Pipeline Pros", trades=[Trade.PLUMBING, Trade.ROOFING],
           service_areas=["north", "south"], phone="+15550200002", email="jobs@pipelinepros.example.com"),
    Vendor(id="ven-volt", name="Volt Electric", trades=[Trade.ELECTRICAL], service_areas=["north", "south"],
           phone="+15550200003", email="office@voltelectric.example.com"),
    Vendor(id="ven-breeze", name="Breeze HVAC", trades=[Trade.HVAC], service_areas=["north", "south"],
           phone="+15550200004", email="service@breezehvac.example.com"),
    Vendor(id="ven-appliance", name="Appliance Aces", trades=[Trade.APPLIANCE], service_areas=["north", "south"],
           phone="+15550200005", email="help@applianceaces.example.com"),
    Vendor(id="ven-keys", name="KeyMasters Locksmith", trades=[Trade.LOCKSMITH], service_areas=["north", "south"],
           phone="+15550200006", email="24h@keymasters.example.com"),
    Vendor(id="ven-handy", name="Handy Hands", trades=[Trade.GENERAL, Trade.PEST], service_areas=["north", "south"],
           phone="+15550200007", email="hello@handyhands.example.com"),
    Vendor(id="ven-southflow", name="SouthFlow Plumbing", trades=[Trade.PLUMBING], service_areas=["south"],
           phone="+15550200008", email="crew@southflow.example.com"),
    Vendor(id="ven-summit", name="Summit Elevator", trades=[Trade.ELEVATOR], service_areas=["north", "south"],
           phone="+15550200009", email="service@summitelevator.example.com"),
    Vendor(id="ven-clearview", name="ClearView Glass & Doors", trades=[Trade.GLAZING_DOORS],
           service_areas=["north", "south"], phone="+15550200010", email="jobs@clearview.example.com"),
    Vendor(id="ven-keystone", name="Keystone Structural", trades=[Trade.STRUCTURAL, Trade.ROOFING],
           service_areas=["north", "south"], phone="+15550200011", email="field@keystone.example.com"),
    Vendor(id="ven-firewatch", name="Firewatch Life Safety", trades=[Trade.FIRE_SAFETY],
           service_areas=["north", "south"], phone="+15550200012", email="dispatch@firewatch.example.com"),
]

INSURER = "Midwest Mutual"
INSURED_FOR = timedelta(days=365)  # every demo vendor's liability insurance runs a year from the day the demo runs


def insurance(policy_number: str, today: date) -> VendorInsurance:
    return VendorInsurance(provider=INSURER, policy_number=policy_number, expires_on=today + INSURED_FOR)


ON_CALL = Contact(name="Ops On-Call", phone="+15550100000", email="oncall@opslayer.example.com")
OPS = Contact(name="Ops Team", phone="+15550100009", email="ops@opslayer.example.com")
# Owners who approve large invoices for their property (ops approves the rest, and every exception).
OWNERS = {"prop-harbor": Contact(name="Harbor Lofts Owner LLC", email="owner@harbor-lofts.example.com")}


class Ids:
    """Demo keys ("unit-maple-1a") to Opslayer ids of the records the PMS sync created ("unit-b1001").
    The demo portfolio lives in the fake Buildium; Opslayer learns it through the real sync path."""

    def __init__(self, buildium_ids: dict[str, dict[str, int]]) -> None:
        self.buildium = buildium_ids

    def property(self, key: str) -> str:
        return f"prop-b{self.buildium['property'][key]}"

    def unit(self, key: str) -> str:
        return f"unit-b{self.buildium['unit'][key]}"

    def vendor(self, key: str) -> str:
        return f"ven-b{self.buildium['vendor'][key]}"


def sensors(ids: Ids) -> list[tuple[str, str, str]]:
    """(sensor id, unit id, location) registered for the IoT scenario."""
    return [("leak-maple-1a", ids.unit("unit-maple-1a"), "Maple Court 1A, under the kitchen sink"),
            ("temp-harbor-101", ids.unit("unit-harbor-101"), "Harbor Lofts 101, living room"),
            ("boiler-maple", ids.unit("unit-maple-1b"), "Maple Court boiler room (via 1B)")]


def assets(ids: Ids, today: date) -> list[dict[str, Any]]:
    return [
        {"id": "hvac-filter-maple-2a", "unit_id": ids.unit("unit-maple-2a"), "kind": "hvac_filter",
         "description": "Replace the HVAC filter", "trade": "hvac", "interval_days": 90,
         "last_service": (today - timedelta(days=85)).isoformat()},
        {"id": "boiler-maple", "unit_id": ids.unit("unit-maple-1b"), "kind": "boiler_service",
         "description": "Annual boiler service", "trade": "hvac", "interval_days": 365,
         "last_service": (today - timedelta(days=300)).isoformat()},
        {"id": "fire-alarm-harbor", "unit_id": ids.unit("unit-harbor-101"), "kind": "fire_alarm_test",
         "description": "Fire alarm system test", "trade": "electrical", "interval_days": 180,
         "last_service": (today - timedelta(days=170)).isoformat()},
    ]


def apply_dispatch_profile(repo: Repository, ids: Ids) -> None:
    """What ops configures in Opslayer on top of the PMS data: vendors' service areas, properties'
    preferred vendors and on-call contacts, the global on-call and ops contacts. Idempotent."""
    for demo_prop in PROPERTIES:
        prop = repo.get_property(ids.property(demo_prop.id))
        preferred = {trade: [ids.vendor(v) for v in vendors] for trade, vendors in demo_prop.preferred_vendors.items()}
        repo.put_property(prop.model_copy(update={"preferred_vendors": preferred, "on_call": demo_prop.on_call}))
    for demo_vendor in VENDORS:
        vendor = repo.get_vendor(ids.vendor(demo_vendor.id))
        repo.put_vendor(vendor.model_copy(update={"service_areas": demo_vendor.service_areas,
                                                  "language": demo_vendor.language}))
    for demo_unit in UNITS:  # inbound SMS / email find tenants by phone / address (the PMS sync too)
        unit = repo.find_unit(ids.unit(demo_unit.id))
        if unit is not None and unit.tenant and unit.tenant.phone:
            repo.index_tenant_phone(unit.tenant.phone, unit.id)
        if unit is not None and unit.tenant and unit.tenant.email:
            repo.index_tenant_email(unit.tenant.email, unit.id)
    repo.put_config("on_call", ON_CALL.model_dump())
    repo.put_config("ops_contact", OPS.model_dump())
    repo.put_config("owners", {ids.property(key): owner.model_dump() for key, owner in OWNERS.items()})


def describe(ids: Ids, extra: dict[str, Any]) -> dict[str, Any]:
    """The body of GET /_local/demo (Opslayer ids, with each record's Buildium id)."""
    return {
        "properties": [{"id": ids.property(p.id), "buildium_id": ids.buildium["property"][p.id], "name": p.name,
                        "address": p.address, "service_area": p.service_area} for p in PROPERTIES],
        "units": [{"id": ids.unit(u.id), "buildium_id": ids.buildium["unit"][u.id],
                   "property_id": ids.property(u.property_id), "label": u.label,
                   "tenant": u.tenant.model_dump() if u.tenant else None} for u in UNITS],
        "vendors": [{"id": ids.vendor(v.id), "buildium_id": ids.buildium["vendor"][v.id], "name": v.name,
                     "trades": [t.value for t in v.trades], "service_areas": v.service_areas, "phone": v.phone,
                     "email": v.email, "language": v.language or "en"} for v in VENDORS],
        "on_call": ON_CALL.model_dump(), "ops": OPS.model_dump(), **extra,
    }
