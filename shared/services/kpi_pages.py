"""What the two KPI pages show, as plain data (the charts and the HTML are the API's: functions/api).

- The ops overview: open work orders by stage and age (one status-index Query per open status, no Scan),
  the overdue list (the ops list's overdue filter), and KPI tiles (the last 30 and 90 days, as `kpis.kpis`
  reports them) with a weekly trend read from the same day rollups.
- The owner's monthly report for one property: the month's jobs (the property index), spend by trade
  against the prior month (the rollups' cost counters), resolution times (p50/p90), satisfaction (CSAT,
  NPS), in the owner's language, reached by a signed owner link (party "owner", view only, 45 days).

Drill work orders never count: the rollups leave them out, and the lists here skip them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shared.domain import kpis as rules
from shared.domain import links
from shared.domain.errors import InvalidInput
from shared.domain.ops_lists import ListFilters
from shared.domain.replies import reply
from shared.domain.workorder import OPEN_STATUSES, WorkOrder
from shared.observability import count, logger
from shared.services import kpis
from shared.services.container import Services

# The tiles of the overview, in order (KPI ids of shared/rules/kpis.json).
TILES = ("work_orders", "tenant_ack", "first_offer", "resolution", "sla_complete", "first_time_fix",
         "csat", "nps", "cost_per_work_order")
TREND_WEEKS = 13
# Age bands of open work orders (upper bounds in days; the last band is "older").
AGE_BANDS: tuple[tuple[str, float], ...] = (("< 1 day", 1), ("1-3 days", 3), ("3-7 days", 7), ("7+ days", float("inf")))
OPEN_READ_LIMIT = 500  # work orders read per open status for the counts (a page says when it stopped there)
OVERDUE_SHOWN = 50
OWNER_LINK_TTL = 45 * 86400  # an owner's report link: a month and a half, view only, opened any number of times


# ---------------------------------------------------------------- the ops overview
@dataclass(frozen=True)
class Tile:
    id: str
    name: str
    unit: str
    value_30: float | None
    value_90: float | None
    trend: list[tuple[str, float | None]]  # (week start, value)
    detail: dict[str, Any] = field(default_factory=dict)  # the 30-day figure as kpis reports it
    baseline: float | None = None  # before the deployment, when ops set a baseline (PUT /ops/kpis/baseline)


@dataclass(frozen=True)
class StageRow:
    status: str
    bands: list[int]  # one count per AGE_BANDS
    total: int
    capped: bool  # more than OPEN_READ_LIMIT: the counts are a floor


@dataclass(frozen=True)
class Overview:
    generated_at: str
    age_bands: list[str]
    stages: list[StageRow]
    overdue: list[dict[str, Any]]
    overdue_more: bool
    tiles: list[Tile]


def _band(age: timedelta) -> int:
    days = age.total_seconds() / 86400
    return next(i for i, (_, upper) in enumerate(AGE_BANDS) if days < upper)


def open_by_stage(svc: Services, now: datetime) -> list[StageRow]:
    """Per open status, its work orders by age (a status-index Query each; drills skipped)."""
    out = []
    for status in OPEN_STATUSES:
        found, more = svc.repo.page_work_orders(f"STATUS#{status.value}", OPEN_READ_LIMIT,
                                                keep=lambda wo: not wo.drill)
        counts = [0] * len(AGE_BANDS)
        for wo in found:
            if wo.status == status:  # a job that moved while read shows under its new status only
                counts[_band(now - wo.created_at)] += 1
        out.append(StageRow(status.value, counts, sum(counts), more is not None))
    return out


def overdue(svc: Services, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    """The overdue work orders (the ops list's overdue filter: past their stage's timer), oldest first."""
    from shared.services import ops_lists

    page = ops_lists.page(svc, ListFilters(overdue=True), OVERDUE_SHOWN)
    rows = [r for r in page["work_orders"] if not _is_drill(svc, r["id"])]
    for r in rows:
        r["age_days"] = round((now - datetime.fromisoformat(r["created_at"])).total_seconds() / 86400, 1)
    rows.sort(key=lambda r: r["created_at"])
    return rows, page["next_cursor"] is not None


def _is_drill(svc: Services, wo_id: str) -> bool:
    return bool(svc.repo.get_work_order(wo_id).drill)


def weekly(svc: Services, last: date, weeks: int = TREND_WEEKS,
           property_id: str | None = None) -> list[tuple[date, dict[str, Any]]]:
    """The KPI values of each of the last `weeks` 7-day periods ending on `last` (one rollups read)."""
    first = last - timedelta(days=7 * weeks - 1)
    starts = [first + timedelta(days=7 * n) for n in range(weeks)]
    per_week: list[list[dict[str, int]]] = [[] for _ in starts]
    for row in svc.repo.rollups(first, last):
        if property_id is None or row["property"] == property_id:
            per_week[(date.fromisoformat(row["day"]) - first).days // 7].append(row["counters"])
    return [(start, {v["id"]: v for v in rules.values(rules.total(rows))})
            for start, rows in zip(starts, per_week, strict=True)]


def overview(svc: Services) -> Overview:
    now = svc.clock()
    today = now.date()
    report_30 = kpis.kpis(svc, today - timedelta(days=29), today)
    last_30 = {k["id"]: k for k in report_30["kpis"]}
    baseline = {k["id"]: k["baseline"] for k in (report_30.get("baseline") or {}).get("kpis", [])}
    last_90 = {k["id"]: k for k in kpis.kpis(svc, today - timedelta(days=89), today)["kpis"]}
    trend = weekly(svc, today)
    tiles = [Tile(kpi_id, last_30[kpi_id]["name"], last_30[kpi_id]["unit"], last_30[kpi_id]["value"],
                  last_90[kpi_id]["value"], [(start.isoformat(), values[kpi_id]["value"]) for start, values in trend],
                  last_30[kpi_id], baseline.get(kpi_id)) for kpi_id in TILES]
    late, more = overdue(svc, now)
    return Overview(now.isoformat(), [label for label, _ in AGE_BANDS], open_by_stage(svc, now), late, more, tiles)


# ---------------------------------------------------------------- the owner's monthly report
@dataclass(frozen=True)
class TradeSpend:
    trade: str
    cents: int
    prior_cents: int


@dataclass(frozen=True)
class OwnerJob:
    id: str
    created_at: str
    unit_id: str
    trade: str | None
    priority: str | None
    status: str
    description: str


@dataclass(frozen=True)
class OwnerReport:
    property_id: str
    property_name: str
    month: str  # YYYY-MM
    prior_month: str
    language: str
    owner_name: str | None
    jobs: list[OwnerJob]
    spend: list[TradeSpend]
    spend_cents: int
    prior_spend_cents: int
    kpis: dict[str, dict[str, Any]]  # this month's KPI values by id (as kpis.kpis reports them)
    prior_kpis: dict[str, dict[str, Any]]


def month_range(month: str) -> tuple[date, date]:
    """`YYYY-MM` -> its first and last day."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise InvalidInput("month is YYYY-MM.", {"month": month}) from exc
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def previous_month(month: str) -> str:
    first, _ = month_range(month)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def last_full_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def owner_of(svc: Services, property_id: str) -> dict[str, Any] | None:
    from shared.services.config import OWNERS

    return (svc.repo.get_config(OWNERS) or {}).get(property_id)


