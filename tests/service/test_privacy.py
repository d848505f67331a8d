"""Personal data with an end: the retention sweep, a person's export and erasure (on the fakes)."""

from __future__ import annotations

from shared.domain import kpis as kpi_rules
from shared.domain import privacy
from shared.domain.photos import Photo
from shared.domain.satisfaction import tenant_key
from shared.domain.workorder import TimelineEntry, WorkOrder
from shared.services.container import Services
from shared.services.privacy import erase_person, export_person, sweep_personal_data
from shared.services.steering import audit_log
from shared.services.workorders import cancel
from tests.service.journeys import LEAK, submit

ANA_UNIT, ANA_PHONE, ANA_EMAIL = "unit-maple-1a", "+15550100010", "ana@tenant.example.com"
BEN_UNIT = "unit-maple-1b"


def _cancelled(svc: Services, unit_id: str, phone: str | None = None, email: str | None = None,
               description: str = LEAK + "; call me on 555-010-0010") -> WorkOrder:
    wo = submit(svc, unit_id, description, phone=phone, email=email, availability="mornings")
    return cancel(svc, wo.id, "tenant fixed it")


def _with_photo(svc: Services, wo: WorkOrder) -> WorkOrder:
    """A checked photo on the work order and its object in the photo bucket."""
    key, upload = f"photos/{wo.id}/tenant/1.jpg", f"uploads/{wo.id}/tenant/1"
    svc.photo_store().put(key, b"\xff\xd8\xff", "image/jpeg")
    photo = Photo(key=key, upload_key=upload, party="tenant", content_type="image/jpeg", size=3,
                  uploaded_at=svc.clock())
    current = svc.repo.get_work_order(wo.id)
    return svc.repo.save(current.model_copy(update={"photos": [photo]}), current.version)


def _facts(svc: Services, wo_id: str) -> dict:
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    return kpi_rules.facts(wo, svc.repo.invoices_for(wo_id), None, svc.repo.status_views(wo_id))


def test_sweep_redacts_only_what_ended_long_enough_ago(svc: Services) -> None:
    old = _with_photo(svc, _cancelled(svc, ANA_UNIT, phone=ANA_PHONE))
    svc.clock.advance(days=svc.settings.personal_data_retention_days - 10)
    recent = _cancelled(svc, BEN_UNIT, phone="+15550100011")
    open_one = submit(svc, BEN_UNIT, LEAK, phone="+15550100011")
    svc.repo.add_timeline(old.id, TimelineEntry(at=svc.clock(), event="tenant_reply", detail="I'm Ana, flat 1A",
                                                actor="tenant"))
    svc.clock.advance(days=11)
    before = _facts(svc, old.id)

    assert sweep_personal_data(svc) == [old.id]

    done = svc.repo.get_work_order(old.id, with_timeline=True)
    assert privacy.is_redacted(done) and "555" not in done.description and done.photos == []
    assert done.timeline[-1].event == "redacted"
    assert {e.detail for e in done.timeline if e.actor == "tenant"} == {privacy.REDACTED}
    assert "Ana" not in str([e.detail for e in done.timeline])
    assert "555" not in str([e.detail for e in done.timeline])
    assert svc.photo_store().size(old.photos[0].key) is None
    assert _facts(svc, old.id) == before  # the KPIs do not change
    assert not privacy.is_redacted(svc.repo.get_work_order(recent.id))
    assert not privacy.is_redacted(svc.repo.get_work_order(open_one.id))
    assert sweep_personal_data(svc) == []  # idempotent: nothing more, no second timeline entry
    entries = svc.repo.get_work_order(old.id, with_timeline=True).timeline
    assert [e.event for e in entries].count("redacted") == 1


