"""Signed links to ops pages a browser cannot sign for (`opslayer ops open`): minted by an ops route called
with SigV4 (or the local ops key), scoped to one page of one work order, short-lived and good for one
opening (a link left in a browser history or a terminal scrollback is spent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.domain import links
from shared.domain.errors import InvalidInput, LinkRejected, NotFound
from shared.services.container import Services


def page_path(work_order_id: str, page: str, token: str) -> str:
    return f"/ops-pages/{work_order_id}/{page}?token={token}"


def require_page(page: str) -> None:
    if page not in links.OPS_PAGES:
        raise InvalidInput(f"Unknown ops page {page!r}.", {"parameter": "page", "allowed": list(links.OPS_PAGES)})


def mint(svc: Services, work_order_id: str, page: str, base_url: str) -> dict[str, Any]:
    """A link to `page` of the work order: ``{"url", "path", "expires_at"}`` (path: below the API's base)."""
    require_page(page)
    svc.repo.get_work_order(work_order_id)  # NotFound for an unknown one: no link to nothing
    token = svc.link_tokens().issue(work_order_id, "ops", page, links.OPS_PAGE_TTL, actions=(page,))
    path = page_path(work_order_id, page, token)
    expires = datetime.fromtimestamp(svc.clock().timestamp() + links.OPS_PAGE_TTL, UTC)
    return {"url": base_url.rstrip("/") + path, "path": path, "expires_at": expires.isoformat()}


def open_page(svc: Services, work_order_id: str, page: str, token: str | None) -> None:
    """Spend the link for this page of this work order, or refuse it (LinkRejected: expired, out of scope,
    already opened, unknown). Spent before the page is made, so two racing openings give one page.
    A page that does not exist is a NotFound (a 404: the path names nothing), before the link is looked at."""
    if page not in links.OPS_PAGES:
        raise NotFound(f"There is no ops page {page!r}.", {"parameter": "page", "allowed": list(links.OPS_PAGES)})
    tokens = svc.link_tokens()
    scope = tokens.verify(token)
    links.require(scope, work_order_id, "ops", page)
    assert token is not None
    if scope.answered or not tokens.answered(token, page):
        raise LinkRejected("This link was already opened. Run `opslayer ops open` for a new one.",
                                 {"reason": "answered"})


def mint_overview(svc: Services, base_url: str) -> dict[str, Any]:
    """A link to the ops overview (`opslayer ops open overview`): the same rules as a work order's page
    (short-lived, opens once), under the fixed name OVERVIEW instead of a work-order id."""
    token = svc.link_tokens().issue(links.OVERVIEW, "ops", links.OVERVIEW, links.OPS_PAGE_TTL,
                                    actions=(links.OVERVIEW,))
    path = f"/ops-pages/{links.OVERVIEW}?token={token}"
    expires = datetime.fromtimestamp(svc.clock().timestamp() + links.OPS_PAGE_TTL, UTC)
    return {"url": base_url.rstrip("/") + path, "path": path, "expires_at": expires.isoformat()}


def open_overview(svc: Services, token: str | None) -> None:
    """Spend an overview link, or refuse it (as `open_page`)."""
    tokens = svc.link_tokens()
    scope = tokens.verify(token)
    links.require(scope, links.OVERVIEW, "ops", links.OVERVIEW)
    assert token is not None
    if scope.answered or not tokens.answered(token, links.OVERVIEW):
        raise LinkRejected("This link was already opened. Run `opslayer ops open overview` for a new one.",
                           {"reason": "answered"})
