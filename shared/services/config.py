"""Setup by ops through the API (/ops/config) and as code (`opslayer config export|import`): read and change
vendors' dispatch profiles, in-house technicians (trades, areas, working hours), properties' owners / approval
limits / time zone / on-call contact, quiet hours, the ops and default on-call contacts, on-call rotas (per
property and the portfolio's), assets, sensors and not-to-exceed overrides.

Every change is validated (shared/domain/setup.py), optimistic (the caller names the version it read; a
stale write is a ConcurrentUpdate, 409) and versioned with who and when (the setup records, readable as
history). The records the rest of the system reads (the vendor and its dispatch indexes, the property, the
CONFIG items, assets, sensors) are then written as they always were, so nothing downstream changes: the
setup record is the ledger, the live record is what dispatch, notifications and invoicing read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from shared.domain.directory import Contact, Vendor
from shared.domain.enums import Trade
from shared.domain.errors import InvalidInput, NotFound
from shared.domain.model import Model
from shared.domain.setup import (
    SINGLETON,
    ApprovalLimits,
    ContactSetup,
    NteSetup,
    OnCallRotaSetup,
    PropertySetup,
    QuietHoursSetup,
    SensorSetup,
    Strict,
    TechnicianSetup,
    VendorSetup,
)
from shared.observability import count, logger
from shared.services.container import Services
from shared.services.paging import PORTFOLIO
from shared.services.paging import ROTAS as ON_CALL_ROTAS

# CONFIG items the rest of the system reads (notifications, invoicing, dispatch)
OWNERS, APPROVAL_LIMITS, NTE_OVERRIDES = "owners", "approval_limits", "nte_overrides"
QUIET_HOURS, OPS_CONTACT, ON_CALL = "quiet_hours", "ops_contact", "on_call"
ASSETS = "ASSETS"


class AssetSetup(Strict):
    """A preventive-maintenance asset (shared/services/preventive.py: `Asset` without its id)."""

    unit_id: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    description: str = Field(min_length=1)
    trade: Trade
    interval_days: int = Field(gt=0)
    last_service: date


class SetupItem(Model):
    """One (kind, id) as the API shows it: the live value and the setup version it was last changed at
    (0: never changed through the API - e.g. a vendor as the PMS sync created it)."""

    kind: str
    id: str
    version: int
    value: dict[str, Any]
    changed_by: str | None = None
    changed_at: str | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[BaseModel]
    read: Callable[[Services, str], BaseModel | None]  # the live setup, None if there is none
    apply: Callable[[Services, str, Any], None]  # write the live records
    ids: Callable[[Services], list[str]]  # ids with a live setup (beyond those changed through the API)
    singleton: bool = False
    check: Callable[[Services, str, Any], None] = lambda svc, item_id, setup: None  # NotFound before any write


def _shown(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """A live record as its setup model: validated (normalised) when it passes today's rules, else shown as
    it is (a record made before the rules, or by the PMS sync, stays readable; writing it back validates)."""
    try:
        return model.model_validate(data)
    except ValidationError:
        return model.model_construct(**data)


# ------------------------------------------------------------------------------------------ vendors
def _profile(v: Vendor) -> dict[str, Any]:
    return {"name": v.name, "trades": v.trades, "service_areas": v.service_areas, "active": v.active,
            "phone": v.phone, "email": v.email, "language": v.language}


def _read_vendor(svc: Services, vendor_id: str) -> BaseModel | None:
    v = svc.repo.find_vendor(vendor_id)
    if v is None or v.in_house:
        return None
    return _shown(VendorSetup, _profile(v))


def _apply_vendor(svc: Services, vendor_id: str, setup: VendorSetup) -> None:
    """Update the vendor (its dispatch indexes follow, in put_vendor); a new id creates a vendor."""
    current = svc.repo.find_vendor(vendor_id)
    profile = setup.model_dump()
    vendor = current.model_copy(update=profile) if current else Vendor(id=vendor_id, **profile)
    svc.repo.put_vendor(Vendor.model_validate(vendor.model_dump()))


def _not_in_house(svc: Services, vendor_id: str, _setup: Any) -> None:
    current = svc.repo.find_vendor(vendor_id)
    if current is not None and current.in_house:
        raise InvalidInput(f"{vendor_id} is an in-house technician: change it under /ops/config/technicians.",
                           {"field": "id"})


# ------------------------------------------------------------------------------------------ technicians
def _read_technician(svc: Services, tech_id: str) -> BaseModel | None:
    v = svc.repo.find_vendor(tech_id)
    if v is None or not v.in_house:
        return None
    return _shown(TechnicianSetup, {**_profile(v), "working_hours": [s.model_dump() for s in v.working_hours],
                                    "time_zone": v.time_zone, "pms_vendor_id": v.pms_id})


def _apply_technician(svc: Services, tech_id: str, setup: TechnicianSetup) -> None:
    """The technician is a vendor record marked in-house (dispatch, links, notifications and invoicing read
    it as they read a vendor; its stats are kept as dispatch counts them)."""
    current = svc.repo.find_vendor(tech_id)
    profile = setup.model_dump()
    profile["pms_id"] = profile.pop("pms_vendor_id")
    profile.update(in_house=True, insurance=None)
    vendor = current.model_copy(update=profile) if current else Vendor(id=tech_id, **profile)
    svc.repo.put_vendor(Vendor.model_validate(vendor.model_dump()))


def _not_a_vendor(svc: Services, tech_id: str, _setup: Any) -> None:
    current = svc.repo.find_vendor(tech_id)
    if current is not None and not current.in_house:
        raise InvalidInput(f"{tech_id} is a vendor: change it under /ops/config/vendors.", {"field": "id"})


# ------------------------------------------------------------------------------------------ properties
def _contact(setup: ContactSetup | None) -> Contact | None:
    return Contact(**setup.model_dump()) if setup else None


def _read_property(svc: Services, prop_id: str) -> BaseModel | None:
    prop = svc.repo.find_property(prop_id)
    if prop is None:
        return None
    owner = (svc.repo.get_config(OWNERS) or {}).get(prop_id)
    limits = (svc.repo.get_config(APPROVAL_LIMITS) or {}).get(prop_id) or {}
    return _shown(PropertySetup, {
        "owner": _shown(ContactSetup, owner) if owner else None,
        "approval": _shown(ApprovalLimits, limits), "time_zone": prop.time_zone,
        "on_call": _shown(ContactSetup, prop.on_call.model_dump()) if prop.on_call else None})


def _apply_property(svc: Services, prop_id: str, setup: PropertySetup) -> None:
    prop = svc.repo.get_property(prop_id)
    svc.repo.put_property(prop.model_copy(update={"time_zone": setup.time_zone, "on_call": _contact(setup.on_call)}))
    svc.repo.put_config_entry(OWNERS, prop_id, setup.owner.model_dump() if setup.owner else None)
    limits = setup.approval.model_dump(mode="json", exclude_none=True)
    svc.repo.put_config_entry(APPROVAL_LIMITS, prop_id, limits or None)


def _property_exists(svc: Services, prop_id: str, _setup: Any) -> None:
    svc.repo.get_property(prop_id)  # properties come from the PMS; setup cannot invent one


def _unit_exists(svc: Services, _id: str, setup: AssetSetup | SensorSetup) -> None:
    svc.repo.get_unit(setup.unit_id)  # NotFound names the unit


# ------------------------------------------------------------------------------------------ single records
def _config_kind(name: str, model: type[BaseModel], config_name: str) -> Kind:
    def read(svc: Services, _id: str) -> BaseModel | None:
        value = svc.repo.get_config(config_name)
        return _shown(model, value) if value else None

    def apply(svc: Services, _id: str, setup: BaseModel) -> None:
        svc.repo.put_config(config_name, setup.model_dump(mode="json"))

    return Kind(name, model, read, apply, lambda svc: [SINGLETON] if svc.repo.get_config(config_name) else [],
                singleton=True)


# ------------------------------------------------------------------------------------------ assets, sensors
def _read_asset(svc: Services, asset_id: str) -> BaseModel | None:
    found = next((a for a in svc.repo.listed(ASSETS) if a.get("id") == asset_id), None)
    return _shown(AssetSetup, {k: v for k, v in found.items() if k in AssetSetup.model_fields}) if found else None


def _apply_asset(svc: Services, asset_id: str, setup: AssetSetup) -> None:
    from shared.services.preventive import Asset, put_asset

    put_asset(svc, Asset(id=asset_id, **setup.model_dump()))


def _read_sensor(svc: Services, sensor_id: str) -> BaseModel | None:
    record = svc.repo.get_record(f"SENSOR#{sensor_id}", "META")
    if record is None:
        return None
    return _shown(SensorSetup, {"unit_id": record.get("unit_id"), "location": record.get("location")})


def _apply_sensor(svc: Services, sensor_id: str, setup: SensorSetup) -> None:
    from shared.services.sensors import register_sensor

    register_sensor(svc, sensor_id, setup.unit_id, setup.location)


# ------------------------------------------------------------------------------------------ NTE overrides
def _read_nte(svc: Services, prop_id: str) -> BaseModel | None:
    amounts = (svc.repo.get_config(NTE_OVERRIDES) or {}).get(prop_id)
    return _shown(NteSetup, {"amounts": amounts}) if amounts else None


def _apply_nte(svc: Services, prop_id: str, setup: NteSetup) -> None:
    svc.repo.put_config_entry(NTE_OVERRIDES, prop_id, setup.model_dump(mode="json")["amounts"] or None)


# ------------------------------------------------------------------------------------------ on-call rotas
def _read_rota(svc: Services, rota_id: str) -> BaseModel | None:
    rota = (svc.repo.get_config(ON_CALL_ROTAS) or {}).get(rota_id)
    return _shown(OnCallRotaSetup, rota) if rota else None


def _apply_rota(svc: Services, rota_id: str, setup: OnCallRotaSetup) -> None:
    svc.repo.put_config_entry(ON_CALL_ROTAS, rota_id, setup.model_dump(mode="json"))


def _rota_owner_exists(svc: Services, rota_id: str, _setup: Any) -> None:
    if rota_id != PORTFOLIO:  # "default": the portfolio's rota; any other id is a property's
        svc.repo.get_property(rota_id)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("vendors", VendorSetup, _read_vendor, _apply_vendor, lambda svc: svc.repo.vendor_ids(),
         check=_not_in_house),
    Kind("technicians", TechnicianSetup, _read_technician, _apply_technician,
         lambda svc: svc.repo.technician_ids(), check=_not_a_vendor),
    Kind("properties", PropertySetup, _read_property, _apply_property, lambda svc: svc.repo.property_ids(),
         check=_property_exists),
    _config_kind("quiet-hours", QuietHoursSetup, QUIET_HOURS),
    _config_kind("ops-contact", ContactSetup, OPS_CONTACT),
    _config_kind("on-call", ContactSetup, ON_CALL),
    Kind("on-call-rotas", OnCallRotaSetup, _read_rota, _apply_rota,
         lambda svc: sorted(svc.repo.get_config(ON_CALL_ROTAS) or {}), check=_rota_owner_exists),
    Kind("assets", AssetSetup, _read_asset, _apply_asset,
         lambda svc: [a["id"] for a in svc.repo.listed(ASSETS) if a.get("id")], check=_unit_exists),
    Kind("sensors", SensorSetup, _read_sensor, _apply_sensor, lambda svc: [],  # listed through their setups
         check=_unit_exists),
    Kind("nte", NteSetup, _read_nte, _apply_nte, lambda svc: sorted(svc.repo.get_config(NTE_OVERRIDES) or {}),
         check=_property_exists),
)}


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(f"No kind of setup {name!r}.", {"kind": name, "allowed": sorted(KINDS)})
    return kind


def _check_id(kind: Kind, item_id: str) -> None:
    if kind.singleton and item_id != SINGLETON:
        raise InvalidInput(f"{kind.name} has one record: its id is {SINGLETON!r}.", {"field": "id"})
    if not item_id or len(item_id) > 128 or "#" in item_id:
        raise InvalidInput("An id is 1-128 characters without '#'.", {"field": "id"})


def _item(kind: Kind, item_id: str, value: BaseModel | None, record: dict[str, Any] | None) -> SetupItem:
    shown = value.model_dump(mode="json") if value is not None else (record or {}).get("value") or {}
    return SetupItem(kind=kind.name, id=item_id, version=record["version"] if record else 0, value=shown,
                     changed_by=record["by"] if record else None, changed_at=record["at"] if record else None)


def get(svc: Services, kind_name: str, item_id: str) -> SetupItem:
    kind = kind_of(kind_name)
    _check_id(kind, item_id)
    record = svc.repo.setup(kind.name, item_id)
    value = kind.read(svc, item_id)
    if value is None and record is None:
        raise NotFound(f"No {kind.name} setup {item_id!r}.", {"kind": kind.name, "id": item_id})
    return _item(kind, item_id, value, record)


def items(svc: Services, kind_name: str) -> list[SetupItem]:
    """Every record of a kind, in id order: the live ones and those changed through the API."""
    kind = kind_of(kind_name)
    records = {r["id"]: r for r in svc.repo.setups(kind.name)}
    found: list[SetupItem] = []
    for item_id in sorted(set(kind.ids(svc)) | set(records)):
        value = kind.read(svc, item_id)
        if value is not None or item_id in records:
            found.append(_item(kind, item_id, value, records.get(item_id)))
    return found


def change(svc: Services, kind_name: str, item_id: str, raw: Any, expected_version: int, by: str) -> SetupItem:
    """Validate (the value, then that the property or unit it names exists), record the new version (if
    `expected_version` is still current), then write the live records. The version is recorded first so a
    stale writer changes nothing. Writing the live records is idempotent: should it fail after the version
    was recorded, the same value sent again against the new version completes it."""
    kind = kind_of(kind_name)
    _check_id(kind, item_id)
    setup = kind.model.model_validate(raw)  # a pydantic ValidationError: 422 naming the field
    kind.check(svc, item_id, setup)
    record = svc.repo.save_setup(kind.name, item_id, setup.model_dump(mode="json"), expected_version, by,
                                 svc.clock().isoformat())
    kind.apply(svc, item_id, setup)
    count("SetupChanged")
    logger.info("setup changed", extra={"kind": kind.name, "id": item_id, "version": record["version"], "by": by})
    return _item(kind, item_id, setup, record)


def history(svc: Services, kind_name: str, item_id: str) -> list[SetupItem]:
    kind = kind_of(kind_name)
    _check_id(kind, item_id)
    return [SetupItem(kind=kind.name, id=item_id, version=r["version"], value=r["value"], changed_by=r["by"],
                      changed_at=r["at"]) for r in svc.repo.setup_history(kind.name, item_id)]


def export(svc: Services) -> dict[str, list[SetupItem]]:
    """The whole setup, every kind in name order, each in id order (stable, so the YAML diffs well)."""
    return {name: items(svc, name) for name in sorted(KINDS)}
