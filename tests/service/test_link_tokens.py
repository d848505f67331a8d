"""Link tokens as a use case: random tokens whose peppered hash alone is stored, with one scope each
(work order or unit, party, actions) and an expiry; unknown, forged, revoked and long-gone links are
refused alike; an answer is spent once; a cancelled work order's links stop working.

Links read the services' clock (`svc.clock`) unless given `now`."""

from __future__ import annotations

import json

import pytest

from shared.domain import links
from shared.domain.errors import LinkRejected
from shared.services.container import Services
from shared.services.link_tokens import LinkTokens
from shared.services.workorders import cancel
from tests.fakes.services import LINK_SECRET
from tests.service.journeys import triaged

UNIT = "unit-maple-1a"
LEAK = "The bathroom faucet drips constantly"
DAY = 86400


def reason(error: pytest.ExceptionInfo[LinkRejected]) -> str:
    return error.value.details["reason"]  # type: ignore[index]


@pytest.fixture
def tokens(svc: Services) -> LinkTokens:
    return svc.link_tokens()


@pytest.fixture
def wo_id(svc: Services) -> str:
    return triaged(svc, UNIT, LEAK).id


def test_a_token_is_random_and_the_table_holds_only_its_peppered_hash(svc: Services, tokens: LinkTokens,
                                                                      wo_id: str) -> None:
    now = svc.clock.timestamp()
    first = tokens.issue(wo_id, "tenant", UNIT, 14 * DAY, now=now)
    second = tokens.issue(wo_id, "tenant", UNIT, 14 * DAY, now=now)
    assert first != second and links.well_formed(first) and links.well_formed(second)

    stored = svc.repo.table.items
    assert first not in json.dumps(list(stored.values()))
    record = svc.repo.get_link(links.digest(first, LINK_SECRET.encode()))
    assert record is not None
    assert {k: record[k] for k in ("work_order_id", "party", "party_id", "actions", "link_expires_at",
                                   "expires_at")} == {
        "work_order_id": wo_id, "party": "tenant", "party_id": UNIT, "actions": list(links.TENANT_ACTIONS),
        "link_expires_at": int(now) + 14 * DAY, "expires_at": int(now) + 14 * DAY + links.RENEWABLE_FOR}


def test_a_link_expires_on_the_services_clock(svc: Services, tokens: LinkTokens, wo_id: str) -> None:
    token = tokens.issue(wo_id, "tenant", UNIT, DAY)
    assert tokens.verify(token).expires_at == int(svc.clock.timestamp()) + DAY
    svc.clock.advance(seconds=DAY + 1)
    with pytest.raises(LinkRejected) as refused:
        tokens.verify(token)
    assert reason(refused) == "expired"


def test_a_live_link_gives_its_scope(svc: Services, tokens: LinkTokens, wo_id: str) -> None:
    now = svc.clock.timestamp()
    token = tokens.issue(wo_id, "vendor", "ven-aqua", DAY, now=now)
    scope = tokens.verify(token, now=now + DAY - 1)
    assert scope == links.LinkScope(wo_id, "vendor", "ven-aqua", links.VENDOR_ACTIONS, int(now) + DAY)
    assert scope.allows("accept") and not scope.allows("feedback")


def test_without_a_time_given_the_wall_clock_is_used(svc: Services, tokens: LinkTokens, wo_id: str) -> None:
    token = tokens.issue(wo_id, "tenant", UNIT, DAY)
    assert tokens.verify(token).work_order_id == wo_id


