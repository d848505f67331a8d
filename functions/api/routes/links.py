"""Links: an expired link asks for a fresh one."""

from __future__ import annotations

from chalice import Blueprint

from shared import schemas
from shared.services.container import services

from .. import answers, pages
from ..plumbing import (
    ALL_TYPES,
    HTML,
    JSON,
    documented,
    endpoint,
    html_response,
    is_form,
    json_response,
    read_body,
    refuse_cross_site,
)

bp = Blueprint(__name__)


@bp.route("/links/renew", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={202: "`{status: accepted, message}` (a form: a page saying so)."}, request=schemas.RenewLink,
            produces=(JSON, HTML), response=answers.Accepted)
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
