"""Vendor invoices: money, the named checks, GL coding and the approval decision (pure: no I/O).

Amounts are `Decimal` rounded to cents (half up) and always travel with their currency; the rules the
checks, coding and approval use are data (`shared/rules/invoice_rules.json`, see docs/rules.md).
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field

from shared.domain.model import Model

CENT = Decimal("0.01")
RULES = Path(__file__).resolve().parent.parent / "rules" / "invoice_rules.json"


def cents(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class LineKind(StrEnum):
    LABOUR = "labour"
    MATERIAL = "material"
    TRIP = "trip"
    TAX = "tax"


class InvoiceStatus(StrEnum):
    SUBMITTED = "submitted"  # stored; checks and coding run when the workflow reaches the invoice step
    PENDING_APPROVAL = "pending_approval"  # coded and checked, waiting for the owner or ops
    APPROVED = "approved"
    REJECTED = "rejected"  # back to the vendor with the reason; a corrected invoice may follow
    BILLED = "billed"  # a bill in the PMS
    SUPERSEDED = "superseded"  # ops closed the work order without billing this invoice


class InvoiceLine(Model):
    kind: LineKind
    description: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return cents(self.quantity * self.unit_price)


class Attachment(Model):
    key: str  # object key in the documents bucket
    filename: str
    content_type: str
    size: int


class CheckResult(Model):
    rule: str
    passed: bool
    reason: str


class Coding(Model):
    property_id: str
    unit_id: str
    gl_account_number: str
    gl_account_name: str
    gl_account_pms_id: str | None  # None when the PMS has no such account (the bill then waits for ops)
    cost_center: str
    owner: str
    rule: str  # the coding rule that chose the account


class Approval(Model):
    route: str  # "auto", "owner" or "ops"
    reason: str
    approver: str | None = None  # who decided ("auto", "owner:<property>", "ops")
    decision: str | None = None  # "approved" | "rejected"
    decided_at: datetime | None = None
    comment: str | None = None
    task_token: str | None = None  # the workflow's wait (never shown)


class Invoice(Model):
    id: str
    version: int = 0
    work_order_id: str
    vendor_id: str
    invoice_number: str
    invoice_date: date
    currency: str
    lines: list[InvoiceLine]
    total: Decimal
    source: str  # "link" (job page or JSON) or "email"
    status: InvoiceStatus = InvoiceStatus.SUBMITTED
    attachment: Attachment | None = None
    work_order_status_at_submission: str
    submitted_at: datetime
    checks: list[CheckResult] = Field(default_factory=list)
    coding: Coding | None = None
    approval: Approval | None = None
    bill_pms_id: str | None = None
    duplicate_of: str | None = None  # set at submission when the vendor already used this number elsewhere
    rejection_reason: str | None = None

    def lines_total(self) -> Decimal:
        return cents(sum((line.amount for line in self.lines), Decimal(0)))

    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]


def new_invoice_id() -> str:
    return f"inv-{int(time.time() * 1000):011x}{secrets.token_hex(4)}"


# ---------------------------------------------------------------------------------------- rules (data)
class RateCard(Model):
    labour_hourly: Decimal
    trip: Decimal


class CodingRule(Model):
    name: str
    when: dict[str, list[str]] = Field(default_factory=dict)  # field -> accepted values; empty = always
    gl_account_number: str
    cost_center: str

    def matches(self, facts: dict[str, str | None]) -> bool:
        return all(facts.get(field) in values for field, values in self.when.items())


class InvoiceRules(Model):
    version: str
    currency: str
    max_future_days: int
    hours_factor: Decimal  # billed hours may exceed the time on site by this factor ...
    hours_slack: Decimal  # ... plus this many hours (travel, parts runs)
    rate_cards: dict[str, RateCard]  # "default", a trade, or a vendor id (most specific wins)
    auto_approve_up_to: dict[str, Decimal]  # "default" or a property id
    owner_approval_over: dict[str, Decimal]  # above this the owner approves, not ops
    coding: list[CodingRule]

    def rate_card(self, vendor_id: str, trade: str | None) -> tuple[str, RateCard]:
        for key in (vendor_id, trade or "", "default"):
            if key in self.rate_cards:
                return key, self.rate_cards[key]
        raise KeyError("invoice rules need a default rate card")

    def threshold(self, table: dict[str, Decimal], property_id: str) -> Decimal:
        return table.get(property_id, table["default"])

    def with_limits(self, property_id: str, limits: dict[str, Any] | None) -> InvoiceRules:
        """These rules with ops' approval limits for one property (the property setup's `approval`)."""
        if not limits:
            return self
        update: dict[str, Any] = {}
        for name in ("auto_approve_up_to", "owner_approval_over"):
            if limits.get(name) is not None:
                update[name] = {**getattr(self, name), property_id: Decimal(str(limits[name]))}
        return self.model_copy(update=update)


@cache
def default_rules() -> InvoiceRules:
    return InvoiceRules.model_validate(json.loads(RULES.read_text()))


# ---------------------------------------------------------------------------------------- the checks
class JobFacts(Model):
    """What the checks need to know about the work order (gathered by the service)."""

    work_order_id: str
    status_at_submission: str
    vendor_id: str
    trade: str | None
    source: str
    property_id: str
    unit_id: str
    currency: str
    nte: Decimal | None
    recall: bool
    work_started: datetime | None  # accepted or checked in: the invoice cannot predate the work
    on_site_from: datetime | None  # the check-in ("I'm here"), else the visit window's start
    completed_at: datetime | None
    duplicate_of: str | None  # the earlier invoice (work order) this vendor used the same number on


def run_checks(inv: Invoice, job: JobFacts, rules: InvoiceRules, today: date) -> list[CheckResult]:
    """Every named check, with its reason, whether it passed or not (the record keeps both)."""
    out: list[CheckResult] = []

    def check(rule: str, failed: bool, bad: str, good: str) -> None:
        out.append(CheckResult(rule=rule, passed=not failed, reason=bad if failed else good))

    total, summed = cents(inv.total), inv.lines_total()
    check("arithmetic", total != summed, f"Lines add up to {summed} but the total says {total}",
          f"Lines add up to the total ({total})")
    check("currency", inv.currency != job.currency, f"Invoice in {inv.currency}, the job is in {job.currency}",
          f"Currency {inv.currency}")
    if job.nte is not None:
        nte = cents(job.nte)  # money in the reason, like every other amount: 500.00, not 500
        check("over_nte", total > nte, f"Total {total} is over the not-to-exceed amount {nte}",
              f"Total {total} is within the not-to-exceed amount {nte}")
    else:
        check("over_nte", False, "", "No not-to-exceed amount on this job")
    check("duplicate_number", job.duplicate_of is not None,
          f"Invoice number {inv.invoice_number} was already used by this vendor ({job.duplicate_of})",
          "Invoice number not used before by this vendor")
    card_name, card = rules.rate_card(job.vendor_id, job.trade)
    for kind, cap, label in ((LineKind.LABOUR, card.labour_hourly, "labour rate"),
                             (LineKind.TRIP, card.trip, "trip charge")):
        over = [line for line in inv.lines if line.kind == kind and cents(line.unit_price) > cap]
        rule = "labour_rate" if kind == LineKind.LABOUR else "trip_charge"
        check(rule, bool(over), f"{label.capitalize()} {max((cents(x.unit_price) for x in over), default=0)} is "
                                f"above the rate card ({card_name}: {cap})",
              f"{label.capitalize()} within the rate card ({card_name}: {cap})")
    hours = sum((line.quantity for line in inv.lines if line.kind == LineKind.LABOUR), Decimal(0))
    if hours and job.on_site_from and job.completed_at:
        on_site = Decimal(max((job.completed_at - job.on_site_from).total_seconds(), 0)) / 3600
        allowed = (on_site * rules.hours_factor + rules.hours_slack).quantize(Decimal("0.1"))
        check("hours_vs_visit", hours > allowed, f"{hours} labour hours billed, but the visit lasted "
                                                 f"{on_site.quantize(Decimal('0.1'))} h (allowed {allowed} h)",
              f"{hours} labour hours fit the visit ({on_site.quantize(Decimal('0.1'))} h on site)")
    else:
        check("hours_vs_visit", False, "", "No labour hours, or no visit times to compare")
    check("recall", job.recall and total > 0, f"This job is a recall of earlier work (should be free) but "
                                              f"bills {total}", "Not a recall job" if not job.recall
          else "Recall job billed at no charge")
    future = inv.invoice_date > today + timedelta(days=rules.max_future_days)
    early = job.work_started is not None and inv.invoice_date < job.work_started.date()
    check("invoice_date", future or early,
          f"Invoice date {inv.invoice_date} is in the future" if future
          else f"Invoice date {inv.invoice_date} is before the work started ({job.work_started:%Y-%m-%d})"
          if job.work_started else "", f"Invoice date {inv.invoice_date} fits the job")
    check("work_verified", job.status_at_submission not in ("verified", "invoice_awaited"),
          f"Invoiced while the work order was {job.status_at_submission}, before the tenant verified the fix",
          "Invoiced after the fix was verified")
    return out


# ---------------------------------------------------------------------------------------- coding
def code(job: JobFacts, rules: InvoiceRules, gl_accounts: dict[str, dict[str, Any]], owner: str) -> Coding:
    """The first coding rule whose conditions hold chooses the GL account and cost center."""
    facts = {"trade": job.trade, "source": job.source, "property_id": job.property_id}
    rule = next((r for r in rules.coding if r.matches(facts)), None)
    if rule is None:
        raise ValueError("the invoice coding rules need a last rule without conditions")
    account = gl_accounts.get(rule.gl_account_number)
    return Coding(property_id=job.property_id, unit_id=job.unit_id, gl_account_number=rule.gl_account_number,
                  gl_account_name=account["name"] if account else "(not in the PMS)",
                  gl_account_pms_id=account["pms_id"] if account else None,
                  cost_center=rule.cost_center.format(property_id=job.property_id, trade=job.trade or "general"),
                  owner=owner, rule=rule.name)


# ---------------------------------------------------------------------------------------- approval
def approval_route(inv: Invoice, rules: InvoiceRules, property_id: str, has_owner: bool) -> Approval:
    """Clean and under the property's threshold: approved automatically. Failed checks go to ops (they are
    exceptions to look at); a clean invoice over the owner threshold goes to the owner, else to ops."""
    failed = inv.failed_checks()
    total = cents(inv.total)
    auto = rules.threshold(rules.auto_approve_up_to, property_id)
    if not failed and total <= auto:
        return Approval(route="auto", reason=f"All checks passed and {total} is within the auto-approval "
                                             f"limit {auto}")
    if failed:
        return Approval(route="ops", reason="Failed checks: " + ", ".join(c.rule for c in failed))
    owner_over = rules.threshold(rules.owner_approval_over, property_id)
    if has_owner and total > owner_over:
        return Approval(route="owner", reason=f"{total} is over the owner-approval limit {owner_over}")
    return Approval(route="ops", reason=f"{total} is over the auto-approval limit {auto}")


def sniff(data: bytes) -> str | None:
    """The real type of an attachment from its first bytes (the declared type is not trusted)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None
