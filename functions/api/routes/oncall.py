"""On-call routes: the person paged for an emergency opens the link (GET: the emergency and a button) and
acknowledges (POST). A GET never acknowledges: link previews and scanners open links."""

from __future__ import annotations

from chalice import Blueprint

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
    refuse_cross_site,
    see_other,
    wants_html,
)

# Imported on first use, not with the handler (cold start): each route's models and use cases.
answers = lazy_module("functions.api.answers")
paging = lazy_module("shared.services.paging")

bp = Blueprint(__name__)


@bp.route("/oncall/{token}", methods=["GET"])
@documented(responses={200: "The emergency (JSON, or the page with its button)."}, produces=(JSON, HTML),
            response="paging.PageView")
@endpoint(html_errors=True)
def oncall_page(token):
    view = paging.page_view(services(), token)
    if wants_html():
        return html_response(200, pages.oncall_page(view, api_path(f"/oncall/{token}/acknowledge")))
    return json_response(200, view)


@bp.route("/oncall/{token}/acknowledge", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{work_order_id, acknowledged_at, acknowledged_by, acknowledged_after_s}`.",
            303: "A form post: back to the page."}, response="answers.Acknowledged")
@endpoint(html_errors=True)
def oncall_acknowledge(token):
    refuse_cross_site()
    wo = paging.acknowledge_by_link(services(), token)
    if is_form():
        return see_other(f"/oncall/{token}")
    page = wo.page
    assert page is not None
    return json_response(200, answers.Acknowledged(
        work_order_id=wo.id, acknowledged_at=page.acked_at.isoformat() if page.acked_at else None,
        acknowledged_by=page.acked_by, acknowledged_after_s=page.acknowledged_after_s))
