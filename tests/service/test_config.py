"""Setup through the API's use cases (shared/services/config.py) on the fakes: validated, optimistic,
versioned changes that the rest of the system then reads (dispatch, NTE, quiet hours, invoicing, notices)."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from shared.domain.errors import ConcurrentUpdate, InvalidInput, NotFound
from shared.services import config
from shared.services.container import Services
from shared.services.notifications import quiet_release
from shared.services.workorders import rank, triage
from tests.service.journeys import invoice, invoice_awaited, offer_to, submit

LEAK = "The bathroom faucet drips constantly"  # plumbing, routine
UNIT = "unit-maple-1a"  # Maple Court, service area north: AquaFix and Pipeline Pros serve it
OPS = "ops:key"


def _aqua(svc: Services, **changes: object) -> dict:
    return {**config.get(svc, "vendors", "ven-aqua").value, **changes}


def test_a_vendor_moved_out_of_an_area_is_no_longer_dispatched_there(svc: Services) -> None:
    svc.repo.bump_vendor_stat("ven-aqua", "completed")
    before = config.get(svc, "vendors", "ven-aqua")
    assert before.version == 0 and "north" in before.value["service_areas"]

    changed = config.change(svc, "vendors", "ven-aqua", _aqua(svc, service_areas=["south", "east"]), 0, by=OPS)
    assert (changed.version, changed.changed_by, changed.changed_at) == (1, OPS, svc.clock().isoformat())
    assert changed.value["service_areas"] == ["east", "south"]  # normalised: sorted, unique

    wo = submit(svc, UNIT, LEAK)
    triage(svc, wo.id)
    rank(svc, wo.id, reopen=False)
    assert svc.repo.get_work_order(wo.id).candidates == ["ven-pipeline"]
    assert "ven-aqua" in [v.id for v in svc.repo.vendors_for("plumbing", "south")]
    vendor = svc.repo.get_vendor("ven-aqua")
    assert vendor.stats.completed == 1  # what setup does not own (stats, insurance, PMS id) is kept


def test_every_change_is_a_version_with_who_and_when(svc: Services) -> None:
    config.change(svc, "vendors", "ven-aqua", _aqua(svc, language="es"), 0, by="ops:alice")
    svc.clock.advance(seconds=60)
    config.change(svc, "vendors", "ven-aqua", _aqua(svc, active=False), 1, by="ops:bob")

    versions = config.history(svc, "vendors", "ven-aqua")
    assert [(v.version, v.changed_by, v.value["language"], v.value["active"]) for v in versions] == [
        (1, "ops:alice", "es", True), (2, "ops:bob", "es", False)]
    assert versions[1].changed_at == svc.clock().isoformat()
    assert config.get(svc, "vendors", "ven-aqua").version == 2
    assert not svc.repo.get_vendor("ven-aqua").active


def test_a_stale_write_is_refused_and_changes_nothing(svc: Services) -> None:
    config.change(svc, "vendors", "ven-aqua", _aqua(svc, language="es"), 0, by="ops:alice")
    with pytest.raises(ConcurrentUpdate):
        config.change(svc, "vendors", "ven-aqua", _aqua(svc, service_areas=["west"]), 0, by="ops:bob")
    assert svc.repo.get_vendor("ven-aqua").service_areas != ["west"]
    assert [v.version for v in config.history(svc, "vendors", "ven-aqua")] == [1]


@pytest.mark.parametrize(("kind", "item_id", "value", "field"), [
    ("vendors", "ven-aqua", {"name": "A", "trades": ["plumbing"], "service_areas": []}, "service_areas"),
    ("vendors", "ven-aqua", {"name": "A", "trades": ["carpentry"], "service_areas": ["north"]}, "trades.0"),
    ("vendors", "ven-aqua", {"name": "A", "trades": ["plumbing"], "service_areas": ["n"], "fax": "1"}, "fax"),
    ("properties", "prop-maple", {"time_zone": "Mars/Olympus"}, "time_zone"),
    ("properties", "prop-maple", {"approval": {"auto_approve_up_to": -1}}, "approval.auto_approve_up_to"),
    ("quiet-hours", "default", {"start": "25:00"}, "start"),
    ("ops-contact", "default", {"name": "Ops", "phone": "555-0100"}, "phone"),
    ("nte", "prop-maple", {"amounts": {"plumbing": {"routine": 0}}}, "amounts"),
    ("nte", "prop-maple", {"amounts": {"plumbing": {"someday": 100}}}, "amounts.plumbing.someday.[key]"),
])
def test_an_invalid_setup_names_the_field_and_records_nothing(svc: Services, kind: str, item_id: str,
                                                               value: dict, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        config.change(svc, kind, item_id, value, 0, by=OPS)
    assert field in {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}
    assert config.history(svc, kind, item_id) == []


def test_unknown_kinds_ids_and_properties_are_refused(svc: Services) -> None:
    with pytest.raises(NotFound):
        config.get(svc, "owners", "prop-maple")
    with pytest.raises(InvalidInput):
        config.change(svc, "quiet-hours", "weekend", {"enabled": False}, 0, by=OPS)
    with pytest.raises(NotFound):
        config.change(svc, "properties", "prop-nowhere", {"time_zone": "America/Chicago"}, 0, by=OPS)
    with pytest.raises(NotFound):
        config.change(svc, "nte", "prop-nowhere", {"amounts": {"*": {"routine": 100}}}, 0, by=OPS)
    assert config.history(svc, "properties", "prop-nowhere") == config.history(svc, "nte", "prop-nowhere") == []
    with pytest.raises(NotFound):
        config.get(svc, "sensors", "never-registered")


def test_a_new_vendor_can_be_set_up(svc: Services) -> None:
    config.change(svc, "vendors", "ven-new", {"name": "New Plumbing", "trades": ["plumbing"],
                                              "service_areas": ["north"], "phone": "+15550209999"}, 0, by=OPS)
    assert "ven-new" in [v.id for v in svc.repo.vendors_for("plumbing", "north")]
    assert "ven-new" in [i.id for i in config.items(svc, "vendors")]


def test_property_setup_reaches_quiet_hours_owners_and_on_call(svc: Services) -> None:
    prop = svc.repo.get_property("prop-maple")
    local_now = svc.clock().astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    config.change(svc, "quiet-hours", "default", {"start": f"{local_now.hour:02d}:00",
                                                  "end": f"{(local_now.hour + 2) % 24:02d}:00"}, 0, by=OPS)
    wo = submit(svc, UNIT, LEAK)
    release = quiet_release(svc, wo, svc.repo.get_property(prop.id))
    assert isinstance(release, datetime) and release.hour == (local_now.hour + 2) % 24

    owner = {"name": "Maple Owner LLC", "email": "owner@maple.example.com"}
    config.change(svc, "properties", "prop-maple", {"owner": owner, "time_zone": "America/Los_Angeles",
                                                    "approval": {"owner_approval_over": "900.00"}}, 0, by=OPS)
    assert svc.repo.get_property("prop-maple").time_zone == "America/Los_Angeles"
    assert svc.repo.get_property("prop-maple").on_call is None  # unset in the new setup: the default on-call
    assert svc.repo.get_config("owners")["prop-maple"]["email"] == "owner@maple.example.com"
    assert svc.repo.get_config("owners")["prop-harbor"]  # other properties' owners are kept
    assert svc.repo.get_config("approval_limits")["prop-maple"] == {"owner_approval_over": "900.00"}
    shown = config.get(svc, "properties", "prop-maple")
    assert shown.version == 1 and shown.value["owner"]["name"] == "Maple Owner LLC"


def test_an_nte_override_sets_the_offer_amount(svc: Services) -> None:
    config.change(svc, "nte", "prop-maple", {"amounts": {"plumbing": {"routine": 12345}}}, 0, by=OPS)
    wo = submit(svc, UNIT, LEAK)
    decided = triage(svc, wo.id)
    rank(svc, wo.id, reopen=False)
    offer_to(svc, wo.id, 0, decided)
    assert svc.repo.get_work_order(wo.id).nte_cents == 12345


def test_sensors_and_assets(svc: Services) -> None:
    config.change(svc, "sensors", "leak-7", {"unit_id": UNIT, "location": "under the sink"}, 0, by=OPS)
    assert svc.repo.get_record("SENSOR#leak-7", "META") == {"PK": "SENSOR#leak-7", "SK": "META",
                                                            "unit_id": UNIT, "location": "under the sink"}
    asset = {**config.get(svc, "assets", "boiler-maple").value, "interval_days": 180}
    config.change(svc, "assets", "boiler-maple", asset, 0, by=OPS)
    from shared.services.preventive import assets

    assert next(a for a in assets(svc) if a.id == "boiler-maple").interval_days == 180
    with pytest.raises(NotFound):
        config.change(svc, "sensors", "leak-8", {"unit_id": "unit-nowhere", "location": "x"}, 0, by=OPS)
    assert config.history(svc, "sensors", "leak-8") == []  # refused before anything was written


def test_the_export_is_every_kind_in_a_stable_order(svc: Services) -> None:
    config.change(svc, "sensors", "leak-7", {"unit_id": UNIT, "location": "under the sink"}, 0, by=OPS)
    whole = config.export(svc)
    assert list(whole) == sorted(config.KINDS)
    assert [i.id for i in whole["vendors"]] == sorted(svc.repo.vendor_ids()) and len(whole["vendors"]) > 3
    assert [i.id for i in whole["properties"]] == ["prop-harbor", "prop-maple"]
    assert [i.id for i in whole["sensors"]] == ["leak-7"]
    assert whole["ops-contact"][0].value["name"]
    assert config.export(svc) == whole  # reading changes nothing


def test_a_property_owner_and_limits_route_its_invoices(svc: Services) -> None:
    from shared.services import invoicing

    # The job's NTE comes from the property's override, so a 590.00 invoice passes every check.
    config.change(svc, "nte", "prop-maple", {"amounts": {"plumbing": {"routine": 100000}}}, 0, by=OPS)
    config.change(svc, "properties", "prop-maple", {
        "owner": {"name": "Maple Owner LLC", "email": "owner@maple.example.com"},
        "approval": {"auto_approve_up_to": "300.00", "owner_approval_over": "550.00"}}, 0, by=OPS)
    job = invoice_awaited(svc, "unit-maple-2a")
    assert svc.repo.get_work_order(job.id).nte_cents == 100000
    inv = invoicing.submit_by_link(svc, job.vendor_token,
                                   invoice("BIG-9", on=svc.clock().date(), materials="420.00", tax="0"))
    invoicing.code_invoice(svc, job.id)
    coded = svc.repo.get_invoice(job.id, inv.id)
    assert coded.approval is not None and coded.approval.route == "owner"
    assert coded.approval.reason == "590.00 is over the owner-approval limit 550.00"
    assert coded.coding is not None and coded.coding.owner == "Maple Owner LLC"


# ---------------------------------------------------------------- in-house technicians
SAM = {"name": "Sam Rivera", "trades": ["plumbing"], "service_areas": ["north"], "phone": "+15550300001",
       "working_hours": [{"weekday": d, "start": "08:00", "end": "17:00"} for d in range(5)],
       "time_zone": "America/Chicago", "pms_vendor_id": "9001"}


def test_a_technician_is_set_up_listed_apart_from_vendors_and_dispatched(svc: Services) -> None:
    made = config.change(svc, "technicians", "tech-sam", SAM, 0, by=OPS)

    assert made.version == 1 and made.value["working_hours"][0] == {"weekday": 0, "start": "08:00", "end": "17:00"}
    assert config.get(svc, "technicians", "tech-sam").value["pms_vendor_id"] == "9001"
    assert [i.id for i in config.items(svc, "technicians")] == ["tech-sam"]
    assert "tech-sam" not in [i.id for i in config.items(svc, "vendors")]
    assert "technicians" in config.export(svc)
    stored = svc.repo.get_vendor("tech-sam")
    assert stored.in_house and stored.pms_id == "9001" and stored.insurance is None
    wo = submit(svc, UNIT, LEAK)
    triage(svc, wo.id)
    rank(svc, wo.id, reopen=False)
    assert "tech-sam" in svc.repo.get_work_order(wo.id).candidates


def test_technician_setup_is_validated_and_kinds_do_not_mix(svc: Services) -> None:
    for bad in ({**SAM, "working_hours": [{"weekday": 7, "start": "08:00", "end": "17:00"}]},
                {**SAM, "working_hours": [{"weekday": 1, "start": "8am", "end": "17:00"}]},
                {**SAM, "time_zone": "Mars/Olympus"}, {**SAM, "insurance": None}):
        with pytest.raises(ValidationError):
            config.change(svc, "technicians", "tech-sam", bad, 0, by=OPS)
    with pytest.raises(InvalidInput):  # a vendor cannot be rewritten as staff ...
        config.change(svc, "technicians", "ven-aqua", SAM, 0, by=OPS)
    config.change(svc, "technicians", "tech-sam", SAM, 0, by=OPS)
    vendor_profile = {k: v for k, v in SAM.items() if k not in ("working_hours", "time_zone", "pms_vendor_id")}
    with pytest.raises(InvalidInput):  # ... nor staff as a vendor
        config.change(svc, "vendors", "tech-sam", vendor_profile, 0, by=OPS)
    assert svc.repo.get_vendor("tech-sam").in_house and not svc.repo.get_vendor("ven-aqua").in_house