def _spend_by_trade(svc: Services, property_id: str, first: date, last: date) -> dict[str, int]:
    spend: dict[str, int] = {}
    for row in svc.repo.rollups(first, last):
        cents = row["counters"].get("cost_cents", 0)
        if row["property"] == property_id and cents:
            spend[row["trade"]] = spend.get(row["trade"], 0) + cents
    return spend


def jobs_of(svc: Services, property_id: str, first: date, last: date) -> list[WorkOrder]:
    """The property's work orders received in the period, oldest first (the property index; drills skipped)."""
    since = datetime.combine(first, time.min, tzinfo=UTC)
    found = [wo for wo in svc.repo.recent_work_orders(property_id, since)
             if wo.created_at.date() <= last and not wo.drill]
    return sorted(found, key=lambda wo: wo.created_at)


def owner_report(svc: Services, property_id: str, month: str) -> OwnerReport:
    first, last = month_range(month)
    prior = previous_month(month)
    prior_first, prior_last = month_range(prior)
    prop = svc.repo.get_property(property_id)
    owner = owner_of(svc, property_id) or {}
    this = kpis.kpis(svc, first, last, property_id)
    before = kpis.kpis(svc, prior_first, prior_last, property_id)
    spend, prior_spend = (_spend_by_trade(svc, property_id, first, last),
                          _spend_by_trade(svc, property_id, prior_first, prior_last))
    trades = sorted(set(spend) | set(prior_spend), key=lambda t: (-spend.get(t, 0), t))
    jobs = [OwnerJob(wo.id, wo.created_at.isoformat(), wo.unit_id, wo.trade.value if wo.trade else None,
                     wo.priority.value if wo.priority else None, wo.status.value, wo.description[:120])
            for wo in jobs_of(svc, property_id, first, last)]
    return OwnerReport(property_id, prop.name, month, prior, owner.get("language") or "en", owner.get("name"), jobs,
                       [TradeSpend(t, spend.get(t, 0), prior_spend.get(t, 0)) for t in trades],
                       sum(spend.values()), sum(prior_spend.values()),
                       {k["id"]: k for k in this["kpis"]}, {k["id"]: k for k in before["kpis"]})


