"""Links: an expired link asks for a fresh one."""

from __future__ import annotations

from chalice import Blueprint

from shared import schemas
from shared.services.container import services

from .. import pages
from ..plumbing import (
    ALL_TYPES,
    _body,
    _html,
    _is_form,
    _json,
    _refuse_cross_site,
    endpoint,
)

bp = Blueprint(__name__)


@bp.route("/links/renew", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def renew_link():
    """An expired link asks for a fresh one; it goes to the contact on file, and the answer never says
    whether the link was ours."""
    from shared.services.link_renewal import renew

    _refuse_cross_site()
    body = _body(schemas.RenewLink)
    renew(services(), body.token)
    message = "If this link was ours, a new one is on its way to the phone or email we have on file."
    if _is_form():
        return _html(202, pages.message_page("New link", message))
    return _json(202, {"status": "accepted", "message": message})
