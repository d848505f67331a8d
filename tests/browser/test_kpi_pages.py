"""The KPI pages in a real browser (Debian's chromium driven by Playwright): the ops overview reached with
`opslayer ops open overview`'s link and a property owner's monthly report reached with the owner link, on a
120-day history (60 jobs) written to the local cloud's table and rolled up by the real backfill route. The figures on
the pages are the /ops/kpis figures; the SVG charts render. Screenshots land in test-artifacts/browser/, and
with UPDATE_SCREENSHOTS=1 in docs/img/ for the README."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from functions.api.pages import figure
from tests.browser.test_pages import browser, shot  # noqa: F401  (the chromium fixture)
from tests.integration.conftest import P

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DOCS_IMG = ROOT / "docs" / "img"


def save_for_readme(page: Any, name: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def history(stack, served, ops_headers) -> dict[str, Any]:
    """A 120-day history of the demo's two properties (ids as the PMS sync made them), its rollups built by
    POST /ops/kpis/backfill one 31-day slice at a time."""
    import requests

    from tests.service.kpi_history import generate, write_first_half, write_rest

    now = stack.cloud.clock_now()
    jobs = generate(now, count=60, seed=31)
    target = SimpleNamespace(repo=stack.repo)
    for job in jobs:
        prop = P(job.truth.property_id)
        job.truth.property_id = prop
        job.final = job.final.model_copy(update={"property_id": prop, "unit_id": f"{prop}-u1"})
        write_first_half(target, job)
        write_rest(target, job)
    last = now.date()
    first = last - timedelta(days=125)
    while first <= last:
        to = min(first + timedelta(days=30), last)
        answer = requests.post(f"{served}/ops/kpis/backfill", json={"from": first.isoformat(), "to": to.isoformat()},
                               headers=ops_headers, timeout=60)
        assert answer.status_code == 200, answer.text
        first = to + timedelta(days=1)
    return {"jobs": jobs, "today": last}


def kpis_of(served: str, ops_headers: dict[str, str], **params: str) -> dict[str, dict[str, Any]]:
    import requests

    answer = requests.get(f"{served}/ops/kpis", params=params, headers=ops_headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return {k["id"]: k for k in answer.json()["kpis"]}


def svg_drawn(page: Any, selector: str) -> int:
    """Charts the browser laid out with a real size and drawn marks (points or bars)."""
    return page.evaluate("""sel => Array.from(document.querySelectorAll(sel)).filter(svg => {
        const box = svg.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && svg.querySelectorAll('circle, rect').length > 0;
    }).length""", selector)


def test_ops_overview_shows_the_kpis_open_work_and_overdue_jobs(stack, served, browser, ops_headers,  # noqa: F811
                                                                history):
    import requests

    today = history["today"]
    assert stack.cloud.wait_idle(30)  # earlier tests' work orders stop moving the figures before they are read
    assert requests.post(f"{served}/ops/overview/links", json={}, timeout=10).status_code in (401, 403)
    link = requests.post(f"{served}/ops/overview/links", json={}, headers=ops_headers, timeout=10)
    assert link.status_code == 201, link.text
    path = link.json()["path"]
    assert path.startswith("/ops-pages/overview?token=olk1_")
    last_30 = kpis_of(served, ops_headers,
                      **{"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()})

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(served + path)
    assert page.title() == "Ops overview"
    tile = page.locator('section.tile[data-kpi="work_orders"]')
    assert tile.locator(".value").inner_text() == str(last_30["work_orders"]["value"])
    assert last_30["work_orders"]["value"] > 0
    p50 = last_30["resolution"]["p50"]
    # As the page writes seconds (functions/api/pages.py `figure`, unit-tested): the session's live jobs resolve
    # in minutes, so the median depends on how many of them ran before.
    assert page.locator('section.tile[data-kpi="resolution"] .value').inner_text() == figure(p50, "seconds")
    assert svg_drawn(page, "section.tile svg.sparkline") >= 5  # the trends of the tiles with data
    assert svg_drawn(page, "svg.bars") == 1  # open work orders by stage
    completed_open = sum(1 for j in history["jobs"] if j.final.status.value == "completed" and not j.truth.drill)
    assert int(page.locator('#open-by-stage tr[data-status="completed"] td').last.inner_text().rstrip("+")) \
        >= completed_open
    assert page.locator("#overdue tbody tr").count() > 0
    shot(page, "20-ops-overview")
    save_for_readme(page, "ops-overview")
    again = browser.new_page()
    again.goto(served + path)  # the link opens once
    assert "already opened" in again.content()
    again.close()
    page.close()


def test_owner_report_in_the_owners_language_with_links_to_each_job(stack, served, browser,  # noqa: F811
                                                                    ops_headers, history):
    import requests

    harbor = P("prop-harbor")
    assert stack.cloud.wait_idle(30)  # earlier tests' work orders stop moving the figures before they are read
    link = requests.post(f"{served}/ops/properties/{harbor}/owner-report-link", json={}, headers=ops_headers,
                         timeout=10)
    assert link.status_code == 201, link.text
    month = link.json()["month"]
    first = f"{month}-01"
    month_kpis = kpis_of(served, ops_headers, **{"from": first, "to": f"{month}-{_days_in(month):02d}",
                                                  "property_id": harbor})

    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(served + link.json()["path"])
    assert "Maintenance report" in page.title() and month in page.title()
    assert page.locator("#jobs-figure .big").inner_text() == str(month_kpis["work_orders"]["value"])
    assert page.locator("#jobs tbody tr").count() == month_kpis["work_orders"]["value"] > 0
    spend = month_kpis["cost_total"]["value"]
    assert page.locator("#spend-figure .big").inner_text() == f"${spend / 100:,.2f}"
    assert svg_drawn(page, "svg.bars") == 1
    shot(page, "21-owner-report")
    save_for_readme(page, "owner-report")
    page.emulate_media(media="print")
    assert not page.locator("p.noprint").is_visible()  # printable: no instructions on paper
    page.emulate_media(media="screen")

    job_link = page.locator("#jobs tbody tr a").first
    job_id = job_link.inner_text()
    job_link.click()
    page.wait_for_url(re.compile(rf"/owner/reports/olk1_[^/]+/jobs/{job_id}$"))
    assert job_id in page.title()
    page.go_back()  # the owner link opens again (view only, 45 days)
    assert page.locator("#jobs tbody tr").count() == month_kpis["work_orders"]["value"]

    owners = stack.repo.get_config("owners") or {}
    stack.repo.put_config_entry("owners", harbor, {**owners[harbor], "language": "es"})
    try:
        page.reload()
        assert "Informe de mantenimiento" in page.title()
        assert page.locator("html").get_attribute("lang") == "es"
        shot(page, "22-owner-report-es")
    finally:
        stack.repo.put_config_entry("owners", harbor, owners[harbor])
    page.close()


def _days_in(month: str) -> int:
    from shared.services.kpi_pages import month_range

    return month_range(month)[1].day

