"""Satisfaction rules: a reply's number in English or Spanish (and its comment), quarters, the NPS rate limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared.domain.satisfaction import (
    COMMENT_MAX,
    Score,
    clean_comment,
    next_quarter,
    nps_may_ask,
    previous_quarter,
    quarter_of,
    quarter_start,
    read_number,
    still_open,
    tenant_key,
)


@pytest.mark.parametrize(("body", "expected"), [
    ("5", Score(5, None)),
    (" 4 ", Score(4, None)),
    ("5 great job", Score(5, "great job")),
    ("5/5", Score(5, None)),
    ("4 out of 5, quick and tidy", Score(4, "quick and tidy")),
    ("3 stars", Score(3, None)),
    ("10", Score(10, None)),
    ("0", Score(0, None)),
    ("10/10 would recommend", Score(10, "would recommend")),
    ("five", Score(5, None)),
    ("Five - thanks!", Score(5, "thanks!")),
    ("cinco", Score(5, None)),
    ("5 estrellas, muy rápido", Score(5, "muy rápido")),
    ("10 de 10", Score(10, None)),
    ("Diez. El técnico fue muy amable", Score(10, "El técnico fue muy amable")),
    ("uno, no vino a tiempo", Score(1, "no vino a tiempo")),
    ("Cuatro 👍", Score(4, None)),
])
def test_a_reply_that_starts_with_a_number(body: str, expected: Score) -> None:
    assert read_number(body) == expected


@pytest.mark.parametrize("body", ["", "yes", "The sink leaks again", "11", "55 great", "I give it 5",
                                  "5th floor hallway light is out", "one2three"])
def test_what_is_no_number_answer(body: str) -> None:
    assert read_number(body) is None


def test_comments_are_folded_and_cut() -> None:
    assert clean_comment("  very\n\n good  ") == "very good"
    assert clean_comment("   ") is None and clean_comment(None) is None
    assert len(clean_comment("x" * 2000) or "") == COMMENT_MAX
    said = read_number("5 " + "y" * 900)
    assert said is not None and len(said.comment or "") == COMMENT_MAX


def test_quarter_arithmetic() -> None:
    assert quarter_of(date(2026, 1, 1)) == "2026-Q1"
    assert quarter_of(date(2026, 3, 31)) == "2026-Q1"
    assert quarter_of(date(2026, 4, 1)) == "2026-Q2"
    assert quarter_of(date(2026, 12, 31)) == "2026-Q4"
    assert quarter_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "2026-Q4"
    # a datetime is placed in its UTC quarter (20:00 on March 31 in New York is April 1 UTC)
    new_york_evening = datetime(2026, 4, 1, 0, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=-4)))
    assert quarter_of(new_york_evening) == "2026-Q2"
    assert quarter_start("2026-Q3") == date(2026, 7, 1)
    assert previous_quarter("2026-Q1") == "2025-Q4" and previous_quarter("2026-Q3") == "2026-Q2"
    assert next_quarter("2026-Q4") == "2027-Q1" and next_quarter("2026-Q1") == "2026-Q2"


def test_the_nps_rate_limit_and_open_questions() -> None:
    now = datetime(2026, 6, 10, 14, tzinfo=UTC)
    assert nps_may_ask(None, now)
    assert not nps_may_ask(now - timedelta(days=13, hours=23), now, gap_days=14)
    assert nps_may_ask(now - timedelta(days=14), now, gap_days=14)
    assert nps_may_ask(now, now, gap_days=0)
    assert still_open(now - timedelta(days=1), now, 14) and not still_open(now - timedelta(days=14), now, 14)
    assert not still_open(None, now, 14)


def test_a_tenant_key_names_no_phone_or_email() -> None:
    key = tenant_key("unit-1", "+15550100010", None)
    assert key.startswith("unit-1#") and "5550100010" not in key
    assert tenant_key("unit-1", None, "Ana@Example.com") == tenant_key("unit-1", None, "ana@example.com")
    assert tenant_key("unit-1", "+15550100010", None) != tenant_key("unit-2", "+15550100010", None)
