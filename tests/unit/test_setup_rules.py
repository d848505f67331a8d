"""Ops' setup laid over the rules files: NTE overrides per property, approval limits per property."""

from __future__ import annotations

from decimal import Decimal

from shared.domain import nte
from shared.domain.enums import Priority, Trade
from shared.domain.invoices import default_rules


def test_an_nte_override_wins_for_its_property_only() -> None:
    base = nte.rules()
    rules = base.with_overrides({"prop-a": {"plumbing": {"routine": 12345}, "*": {"urgent": 999}}})
    assert rules.amount(Trade.PLUMBING, Priority.ROUTINE, "prop-a")[0] == 12345
    assert rules.amount(Trade.HVAC, Priority.URGENT, "prop-a")[0] == 999
    assert rules.amount(Trade.HVAC, Priority.ROUTINE, "prop-a") == base.amount(Trade.HVAC, Priority.ROUTINE, "prop-a")
    assert rules.amount(Trade.PLUMBING, Priority.ROUTINE, "prop-b") == base.amount(
        Trade.PLUMBING, Priority.ROUTINE, "prop-b")
    assert base.with_overrides(None) is base and base.properties == nte.rules().properties  # the cached rules kept


def test_approval_limits_for_one_property() -> None:
    base = default_rules()
    rules = base.with_limits("prop-a", {"owner_approval_over": "900.00"})
    assert rules.threshold(rules.owner_approval_over, "prop-a") == Decimal("900.00")
    assert rules.threshold(rules.auto_approve_up_to, "prop-a") == base.threshold(base.auto_approve_up_to, "prop-a")
    assert rules.threshold(rules.owner_approval_over, "prop-b") == base.threshold(base.owner_approval_over, "prop-b")
    assert "prop-a" not in base.owner_approval_over  # the cached rules are not changed
