"""Approval routes: the owner's or ops' view of one invoice, and approve / reject."""

from __future__ import annotations

from chalice import Blueprint, Response

from shared.services.container import services

from .. import pages
from ..plumbing import (
    ALL_TYPES,
    _body,
    _html,
    _is_form,
    _json,
    _path,
    _refuse_cross_site,
    _see_other,
    _wants_html,
    endpoint,
)

bp = Blueprint(__name__)


@bp.route("/approvals/{token}", methods=["GET"])
@endpoint(html_errors=True)
def approval_get(token):
    """The owner's or ops' view of one invoice: lines, checks, coding, and approve / reject."""
    from shared.services import invoicing

    view = invoicing.approval_view(services(), token)
    if _wants_html():
        return _html(200, pages.approval(view, _path(f"/approvals/{token}")))
    return _json(200, view)


def _decision(token: str, approve: bool) -> Response:
    from shared.services import invoicing

    _refuse_cross_site()
    from shared.invoice_schemas import Reject

    reason = None if approve else _body(Reject).reason
    inv = invoicing.decide(services(), token, approve, reason)
    if _is_form():
        return _see_other(f"/approvals/{token}")
    return _json(200, {"invoice_id": inv.id, "status": inv.status.value})


@bp.route("/approvals/{token}/approve", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def approval_approve(token):
    return _decision(token, True)


@bp.route("/approvals/{token}/reject", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def approval_reject(token):
    return _decision(token, False)
