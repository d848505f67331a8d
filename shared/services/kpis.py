"""KPIs: the rollup consumer, the backfill, and the reports (/ops/kpis, a vendor's scorecard, the baseline).

The consumer (`apply_event`) does not add an event's increment: per work order it recomputes the work
order's facts from its timeline (shared/domain/kpis.py) and replaces its previous contribution to the day
buckets with them. Duplicates, replays and events out of order therefore change nothing, and `backfill`
(the same recomputation for every work order of a period) gives exactly what the consumer built.
Reports read the day buckets with Queries only (one per month of the range).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shared.domain import kpis as rules
from shared.domain.errors import ConcurrentUpdate, InvalidInput, NotFound
from shared.domain.workorder import WorkOrder
from shared.services.container import Services
from shared.services.writes import publish

NPS_ANSWERED = "TenantNpsAnswered"  # a tenant's NPS answer (no work order): counted on its own
STATUS_VIEWED = "StatusPageViewed"  # a counted view of a status page: the rollup consumer refreshes the job
BASELINE = "kpi_baseline"  # configuration record: the baseline period or hand-entered figures
CHECKPOINTS = (30, 60, 90)  # days after the deployment the comparison shows
DEFAULT_DAYS = 30
BACKFILL_MAX_DAYS = 31  # one API call's backfill (the CLI walks longer periods a slice at a time)


# ---------------------------------------------------------------- the consumer and the backfill
def refresh(svc: Services, wo_id: str, attempts: int = 4) -> bool:
    """Make the rollups hold this work order's current facts. True if anything changed."""
    for attempt in range(attempts):
        # The facts' version is read before the work order: a consumer that read an older work order can
        # then only write if no one wrote facts since, and whoever writes after it read the newer state.
        old, version = svc.repo.rollup_facts(wo_id)
        wo = svc.repo.get_work_order(wo_id, with_timeline=True)
        original = None
        if wo.recall_of:
            try:
                original = svc.repo.get_work_order(wo.recall_of)
            except NotFound:
                original = None
        new = rules.facts(wo, svc.repo.invoices_for(wo_id), original, svc.repo.status_views(wo_id))
        change = rules.delta(old, new)
        if not change:
            return False
        try:
            svc.repo.replace_rollup_facts(wo_id, new, change, version)
            return True
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def note_status_view(svc: Services, wo: WorkOrder) -> bool:
    """The tenant opened the work order's status page (HTML or JSON): a status question that did not need a
    call. Counted at most once per work order and UTC hour (one conditional UpdateItem; the timeline is not
    written on every refresh), and only then announced (`StatusPageViewed`) so the rollup consumer recomputes
    the job's facts. Drill work orders are not counted. True if this view was counted."""
    hour = f"{svc.clock().astimezone(UTC):%Y-%m-%dT%H}"
    if wo.drill or not svc.repo.count_status_view(wo.id, hour):
        return False
    publish(svc, STATUS_VIEWED, wo, f"viewed:{hour}")
    return True


def apply_event(svc: Services, event: dict[str, Any]) -> str:
    """Consume one event (an EventBridge envelope): "applied", "unchanged", "drill" or "ignored" (no work
    order). Idempotent by construction: the work order's facts are recomputed from its current state and only
    their difference from the stored facts is added, so a duplicate or a late event changes nothing (no
    per-event marker is written: it would cost a write per event to save a few reads per rare duplicate). A
    tenant's NPS answer (`TenantNpsAnswered`, no work order) is counted on its own."""
    detail = event.get("detail") or {}
    if event.get("detail-type") == NPS_ANSWERED and isinstance(detail.get("score"), int):
        return "applied" if record_nps(svc, event) else "unchanged"
    wo_id = detail.get("work_order_id")
    if not wo_id:
        return "ignored"
    if detail.get("drill"):
        return "drill"
    try:
        changed = refresh(svc, wo_id)
    except NotFound:
        return "ignored"
    return "applied" if changed else "unchanged"  # unchanged: nothing written


def record_nps(svc: Services, event: dict[str, Any]) -> bool:
    """A tenant's NPS answer (answered once per tenant and quarter, so the event is the record): its facts
    stored under the survey's key like a work order's, so a duplicate changes nothing."""
    detail = event["detail"]
    survey = f"nps:{detail.get('tenant')}:{detail.get('quarter')}"
    at = event.get("time")
    day = datetime.fromisoformat(at.replace("Z", "+00:00")).date() if at else svc.clock().date()
    new = rules.nps_facts(day, detail.get("property_id"), int(detail["score"]))
    old, version = svc.repo.rollup_facts(survey)
    change = rules.delta(old, new)
    if not change:
        return False
    svc.repo.replace_rollup_facts(survey, new, change, version)
    return True