@pytest.mark.parametrize("token", [None, "", "olk1_short", "x" * 48, "olk1_" + "!" * 43])
def test_malformed_tokens_are_refused_without_a_lookup(svc: Services, tokens: LinkTokens, token: str | None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookup(_: str) -> None:
        raise AssertionError("a malformed token reached the table")

    monkeypatch.setattr(svc.repo, "get_link", no_lookup)
    with pytest.raises(LinkRejected) as refused:
        tokens.verify(token)
    assert reason(refused) == "invalid"


def test_unknown_forged_and_revoked_links_get_the_same_answer(svc: Services, tokens: LinkTokens,
                                                              wo_id: str) -> None:
    now = svc.clock.timestamp()
    token = tokens.issue(wo_id, "tenant", UNIT, DAY, now=now)
    forged_key = LinkTokens(svc.repo, b"another-key")  # a table dump without the pepper proves nothing
    revoked = tokens.issue(wo_id, "tenant", UNIT, DAY, now=now)
    assert tokens.revoke(revoked, "renewed") is True
    answers = []
    for attempt in (lambda: tokens.verify(links.new_token(), now=now), lambda: forged_key.verify(token, now=now),
                    lambda: tokens.verify(revoked, now=now)):
        with pytest.raises(LinkRejected) as refused:
            attempt()
        answers.append((str(refused.value), reason(refused)))
    assert len(set(answers)) == 1 and answers[0][1] == "invalid"


def test_an_expired_link_says_so_and_may_only_ask_for_a_new_one_for_30_days(svc: Services, tokens: LinkTokens,
                                                                            wo_id: str) -> None:
    now = svc.clock.timestamp()
    token = tokens.issue(wo_id, "tenant", UNIT, DAY, now=now)
    with pytest.raises(LinkRejected) as refused:
        tokens.verify(token, now=now + DAY + 1)
    assert reason(refused) == "expired"
    assert tokens.verify(token, allow_expired=True, now=now + DAY + 1).work_order_id == wo_id
    assert tokens.verify(token, allow_expired=True, now=now + DAY + links.RENEWABLE_FOR).party == "tenant"
    with pytest.raises(LinkRejected) as gone:
        tokens.verify(token, allow_expired=True, now=now + DAY + links.RENEWABLE_FOR + 1)
    assert reason(gone) == "invalid"


def test_a_cancelled_work_orders_links_stop_working(svc: Services, tokens: LinkTokens, wo_id: str) -> None:
    now = svc.clock.timestamp()
    tenant = tokens.issue(wo_id, "tenant", UNIT, DAY, now=now)
    vendor = tokens.issue(wo_id, "vendor", "ven-aqua", DAY, now=now)
    cancel(svc, wo_id, "tenant fixed it themselves")
    for token in (tenant, vendor):
        with pytest.raises(LinkRejected) as refused:
            tokens.verify(token, now=now)
        assert reason(refused) == "invalid"


def test_a_link_to_a_work_order_that_does_not_exist_is_invalid(svc: Services, tokens: LinkTokens) -> None:
    now = svc.clock.timestamp()
    token = tokens.issue("wo-00000000000000000000", "tenant", UNIT, DAY, now=now)
    with pytest.raises(LinkRejected):
        tokens.verify(token, now=now)


def test_a_unit_link_names_a_unit_not_a_work_order(svc: Services, tokens: LinkTokens) -> None:
    now = svc.clock.timestamp()
    token = tokens.issue(UNIT, "unit", UNIT, 2 * 365 * DAY, now=now)
    scope = tokens.verify(token, now=now + 365 * DAY)
    assert (scope.work_order_id, scope.party, scope.actions) == (UNIT, "unit", ("request",))


def test_an_answer_is_spent_once(svc: Services, tokens: LinkTokens, wo_id: str) -> None:
    now = svc.clock.timestamp()
    token = tokens.issue(wo_id, "vendor", "ven-aqua", DAY, now=now)
    assert tokens.answered(token, "accept") is True
    assert tokens.answered(token, "decline") is False
    scope = tokens.verify(token, now=now)  # still a live link (to view the job), but it answered
    assert scope.answered == "accept"
    with pytest.raises(LinkRejected) as refused:
        links.require_unanswered(scope, "decline")
    assert reason(refused) == "answered"


def test_a_link_is_revoked_once(svc: Services, tokens: LinkTokens, wo_id: str) -> None:
    token = tokens.issue(wo_id, "tenant", UNIT, DAY, now=svc.clock.timestamp())
    assert tokens.revoke(token, "renewed") is True
    assert tokens.revoke(token, "renewed") is False
    assert tokens.answered(token, "feedback") is False  # a revoked link answers nothing
    assert tokens.revoke(links.new_token(), "renewed") is False  # nothing to revoke


def test_an_issued_token_is_never_stored_twice(svc: Services, tokens: LinkTokens, wo_id: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links, "new_token", lambda: "olk1_" + "A" * 43)
    tokens.issue(wo_id, "tenant", UNIT, DAY)
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        tokens.issue(wo_id, "vendor", "ven-aqua", DAY)  # a collision never overwrites another link's scope
