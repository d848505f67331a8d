"""What ops configure (the /ops/config API and `opslayer config import`): one model per kind of setup,
strict (an unknown field is an error, not silently dropped) so a typo in a YAML file is caught. Pure."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator

from shared.domain.enums import Priority, Trade
from shared.domain.model import Model
from shared.domain.nte import ANY_TRADE
from shared.domain.oncall import DEFAULT_ACK_MINUTES, MAX_ACK_MINUTES, MIN_ACK_MINUTES

Language = Literal["en", "es"]
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
E164 = r"^\+[1-9]\d{6,14}$"
SINGLETON = "default"  # the id of a kind with one record (quiet hours, the ops contact, the default on-call)


class Strict(Model):
    model_config = ConfigDict(extra="forbid")


def known_zone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. America/New_York)") from exc
    return name


class ContactSetup(Strict):
    name: str = Field(min_length=1)
    phone: str | None = Field(default=None, pattern=E164)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: Language | None = None


class VendorSetup(Strict):
    """A vendor's dispatch profile: what dispatch matches on (trades x service areas, active) and how the
    vendor is reached. Stats, insurance and the PMS id stay as the PMS sync and dispatch keep them."""

    name: str = Field(min_length=1)
    trades: list[Trade] = Field(min_length=1)
    service_areas: list[str] = Field(min_length=1)  # "*": any area
    active: bool = True
    phone: str | None = Field(default=None, pattern=E164)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: Language | None = None

    @field_validator("service_areas")
    @classmethod
    def _areas(cls, areas: list[str]) -> list[str]:
        cleaned = sorted({a.strip() for a in areas})
        if "" in cleaned:
            raise ValueError("a service area cannot be blank")
        return cleaned

    @field_validator("trades")
    @classmethod
    def _trades(cls, trades: list[Trade]) -> list[Trade]:
        return sorted(set(trades), key=lambda t: t.value)


class ShiftSetup(Strict):
    """Working hours on one weekday (0 = Monday .. 6 = Sunday), local "HH:MM"; an end before the start
    runs past midnight."""

    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=HHMM)
    end: str = Field(pattern=HHMM)


class TechnicianSetup(VendorSetup):
    """An in-house technician (staff): matched by trades x service areas like a vendor, offered the job
    by the same signed links (no insurance check), for an emergency only while on duty (working hours in
    their time zone). `pms_vendor_id`: the PMS vendor record their internal invoices are billed to."""

    working_hours: list[ShiftSetup] = Field(default_factory=list)
    time_zone: str | None = None  # default: the property's, then the deployment's
    pms_vendor_id: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        return known_zone(name)


class ApprovalLimits(Strict):
    """Invoice amounts for the property (else the invoice rules' defaults): up to `auto_approve_up_to` a
    clean invoice is approved automatically; over `owner_approval_over` the owner approves, not ops."""

    auto_approve_up_to: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    owner_approval_over: Decimal | None = Field(default=None, ge=0, decimal_places=2)


class PropertySetup(Strict):
    owner: ContactSetup | None = None  # approves invoices over the owner limit
    approval: ApprovalLimits = Field(default_factory=ApprovalLimits)
    time_zone: str | None = None  # for quiet hours; unset: the quiet-hours setup's, then the deployment's
    on_call: ContactSetup | None = None  # one contact (a one-level rota) when the property has no on-call rota

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        return known_zone(name)


class OnCallLevelSetup(Strict):
    """One level of an on-call rota: who is paged, as what, and how long they have to acknowledge."""

    contact: ContactSetup
    label: str = Field(default="primary", min_length=1, max_length=40)  # primary, secondary, manager ...
    ack_within_minutes: int = Field(default=DEFAULT_ACK_MINUTES, ge=MIN_ACK_MINUTES, le=MAX_ACK_MINUTES)

    @field_validator("contact")
    @classmethod
    def _reachable(cls, contact: ContactSetup) -> ContactSetup:
        if not (contact.phone or contact.email):
            raise ValueError("an on-call contact needs a phone or an email to be paged")
        return contact


class OnCallRotaSetup(Strict):
    """An emergency's on-call chain for a property (id: the property) or the portfolio (id "default"): the
    levels are paged in order until one acknowledges."""

    levels: list[OnCallLevelSetup] = Field(min_length=1, max_length=10)


class QuietHoursSetup(Strict):
    enabled: bool = True
    start: str | None = Field(default=None, pattern=HHMM)  # unset: the deployment's QuietHoursStart
    end: str | None = Field(default=None, pattern=HHMM)
    time_zone: str | None = None  # for properties without their own

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        return known_zone(name)


class SensorSetup(Strict):
    unit_id: str = Field(min_length=1)
    location: str = Field(min_length=1)


class NteSetup(Strict):
    """A property's not-to-exceed overrides: trade (or "*" for any trade) -> priority -> integer cents."""

    amounts: dict[str, dict[Priority, int]]

    @field_validator("amounts")
    @classmethod
    def _amounts(cls, amounts: dict[str, dict[Priority, int]]) -> dict[str, dict[Priority, int]]:
        trades = {t.value for t in Trade} | {ANY_TRADE}
        for trade, table in amounts.items():
            if trade not in trades:
                raise ValueError(f"{trade!r} is not a trade (or {ANY_TRADE!r})")
            if any(cents <= 0 for cents in table.values()):
                raise ValueError(f"amounts for {trade} must be positive integer cents")
        return amounts