def test_export_finds_the_persons_work_orders_photos_and_surveys(svc: Services) -> None:
    mine = _with_photo(svc, _cancelled(svc, ANA_UNIT, phone=ANA_PHONE, email=ANA_EMAIL))
    open_one = submit(svc, ANA_UNIT, LEAK, phone=ANA_PHONE)
    someone_else = submit(svc, BEN_UNIT, LEAK, phone="+15550100011")
    key = tenant_key(ANA_UNIT, ANA_PHONE, None)
    svc.repo.claim_survey(key, "2026Q2", {"asked_at": svc.clock().isoformat(), "channel": "sms"})
    svc.repo.note_question(key, svc.clock().isoformat())

    found = export_person(svc, "+1 (555) 010-0010", actor="ops@example.com")

    assert {w["id"] for w in found["work_orders"]} == {mine.id, open_one.id}
    assert someone_else.id not in {w["id"] for w in found["work_orders"]}
    assert all(w["timeline"] for w in found["work_orders"])
    assert found["photos"] == [mine.photos[0].key, mine.photos[0].upload_key]
    assert {s["record"] for s in found["surveys"]} == {"NPS#2026Q2", "LAST"}
    assert found["sms_opted_out"] is False and found["units"] == [ANA_UNIT]
    by_email = export_person(svc, "ANA@tenant.example.com", actor="ops@example.com")
    assert {w["id"] for w in by_email["work_orders"]} == {mine.id, open_one.id}  # the unit's email filled in
    assert {s["record"] for s in by_email["surveys"]} == {"NPS#2026Q2", "LAST"}  # keyed by the phone they have
    audit = audit_log(svc)
    assert {(a["action"], a["target"]) for a in audit} == {("person_exported", privacy.person_hash(ANA_EMAIL)),
                                                            ("person_exported", privacy.person_hash(ANA_PHONE))}
    assert ANA_PHONE not in str(audit) and ANA_EMAIL not in str(audit)


def test_erase_redacts_now_deletes_photos_and_surveys_and_keeps_the_kpis(svc: Services) -> None:
    mine = _with_photo(svc, _cancelled(svc, ANA_UNIT, phone=ANA_PHONE))
    other = submit(svc, BEN_UNIT, LEAK, phone="+15550100011")
    key = tenant_key(ANA_UNIT, ANA_PHONE, None)
    svc.repo.claim_survey(key, "2026Q2", {"asked_at": svc.clock().isoformat(), "channel": "sms"})
    svc.repo.note_nps_due("2026Q2", key, {"unit_id": ANA_UNIT})
    before = _facts(svc, mine.id)

    result = erase_person(svc, ANA_PHONE, actor="ops@example.com")

    assert result["redacted"] == [mine.id] and result["survey_records_deleted"] == 2
    assert privacy.is_redacted(svc.repo.get_work_order(mine.id))
    assert svc.photo_store().size(mine.photos[0].key) is None
    assert svc.repo.tenant_surveys(key) == [] and svc.repo.nps_due("2026Q2") == []
    assert _facts(svc, mine.id) == before
    assert not privacy.is_redacted(svc.repo.get_work_order(other.id))
    assert [a["action"] for a in audit_log(svc)] == ["person_erased"] and ANA_PHONE not in str(audit_log(svc))
    # Afterwards nothing is found about them, and a second erasure changes nothing.
    assert export_person(svc, ANA_PHONE, actor="ops")["work_orders"] == []
    assert erase_person(svc, ANA_PHONE, actor="ops")["redacted"] == []


def test_a_contact_on_no_unit_is_found_through_the_person_index_and_erased(svc: Services) -> None:
    """Someone who is not (or no longer) a unit's tenant contact: a roommate, a tenant who moved out."""
    roommate = "+15550109999"
    assert svc.repo.units_for_phone(roommate) == []
    wo = _cancelled(svc, ANA_UNIT, phone=roommate, email="roomie@example.com")

    assert [w["id"] for w in export_person(svc, roommate, actor="ops")["work_orders"]] == [wo.id]
    assert [w["id"] for w in export_person(svc, "roomie@example.com", actor="ops")["work_orders"]] == [wo.id]
    assert erase_person(svc, roommate, actor="ops")["redacted"] == [wo.id]
    assert svc.repo.person_work_orders(privacy.person_hash(roommate)) == []
    assert export_person(svc, roommate, actor="ops")["work_orders"] == []
