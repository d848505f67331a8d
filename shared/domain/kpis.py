"""KPIs (definitions: shared/rules/kpis.json). Pure: no I/O beyond reading the rules.

Two halves:
- `facts(wo, invoices, original)`: what one work order contributes to the day rollups, as integer counters
  per rollup bucket (day x property x trade x priority x vendor). A work order's facts are a function of its
  timeline, fields and invoices only, so recomputing them is idempotent and independent of event order.
  Most facts land in the work order's own bucket (the day it was received, its final vendor); an offer's
  facts land in the offered vendor's bucket; a recall's "recalled" fact lands in its original's bucket.
- `values(counters)`: the KPI values from summed counters.

Durations are whole seconds, kept as a count, a sum (exact mean) and a histogram with fixed bucket bounds
(`histogram_bounds_s`): p50/p90 are nearest-rank percentiles reported as the upper bound of the bucket that
holds that rank (the resolution is the bucket width: 1, 5, 15, 30 min, 1, 2, 4, 8, 12 h, 1, 2, 3, 5, 7, 14,
30, 90 days); a rank past the last bound is reported as None ("over the last bound").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from shared.domain.workorder import TimelineEntry, WorkOrder

RULES = Path(__file__).resolve().parent.parent / "rules" / "kpis.json"
TIMERS = Path(__file__).resolve().parent.parent / "rules" / "timers.json"
NONE = "-"  # a dimension without a value (no trade yet, no vendor)
GROUPS = ("priority", "trade", "vendor", "property")
COST_STATUSES = frozenset({"approved", "billed"})  # an invoice counts as cost once approved
_VENDOR_IN_DETAIL = re.compile(r"\(vendor ([^)\s]+)\)")

Counters = dict[str, int]
Facts = dict[str, Counters]  # bucket key -> counters


@cache
def rules() -> dict[str, Any]:
    return json.loads(RULES.read_text(encoding="utf-8"))


@cache
def _timers() -> dict[str, dict[str, int]]:
    return json.loads(TIMERS.read_text(encoding="utf-8"))["stages"]


def definitions() -> list[dict[str, Any]]:
    return rules()["kpis"]


def bounds() -> list[int]:
    return rules()["histogram_bounds_s"]


# ---------------------------------------------------------------- buckets
def bucket_key(day: date, property_id: str, trade: str | None, priority: str | None, vendor_id: str | None) -> str:
    return "|".join((day.isoformat(), property_id, trade or NONE, priority or NONE, vendor_id or NONE))


def bucket_parts(key: str) -> dict[str, str]:
    day, property_id, trade, priority, vendor_id = key.split("|")
    return {"day": day, "property": property_id, "trade": trade, "priority": priority, "vendor": vendor_id}


def _own_bucket(wo: WorkOrder, vendor_id: str | None = None) -> str:
    return bucket_key(wo.created_at.date(), wo.property_id, wo.trade.value if wo.trade else None,
                      wo.priority.value if wo.priority else None, vendor_id if vendor_id is not None else wo.vendor_id)


# ---------------------------------------------------------------- facts of one work order
def _bucket_index(seconds: int) -> int:
    for i, bound in enumerate(bounds()):
        if seconds <= bound:
            return i
    return len(bounds())


def _add(counters: Counters, name: str, value: int = 1) -> None:
    counters[name] = counters.get(name, 0) + value


def _duration(counters: Counters, kpi: str, start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    seconds = int((end - start).total_seconds())
    _record_duration(counters, kpi, seconds)
    return seconds


def _record_duration(counters: Counters, kpi: str, seconds: int) -> None:
    _add(counters, f"{kpi}.n")
    _add(counters, f"{kpi}.sum", seconds)
    _add(counters, f"{kpi}.h{_bucket_index(seconds)}")


def _rate(counters: Counters, kpi: str, hit: bool) -> None:
    _add(counters, f"{kpi}.den")
    if hit:
        _add(counters, f"{kpi}.num")


def _first(timeline: list[TimelineEntry], event: str, after: datetime | None = None) -> TimelineEntry | None:
    return next((e for e in timeline if e.event == event and (after is None or e.at >= after)), None)


def _last(timeline: list[TimelineEntry], event: str) -> TimelineEntry | None:
    return next((e for e in reversed(timeline) if e.event == event), None)


def offered_vendor(entry: TimelineEntry) -> str | None:
    """The vendor an `offered` / `offer_expired` entry names, or the vendor who answered (their actor)."""
    if entry.actor.startswith("vendor:"):
        return entry.actor.split(":", 1)[1]
    match = _VENDOR_IN_DETAIL.search(entry.detail)
    return match.group(1) if match else None


def _field(obj: Any, *path: str) -> Any:
    """An optional (possibly nested) field of a model or a dict: None when any step is missing."""
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    return obj


def _invoice_cents(invoice: Any) -> int:
    total = _field(invoice, "total")
    return int((Decimal(str(total)) * 100).to_integral_value()) if total is not None else 0


def _sla_met(priority: str | None, stage: str, seconds: int | None) -> bool | None:
    if priority is None or seconds is None:
        return None
    return seconds <= _timers()[stage][priority]


def admin_minutes(event: str) -> int:
    config = rules()["admin_minutes"]
    return int(config["per_event"].get(event, config["default"]))


def facts(wo: WorkOrder, invoices: Iterable[Any] = (), original: WorkOrder | None = None,
          status_views: int = 0) -> Facts:
    """What this work order contributes to the rollups. `wo` must carry its timeline; `original` is the job a
    recall recalls (its completion decides whether this is a 30-day recall); `status_views` the counted views
    of its status page (at most one an hour). Drill work orders: nothing (see `summary` for the drill's own)."""
    if wo.drill:
        return {}
    return _facts(wo, invoices, original, status_views)


def _facts(wo: WorkOrder, invoices: Iterable[Any], original: WorkOrder | None, status_views: int) -> Facts:
    timeline = sorted(wo.timeline, key=lambda e: e.at)
    own: Counters = {}
    out: Facts = {}
    priority = wo.priority.value if wo.priority else None
    _add(own, "wo")

    received = _first(timeline, "received")
    received_at = received.at if received else wo.created_at
    ack = next((e for e in timeline if e.event == "notified" and "to tenant" in e.detail.lower()
                and "reply to" not in e.detail.lower() and e.at >= received_at), None)  # not an answer
    _duration(own, "tenant_ack", received_at, ack.at if ack else None)
    first_offered = _first(timeline, "offered")
    _duration(own, "first_offer", received_at, first_offered.at if first_offered else None)

    accepted = _first(timeline, "accepted")
    if accepted:
        offer_before = next((e for e in reversed(timeline) if e.event == "offered" and e.at <= accepted.at), None)
        seconds = _duration(own, "vendor_accept", offer_before.at if offer_before else None, accepted.at)
        if (met := _sla_met(priority, "accept", seconds)) is not None:
            _rate(own, "sla_accept", met)
    scheduled = _first(timeline, "scheduled", accepted.at) if accepted else None
    if accepted and scheduled:
        seconds = _duration(own, "schedule", accepted.at, scheduled.at)
        if (met := _sla_met(priority, "schedule", seconds)) is not None:
            _rate(own, "sla_schedule", met)
    completed = _first(timeline, "completed")
    if scheduled and completed and completed.at >= scheduled.at:
        seconds = _duration(own, "complete", scheduled.at, completed.at)
        if (met := _sla_met(priority, "complete", seconds)) is not None:
            _rate(own, "sla_complete", met)
    verified = _first(timeline, "verified")
    _duration(own, "resolution", received_at, verified.at if verified else None)
    billed = _first(timeline, "billed")
    _duration(own, "close", received_at, billed.at if billed else None)

    # The visit: on time = the (last) check-in inside the (final) window; a no-show is a visit that failed.
    checkin = _last(timeline, "checkin")
    no_show = _first(timeline, "no_show")
    if wo.window and (checkin or no_show):
        on_time = bool(checkin and wo.window.start <= checkin.at <= wo.window.end)
        _rate(own, "on_time_arrival", on_time)
        if priority:
            grace = timedelta(seconds=_timers()["arrive"][priority])
            _rate(own, "sla_arrive", bool(checkin and checkin.at <= wo.window.end + grace))
    if scheduled:
        _rate(own, "no_show", no_show is not None)

    reopened = _first(timeline, "reopened") is not None
    if verified:
        _rate(own, "first_time_fix", not reopened)
    if completed:
        _rate(own, "reopen", reopened)
        _add(own, "recall_30d.den")
    if _first(timeline, "escalated"):
        _rate(own, "escalation", True)
        _add(own, f"escalation_from.{wo.escalated_from.value if wo.escalated_from else NONE}")
    else:
        _rate(own, "escalation", False)

    acked_after = _field(wo, "page", "acknowledged_after_s")
    if acked_after is not None:
        _record_duration(own, "page_ack", int(acked_after))

    touches = [e for e in timeline if e.actor.startswith("ops")]
    if touches:
        _add(own, "admin_touches", len(touches))
        _add(own, "admin_minutes", sum(admin_minutes(e.event) for e in touches))

    rating = _field(wo, "satisfaction", "rating")
    if rating is not None:
        _add(own, "csat.n")
        _add(own, "csat.sum", int(rating))
    replies = sum(1 for e in timeline if e.event == "notified" and "reply to status" in e.detail.lower())
    if replies or status_views:
        _add(own, "status_answers", replies + status_views)
    if status_views:
        _add(own, "status_views", status_views)

    cost = sum(_invoice_cents(i) for i in invoices if str(_field(i, "status")) in COST_STATUSES)
    if cost:
        _add(own, "cost_cents", cost)
        _add(own, "invoiced")

    out[_own_bucket(wo)] = own
    for vendor_id, counters in _offer_facts(timeline).items():
        _merge(out.setdefault(_own_bucket(wo, vendor_id), {}), counters)
    if original is not None and original.completed_at and not original.drill:
        window = timedelta(days=rules()["recall_window_days"])
        if wo.created_at - original.completed_at <= window:
            _add(out.setdefault(_own_bucket(original), {}), "recall_30d.num")
    return out


def nps_facts(day: date, property_id: str | None, score: int) -> Facts:
    """One tenant's NPS answer (a survey of the tenant, not of a job): counted on the day it was answered,
    for its property, with no trade, priority or vendor."""
    counters: Counters = {"nps.n": 1}
    if score >= 9:
        counters["nps.promoters"] = 1
    elif score <= 6:
        counters["nps.detractors"] = 1
    return {bucket_key(day, property_id or NONE, None, None, None): counters}


def _offer_facts(timeline: list[TimelineEntry]) -> dict[str, Counters]:
    """Per offered vendor: offers, accepted offers, and the time to answer (accept or decline)."""
    per_vendor: dict[str, Counters] = {}
    for i, offered in enumerate(timeline):
        if offered.event != "offered":
            continue
        vendor_id = offered_vendor(offered) or NONE
        counters = per_vendor.setdefault(vendor_id, {})
        answer = next((e for e in timeline[i + 1:] if e.event in ("accepted", "declined", "offer_expired", "offered",
                                                                 "escalated", "cancelled", "triaged")), None)
        answered = answer is not None and answer.event in ("accepted", "declined")
        _rate(counters, "vendor_acceptance", answered and answer is not None and answer.event == "accepted")
        if answered and answer is not None:
            _duration(counters, "vendor_response", offered.at, answer.at)
    return per_vendor


def _merge(into: Counters, counters: Mapping[str, int]) -> None:
    for name, value in counters.items():
        _add(into, name, value)


def delta(old: Facts, new: Facts) -> Facts:
    """Per bucket, what to add to move the rollups from `old` facts to `new` ones (zero changes left out)."""
    out: Facts = {}
    for key in set(old) | set(new):
        before, after = old.get(key, {}), new.get(key, {})
        change = {n: after.get(n, 0) - before.get(n, 0) for n in set(before) | set(after)}
        change = {n: v for n, v in change.items() if v}
        if change:
            out[key] = change
    return out


def total(counters: Iterable[Mapping[str, int]]) -> Counters:
    summed: Counters = {}
    for c in counters:
        _merge(summed, c)
    return summed


# ---------------------------------------------------------------- values from counters
def percentile(counters: Mapping[str, int], kpi: str, p: float) -> int | None:
    """Nearest-rank percentile: the upper bound of the histogram bucket holding rank ceil(p * n)."""
    n = counters.get(f"{kpi}.n", 0)
    if not n:
        return None
    rank = max(1, math.ceil(p * n))
    seen = 0
    for i, bound in enumerate(bounds()):
        seen += counters.get(f"{kpi}.h{i}", 0)
        if seen >= rank:
            return bound
    return None


def value(definition: Mapping[str, Any], counters: Mapping[str, int]) -> dict[str, Any]:
    """One KPI's value from summed counters: `value` is the headline (p50 for durations), the rest its parts."""
    kpi, kind = definition["id"], definition["kind"]
    out: dict[str, Any] = {"id": kpi, "name": definition["name"], "unit": definition["unit"], "kind": kind}
    c = counters
    if kind == "duration":
        n = c.get(f"{kpi}.n", 0)
        out.update(count=n, mean=round(c.get(f"{kpi}.sum", 0) / n, 1) if n else None,
                   p50=percentile(c, kpi, 0.5), p90=percentile(c, kpi, 0.9))
        out["value"] = out["p50"]
    elif kind == "rate":
        num, den = c.get(f"{kpi}.num", 0), c.get(f"{kpi}.den", 0)
        out.update(numerator=num, denominator=den, value=round(num / den, 4) if den else None)
        if definition.get("mix"):
            prefix = "escalation_from."
            out["mix"] = {k[len(prefix):]: v for k, v in sorted(c.items()) if k.startswith(prefix) and v}
    elif kind == "score":
        n = c.get(f"{kpi}.n", 0)
        out.update(count=n, value=round(c.get(f"{kpi}.sum", 0) / n, 2) if n else None)
    elif kind == "nps":
        n = c.get("nps.n", 0)
        promoters, detractors = c.get("nps.promoters", 0), c.get("nps.detractors", 0)
        out.update(count=n, promoters=promoters, detractors=detractors,
                   value=round(100 * (promoters - detractors) / n, 1) if n else None)
    elif kind == "per_work_order":
        name = definition["aggregate"][0]
        work_orders = c.get("wo", 0)
        out.update(total=c.get(name, 0), work_orders=work_orders,
                   value=round(c.get(name, 0) / work_orders, 2) if work_orders else None)
    elif kind == "per_invoiced":
        invoiced = c.get("invoiced", 0)
        out.update(total=c.get("cost_cents", 0), invoiced_work_orders=invoiced,
                   value=round(c.get("cost_cents", 0) / invoiced) if invoiced else None)
    elif kind == "sum":
        out["value"] = c.get(definition["aggregate"][0], 0)
        for part in definition.get("parts", ()):  # what the sum is made of, by counter
            out[part] = c.get(part, 0)
    elif kind == "per_unit":
        # `units` is not a rollup counter: the report adds the units of the properties in scope
        # (their unit lists), so the cost of a period is spread over the homes it was spent on.
        name, units = definition["aggregate"][0], c.get("units", 0)
        out.update(total=c.get(name, 0), units=units, value=round(c.get(name, 0) / units) if units else None)
    elif kind == "estimate":
        # An estimate, not a measurement: the per-work-order figure measured by `make bench` (kept in the
        # rules with its date and run) times the work orders received in the period.
        figure = rules()["aws_cost_estimate"]
        work_orders = c.get("wo", 0)
        out.update(estimate=True, work_orders=work_orders, per_work_order=figure["usd_per_work_order"],
                   total=round(work_orders * figure["usd_per_work_order"], 2), measured_on=figure["measured_on"],
                   source=figure["source"])
        out["value"] = out["per_work_order"] if work_orders else None
    else:
        raise ValueError(f"unknown KPI kind {kind!r} in {RULES.name}")
    return out


def values(counters: Mapping[str, int]) -> list[dict[str, Any]]:
    return [value(d, counters) for d in definitions()]


# ---------------------------------------------------------------- a few work orders' own KPIs (the drill)
def summary(work_orders: Iterable[WorkOrder], kpi_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The KPIs `kpi_ids` of these work orders alone, drill or not, with the same formulas as the rollups
    (each job's own facts, summed): the fire drill reports its own runs with it."""
    own = total(_facts(wo, (), None, 0).get(_own_bucket(wo), {}) for wo in work_orders)
    wanted = list(kpi_ids)
    by_id = {d["id"]: d for d in definitions()}
    return [value(by_id[k], own) for k in wanted]
