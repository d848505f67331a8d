"""The HTML pages: every template escapes what people typed, the texts exist in every language, and the
JSON routes never load the template engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from functions.api import pages
from shared.services.views import ApprovalView, TenantStatus, VendorJob, VisitWindow
from tests.lambda_modules import every_setting

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ['<script>window.__xss=1</script>', '"><img src=x onerror=window.__xss=2>', "{{7*7}}", "{% raw %}"]
EVIL = " ".join(HOSTILE)
WINDOW = {"start": "2026-11-24T09:00:00-05:00", "end": "2026-11-24T11:00:00-05:00"}


def assert_inert(html: str) -> None:
    """Nothing hostile survives as markup, and no template expression was evaluated."""
    assert "<script>window" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "{{7*7}}" in html and "49" not in html


def tenant_view(**changes) -> TenantStatus:
    view = {"id": "wo-1", "status": "scheduled", "trade": "plumbing", "priority": "urgent",
            "timeline": [{"at": "2026-11-23T10:00:00+00:00", "event": EVIL, "detail": EVIL}],
            "feedback_due": True, "language": "en", "allowed_actions": ["confirm", "decline", "reschedule", "no_show"],
            "proposal": WINDOW, "photo_upload": True,
            "photos": [{"url": f"https://s3/x?{EVIL}", "party": "tenant", "content_type": "image/png", "size": 10,
                        "uploaded_at": "2026-11-23T10:00:00+00:00"}],
            "safety_question": {"hazard": "gas", "question": EVIL},
            "vendor": {"name": EVIL}, "window": WINDOW}
    return TenantStatus.model_validate({**view, **changes})


def vendor_view(**changes) -> VendorJob:
    job = {"work_order_id": "wo-1", "status": "accepted", "trade": "plumbing", "priority": "urgent",
           "allowed_actions": ["accept", "decline", "schedule", "propose", "checkin", "complete", "invoice"],
           "property": EVIL, "address": EVIL, "unit": EVIL, "description": EVIL, "window": WINDOW, "recall": True,
           "nte": {"cents": 50000, "currency": "USD", "text": "500.00 USD"}, "language": "es", "currency": "USD",
           "access_instructions": EVIL, "entry_permission": True, "pets": EVIL,
           "tenant": {"name": EVIL, "phone": "+15550100017"}, "availability": [WINDOW, WINDOW],
           "photos": [], "photo_upload": True, "proposal": WINDOW, "checked_in": True, "time_zone": EVIL,
           "invoices": [{"invoice_number": EVIL, "total": "1.00 USD", "status": "rejected",
                         "rejection_reason": EVIL}]}
    return VendorJob.model_validate({**job, **changes})


UPLOAD = {"url": "https://s3.example/bucket", "fields": {"key": EVIL, "policy": EVIL}}


def test_tenant_status_page_shows_what_people_typed_as_text():
    html = pages.tenant_status(tenant_view(), f"/feedback?{EVIL}", "en", f"/visit?{EVIL}", UPLOAD, f"/safety?{EVIL}")
    assert_inert(html)
    assert "Can you make this time?" in html and "2026-11-24 09:00-11:00 (UTC-05:00)" in html
    assert 'name="answer" value="yes"' in html and "success_action_redirect" not in html


def test_the_rating_form_and_the_rating_given_on_the_status_page():
    html = pages.tenant_status(tenant_view(status="verified", rating_due=True), "/f", "es",
                               rating_url=f"/rating?{EVIL}")
    assert_inert(html)
    assert "¿Cómo lo hicimos?" in html and 'name="rating" value="5"' in html and 'name="rating" value="6"' not in html
    rated = pages.tenant_status(tenant_view(status="verified", rating=4), "/f", "en", rating_url="/rating")
    assert 'name="rating"' not in rated and "Your rating: 4 out of 5" in rated
    assert 'name="rating"' not in pages.tenant_status(tenant_view(), "/f", "en", rating_url="/rating")


def test_the_nps_page_asks_0_to_10_or_thanks():
    html = pages.nps_page(f"/surveys/nps?{EVIL}", False, "en")
    assert "&lt;script&gt;" in html and "<script>window" not in html
    assert 'name="score" value="0"' in html and 'name="score" value="10"' in html
    thanks = pages.nps_page("/surveys/nps", True, "es")
    assert "¡Gracias por su respuesta!" in thanks and 'name="score"' not in thanks


def test_vendor_job_page_shows_what_people_typed_as_text_in_spanish():
    html = pages.vendor_job(vendor_view(), EVIL, EVIL, "es", UPLOAD)
    assert_inert(html)
    assert '<html lang="es">' in html and "plomería" in html and "urgente" in html and "Monto máximo" in html
    assert html.count('type="radio" name="window"') == 2 and "permitida" in html


def test_vendor_job_page_without_the_contact_details_says_nothing_about_them():
    job = VendorJob.model_validate({k: v for k, v in vendor_view(allowed_actions=[]).as_json().items()
                                    if k in ("work_order_id", "status", "allowed_actions", "trade", "priority",
                                             "property", "address", "unit", "description", "window", "recall",
                                             "nte", "language", "currency")})
    assert "tenant" not in job.as_json() and "access_instructions" not in job.as_json()
    html = pages.vendor_job(job, "tok", "", "en")
    assert "+1555" not in html and "<form" not in html


def test_request_form_keeps_hostile_values_and_errors_as_text():
    values = {"name": EVIL, "description": EVIL, "w1_date": EVIL, "availability": EVIL}
    html = pages.request_form(EVIL, EVIL, f"/units/u/request?key={EVIL}", {"name": EVIL, "w2": EVIL}, values)
    assert_inert(html)  # the photo script is a served file now (GET /assets/photo-upload.js), not in the page
    assert 'id="name-error"' in html and 'id="w2-error"' in html and 'aria-invalid="true"' in html


def test_approval_page_and_report_show_what_people_typed_as_text():
    line = {"kind": "labour", "description": EVIL, "quantity": "1", "unit_price": "1.00", "amount": "1.00"}
    check = {"rule": EVIL, "passed": False, "reason": EVIL}
    coding = {"gl_account_number": "6010", "gl_account_name": EVIL, "cost_center": EVIL, "rule": EVIL, "owner": EVIL}
    view = ApprovalView.model_validate({
        "work_order_id": "wo-1", "invoice_id": "inv-1", "approver": "owner", "pending": True, "trade": "hvac",
        "property": EVIL, "unit": EVIL, "description": EVIL, "completion_notes": EVIL, "vendor": EVIL,
        "invoice_number": EVIL, "invoice_date": "2026-11-24", "total": "1.00", "currency": "USD", "nte": None,
        "reason": EVIL, "decision": None, "status": "pending_approval", "lines": [line], "checks": [check],
        "coding": {**coding, "property_id": "p", "unit_id": "u", "gl_account_pms_id": None},
        "allowed_actions": ["approve", "reject"]})
    approval = pages.approval(view, f"/approvals/{EVIL}")
    assert_inert(approval)
    assert "FAILED" in approval and "Reject" in approval
    record = {"work_order": {"id": "wo-1", "status": "closed", "description": EVIL, "completion_notes": EVIL,
                             "pms": {"provider": "buildium", "task_id": EVIL, "work_order_id": EVIL}},
              "property": {"name": EVIL, "address": EVIL}, "unit": {"label": EVIL}, "vendor": {"name": EVIL},
              "bill": None, "generated_at": "2026-11-24T10:00:00+00:00",
              "photos": [{"url": f"https://s3/{EVIL}", "party": "vendor", "uploaded_at": "2026-11-24T10:00:00"}],
              "timeline": [{"at": "2026-11-24T10:00:00+00:00", "event": "notified", "actor": EVIL, "detail": EVIL}],
              "invoices": [{"invoice_number": EVIL, "status": "billed", "invoice_date": "2026-11-24", "total": "1.00",
                            "currency": "USD", "lines": [line], "checks": [check], "coding": coding,
                            "approval": {"route": "ops", "reason": EVIL, "decision": "approved", "approver": EVIL},
                            "attachment": {"download_url": f"https://s3/{EVIL}", "filename": EVIL, "size": 3},
                            "bill_pms_id": EVIL}]}
    report = pages.report(record)
    assert_inert(report)
    assert "max-width:60rem" in report and "Coded to GL 6010" in report


def test_oncall_page_shows_the_emergency_as_text_and_only_a_button_acknowledges():
    from shared.services.paging import PageView

    view = PageView(work_order_id="wo-1", property=EVIL, address=EVIL, unit=EVIL, emergency=EVIL, description=EVIL,
                    paged=EVIL, acknowledged=False, acknowledged_by=None, acknowledged_at=None,
                    allowed_actions=["acknowledge"], language="es")
    html = pages.oncall_page(view, "/oncall/tok/acknowledge")
    assert_inert(html)
    assert '<form method="post" action="/oncall/tok/acknowledge"><button>Confirmar: me hago cargo</button>' in html
    done = pages.oncall_page(PageView(**{**view.as_json(), "acknowledged": True, "acknowledged_by": EVIL,
                                         "acknowledged_at": "2026-11-24T10:00:00+00:00", "allowed_actions": [],
                                         "language": "en"}), "/oncall/tok/acknowledge")
    assert_inert(done)
    assert "<form" not in done and "Acknowledged by &lt;script&gt;" in done


def test_visit_windows_read_in_the_property_time():
    assert pages.when(VisitWindow.model_validate(WINDOW)) == "2026-11-24 09:00-11:00 (UTC-05:00)"
    two_days = VisitWindow(start="2026-11-24T22:00:00+00:00", end="2026-11-25T01:00:00+00:00")
    assert pages.when(two_days) == "2026-11-24 22:00 - 2026-11-25 01:00 (UTC+00:00)"


def test_simple_pages_escape_their_message():
    assert_inert(pages.error_page(403, EVIL))
    assert_inert(pages.expired_page(EVIL, "/links/renew", EVIL))
    assert_inert(pages.message_page("New link", EVIL))
    qr = pages.unit_qr(EVIL, EVIL, f"https://x/?{EVIL}", "<svg><title>ours</title></svg>")
    assert_inert(qr)
    assert "<svg><title>ours</title></svg>" in qr  # our own drawing is the one piece of markup passed in


def test_no_template_marks_anything_safe_but_the_qr_svg():
    for template in (ROOT / "functions/api/templates").glob("*.html"):
        marked = re.findall(r"\|\s*safe|Markup|autoescape\s+false", template.read_text())
        assert marked == ([] if template.name != "unit_qr.html" else ["|safe"]), template.name


def test_every_text_exists_in_english_and_spanish():
    data = json.loads((ROOT / "functions/api/texts.json").read_text())
    shadowing = set(dir(dict))
    for page, languages in data.items():
        if page.startswith("_"):
            continue
        assert set(languages) == {"en", "es"}, page
        assert set(languages["en"]) == set(languages["es"]), (page, set(languages["en"]) ^ set(languages["es"]))
        assert all(text.strip() for lang in languages.values() for text in lang.values()), page
        # Templates read texts as t.key: a key named like a dict method would read the method instead.
        assert not set(languages["en"]) & shadowing, page


@pytest.mark.parametrize(("preferred", "header", "expected"), [
    ("es", None, "es"), (None, "es-MX,es;q=0.9", "es"), ("fr", "fr-FR,en;q=0.5", "en"), (None, None, "en")])
def test_language_is_the_saved_preference_else_the_browsers(preferred, header, expected):
    assert pages.language(preferred, header) == expected


def test_json_routes_do_not_load_the_template_engine():
    """Cold start: the API function imports jinja2 only when it renders a page."""
    script = """
import json, sys
from types import SimpleNamespace
from tests.events import load_event
from functions.api import app
context = SimpleNamespace(function_name="api", memory_limit_in_mb=256, invoked_function_arn="arn:x",
                          aws_request_id="r-1")
answer = app.handler(load_event("api/health"), context)
assert answer["statusCode"] == 200, answer
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("jinja2", "markupsafe"))))
"""
    env = {**os.environ, **every_setting()}  # the function's settings are checked at import
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
