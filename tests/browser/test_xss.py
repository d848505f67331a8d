"""What people type is shown as text on every page, in a real browser: a tenant's name and description
made of markup and template syntax run nothing, inject nothing and are not evaluated."""

from __future__ import annotations

import pytest

from tests.browser.test_pages import browser, shot  # noqa: F401  (the browser fixture)
from tests.integration.conftest import U
from tests.integration.test_invoices import approval_token, invoice
from tests.integration.test_lifecycle import submit, wait_offer, wait_status, window

pytestmark = pytest.mark.integration
HOSTILE = '<script>window.__xss=1</script> "><img src=x onerror=window.__xss=2> {{7*7}}'
NAME = f"Eve {HOSTILE}"
DESCRIPTION = f"The heater blows cold air {HOSTILE}"
NOTES = f"Replaced the thermostat {HOSTILE}"


def assert_shown_literally(page, *texts: str) -> None:
    """Nothing ran, no element was injected, and every text is on the page exactly as typed (so `{{7*7}}`
    was not evaluated to 49)."""
    page.wait_for_load_state("load")  # an injected image's onerror would have fired by now
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("Array.from(document.scripts).filter(s => s.text.includes('__xss')).length") == 0
    assert page.evaluate("Array.from(document.images).filter(i => i.getAttribute('src') === 'x').length") == 0
    assert page.locator("[onerror]").count() == 0
    shown = page.inner_text("body")
    for text in texts:
        assert text in shown, (text, shown)
    assert "> 49" not in shown and "=2> 49" not in page.content()


def test_what_people_type_is_shown_as_text_on_every_page(stack, served, browser, api, ops_headers, mint):  # noqa: F811
    unit = U("unit-harbor-302")  # Harbor Lofts: its owner approves invoices over 400.00 (no other HVAC job there)
    wo_id = submit(api, unit, DESCRIPTION, name=NAME)["id"]
    _, job_token = wait_offer(stack, wo_id)

    # The vendor's job page shows the tenant's name and the problem.
    vendor = browser.new_page()
    vendor.goto(f"{served}/vendor/jobs/{job_token}")
    assert_shown_literally(vendor, NAME, DESCRIPTION)
    shot(vendor, "20-xss-vendor-job")

    # The job is done; the tenant's status page asks whether it is fixed.
    assert api.post(f"/vendor/jobs/{job_token}/accept").status == 200
    assert api.post(f"/vendor/jobs/{job_token}/schedule", window(1)).status == 200
    assert api.post(f"/vendor/jobs/{job_token}/checkin", {}).status == 200
    assert api.post(f"/vendor/jobs/{job_token}/complete", {"notes": NOTES}).status == 200
    wait_status(api, ops_headers, wo_id, "completed")
    tenant_token = mint(wo_id, "tenant", unit, 600)
    status = browser.new_page()
    status.goto(f"{served}/requests/{wo_id}?token={tenant_token}")
    assert_shown_literally(status, "Is it fixed?")
    shot(status, "21-xss-tenant-status")
    assert api.post(f"/requests/{wo_id}/feedback?token={tenant_token}", {"resolved": True}).status == 200
    wait_status(api, ops_headers, wo_id, "invoice_awaited")
    vendor.reload()
    assert_shown_literally(vendor, NAME, DESCRIPTION, "Send your invoice")

    # A large invoice goes to the owner, whose approval page shows the work and the vendor's notes.
    big = invoice("XSS-1", materials="280.00", hours="1", labour_rate="95.00", attachment=None)
    assert api.post(f"/vendor/jobs/{job_token}/invoice", big).status == 202
    owner_link = approval_token(stack, wo_id, ("owner@harbor-lofts.example.com",))
    approval = browser.new_page()
    approval.goto(f"{served}/approvals/{owner_link}")
    assert_shown_literally(approval, DESCRIPTION, NOTES, "XSS-1")
    shot(approval, "22-xss-owner-approval")

    # The ops record of the work order.
    report = browser.new_page(extra_http_headers=ops_headers)
    report.goto(f"{served}/ops/work-orders/{wo_id}/report")
    assert_shown_literally(report, DESCRIPTION, NOTES, "XSS-1")
    shot(report, "23-xss-ops-report")
    for page in (vendor, status, approval, report):
        page.close()
