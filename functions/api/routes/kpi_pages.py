"""The KPI pages: the ops overview (open work by stage and age, the overdue list, KPI tiles with weekly
trends) and a property owner's monthly report. Both are HTML a browser opens with a signed link:
- the overview: `POST /ops/overview/links` (IAM, as every /ops route; `opslayer ops open overview`) mints a
  10-minute single-use link to `GET /ops-pages/overview` (the ops-page mechanism of one work order's record);
- the owner's report: `POST /ops/properties/{id}/owner-report-link` (IAM; the monthly schedule mints the same
  links) gives a 45-day view-only link to `GET /owner/reports/{token}` and its jobs' records.
The charts are SVG drawn on the server (functions/api/charts.py), imported only here."""

from __future__ import annotations

from chalice import Blueprint

from shared.services.container import services

from .. import pages
from ..plumbing import (
    ALL_TYPES,
    HTML,
    api_path,
    documented,
    endpoint,
    html_response,
    json_response,
    lazy_module,
    query_param,
    read_body,
    request_base_url,
    require_ops,
)

# Imported on first use, not with the handler (cold start): each route's models and use cases.
answers = lazy_module("functions.api.answers")
schemas = lazy_module("shared.schemas")

bp = Blueprint(__name__)
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}  # the link is in the address bar


@bp.route("/ops/overview/links", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={201: "`{url, path, expires_at}`: a single-use link to the overview."}, request="schemas.Empty",
            response="answers.PageLink")
@endpoint()
def ops_overview_link():
    """A short-lived link a browser can open once: the ops overview."""
    from shared.services import ops_links

    require_ops()
    read_body(schemas.Empty)
    return json_response(201, answers.PageLink(**ops_links.mint_overview(services(), request_base_url())))


@bp.route("/ops-pages/overview", methods=["GET"])
@documented(responses={200: "The ops overview."}, produces=(HTML,), link="token")
@endpoint(html_errors=True)
def ops_overview_page():
    """The ops overview an overview link opens (no IAM at the gateway: the link is the credential)."""
    from shared.services import kpi_pages, ops_links

    svc = services()
    ops_links.open_overview(svc, query_param("token"))
    response = html_response(200, pages.ops_overview(kpi_pages.overview(svc)))
    response.headers.update(PRIVATE)
    return response


@bp.route("/ops/properties/{id}/owner-report-link", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={201: "A 45-day view-only link to the owner report."}, request="schemas.OwnerReportLinkIn",
            response="answers.OwnerReportLink")
@endpoint()
def ops_owner_report_link(id):
    """A 45-day view-only link to the property's owner report of `month` (YYYY-MM; default the last full
    month), as the monthly email sends it."""
    from shared.services import kpi_pages

    require_ops()
    svc = services()
    month = read_body(schemas.OwnerReportLinkIn).month or kpi_pages.last_full_month(svc.clock().date())
    return json_response(201, answers.OwnerReportLink(**kpi_pages.mint_owner_link(svc, id, month, request_base_url())))


@bp.route("/owner/reports/{token}", methods=["GET"])
@documented(responses={200: "The owner's monthly report."}, produces=(HTML,))
@endpoint(html_errors=True)
def owner_report_page(token):
    """The owner's monthly report of one property (printable, in the owner's language)."""
    from shared.services import kpi_pages

    svc = services()
    property_id, month = kpi_pages.open_owner_link(svc, token)
    report = kpi_pages.owner_report(svc, property_id, month)
    response = html_response(200, pages.owner_report(report, api_path(f"/owner/reports/{token}")))
    response.headers.update(PRIVATE)
    return response


@bp.route("/owner/reports/{token}/jobs/{id}", methods=["GET"])
@documented(responses={200: "One job of the report."}, produces=(HTML,))
@endpoint(html_errors=True)
def owner_report_job(token, id):
    """One job of the owner's report: its steps and what it cost (only a job of that property and month)."""
    from shared.services import kpi_pages

    svc = services()
    wo = kpi_pages.owner_job(svc, token, id)
    property_id, _month = kpi_pages.open_owner_link(svc, token)
    lang = (kpi_pages.owner_of(svc, property_id) or {}).get("language") or "en"
    response = html_response(200, pages.owner_job(wo, svc.repo.invoices_for(wo.id), lang,
                                                  api_path(f"/owner/reports/{token}")))
    response.headers.update(PRIVATE)
    return response