# ---------------------------------------------------------------- the owner's link
def owner_link_path(token: str) -> str:
    return f"/owner/reports/{token}"


def mint_owner_link(svc: Services, property_id: str, month: str, base_url: str) -> dict[str, Any]:
    """A view-only link to one property's report of one month: {"url", "path", "expires_at"}."""
    month_range(month)
    svc.repo.get_property(property_id)  # NotFound: no link to nothing
    token = svc.link_tokens().issue(property_id, "owner", month, OWNER_LINK_TTL)
    path = owner_link_path(token)
    expires = datetime.fromtimestamp(svc.clock().timestamp() + OWNER_LINK_TTL, UTC)
    return {"url": base_url.rstrip("/") + path, "path": path, "expires_at": expires.isoformat(),
            "property_id": property_id, "month": month}


def open_owner_link(svc: Services, token: str | None) -> tuple[str, str]:
    """The (property id, month) an owner link shows; LinkRejected otherwise (expired, other party, unknown)."""
    scope = svc.link_tokens().verify(token)
    links.require(scope, None, "owner", "view")
    return scope.work_order_id, scope.party_id


def owner_job(svc: Services, token: str | None, wo_id: str) -> WorkOrder:
    """One job of the owner's report (its record): only a job of that property and month."""
    property_id, month = open_owner_link(svc, token)
    first, last = month_range(month)
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    if wo.property_id != property_id or not first <= wo.created_at.date() <= last or wo.drill:
        raise links.invalid()
    return wo


# ---------------------------------------------------------------- the monthly email
def send_owner_reports(svc: Services, month: str | None = None) -> dict[str, int]:
    """One run of the monthly schedule: email each property's owner (one with an email on file) a link to
    the report of `month` (default the last full month). Once per property and month: a second run sends
    nothing again; a failed email is released so the next run tries it again. Returns counts per outcome."""
    month = month or last_full_month(svc.clock().date())
    outcomes: Counter[str] = Counter()
    for property_id in svc.repo.property_ids():
        outcomes[_send_one(svc, property_id, month)] += 1
    for outcome, n in outcomes.items():
        count(f"OwnerReport{outcome.title().replace('_', '')}", n)
    logger.info("owner reports", extra={"month": month, "outcomes": dict(outcomes)})
    return dict(outcomes)


def _send_one(svc: Services, property_id: str, month: str) -> str:
    owner = owner_of(svc, property_id)
    if not owner or not owner.get("email"):
        return "no_owner_email"
    if not svc.repo.claim_owner_report(property_id, month, svc.clock().isoformat()):
        return "already_sent"
    try:
        _email_link(svc, owner, property_id, month)
    except Exception:
        svc.repo.release_owner_report(property_id, month)
        raise
    return "sent"


def _email_link(svc: Services, owner: dict[str, Any], property_id: str, month: str) -> None:
    language = owner.get("language") or "en"
    link = mint_owner_link(svc, property_id, month, svc.settings.public_base_url)["url"]
    name = svc.repo.get_property(property_id).name
    svc.outbound(False).email(str(owner["email"]),
                              reply("owner_report.subject", language, property_name=name, month=month),
                              reply("owner_report.body", language, owner_name=str(owner.get("name") or ""),
                                    property_name=name, month=month, link=link))


def renew_owner_link(svc: Services, token: str, property_id: str, month: str) -> bool:
    """An expired owner link asked for a new one (the expired page's button): the old one is revoked and a
    fresh one goes to the owner's email on file (never to whoever asked). False when there is no owner email
    or the link was renewed already."""
    owner = owner_of(svc, property_id)
    if not owner or not owner.get("email") or not svc.link_tokens().revoke(token, "renewed"):
        return False
    _email_link(svc, owner, property_id, month)
    return True
