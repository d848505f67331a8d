"""The fire drill's records and its sink.

The drill (shared/drill_runner.py; `opslayer drill`, and daily the Drill function) plays work orders end to
end through the public API as a tenant and a vendor would. It works on records of its own, flagged
`drill`: a property, two units with a drill tenant each, two vendors, an in-house technician (whom ops
assign a job no vendor took), and an on-call rota of two levels (primary, secondary) with the shortest ack-by
a rota allows - all with drill addresses. A work order on a drill unit is a drill work order (`WorkOrder.drill`):

- every message for it, and every message to a drill address, goes to the *drill sink* (a TTL'd
  collection in the table, read through `GET /ops/drill/messages`) instead of SMS or email;
- it never reaches the PMS (the writer skips it, its bill is recorded as skipped);
- its events carry `drill: true` and it emits no lifecycle metrics, so KPIs can leave it out;
- drill vendors are offered drill work orders only, and drill work orders only drill vendors.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from shared.domain.compliance import VendorInsurance
from shared.domain.directory import Contact, Property, Shift, Unit, Vendor
from shared.domain.enums import Trade
from shared.domain.oncall import MIN_ACK_MINUTES, OnCallLevel, OnCallRota
from shared.observability import count

if TYPE_CHECKING:  # the container builds DrillRouting (Services.outbound): no import back at run time
    from shared.services.container import Services

# Drill addresses: no real message ever goes to them (the sink takes every message to one, whatever sends
# it). The phone numbers are in the fictional +1 555 range; `.invalid` is a reserved, undeliverable TLD.
DRILL_PHONE_PREFIX = "+1555099"
DRILL_EMAIL_DOMAIN = "drill.invalid"
SINK_TTL_SECONDS = 3 * 86400  # a day's drill and the next day's look back

DRILL_BILL_PREFIX = "drill-skipped-"  # a drill invoice's bill id: recorded as billed, nothing posted to the PMS
PROPERTY_ID = "drill-property"
SERVICE_AREA = "drill"
TECHNICIAN_ID = "drill-technician"
# The technician's own area: dispatch ranks in-house staff first, so in the drill's area the technician
# would be offered every drill job ahead of the vendors. Here only ops assign it a job (a reassign).
TECHNICIAN_AREA = "drill-in-house"
ON_CALL_ROTA = "on_call_rotas"  # the CONFIG item of rotas (shared/services/paging.py ROTAS: not imported, a cycle)


def is_drill_address(address: str) -> bool:
    return address.startswith(DRILL_PHONE_PREFIX) or address.lower().endswith("@" + DRILL_EMAIL_DOMAIN)


def _contact(name: str, number: int, mailbox: str) -> Contact:
    return Contact(name=name, phone=f"{DRILL_PHONE_PREFIX}{number:04d}", email=f"{mailbox}@{DRILL_EMAIL_DOMAIN}",
                   language="en")


def drill_records() -> tuple[Property, list[Unit], list[Vendor]]:
    """The drill's property, units and vendors (fixed ids: setting them up again changes nothing)."""
    prop = Property(id=PROPERTY_ID, name="Opslayer Drill House", address="1 Drill Lane (not a real address)",
                    service_area=SERVICE_AREA, on_call=_on_call_primary(), drill=True)
    units = [Unit(id=f"drill-unit-{label.lower()}", property_id=PROPERTY_ID, label=f"Drill {label}",
                  access_instructions="Drill unit: nobody lives here.",
                  tenant=_contact(f"Drill Tenant {label}", 10 + n, f"tenant-{label.lower()}"), drill=True)
             for n, label in enumerate(("A", "B"))]
    vendors = [Vendor(id=f"drill-vendor-{n}", name=f"Drill Vendor {n}", trades=list(Trade),
                      service_areas=[SERVICE_AREA], phone=f"{DRILL_PHONE_PREFIX}{20 + n:04d}",
                      email=f"vendor-{n}@{DRILL_EMAIL_DOMAIN}", language="en",
                      insurance=VendorInsurance(provider="Drill", policy_number=f"DRILL-{n}"), drill=True)
               for n in (1, 2)]
    return prop, units, vendors


def _on_call_primary() -> Contact:
    return _contact("Drill On-Call", 1, "oncall")


