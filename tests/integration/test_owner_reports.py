"""The monthly owner report on the local cloud, wired end to end: the OwnerReportSchedule fires the
OwnerReportsFunction, which emails the property's owner a signed link; the link opens the report through
the API (HTML, view only, again and again); a second firing sends nothing."""

from __future__ import annotations

import pytest

from infra import demo
from shared.services.kpi_pages import last_full_month
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration
OWNER = demo.OWNERS["prop-harbor"]


def owner_mail(stack) -> list[dict]:
    return [m for m in stack.cloud.outbox() if m["channel"] == "email" and m["to"] == OWNER.email
            and "Maintenance report" in (m["subject"] or "")]


def test_the_schedule_emails_each_owner_a_link_to_last_months_report(stack, api):
    month = last_full_month(stack.cloud.clock_now().date())

    def this_months() -> list[dict]:
        return [m for m in owner_mail(stack) if (m["subject"] or "").endswith(month)]

    assert stack.cloud.fire_schedule("OwnerReportSchedule").error is None
    # Any advance of the test cloud's clock also fires a due schedule, so another test may have fired it
    # first: either way the owner has exactly one mail for the month.
    mail = eventually(this_months)
    assert len(mail) == 1
    path = mail[0]["body"].split("/owner/reports/")[1].split()[0]
    for _ in range(2):  # view only: the owner can come back to it
        page = api.get(f"/owner/reports/{path}", headers={"Accept": "text/html"})
        assert page.status == 200, page.body
        html = page.body.decode()
        assert f"<title>Maintenance report Harbor Lofts {month}</title>" in html and "<svg" in html
    assert api.get("/owner/reports/olk1_" + "A" * 43).status == 403

    assert stack.cloud.fire_schedule("OwnerReportSchedule").error is None  # once per property and month
    assert stack.cloud.wait_idle(timeout=20)
    assert len(this_months()) == 1
