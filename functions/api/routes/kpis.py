"""KPI routes (IAM-authorized in the template; an X-Ops-Key in key mode): the KPIs of a period (JSON, or CSV
with `Accept: text/csv`), a vendor's scorecard, the baseline, and the backfill of the rollups."""

from __future__ import annotations

from chalice import Blueprint, Response

from shared.domain.kpis import GROUPS
from shared.services.container import services

from ..plumbing import JSON, app, documented, endpoint, json_response, lazy_module, query_param, read_body, require_ops

# Imported on first use, not with the handler (cold start): each route's models and use cases.
schemas = lazy_module("shared.schemas")

bp = Blueprint(__name__)
DAYS = {"from": {"format": "date"}, "to": {"format": "date"}}


def _wants_csv() -> bool:
    return "text/csv" in (app.current_request.headers or {}).get("accept", "")


@bp.route("/ops/kpis", methods=["GET"])
@documented(responses={200: "Every KPI of the period (JSON, or CSV with Accept: text/csv).",
            404: "A work order of `work_orders` does not exist."}, produces=(JSON, "text/csv"),
            query={"from": "First day (YYYY-MM-DD).", "to": "Last day (YYYY-MM-DD).",
                   "property_id": "One property.", "group_by": "priority, trade, vendor or property.",
                   "work_orders": "ID,ID,..: the times of those work orders alone."},
            params={**DAYS, "group_by": {"enum": list(GROUPS)}}, response="answers.Kpis")
@endpoint()
def ops_kpis():
    """Every KPI over the work orders received from `from` to `to` (YYYY-MM-DD, inclusive; default the last
    30 days), optionally for one `property_id` and per `group_by` (priority, trade, vendor, property).
    `work_orders=ID,ID,..` instead: the times of those work orders alone (the drill's own runs)."""
    from shared.services import kpis

    require_ops()
    svc = services()
    if (listed := query_param("work_orders")) is not None:
        return json_response(200, kpis.own_kpis(svc, [i for i in listed.split(",") if i]))
    first, last = kpis.parse_range(query_param("from"), query_param("to"), svc.clock().date())
    report = kpis.kpis(svc, first, last, query_param("property_id"), query_param("group_by"))
    if _wants_csv():
        return Response(body=kpis.to_csv(report), status_code=200,
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition": f'attachment; filename="kpis-{first}-{last}.csv"'})
    return json_response(200, report)


@bp.route("/ops/vendors/{id}/scorecard", methods=["GET"])
@documented(responses={200: "The vendor's KPIs."}, query={"from": "First day (YYYY-MM-DD).",
            "to": "Last day (YYYY-MM-DD)."}, params=DAYS, response="answers.Kpis")
@endpoint()
def ops_vendor_scorecard(id):
    """A vendor's KPIs: offers made to them, and the jobs they did (`from`, `to` as for /ops/kpis)."""
    from shared.services import kpis

    require_ops()
    svc = services()
    first, last = kpis.parse_range(query_param("from"), query_param("to"), svc.clock().date())
    return json_response(200, kpis.scorecard(svc, id, first, last))


@bp.route("/ops/kpis/baseline", methods=["GET", "PUT"])
@documented(responses={200: "The baseline.", 404: "No baseline is set."}, request="schemas.KpiBaselineIn",
            body_types=(JSON,), response="answers.Baseline")
@endpoint()
def ops_kpi_baseline():
    """GET: the baseline (404 if none). PUT {from, to} and/or {figures: {kpi id: value}}, optional
    deployed_on: every KPI of /ops/kpis then shows the baseline beside its value at 30, 60 and 90 days."""
    from shared.domain.errors import NotFound
    from shared.services import kpis

    actor = require_ops()
    svc = services()
    if app.current_request.method == "PUT":
        body = read_body(schemas.KpiBaselineIn).model_dump(mode="json", by_alias=True, exclude_none=True)
        return json_response(200, kpis.set_baseline(svc, body, actor))
    baseline = kpis.get_baseline(svc)
    if baseline is None:
        raise NotFound("No KPI baseline is set.")
    return json_response(200, baseline)


@bp.route("/ops/kpis/backfill", methods=["POST"])
@documented(responses={200: "`{from, to, ...}`: the rollups recomputed."}, request="schemas.KpiPeriodIn",
            body_types=(JSON,), response="answers.Backfilled")
@endpoint()
def ops_kpi_backfill():
    """Recompute the rollups of the work orders received from `from` to `to` from their timelines (at most
    31 days a call: the CLI walks a longer period a slice at a time). Idempotent."""
    from shared.domain.errors import InvalidInput
    from shared.services import kpis

    require_ops()
    svc = services()
    period = read_body(schemas.KpiPeriodIn)
    first, last = kpis.parse_range(period.first and period.first.isoformat(), period.last and period.last.isoformat(),
                                   svc.clock().date())
    if (last - first).days >= kpis.BACKFILL_MAX_DAYS:
        raise InvalidInput(f"A backfill call covers at most {kpis.BACKFILL_MAX_DAYS} days.",
                           {"from": first.isoformat(), "to": last.isoformat()})
    return json_response(200, {"from": first.isoformat(), "to": last.isoformat(), **kpis.backfill(svc, first, last)})
