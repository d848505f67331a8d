"""Links to ops pages (`opslayer ops open`): one page of one work order, ten minutes, opened once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from shared.domain import links
from shared.domain.errors import InvalidInput, LinkRejected, NotFound
from shared.services import ops_links
from shared.services.container import Services
from shared.services.workorders import cancel
from tests.service.journeys import triaged

BASE = "https://ops.example.com/prod"


def token_of(link: dict) -> str:
    return parse_qs(urlsplit(link["url"]).query)["token"][0]


def reason(error: pytest.ExceptionInfo[LinkRejected]) -> str:
    return error.value.details["reason"]  # type: ignore[index]


@pytest.fixture
def wo_id(svc: Services) -> str:
    return triaged(svc, "unit-maple-1a", "The bathroom faucet drips constantly").id


def test_a_link_opens_its_page_once(svc: Services, wo_id: str) -> None:
    link = ops_links.mint(svc, wo_id, "report", BASE)
    assert link["url"] == BASE + link["path"] and link["path"].startswith(f"/ops-pages/{wo_id}/report?token=")
    ops_links.open_page(svc, wo_id, "report", token_of(link))
    with pytest.raises(LinkRejected) as again:
        ops_links.open_page(svc, wo_id, "report", token_of(link))
    assert reason(again) == "answered"


def test_a_link_expires_after_ten_minutes(svc: Services, wo_id: str) -> None:
    link = ops_links.mint(svc, wo_id, "record", BASE)
    svc.clock.advance(seconds=links.OPS_PAGE_TTL + 1)
    with pytest.raises(LinkRejected) as late:
        ops_links.open_page(svc, wo_id, "record", token_of(link))
    assert reason(late) == "expired"
    fresh = ops_links.mint(svc, wo_id, "record", BASE)
    svc.clock.advance(seconds=links.OPS_PAGE_TTL - 1)
    ops_links.open_page(svc, wo_id, "record", token_of(fresh))


def test_a_link_is_for_its_page_and_work_order_only(svc: Services, wo_id: str) -> None:
    other = triaged(svc, "unit-maple-1b", "The kitchen light flickers").id
    token = token_of(ops_links.mint(svc, wo_id, "record", BASE))
    for where, page in ((wo_id, "report"), (other, "record")):
        with pytest.raises(LinkRejected) as refused:
            ops_links.open_page(svc, where, page, token)
        assert reason(refused) == "out_of_scope"
    ops_links.open_page(svc, wo_id, "record", token)  # refusals did not spend it
    tenant_link = svc.link_tokens().issue(wo_id, "tenant", "unit-maple-1a", 3600)
    with pytest.raises(LinkRejected):
        ops_links.open_page(svc, wo_id, "report", tenant_link)  # a tenant's link opens no ops page


def test_a_cancelled_work_order_still_has_its_report(svc: Services, wo_id: str) -> None:
    link = ops_links.mint(svc, wo_id, "report", BASE)
    cancel(svc, wo_id, "Tenant fixed it", actor="ops:test")
    ops_links.open_page(svc, wo_id, "report", token_of(link))


def test_no_link_to_an_unknown_work_order_or_page(svc: Services, wo_id: str) -> None:
    with pytest.raises(NotFound):
        ops_links.mint(svc, "wo-nope", "report", BASE)
    with pytest.raises(InvalidInput):
        ops_links.mint(svc, wo_id, "invoices", BASE)


def test_an_unknown_page_is_not_found_before_the_link_is_looked_at(svc: Services, wo_id: str) -> None:
    token = token_of(ops_links.mint(svc, wo_id, "record", BASE))
    with pytest.raises(NotFound):
        ops_links.open_page(svc, wo_id, "0", token)
    with pytest.raises(NotFound):
        ops_links.open_page(svc, wo_id, "minutes", "not-a-link")
    ops_links.open_page(svc, wo_id, "record", token)  # not spent by the refusals
