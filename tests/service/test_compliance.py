"""Vendor compliance as use cases on in-memory fakes: the PMS's vendor insurance synced onto the vendor,
dispatch skipping a vendor whose insurance expired (the reason in the ranking record), and the daily check
warning the vendor (in their language) and ops once per vendor and expiry date - not after a renewal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.domain.compliance import VendorInsurance
from shared.pms.models import EntityKind, Operation, PmsEvent, PmsVendor, PmsVendorCategory, PmsVendorInsurance
from shared.services import pms_sync
from shared.services.compliance import INSURANCE_EXPIRING, check_insurance, warn_insurance_expiring
from shared.services.container import Services
from shared.services.workorders import rank, start_lifecycle, triage
from tests.fakes import InMemoryPms
from tests.service.journeys import fake_pms, submit

LEAK = "The bathroom faucet drips constantly"  # plumbing, routine
UNIT = "unit-maple-1a"  # Maple Court (north): AquaFix is its preferred plumber, Pipeline Pros the other one
OPS_PHONE, OPS_EMAIL = "+15550100009", "ops@opslayer.example.com"


def set_insurance(svc: Services, vendor_id: str, expires_on: date | None, **changes: object) -> None:
    vendor = svc.repo.get_vendor(vendor_id)
    insurance = None if expires_on is None else VendorInsurance(provider="Bay State Casualty",
                                                                policy_number="GL-88213", expires_on=expires_on)
    svc.repo.put_vendor(vendor.model_copy(update={"insurance": insurance, **changes}))


def ranked_job(svc: Services) -> tuple[list[str], str]:
    """A plumbing job at Maple Court, ranked: (candidates, the ranking record's detail)."""
    wo = submit(svc, UNIT, LEAK)
    start_lifecycle(svc, wo.id)
    triage(svc, wo.id)
    rank(svc, wo.id, reopen=False)
    ranked = svc.repo.get_work_order(wo.id, with_timeline=True)
    [record] = [e for e in ranked.timeline if e.event == "vendors_ranked"]
    return ranked.candidates, record.detail


def deliver_warnings(svc: Services) -> int:
    """The notification consumer on the published insurance events (EventBridge rule -> SQS -> function)."""
    return sum(warn_insurance_expiring(svc, d) for d in svc.events.of_type(INSURANCE_EXPIRING))


# ---------------------------------------------------------------- sync
@pytest.fixture
def pms(svc: Services) -> InMemoryPms:
    found = fake_pms(svc)
    found.add(EntityKind.VENDOR_CATEGORY, PmsVendorCategory(pms_id="41", name="Plumbing"))
    found.add(EntityKind.VENDOR, PmsVendor(pms_id="51", name="Elm Plumbing", category_pms_id="41",
                                           insurance=PmsVendorInsurance(provider="Bay State Casualty",
                                                                        policy_number="GL-1",
                                                                        expires_on=date(2026, 11, 30))))
    return found


def test_the_sync_stores_the_vendors_insurance_and_follows_renewals_in_order(svc: Services,
                                                                              pms: InMemoryPms) -> None:
    def applied(at_minutes: int) -> str:
        return pms_sync.apply_event(svc, pms, PmsEvent(
            pms="fake", name="Vendor.Updated", kind=EntityKind.VENDOR, operation=Operation.UPDATED, pms_id="51",
            occurred_at=svc.clock() + timedelta(minutes=at_minutes), account_id="1001"))

    pms_sync.reconcile(svc, pms)
    vendor = svc.repo.get_vendor("ven-b51")
    assert vendor.insurance == VendorInsurance(provider="Bay State Casualty", policy_number="GL-1",
                                               expires_on=date(2026, 11, 30))
    assert svc.repo.vendors_insured_until(date(2026, 11, 30), date(2026, 11, 30)) == ["ven-b51"]

    pms.add(EntityKind.VENDOR, pms.get(EntityKind.VENDOR, "51").model_copy(update={  # type: ignore[union-attr]
        "insurance": PmsVendorInsurance(provider="Bay State Casualty", policy_number="GL-2",
                                        expires_on=date(2027, 11, 30))}))
    assert applied(5) == "upserted"
    assert applied(5) == "upserted"  # a duplicate delivery changes nothing
    assert applied(1) == "stale"  # an older event is not applied over the renewal
    renewed = svc.repo.get_vendor("ven-b51")
    assert renewed.insurance is not None
    assert (renewed.insurance.policy_number, renewed.insurance.expires_on) == ("GL-2", date(2027, 11, 30))
    assert svc.repo.vendors_insured_until(date(2026, 11, 1), date(2026, 12, 31)) == []  # the old date is gone

    pms.add(EntityKind.VENDOR, pms.get(EntityKind.VENDOR, "51").model_copy(update={"insurance": None}))  # type: ignore[union-attr]
    assert applied(10) == "upserted"
    assert svc.repo.get_vendor("ven-b51").insurance is None  # removed in the PMS: removed here


# ---------------------------------------------------------------- dispatch
def test_a_vendor_whose_insurance_expired_is_skipped_and_the_ranking_says_why(svc: Services) -> None:
    today = svc.clock().date()
    set_insurance(svc, "ven-aqua", today - timedelta(days=1))  # the property's preferred plumber
    candidates, record = ranked_job(svc)
    assert candidates == ["ven-pipeline"]
    assert record == (f"1 candidate vendor(s); skipped: AquaFix Plumbing "
                      f"(insurance expired {(today - timedelta(days=1)).isoformat()})")


def test_insurance_expiring_today_still_covers_todays_job(svc: Services) -> None:
    set_insurance(svc, "ven-aqua", svc.clock().date())
    candidates, record = ranked_job(svc)
    assert candidates == ["ven-aqua", "ven-pipeline"] and record == "2 candidate vendor(s)"


def test_a_vendor_without_insurance_on_file_is_offered_with_a_note(svc: Services) -> None:
    set_insurance(svc, "ven-pipeline", None)
    candidates, record = ranked_job(svc)
    assert candidates == ["ven-aqua", "ven-pipeline"]
    assert record == "2 candidate vendor(s); note: Pipeline Pros (no insurance on file)"


# ---------------------------------------------------------------- warnings
def test_the_daily_check_warns_vendor_and_ops_once_per_expiry_date(svc: Services) -> None:
    expires = svc.clock().date() + timedelta(days=30)
    set_insurance(svc, "ven-aqua", expires)
    set_insurance(svc, "ven-volt", expires + timedelta(days=1))  # beyond the lead time: not yet
    set_insurance(svc, "ven-breeze", expires, language="es")
    set_insurance(svc, "ven-keys", expires - timedelta(days=3), active=False)  # not dispatched anyway

    assert sorted(check_insurance(svc)) == ["ven-aqua", "ven-breeze"]
    assert svc.events.of_type(INSURANCE_EXPIRING)[0] == {
        "vendor_id": "ven-aqua", "expires_on": expires.isoformat(),
        "event_key": f"insurance:ven-aqua:{expires.isoformat()}"}
    assert deliver_warnings(svc) == 8  # SMS and email, to each vendor and to ops
    aqua = svc.repo.get_vendor("ven-aqua")
    [sms] = svc.messenger.sms_to(aqua.phone)
    assert f"expires on {expires.isoformat()}, in 30 day(s)" in sms.body and "GL-88213" in sms.body
    [email] = svc.messenger.sent_to(aqua.email or "")
    assert email.subject == f"Your insurance on file expires on {expires.isoformat()}"
    [spanish] = svc.messenger.sms_to(svc.repo.get_vendor("ven-breeze").phone)
    assert spanish.body.startswith("Hola Breeze HVAC") and "vence el" in spanish.body
    assert sorted(m.subject for m in svc.messenger.sent_to(OPS_EMAIL)) == [
        f"Vendor insurance expiring: AquaFix Plumbing on {expires.isoformat()}",
        f"Vendor insurance expiring: Breeze HVAC on {expires.isoformat()}"]
    assert len(svc.messenger.sms_to(OPS_PHONE)) == 2

    # The next days' checks, and a redelivered event, warn nobody again.
    svc.messenger.clear()
    daily = []
    for _ in range(3):
        svc.clock.advance(days=1)
        daily.append(check_insurance(svc))
    assert daily == [["ven-volt"], [], []]  # Volt comes within the lead time on the first day
    assert deliver_warnings(svc) == 2 * 2  # only Volt's, once (the earlier events are redelivered: no resend)
    assert {m.to for m in svc.messenger.sent} == {svc.repo.get_vendor("ven-volt").phone,
                                                 svc.repo.get_vendor("ven-volt").email, OPS_PHONE, OPS_EMAIL}


def test_a_renewal_clears_the_warning_and_the_new_date_is_warned_about_in_its_time(svc: Services) -> None:
    expires = svc.clock().date() + timedelta(days=10)
    set_insurance(svc, "ven-aqua", expires)
    assert check_insurance(svc) == ["ven-aqua"]
    # Renewed (synced from the PMS) before the warning went out: nothing is sent for the old date.
    renewed = expires + timedelta(days=180)
    set_insurance(svc, "ven-aqua", renewed)
    assert deliver_warnings(svc) == 0 and svc.messenger.sent == []
    svc.events.clear()
    assert check_insurance(svc) == []
    svc.clock.advance(days=180 + 10 - 30)
    assert check_insurance(svc) == ["ven-aqua"]  # the renewed policy's own warning, 30 days ahead
    assert deliver_warnings(svc) == 4


def test_a_warning_that_could_not_be_announced_is_tried_again_by_the_next_check(svc: Services) -> None:
    set_insurance(svc, "ven-aqua", svc.clock().date() + timedelta(days=5))

    def unavailable(detail_type: str, detail: dict[str, object]) -> None:
        raise RuntimeError("EventBridge unavailable")

    publish = svc.events.publish
    svc.events.publish = unavailable  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        check_insurance(svc)
    svc.events.publish = publish  # type: ignore[method-assign]
    assert check_insurance(svc) == ["ven-aqua"]