def backfill(svc: Services, since: date, until: date) -> dict[str, int]:
    """Recompute the rollups of every work order received from `since` to `until` (inclusive) from their
    timelines: per property, the property index's Query (no Scan)."""
    start = datetime.combine(since, time.min, tzinfo=UTC)
    work_orders = changed = 0
    for property_id in svc.repo.property_ids():
        for wo in svc.repo.recent_work_orders(property_id, start):
            if wo.created_at.date() > until:
                continue
            work_orders += 1
            changed += refresh(svc, wo.id)
    return {"work_orders": work_orders, "changed": changed}


# ---------------------------------------------------------------- reports
def parse_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """`from`/`to` (YYYY-MM-DD, inclusive); default the last 30 days."""
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError as exc:
        raise InvalidInput("from and to are dates: YYYY-MM-DD.", {"from": first, "to": last}) from exc
    if start > end:
        raise InvalidInput("from must not be after to.", {"from": first, "to": last})
    if (end - start).days > 800:
        raise InvalidInput("A range covers at most 800 days.", {"from": first, "to": last})
    return start, end


def _rows(svc: Services, first: date, last: date, property_id: str | None = None,
          vendor_id: str | None = None) -> list[dict[str, Any]]:
    return [r for r in svc.repo.rollups(first, last) if (property_id is None or r["property"] == property_id)
            and (vendor_id is None or r["vendor"] == vendor_id)]


def _values(rows: list[dict[str, Any]], units: int = 0) -> list[dict[str, Any]]:
    """The KPIs of these buckets; `units` (the units of the properties in scope) is what cost per unit
    divides by: it is not a rollup counter."""
    counters = rules.total(r["counters"] for r in rows)
    if units:
        counters["units"] = units
    return rules.values(counters)


def units_in(svc: Services, property_ids: list[str]) -> int:
    """How many units these properties have: one Query of each property's unit list (no Scan)."""
    return sum(len(svc.repo.unit_ids(p)) for p in property_ids)


def kpis(svc: Services, first: date, last: date, property_id: str | None = None,
         group_by: str | None = None) -> dict[str, Any]:
    """Every KPI over the days received from `first` to `last`, optionally for one property and per group
    (priority, trade, vendor or property); with the baseline comparison when ops set one."""
    if group_by is not None and group_by not in rules.GROUPS:
        raise InvalidInput(f"group_by is one of {', '.join(rules.GROUPS)}.", {"group_by": group_by})
    rows = _rows(svc, first, last, property_id)
    units = units_in(svc, [property_id] if property_id else svc.repo.property_ids())
    report: dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat(), "property_id": property_id,
                              "group_by": group_by, "rules_version": rules.rules()["version"],
                              "kpis": _values(rows, units)}
    if group_by:
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault(r[group_by], []).append(r)
        # Per property: that property's units; per trade, priority or vendor: the units in scope.
        report["groups"] = [{group_by: key, "kpis": _values(groups[key], units_in(svc, [key])
                                                              if group_by == "property" else units)}
                            for key in sorted(groups)]
    baseline = svc.repo.get_config(BASELINE)
    if baseline:
        report["baseline"] = comparison(svc, baseline, property_id)
    return report


def scorecard(svc: Services, vendor_id: str, first: date, last: date) -> dict[str, Any]:
    """A vendor's KPIs: the jobs they did (their buckets) and the offers they were made."""
    vendor = svc.repo.get_vendor(vendor_id)
    rows = _rows(svc, first, last, vendor_id=vendor_id)
    return {"vendor_id": vendor_id, "name": vendor.name, "from": first.isoformat(), "to": last.isoformat(),
            "rules_version": rules.rules()["version"], "kpis": _values(rows)}


# ---------------------------------------------------------------- a few work orders' own KPIs (the drill's)
OWN_KPIS = ("tenant_ack", "first_offer", "vendor_accept", "complete", "resolution")
MAX_OWN_WORK_ORDERS = 20


