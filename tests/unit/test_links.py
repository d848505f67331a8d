import re

import pytest

from shared.domain import links
from shared.domain.errors import LinkRejected

PEPPER = b"k" * 64


def test_tokens_are_random_256_bits_with_a_recognisable_prefix():
    tokens = {links.new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in list(tokens)[:50]:
        assert re.fullmatch(r"olk1_[A-Za-z0-9_-]{43}", token)  # 43 base64url characters = 256 bits
        assert links.well_formed(token)


@pytest.mark.parametrize("token", [None, "", "garbage", "v1.eyJ3IjoxfQ.mac", "olk1_short",
                                   "olk1_" + "A" * 42 + "!", "olk2_" + "A" * 43, "olk1_" + "A" * 44,
                                   " olk1_" + "A" * 43, 12345])
def test_malformed_tokens_are_refused_before_any_lookup(token):
    assert not links.well_formed(token)


def test_digest_is_keyed_deterministic_and_hides_the_token():
    token = links.new_token()
    d = links.digest(token, PEPPER)
    assert d == links.digest(token, PEPPER) and re.fullmatch(r"[0-9a-f]{64}", d)
    assert d != links.digest(token, b"other" * 10)  # a table dump without the key cannot test guesses
    assert token not in d and token[5:] not in d
    assert links.digest(links.new_token(), PEPPER) != d


def test_scope_actions_per_party_and_expiry():
    scope = links.new_scope("wo-1", "vendor", "v-9", 60, now=1000.4)
    assert scope == links.LinkScope("wo-1", "vendor", "v-9", links.VENDOR_ACTIONS, 1060)
    assert links.new_scope("wo-1", "tenant", "u-1", 60, 0).actions == ("view", "feedback", "visit", "safety", "rate")
    assert links.new_scope("u-1", "unit", "u-1", 60, 0).actions == ("request",)
    with pytest.raises(KeyError):
        links.new_scope("wo-1", "stranger", "x", 60, 0)


def test_expired_link_is_refused_with_its_reason_and_may_renew_within_the_grace():
    scope = links.new_scope("wo-1", "tenant", "u-1", 60, now=1000)
    links.check_expiry(scope, now=1060)
    with pytest.raises(LinkRejected) as exc:
        links.check_expiry(scope, now=1061)
    assert exc.value.details == {"reason": "expired"}
    links.check_expiry(scope, now=1061, allow_expired=True)
    with pytest.raises(LinkRejected) as exc:  # long gone: not even renewable
        links.check_expiry(scope, now=1061 + links.RENEWABLE_FOR, allow_expired=True)
    assert exc.value.details == {"reason": "invalid"}


def test_scope_checks_work_order_party_and_action():
    scope = links.new_scope("wo-1", "tenant", "u-1", 60, 0)
    links.require(scope, "wo-1", "tenant", "feedback")
    for wo, party, action in [("wo-2", "tenant", "view"), ("wo-1", "vendor", "view"), ("wo-1", "tenant", "accept")]:
        with pytest.raises(LinkRejected) as exc:
            links.require(scope, wo, party, action)
        assert exc.value.details == {"reason": "out_of_scope"}


def test_an_answered_link_gives_no_second_answer_but_still_works_for_the_rest():
    accepted = links.LinkScope("wo-1", "vendor", "v-9", links.VENDOR_ACTIONS, 10, answered="accept")
    for action in ("accept", "decline"):
        with pytest.raises(LinkRejected) as exc:
            links.require_unanswered(accepted, action)
        assert exc.value.details == {"reason": "answered"}
    for action in ("view", "schedule", "checkin", "complete"):
        links.require(accepted, "wo-1", "vendor", action)
        links.require_unanswered(accepted, action)
    links.require_unanswered(links.LinkScope("wo-1", "tenant", "u-1", links.TENANT_ACTIONS, 10), "feedback")
