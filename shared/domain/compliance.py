"""Vendor compliance (data: shared/rules/compliance.json): whether a vendor's insurance lets dispatch offer
them a job on a given day, and when their insurance is due a warning. Pure: no I/O beyond reading the rules.

A policy covers through its expiration date: it has expired on any later day. A vendor with no insurance
on file is allowed (with a note in the ranking record) or skipped, as the rules say; an insurance record
without an expiration date (the PMS's "no expiration") counts as current.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from shared.domain.model import Model

RULES = Path(__file__).resolve().parent.parent / "rules" / "compliance.json"


class VendorInsurance(Model):
    provider: str | None = None
    policy_number: str | None = None
    expires_on: date | None = None  # covered through this day; None: no expiration


class InsuranceRules(Model):
    without_insurance: Literal["allow", "skip"] = "allow"
    warning_lead_days: int = Field(default=30, ge=0)


class ComplianceRules(Model):
    version: str
    insurance: InsuranceRules = Field(default_factory=InsuranceRules)


@cache
def rules() -> ComplianceRules:
    return ComplianceRules.model_validate(json.loads(RULES.read_text()))


class Standing(Model):
    """Whether dispatch may offer the vendor a job, and why not (or what ops should know)."""

    allowed: bool
    reason: str | None = None  # "insurance expired 2026-11-30" | "no insurance on file"


def insurance_standing(insurance: VendorInsurance | None, on: date, policy: InsuranceRules) -> Standing:
    if insurance is None:
        return Standing(allowed=policy.without_insurance == "allow", reason="no insurance on file")
    if insurance.expires_on is not None and insurance.expires_on < on:
        return Standing(allowed=False, reason=f"insurance expired {insurance.expires_on.isoformat()}")
    return Standing(allowed=True)


def warning_window(today: date, policy: InsuranceRules) -> tuple[date, date]:
    """The expiration dates (inclusive) a check run on `today` warns about."""
    return today, today + timedelta(days=policy.warning_lead_days)


def due_warning(insurance: VendorInsurance | None, today: date, policy: InsuranceRules) -> bool:
    """True if the insurance expires within the lead time (today included) and has not expired yet."""
    if insurance is None or insurance.expires_on is None:
        return False
    first, last = warning_window(today, policy)
    return first <= insurance.expires_on <= last
