"""The invoice rules, pure: money, every named check, coding by rules as data, the approval route."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.domain.invoices import (
    Invoice,
    InvoiceLine,
    InvoiceRules,
    JobFacts,
    approval_route,
    cents,
    code,
    default_rules,
    run_checks,
    sniff,
)
from shared.http import parse_multipart
from shared.invoice_schemas import InvoiceIn, invoice_from_form
from shared.services.invoicing import read_email_invoice

ON_SITE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def line(kind: str, qty: str, price: str) -> InvoiceLine:
    return InvoiceLine(kind=kind, description=kind, quantity=Decimal(qty), unit_price=Decimal(price))


def make_invoice(lines: list[InvoiceLine] | None = None, total: str | None = None, **kw) -> Invoice:
    lines = lines or [line("labour", "2", "95"), line("material", "1", "40.10"), line("trip", "1", "75")]
    computed = cents(sum((x.amount for x in lines), Decimal(0)))
    return Invoice(id="inv-1", work_order_id="wo-1", vendor_id="ven-1", invoice_number="A-1",
                   invoice_date=kw.pop("invoice_date", TODAY), currency=kw.pop("currency", "USD"), lines=lines,
                   total=Decimal(total) if total else computed, source="link",
                   work_order_status_at_submission=kw.pop("status", "invoice_awaited"),
                   submitted_at=datetime(2026, 11, 23, tzinfo=UTC), **kw)


def facts(**kw) -> JobFacts:
    base = dict(work_order_id="wo-1", status_at_submission="invoice_awaited", vendor_id="ven-1", trade="plumbing",
                source="web", property_id="prop-1", unit_id="unit-1", currency="USD", nte=Decimal("500"),
                recall=False, work_started=ON_SITE, on_site_from=ON_SITE,
                completed_at=ON_SITE + timedelta(hours=1, minutes=30), duplicate_of=None)
    return JobFacts(**{**base, **kw})


def failed(inv: Invoice, job: JobFacts, rules: InvoiceRules | None = None) -> dict[str, str]:
    return {c.rule: c.reason for c in run_checks(inv, job, rules or default_rules(), TODAY) if not c.passed}


def test_money_is_cents_exact_half_up():
    assert cents("0.005") == Decimal("0.01") and cents("2.675") == Decimal("2.68")
    assert line("labour", "1.333", "3").amount == Decimal("4.00")
    assert make_invoice().lines_total() == Decimal("305.10")


def test_a_clean_invoice_passes_every_named_check_with_its_reason():
    results = run_checks(make_invoice(), facts(), default_rules(), TODAY)
    assert {c.rule for c in results} == {"arithmetic", "currency", "over_nte", "duplicate_number", "labour_rate",
                                         "trip_charge", "hours_vs_visit", "recall", "invoice_date", "work_verified"}
    assert all(c.passed and c.reason for c in results), results


@pytest.mark.parametrize(("inv", "job", "rule", "words"), [
    (make_invoice(total="305.11"), facts(), "arithmetic", "add up to 305.10"),
    (make_invoice(currency="CAD"), facts(), "currency", "CAD"),
    (make_invoice(), facts(nte=Decimal("300")), "over_nte", "over the not-to-exceed amount 300.00"),
    (make_invoice(), facts(nte=Decimal(30000) / 100), "over_nte", "over the not-to-exceed amount 300.00"),
    (make_invoice(), facts(duplicate_of="inv-0 on wo-0"), "duplicate_number", "already used"),
    (make_invoice([line("labour", "1", "150")]), facts(), "labour_rate", "above the rate card (default: 110.00)"),
    (make_invoice([line("trip", "1", "120")]), facts(), "trip_charge", "Trip charge 120.00"),
    (make_invoice([line("labour", "4", "95")]), facts(), "hours_vs_visit", "visit lasted 1.5 h"),
    (make_invoice(), facts(recall=True), "recall", "should be free"),
    (make_invoice(invoice_date=TODAY + timedelta(days=5)), facts(), "invoice_date", "in the future"),
    (make_invoice(invoice_date=date(2026, 11, 1)), facts(), "invoice_date", "before the work started"),
    (make_invoice(status="completed"), facts(status_at_submission="completed"), "work_verified", "completed"),
])
def test_each_check_fails_with_a_reason(inv, job, rule, words):
    found = failed(inv, job)
    assert rule in found and words in found[rule], found


def test_rate_cards_are_most_specific_first_and_a_free_recall_passes():
    rules = default_rules()
    assert rules.rate_card("ven-x", "electrical")[0] == "electrical"
    custom = rules.model_copy(update={"rate_cards": {**rules.rate_cards, "ven-1": rules.rate_cards["hvac"]}})
    assert "labour_rate" not in failed(make_invoice([line("labour", "1", "130")]), facts(), custom)
    free = make_invoice([line("labour", "1", "0")])
    assert "recall" not in failed(free, facts(recall=True))
    assert "hours_vs_visit" not in failed(make_invoice([line("labour", "2.8", "95")]), facts())  # 1.5*1.25+1


def test_coding_follows_the_first_matching_rule_and_names_it():
    rules = default_rules()
    accounts = {"6010": {"pms_id": "9011", "name": "Plumbing Repairs", "number": "6010"},
                "6060": {"pms_id": "9016", "name": "General Maintenance", "number": "6060"}}
    coded = code(facts(), rules, accounts, owner="Maple LLC")
    assert (coded.gl_account_number, coded.gl_account_pms_id, coded.rule, coded.cost_center, coded.owner) == \
        ("6010", "9011", "plumbing", "prop-1-RM", "Maple LLC")
    preventive = code(facts(source="preventive", trade="hvac"), rules, accounts, owner="x")
    assert (preventive.rule, preventive.gl_account_number, preventive.cost_center) == \
        ("preventive-maintenance", "6060", "prop-1-PM")
    unknown = code(facts(trade="roofing"), rules, accounts, owner="x")
    assert unknown.gl_account_pms_id is None and unknown.gl_account_name == "(not in the PMS)"
    assert code(facts(trade=None), rules, accounts, owner="x").rule == "general"


def test_approval_route_auto_ops_or_owner():
    rules = default_rules()
    clean = make_invoice()
    clean.checks = run_checks(clean, facts(), rules, TODAY)
    assert approval_route(clean, rules, "prop-1", has_owner=True).route == "auto"
    assert approval_route(clean, rules, "prop-b102", has_owner=False).route == "auto"  # 305.10 <= 350
    big = make_invoice([line("material", "1", "1600")])
    big.checks = run_checks(big, facts(nte=None), rules, TODAY)
    assert approval_route(big, rules, "prop-1", has_owner=True).route == "owner"
    assert approval_route(big, rules, "prop-1", has_owner=False).route == "ops"
    medium = make_invoice([line("material", "1", "700")])
    medium.checks = run_checks(medium, facts(nte=None), rules, TODAY)
    route = approval_route(medium, rules, "prop-1", has_owner=True)
    assert route.route == "ops" and "auto-approval limit 500.00" in route.reason
    bad = make_invoice(total="1.00")
    bad.checks = run_checks(bad, facts(), rules, TODAY)
    assert approval_route(bad, rules, "prop-1", has_owner=True).route == "ops"


def test_invoice_body_validation_names_the_field():
    good = {"invoice_number": "A-1", "invoice_date": "2026-11-23", "currency": "USD", "total": "190.00",
            "lines": [{"kind": "labour", "description": "x", "quantity": "2", "unit_price": "95"}]}
    assert InvoiceIn.model_validate(good).total == Decimal("190.00")
    for change, field in (({"total": "191"}, "total"), ({"currency": "usd"}, "currency"),
                          ({"lines": []}, "lines"), ({"total": "-1"}, "total"),
                          ({"invoice_number": "<script>"}, "invoice_number"),
                          ({"invoice_date": "soon"}, "invoice_date"),
                          ({"lines": [{**good["lines"][0], "kind": "bribe"}]}, "kind"),
                          ({"lines": [{**good["lines"][0], "unit_price": "95.001"}]}, "unit_price")):
        with pytest.raises(ValidationError) as err:
            InvoiceIn.model_validate({**good, **change})
        assert field in str(err.value.errors()[0]["loc"]), err.value.errors()


def test_attachment_type_comes_from_the_bytes():
    assert sniff(b"%PDF-1.7 ...") == "application/pdf"
    assert sniff(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert sniff(b"<html>") is None


def test_job_page_form_and_multipart_become_an_invoice():
    body = (b"--XX\r\nContent-Disposition: form-data; name=\"invoice_number\"\r\n\r\nF-9\r\n"
            b"--XX\r\nContent-Disposition: form-data; name=\"labour_hours\"\r\n\r\n1.5\r\n"
            b"--XX\r\nContent-Disposition: form-data; name=\"labour_rate\"\r\n\r\n100\r\n"
            b"--XX\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"inv 9.pdf\"\r\n"
            b"Content-Type: application/pdf\r\n\r\n%PDF-1.4 binary\x00\xff\r\n--XX--\r\n")
    fields, files = parse_multipart(body, "multipart/form-data; boundary=XX")
    assert fields == {"invoice_number": "F-9", "labour_hours": "1.5", "labour_rate": "100"}
    assert files["attachment"] == ("inv 9.pdf", "application/pdf", b"%PDF-1.4 binary\x00\xff")
    data = invoice_from_form({**fields, "invoice_date": "2026-11-23", "currency": "USD", "total": "150.00",
                              "trip_charge": "", "tax": ""}, files["attachment"])
    parsed = InvoiceIn.model_validate(data)
    assert [x.kind for x in parsed.lines] == ["labour"] and parsed.attachment.data() == b"%PDF-1.4 binary\x00\xff"


def test_an_emailed_invoice_is_read_from_plain_lines():
    found = read_email_invoice("Hi,\nInvoice #: 881\nLabor: 2 hours x 95.00\nMaterials: 1,040.00\nTotal: 1,230.00\n")
    assert found["invoice_number"] == "881" and found["total"] == "1230.00"
    assert found["lines"][0] == {"kind": "labour", "description": "Labour", "quantity": "2", "unit_price": "95.00"}
    assert read_email_invoice("Please find attached our invoice.") is None


def test_the_documented_invoice_form_is_every_field_the_form_reads():
    """InvoiceForm (the document's form body) names what invoice_from_form reads: each field filled in is
    used, and the total of the four lines is accepted as an InvoiceIn."""
    from shared.invoice_schemas import InvoiceForm

    fields = {"invoice_number": "F-10", "invoice_date": "2026-11-23", "currency": "USD", "total": "200.00",
              "labour_description": "Fitting", "labour_hours": "1", "labour_rate": "100",
              "materials_description": "Valve", "materials_amount": "50", "trip_charge": "40", "tax": "10"}
    assert set(fields) == set(InvoiceForm.model_fields) - {"attachment"}
    data = invoice_from_form(fields, ("inv.pdf", "application/pdf", b"%PDF-1.4"))
    parsed = InvoiceIn.model_validate(data)
    assert [x.kind for x in parsed.lines] == ["labour", "material", "trip", "tax"]
    assert [x.description for x in parsed.lines][:2] == ["Fitting", "Valve"] and parsed.attachment is not None
