"""The redaction rules: what a redacted work order keeps (everything the KPIs read) and loses."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain import privacy
from shared.domain.directory import Contact
from shared.domain.photos import Photo
from shared.domain.workorder import Status, WorkOrder

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _wo(**fields) -> WorkOrder:
    base = dict(id="wo-1", property_id="p", unit_id="u", status=Status.CLOSED, trade="plumbing",
                priority="routine", nte_cents=25000,
                tenant=Contact(name="Ana Lopez", phone="+15550100010", email="ana@x.example", language="es"),
                description="Leak under sink, call me at (555) 010-0010 or ana@x.example",
                availability="after 5pm, ring 555.010.0010", pets="a dog named Rex",
                completion_notes="told ana@x.example",
                photos=[Photo(key="photos/wo-1/t/1.jpg", upload_key="uploads/wo-1/t/1", party="tenant",
                              content_type="image/jpeg", size=10, uploaded_at=NOW)],
                created_at=NOW - timedelta(days=400), updated_at=NOW - timedelta(days=380))
    return WorkOrder.model_validate({**base, **fields})


def test_redacted_drops_contact_and_contact_details_in_text_but_keeps_the_numbers() -> None:
    wo = _wo()
    out = privacy.redacted(wo)
    assert out.tenant == Contact(name=privacy.REDACTED, language="es")
    assert out.description == f"Leak under sink, call me at {privacy.REDACTED} or {privacy.REDACTED}"
    assert "555" not in out.availability and out.pets == privacy.REDACTED
    assert out.completion_notes == f"told {privacy.REDACTED}" and out.photos == []
    keep = {"id", "status", "trade", "priority", "nte_cents", "created_at", "updated_at", "property_id", "unit_id",
            "version"}
    assert {k: getattr(out, k) for k in keep} == {k: getattr(wo, k) for k in keep}
    assert privacy.is_redacted(out) and not privacy.is_redacted(wo)
    assert privacy.redacted(out) == out  # idempotent


def test_the_tenants_words_go_from_the_timeline_and_contact_details_from_the_rest() -> None:
    assert privacy.redact_detail("tenant", "Tenant confirmed the fix: thanks, Ana") == privacy.REDACTED
    assert privacy.redact_detail("vendor:v1", "Work completed: called 555-010-0010") == \
        f"Work completed: called {privacy.REDACTED}"
    assert privacy.redact_detail("system", "Offered to AquaFix") == "Offered to AquaFix"
    assert privacy.redact_detail("tenant", "") == ""


def test_the_rating_stays_without_its_comment() -> None:
    from shared.domain.satisfaction import Satisfaction

    rated = _wo(satisfaction=Satisfaction(rating=4, comment="Ana here, great", channel="sms", at=NOW))
    assert privacy.redacted(rated).satisfaction == Satisfaction(rating=4, channel="sms", at=NOW)


def test_redact_text_keeps_ordinary_numbers() -> None:
    assert privacy.redact_text("Unit 12, 3 outlets, since 2024") == "Unit 12, 3 outlets, since 2024"
    assert privacy.redact_text(None) is None


@pytest.mark.parametrize(("value", "expected"), [
    (" Ana@X.Example ", ("email", "ana@x.example")), ("+1 (555) 010-0010", ("phone", "+15550100010")),
    ("+15550100010", ("phone", "+15550100010")), ("555-010-0010", ("phone", "+15550100010"))])
def test_normalize_contact(value: str, expected: tuple[str, str]) -> None:
    assert privacy.normalize_contact(value) == expected


def test_normalize_contact_refuses_what_is_neither() -> None:
    with pytest.raises(ValueError):
        privacy.normalize_contact("12")


def test_person_hash_is_stable_and_not_the_value() -> None:
    assert privacy.person_hash("+15550100010") == privacy.person_hash("+15550100010")
    assert "5550100010" not in privacy.person_hash("+15550100010")


def test_due_only_when_ended_old_enough_and_not_redacted() -> None:
    assert privacy.due_for_redaction(_wo(), NOW, 365)
    assert not privacy.due_for_redaction(_wo(), NOW, 400)  # not old enough
    assert not privacy.due_for_redaction(_wo(status=Status.BILLED), NOW, 365)  # not ended
    assert not privacy.due_for_redaction(privacy.redacted(_wo()), NOW, 365)


def test_contact_matches_phone_in_any_format_and_email_in_any_case() -> None:
    wo = _wo(tenant=Contact(name="A", phone="+1 555 010 0010", email="Ana@X.example"))
    assert privacy.contact_matches(wo, "phone", "+15550100010")
    assert privacy.contact_matches(wo, "email", "ana@x.example")
    assert not privacy.contact_matches(wo, "email", "ben@x.example")
