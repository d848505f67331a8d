"""Approval routes: the owner's or ops' view of one invoice, and approve / reject."""

from __future__ import annotations

from chalice import Blueprint, Response

from shared.services.container import services

from .. import pages
from ..plumbing import (
    ALL_TYPES,
    HTML,
    JSON,
    api_path,
    documented,
    endpoint,
    html_response,
    is_form,
    json_response,
    lazy_module,
    read_body,
    refuse_cross_site,
    see_other,
    wants_html,
)

# Imported on first use, not with the handler (cold start): each route's models and use cases.
answers = lazy_module("functions.api.answers")
invoice_schemas = lazy_module("shared.invoice_schemas")

bp = Blueprint(__name__)


@bp.route("/approvals/{token}", methods=["GET"])
@documented(responses={200: "The invoice to decide (JSON, or the approval page)."}, produces=(JSON, HTML),
            response="views.ApprovalView")
@endpoint(html_errors=True)
def approval_get(token):
    """The owner's or ops' view of one invoice: lines, checks, coding, and approve / reject."""
    from shared.services import invoicing

    view = invoicing.approval_view(services(), token)
    if wants_html():
        return html_response(200, pages.approval(view, api_path(f"/approvals/{token}")))
    return json_response(200, view)


def _decision(token: str, approve: bool) -> Response:
    from shared.services import invoicing

    refuse_cross_site()
    reason = None if approve else read_body(invoice_schemas.Reject).reason
    inv = invoicing.decide(services(), token, approve, reason)
    if is_form():
        return see_other(f"/approvals/{token}")
    return json_response(200, answers.InvoiceDecided(invoice_id=inv.id, status=inv.status.value))


@bp.route("/approvals/{token}/approve", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{invoice_id, status}`.", 303: "A form post: back to the approval page.",
            409: "Already decided."}, response="answers.InvoiceDecided")
@endpoint(html_errors=True)
def approval_approve(token):
    return _decision(token, True)


@bp.route("/approvals/{token}/reject", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{invoice_id, status}`.", 303: "A form post: back to the approval page.",
            409: "Already decided."}, request="invoice_schemas.Reject", response="answers.InvoiceDecided")
@endpoint(html_errors=True)
def approval_reject(token):
    return _decision(token, False)
