"""Demo portfolio for `make local`, the drill and the integration tests: 2 properties, 12 units with
tenants, 8 vendors over 6 trades and 2 service areas, an on-call and an ops contact."""

from __future__ import annotations

from typing import Any

from shared.adapters.repository import Repository
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
]

ON_CALL = Contact(name="Ops On-Call", phone="+15550100000", email="oncall@opslayer.example.com")
OPS = Contact(name="Ops Team", phone="+15550100009", email="ops@opslayer.example.com")


def seed(repo: Repository) -> None:
    """Idempotent: safe to run on every start."""
    for prop in PROPERTIES:
        repo.put_property(prop)
    for unit in UNITS:
        repo.put_unit(unit)
    for vendor in VENDORS:
        repo.put_vendor(vendor)
    repo.put_config("on_call", ON_CALL.model_dump())
    repo.put_config("ops_contact", OPS.model_dump())


def describe(ops_key: str | None, aws_endpoint: str | None, base_url: str) -> dict[str, Any]:
    """The body of GET /_local/demo."""
    return {
        "properties": [{"id": p.id, "name": p.name, "address": p.address, "service_area": p.service_area}
                       for p in PROPERTIES],
        "units": [{"id": u.id, "property_id": u.property_id, "label": u.label,
                   "tenant": u.tenant.model_dump() if u.tenant else None} for u in UNITS],
        "vendors": [{"id": v.id, "name": v.name, "trades": [t.value for t in v.trades],
                     "service_areas": v.service_areas, "phone": v.phone, "email": v.email} for v in VENDORS],
        "on_call": ON_CALL.model_dump(), "ops": OPS.model_dump(),
        "ops_key": ops_key, "aws_endpoint": aws_endpoint, "api_url": base_url,
    }
