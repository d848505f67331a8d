"""Links: an expired link asks for a fresh one."""

from __future__ import annotations

from chalice import Blueprint

from shared.services.container import services

from .. import pages
from ..plumbing import (
    ALL_TYPES,
    HTML,
    JSON,
    documented,
    endpoint,
    html_response,
    is_form,
    json_response,
    lazy_module,
    read_body,
    refuse_cross_site,
)

# Imported on first use, not with the handler (cold start): each route's models and use cases.
answers = lazy_module("functions.api.answers")
schemas = lazy_module("shared.schemas")

bp = Blueprint(__name__)


@bp.route("/links/renew", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={202: "`{status: accepted, message}` (a form: a page saying so)."}, request="schemas.RenewLink",
            produces=(JSON, HTML), response="answers.Accepted")
@endpoint(html_errors=True)
def renew_link():
    """An expired link asks for a fresh one; it goes to the contact on file, and the answer never says
    whether the link was ours."""
    from shared.services.link_renewal import renew

    refuse_cross_site()
    body = read_body(schemas.RenewLink)
    renew(services(), body.token)
    message = "If this link was ours, a new one is on its way to the phone or email we have on file."
    if is_form():
        return html_response(202, pages.message_page("New link", message))
    return json_response(202, answers.Accepted(status="accepted", message=message))