def own_kpis(svc: Services, wo_ids: list[str]) -> dict[str, Any]:
    """The KPIs `OWN_KPIS` of these work orders alone (at most 20; drill or not), with the rollups' formulas
    on their timelines: the fire drill's work orders never count in the rollups, so the drill reports its
    own runs with this. One read per work order, no rollup involved."""
    if not wo_ids or len(wo_ids) > MAX_OWN_WORK_ORDERS:
        raise InvalidInput(f"work_orders lists 1 to {MAX_OWN_WORK_ORDERS} work order ids.", {"count": len(wo_ids)})
    work_orders = [svc.repo.get_work_order(wo_id, with_timeline=True) for wo_id in wo_ids]
    return {"work_orders": wo_ids, "rules_version": rules.rules()["version"],
            "kpis": rules.summary(work_orders, OWN_KPIS)}


# ---------------------------------------------------------------- the baseline
def set_baseline(svc: Services, body: dict[str, Any], actor: str) -> dict[str, Any]:
    """Ops' baseline: a period before the deployment ({"from", "to"}) and/or figures entered by hand
    ({"figures": {kpi id: value}}); `deployed_on` (default the day after the period) starts the 30/60/90-day
    checkpoints."""
    known = {d["id"] for d in rules.definitions()}
    figures = body.get("figures") or {}
    if not isinstance(figures, dict) or any(k not in known for k in figures):
        raise InvalidInput("figures maps KPI ids to numbers.", {"unknown": sorted(set(figures) - known)})
    if any(not isinstance(v, int | float) or isinstance(v, bool) for v in figures.values()):
        raise InvalidInput("figures maps KPI ids to numbers.", {})
    period = None
    if body.get("from") or body.get("to"):
        first, last = parse_range(body.get("from"), body.get("to"), svc.clock().date())
        period = {"from": first.isoformat(), "to": last.isoformat()}
    if period is None and not figures:
        raise InvalidInput("A baseline needs a period (from, to) or figures.", {})
    after_period = date.fromisoformat(period["to"]) + timedelta(days=1) if period else svc.clock().date()
    deployed = body.get("deployed_on") or after_period.isoformat()
    try:
        date.fromisoformat(deployed)
    except ValueError as exc:
        raise InvalidInput("deployed_on is a date: YYYY-MM-DD.", {"deployed_on": deployed}) from exc
    record = {"period": period, "figures": figures, "deployed_on": deployed, "set_by": actor,
              "set_at": svc.clock().isoformat()}
    svc.repo.put_config(BASELINE, record)
    return record


def get_baseline(svc: Services) -> dict[str, Any] | None:
    return svc.repo.get_config(BASELINE)


def comparison(svc: Services, baseline: dict[str, Any], property_id: str | None = None) -> dict[str, Any]:
    """Per KPI: the baseline value (a hand-entered figure wins over the period's) and the value over the
    first 30, 60 and 90 days after `deployed_on` (a checkpoint not reached yet shows the days so far)."""
    deployed = date.fromisoformat(baseline["deployed_on"])
    before: dict[str, Any] = {}
    units = units_in(svc, [property_id] if property_id else svc.repo.property_ids())
    if baseline.get("period"):
        period = baseline["period"]
        rows = _rows(svc, date.fromisoformat(period["from"]), date.fromisoformat(period["to"]), property_id)
        before = {k["id"]: k["value"] for k in _values(rows, units)}
    before.update(baseline.get("figures") or {})
    after = {days: {k["id"]: k["value"] for k in _values(
        _rows(svc, deployed, deployed + timedelta(days=days - 1), property_id), units)} for days in CHECKPOINTS}
    return {"deployed_on": baseline["deployed_on"], "period": baseline.get("period"),
            "kpis": [{"id": d["id"], "baseline": before.get(d["id"]),
                      **{f"after_{days}_days": after[days][d["id"]] for days in CHECKPOINTS}}
                     for d in rules.definitions()]}


# ---------------------------------------------------------------- CSV
CSV_COLUMNS = ("group", "id", "name", "unit", "value", "count", "mean", "p50", "p90", "numerator", "denominator")


def to_csv(report: dict[str, Any]) -> str:
    """The report as CSV: one row per KPI (and group), the overall rows with an empty group."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    sections = [("", report["kpis"])]
    by = report.get("group_by")
    sections += [(f"{by}={g[by]}", g["kpis"]) for g in report.get("groups") or []]
    for group, values in sections:
        for kpi in values:
            writer.writerow({**kpi, "group": group})
    return out.getvalue()
