"""Vendor compliance as pure rules: insurance standing on a job's date, the ranking's skipped vendors and
notes, the warning window, and the rules file."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.compliance import (
    InsuranceRules,
    VendorInsurance,
    due_warning,
    insurance_standing,
    rules,
    warning_window,
)
from shared.domain.directory import Property, Vendor, rank_vendors
from shared.domain.enums import Trade

ALLOW = InsuranceRules(without_insurance="allow", warning_lead_days=30)
SKIP = InsuranceRules(without_insurance="skip", warning_lead_days=30)


def insured(until: date | None) -> VendorInsurance:
    return VendorInsurance(provider="Midwest Mutual", policy_number="GL-1", expires_on=until)


@pytest.mark.parametrize(("until", "on", "allowed", "reason"), [
    (date(2026, 11, 30), date(2026, 11, 29), True, None),
    (date(2026, 11, 30), date(2026, 11, 30), True, None),  # covered through its expiration day
    (date(2026, 11, 30), date(2026, 12, 1), False, "insurance expired 2026-11-30"),
    (None, date(2040, 1, 1), True, None),  # the PMS's "no expiration"
])
def test_insurance_covers_through_its_expiration_date(until: date | None, on: date, allowed: bool,
                                                      reason: str | None) -> None:
    standing = insurance_standing(insured(until), on, ALLOW)
    assert (standing.allowed, standing.reason) == (allowed, reason)


def test_no_insurance_on_file_is_allowed_with_a_note_or_skipped_as_configured() -> None:
    assert insurance_standing(None, date(2026, 12, 3), ALLOW).model_dump() == {
        "allowed": True, "reason": "no insurance on file"}
    assert insurance_standing(None, date(2026, 12, 3), SKIP).model_dump() == {
        "allowed": False, "reason": "no insurance on file"}


def test_the_ranking_skips_expired_vendors_and_says_why() -> None:
    prop = Property(id="p1", name="P", address="1 Main", service_area="north",
                    preferred_vendors={"plumbing": ["lapsed"]})

    def vendor(vid: str, insurance: VendorInsurance | None, trade: str = "plumbing") -> Vendor:
        return Vendor(id=vid, name=vid.title(), trades=[trade], service_areas=["north"], insurance=insurance)

    vendors = [vendor("lapsed", insured(date(2026, 11, 30))), vendor("covered", insured(date(2027, 3, 31))),
               vendor("unknown", None), vendor("sparky", insured(date(2020, 1, 1)), trade="electrical")]
    ranking = rank_vendors(vendors, Trade.PLUMBING, prop, date(2026, 12, 3), ALLOW, previous_vendor_id="lapsed")
    assert ranking.candidates == ["covered", "unknown"]  # preferred and previous, but expired
    assert ranking.skipped == {"lapsed": "insurance expired 2026-11-30"}  # only vendors of the job's trade
    assert ranking.notes == {"unknown": "no insurance on file"}
    strict = rank_vendors(vendors, Trade.PLUMBING, prop, date(2026, 12, 3), SKIP)
    assert strict.candidates == ["covered"]
    assert strict.skipped == {"lapsed": "insurance expired 2026-11-30", "unknown": "no insurance on file"}
    # The day before it lapses the vendor is still first.
    assert rank_vendors(vendors, Trade.PLUMBING, prop, date(2026, 11, 30), ALLOW).candidates[0] == "lapsed"


def test_warnings_are_due_within_the_lead_time_until_the_expiration_day() -> None:
    today = date(2026, 12, 3)
    assert warning_window(today, ALLOW) == (today, date(2027, 1, 2))
    assert due_warning(insured(date(2027, 1, 2)), today, ALLOW)
    assert due_warning(insured(today), today, ALLOW)
    assert not due_warning(insured(date(2027, 1, 3)), today, ALLOW)  # later: a later check warns
    assert not due_warning(insured(date(2026, 12, 2)), today, ALLOW)  # expired: dispatch skips it instead
    assert not due_warning(insured(None), today, ALLOW)
    assert not due_warning(None, today, ALLOW)
    assert due_warning(insured(date(2026, 12, 10)), today, InsuranceRules(warning_lead_days=7))
    assert not due_warning(insured(date(2026, 12, 11)), today, InsuranceRules(warning_lead_days=7))


def test_the_shipped_rules_allow_vendors_without_insurance_and_warn_30_days_ahead() -> None:
    assert rules().insurance == InsuranceRules(without_insurance="allow", warning_lead_days=30)
