"""The KPI pages' figures (shared/services/kpi_pages.py): the overview's tiles are what /ops/kpis reports, its
open and overdue work orders are the ops lists'; the owner's report holds the property's month; the owner
link is view-only, for one property and month, and lives 45 days; the monthly email goes once."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest

from shared.domain import links
from shared.domain.errors import InvalidInput, LinkRejected
from shared.domain.ops_lists import ListFilters
from shared.services import drill, kpi_pages, kpis, ops_links, ops_lists
from shared.services.container import Services
from tests.fakes import fake_services, seed_demo
from tests.service.journeys import completed, offered, triaged
from tests.service.kpi_history import Written, generate, write_first_half, write_rest

BASE = "https://api.example.com/prod"
OWNER = {"name": "Maple Holdings", "email": "owner@maple.example.com", "language": "es"}


@pytest.fixture(scope="module")
def built() -> tuple[list[Written], dict[Any, Any]]:
    """The 120-day KPI history on the demo portfolio, its rollups built by the backfill (once per module)."""
    svc = fake_services()
    seed_demo(svc.repo, svc.clock().date())
    jobs = generate(svc.clock())
    for job in jobs:
        write_first_half(svc, job)
        write_rest(svc, job)
    today = svc.clock().date()
    kpis.backfill(svc, today - timedelta(days=130), today)
    return jobs, svc.repo.table.items


@pytest.fixture
def history(svc: Services, built: tuple[list[Written], dict[Any, Any]]) -> list[Written]:
    jobs, items = built
    svc.repo.table.items = copy.deepcopy(items)
    return jobs


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["id"]: k for k in report["kpis"]}


# ---------------------------------------------------------------- the ops overview
def test_the_tiles_are_what_the_kpi_report_says(svc: Services, history: list[Written]) -> None:
    today = svc.clock().date()
    last_30 = by_id(kpis.kpis(svc, today - timedelta(days=29), today))
    last_90 = by_id(kpis.kpis(svc, today - timedelta(days=89), today))
    view = kpi_pages.overview(svc)
    assert [t.id for t in view.tiles] == list(kpi_pages.TILES)
    for tile in view.tiles:
        assert tile.value_30 == last_30[tile.id]["value"] and tile.value_90 == last_90[tile.id]["value"]
        assert tile.detail == last_30[tile.id]
    assert view.tiles[0].value_30 > 0  # the history has work orders in the last 30 days: a real comparison


def test_a_baseline_shows_on_its_tiles(svc: Services, history: list[Written]) -> None:
    kpis.set_baseline(svc, {"figures": {"resolution": 604800, "work_orders": 40}}, "ops:test")
    tile = {t.id: t for t in kpi_pages.overview(svc).tiles}
    assert (tile["resolution"].baseline, tile["work_orders"].baseline, tile["csat"].baseline) == (604800, 40, None)
    from functions.api import pages

    html = pages.ops_overview(kpi_pages.overview(svc))
    assert "baseline: 7.0 d" in html and "baseline: 40" in html


def test_each_week_of_the_trend_is_that_weeks_kpi_report(svc: Services, history: list[Written]) -> None:
    today = svc.clock().date()
    tile = {t.id: t for t in kpi_pages.overview(svc).tiles}
    for kpi_id in ("work_orders", "resolution", "cost_per_work_order"):
        trend = tile[kpi_id].trend
        assert len(trend) == kpi_pages.TREND_WEEKS
        assert trend[-1][0] == (today - timedelta(days=6)).isoformat()
        for start, value in trend:
            first = date.fromisoformat(start)
            assert value == by_id(kpis.kpis(svc, first, first + timedelta(days=6)))[kpi_id]["value"]
    assert sum(v for _, v in tile["work_orders"].trend if v) == \
        by_id(kpis.kpis(svc, today - timedelta(days=7 * 13 - 1), today))["work_orders"]["value"]


def test_open_work_is_counted_by_status_and_age_and_drills_are_left_out(svc: Services) -> None:
    old = triaged(svc, "unit-maple-1a", "The bathroom faucet drips constantly")
    svc.clock.advance(days=4)
    offered(svc, "unit-maple-2b", "No hot water in the kitchen")
    completed(svc, "unit-harbor-101", "The hallway light flickers")
    drill.setup(svc)
    triaged(svc, "drill-unit-a", "Drill: the sink leaks")
    rows = {r.status: r for r in kpi_pages.open_by_stage(svc, svc.clock())}
    assert rows["triaged"].bands == [0, 0, 1, 0] and rows["triaged"].total == 1  # 4 days old: 3-7 days
    assert rows["offered"].bands == [1, 0, 0, 0] and rows["completed"].total == 1
    assert sum(r.total for r in rows.values()) == 3 and old.id  # the drill job is not one of them
    assert not any(r.capped for r in rows.values())


def test_the_overdue_list_is_the_ops_lists_overdue_filter(svc: Services, history: list[Written]) -> None:
    late, _more = kpi_pages.overdue(svc, svc.clock())
    listed = ops_lists.page(svc, ListFilters(overdue=True), kpi_pages.OVERDUE_SHOWN)["work_orders"]
    drills = {j.truth.id for j in history if j.truth.drill}
    assert {r["id"] for r in late} == {r["id"] for r in listed} - drills
    assert late and all(r["overdue"] for r in late)
    assert [r["created_at"] for r in late] == sorted(r["created_at"] for r in late)


def test_the_overview_link_opens_the_overview_once_and_nothing_else(svc: Services) -> None:
    link = ops_links.mint_overview(svc, BASE)
    token = link["path"].split("token=")[1]
    assert link["path"].startswith("/ops-pages/overview?token=")
    wo_id = triaged(svc, "unit-maple-1a", "The bathroom faucet drips constantly").id
    with pytest.raises(LinkRejected):
        ops_links.open_page(svc, wo_id, "report", token)  # not a work order's page
    ops_links.open_overview(svc, token)
    with pytest.raises(LinkRejected):
        ops_links.open_overview(svc, token)  # spent
    page_token = ops_links.mint(svc, wo_id, "report", BASE)["path"].split("token=")[1]
    with pytest.raises(LinkRejected):
        ops_links.open_overview(svc, page_token)  # a work order's page link is not an overview link
    with pytest.raises(InvalidInput):
        ops_links.mint(svc, wo_id, "overview", BASE)  # and the overview is not a work order's page


# ---------------------------------------------------------------- the owner's report
def month_with_jobs(svc: Services) -> str:
    return kpi_pages.last_full_month(svc.clock().date())


def test_the_owner_report_holds_the_propertys_month(svc: Services, history: list[Written]) -> None:
    month = month_with_jobs(svc)
    first, last = kpi_pages.month_range(month)
    report = kpi_pages.owner_report(svc, "prop-maple", month)
    expected = sorted((j.truth for j in history if j.truth.property_id == "prop-maple" and not j.truth.drill
                       and first <= j.truth.created_at.date() <= last), key=lambda t: t.created_at)
    assert [j.id for j in report.jobs] == [t.id for t in expected] and report.jobs
    this = by_id(kpis.kpis(svc, first, last, "prop-maple"))
    assert report.kpis == this
    assert report.kpis["work_orders"]["value"] == len(report.jobs)
    prior_first, prior_last = kpi_pages.month_range(report.prior_month)
    assert report.prior_kpis == by_id(kpis.kpis(svc, prior_first, prior_last, "prop-maple"))
    by_trade = kpis.kpis(svc, first, last, "prop-maple", "trade")["groups"]
    spend = {g["trade"]: by_id(g)["cost_total"]["value"] for g in by_trade}
    assert {s.trade: s.cents for s in report.spend if s.cents} == {t: v for t, v in spend.items() if v}
    assert report.spend_cents == this["cost_total"]["value"] > 0
    prior = kpis.kpis(svc, prior_first, prior_last, "prop-maple", "trade")["groups"]
    assert {s.trade: s.prior_cents for s in report.spend if s.prior_cents} == \
        {g["trade"]: by_id(g)["cost_total"]["value"] for g in prior if by_id(g)["cost_total"]["value"]}
    assert [s.cents for s in report.spend] == sorted((s.cents for s in report.spend), reverse=True)


def test_the_report_speaks_the_owners_language(svc: Services) -> None:
    svc.repo.put_config_entry("owners", "prop-maple", OWNER)
    report = kpi_pages.owner_report(svc, "prop-maple", "2026-01")
    assert report.language == "es" and report.owner_name == "Maple Holdings"
    assert report.jobs == [] and report.spend == []  # a month without work reads as empty, not as an error


def test_months_are_checked_and_january_follows_december() -> None:
    assert kpi_pages.month_range("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert kpi_pages.previous_month("2026-01") == "2025-12"
    assert kpi_pages.last_full_month(date(2026, 3, 31)) == "2026-02"
    with pytest.raises(InvalidInput):
        kpi_pages.month_range("2026-13")


def test_an_owner_link_shows_one_property_and_month_for_45_days(svc: Services, history: list[Written]) -> None:
    month = month_with_jobs(svc)
    link = kpi_pages.mint_owner_link(svc, "prop-maple", month, BASE)
    token = link["path"].rsplit("/", 1)[1]
    assert link["url"] == BASE + f"/owner/reports/{token}"
    assert kpi_pages.open_owner_link(svc, token) == ("prop-maple", month)
    assert kpi_pages.open_owner_link(svc, token) == ("prop-maple", month)  # opened again: a report is reread
    scope = svc.link_tokens().verify(token)
    assert (scope.party, scope.actions) == ("owner", ("view",))
    report = kpi_pages.owner_report(svc, "prop-maple", month)
    assert kpi_pages.owner_job(svc, token, report.jobs[0].id).id == report.jobs[0].id
    other = next(j.truth for j in history if j.truth.property_id == "prop-harbor" and not j.truth.drill)
    with pytest.raises(LinkRejected):
        kpi_pages.owner_job(svc, token, other.id)  # another property's job
    earlier = next(j.truth for j in history if j.truth.property_id == "prop-maple" and not j.truth.drill
                   and j.truth.created_at.strftime("%Y-%m") < month)
    with pytest.raises(LinkRejected):
        kpi_pages.owner_job(svc, token, earlier.id)  # another month's job
    svc.clock.advance(days=45, seconds=1)
    with pytest.raises(LinkRejected) as expired:
        kpi_pages.open_owner_link(svc, token)
    assert expired.value.details["reason"] == "expired"  # type: ignore[index]


def test_other_links_do_not_open_an_owner_report(svc: Services) -> None:
    wo_id = triaged(svc, "unit-maple-1a", "The bathroom faucet drips constantly").id
    tenant = svc.link_tokens().issue(wo_id, "tenant", "unit-maple-1a", 3600)
    with pytest.raises(LinkRejected):
        kpi_pages.open_owner_link(svc, tenant)
    with pytest.raises(LinkRejected):
        kpi_pages.open_owner_link(svc, "olk1_" + "A" * 43)
    assert links.actions_for("owner") == ("view",)


# ---------------------------------------------------------------- the monthly email
def test_each_owner_with_an_email_gets_the_link_once_a_month(svc: Services, history: list[Written]) -> None:
    svc.repo.put_config_entry("owners", "prop-maple", OWNER)
    svc.repo.put_config_entry("owners", "prop-harbor", {"name": "Harbor LLC", "phone": "+15551230000"})
    month = month_with_jobs(svc)
    outcomes = kpi_pages.send_owner_reports(svc)
    assert outcomes["sent"] == 1 and outcomes["no_owner_email"] == len(svc.repo.property_ids()) - 1
    (mail,) = svc.messenger.emails_to(OWNER["email"])
    assert mail.subject == f"Informe de mantenimiento de {svc.repo.get_property('prop-maple').name}, {month}"
    token = mail.body.split("/owner/reports/")[1].split()[0]
    assert kpi_pages.open_owner_link(svc, token) == ("prop-maple", month)
    assert kpi_pages.send_owner_reports(svc) == {"already_sent": 1, "no_owner_email": outcomes["no_owner_email"]}
    assert len(svc.messenger.emails_to(OWNER["email"])) == 1


def test_an_expired_owner_link_asks_for_a_new_one_sent_to_the_owner(svc: Services) -> None:
    from shared.services.link_renewal import renew

    svc.repo.put_config_entry("owners", "prop-maple", OWNER)
    old = kpi_pages.mint_owner_link(svc, "prop-maple", "2026-10", BASE)["path"].rsplit("/", 1)[1]
    svc.clock.advance(days=46)
    renew(svc, old)
    renew(svc, old)  # once: the old link is revoked by the first
    (mail,) = svc.messenger.emails_to(OWNER["email"])
    fresh = mail.body.split("/owner/reports/")[1].split()[0]
    assert kpi_pages.open_owner_link(svc, fresh) == ("prop-maple", "2026-10")
    with pytest.raises(LinkRejected):
        kpi_pages.open_owner_link(svc, old)


def test_a_failed_email_is_sent_by_the_next_run(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    svc.repo.put_config_entry("owners", "prop-maple", OWNER)
    def down(*_args: Any) -> str:
        raise RuntimeError("SES is down")

    monkeypatch.setattr(svc.messenger, "email", down)
    with pytest.raises(RuntimeError):
        kpi_pages.send_owner_reports(svc, "2026-10")
    monkeypatch.undo()
    assert kpi_pages.send_owner_reports(svc, "2026-10")["sent"] >= 1
    assert len(svc.messenger.emails_to(OWNER["email"])) == 1
