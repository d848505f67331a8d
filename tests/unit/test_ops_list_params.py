"""The ops list's query parameters: what the API documents for them (the patterns in the OpenAPI document)
is what the parsers accept, and an age too long for a timedelta is a 422, not a server error (found by
schemathesis)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shared.domain.errors import InvalidInput
from shared.domain.ops_lists import AGE_PATTERN, LIMIT_PATTERN, MAX_PAGE, parse_age, parse_limit


def test_an_age_longer_than_a_timedelta_holds_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_age("999999999999w")
    assert refused.value.details == {"parameter": "older_than"}
    assert parse_age("999999w") == timedelta(weeks=999999)  # the longest age the document allows


@pytest.mark.parametrize("text", ["90", "45m", "36h", "7d", "2w", "999999w"])
def test_every_documented_age_parses(text: str) -> None:
    assert re.fullmatch(AGE_PATTERN, text)
    parse_age(text)


def test_the_documented_limits_are_exactly_the_accepted_ones() -> None:
    for n in range(0, MAX_PAGE + 50):
        documented = re.fullmatch(LIMIT_PATTERN, str(n)) is not None
        assert documented == (1 <= n <= MAX_PAGE), n
        if documented:
            assert parse_limit(str(n)) == n
        else:
            with pytest.raises(InvalidInput):
                parse_limit(str(n))