def drill_technician() -> Vendor:
    """The drill's in-house technician: every trade, on duty all week (two shifts a day: 00:00-12:00 and
    12:00-midnight, UTC), in an area of its own (`TECHNICIAN_AREA`)."""
    hours = [Shift(weekday=day, start=start, end=end) for day in range(7)
             for start, end in (("00:00", "12:00"), ("12:00", "00:00"))]
    return Vendor(id=TECHNICIAN_ID, name="Drill Technician", trades=list(Trade), service_areas=[TECHNICIAN_AREA],
                  phone=f"{DRILL_PHONE_PREFIX}0030", email=f"technician@{DRILL_EMAIL_DOMAIN}", language="en",
                  in_house=True, drill=True, working_hours=hours, time_zone="UTC")


def drill_rota() -> OnCallRota:
    """The drill property's on-call rota: the primary (the property's on-call contact) and a secondary, each
    with the shortest ack-by a rota may set (`MIN_ACK_MINUTES`: 1 min), so an unacknowledged page reaches the
    secondary within the drill's run."""
    return OnCallRota(levels=[
        OnCallLevel(contact=_on_call_primary(), label="primary", ack_within_minutes=MIN_ACK_MINUTES),
        OnCallLevel(contact=_contact("Drill On-Call Secondary", 2, "oncall-secondary"), label="secondary",
                    ack_within_minutes=MIN_ACK_MINUTES)])


def setup(svc: Services) -> dict[str, Any]:
    """Create the drill's records where missing (idempotent: an existing vendor or technician keeps its
    stats) and say what they are, with the sink position to read the drill's messages from (`messages_since`)."""
    prop, units, vendors = drill_records()
    technician, rota = drill_technician(), drill_rota()
    created: list[str] = []
    if svc.repo.find_property(prop.id) != prop:
        svc.repo.put_property(prop)
        created.append(prop.id)
    for unit in units:
        if svc.repo.find_unit(unit.id) != unit:
            svc.repo.put_unit(unit)
            tenant = unit.tenant or Contact(name="")
            if tenant.phone:  # a text or an email from the drill tenant finds its unit, as a real tenant's does
                svc.repo.index_tenant_phone(tenant.phone, unit.id)
            if tenant.email:
                svc.repo.index_tenant_email(tenant.email, unit.id)
            created.append(unit.id)
    for vendor in [*vendors, technician]:
        found = svc.repo.find_vendor(vendor.id)
        if found is None or found.model_copy(update={"stats": vendor.stats}) != vendor:
            svc.repo.put_vendor(vendor.model_copy(update={"stats": found.stats}) if found else vendor)
            created.append(vendor.id)
    rota_json = rota.model_dump(mode="json")
    if (svc.repo.get_config(ON_CALL_ROTA) or {}).get(PROPERTY_ID) != rota_json:
        svc.repo.put_config_entry(ON_CALL_ROTA, PROPERTY_ID, rota_json)
        created.append(f"on-call-rotas/{PROPERTY_ID}")
    return {"property": prop.model_dump(mode="json"), "units": [u.model_dump(mode="json") for u in units],
            "vendors": [v.model_dump(mode="json", exclude={"stats"}) for v in vendors],
            "technicians": [technician.model_dump(mode="json", exclude={"stats"})], "on_call_rota": rota_json,
            "changed": created, "messages_since": svc.clock().isoformat()}


def messages(svc: Services, since: str) -> list[dict[str, Any]]:
    """The sink's messages after `since` (a time, or the id of the last message read), oldest first."""
    return svc.repo.drill_messages(since)


class DrillRouting:
    """A MessengerPort (`svc.outbound(drill)`): a drill work order's messages (`drill`), and any message to
    a drill address, are kept in the drill sink; every other message goes out through `svc.messenger`."""

    def __init__(self, svc: Services, drill: bool = False) -> None:
        self.svc = svc
        self.drill = drill

    def sms(self, phone: str, body: str) -> str:
        if self.drill or is_drill_address(phone):
            return self._keep("sms", phone, "", body)
        return self.svc.messenger.sms(phone, body)

    def email(self, to: str, subject: str, body: str) -> str:
        if self.drill or is_drill_address(to):
            return self._keep("email", to, subject, body)
        return self.svc.messenger.email(to, subject, body)

    def _keep(self, channel: str, to: str, subject: str, body: str) -> str:
        message_id = uuid.uuid4().hex
        self.svc.repo.put_drill_message(self.svc.clock().isoformat(), message_id,
                                        {"channel": channel, "to": to, "subject": subject, "body": body},
                                        SINK_TTL_SECONDS)
        count("DrillSinkMessage")
        return f"drill-{message_id}"
