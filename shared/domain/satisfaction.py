"""Tenant satisfaction (pure rules): the 1-5 rating asked after a tenant confirms a fix, the quarterly NPS
question (0-10), how a reply's number is read in English or Spanish, and quarter arithmetic.

A reply answers with its first word: a number ("5", "5/5", "4 stars", "10 de 10") or a number word ("five",
"cinco", "diez"); what follows is the tenant's comment ("5 great job" is 5 with the comment "great job").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shared.domain.model import Model

RATING_RANGE = (1, 5)
NPS_RANGE = (0, 10)
COMMENT_MAX = 500  # a comment is tenant text: kept short, escaped on every page
RATING_OPEN_DAYS = 14  # the rating question stays open (a digit reply answers it) this long
NPS_OPEN_DAYS = 30  # the NPS question stays open this long
SURVEY_GAP_DAYS = 14  # never an NPS question within this many days of another question (rating or NPS)
CHANNELS = ("page", "sms", "email")

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
    "cero": 0, "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}
# "5/5", "4 out of 5", "10 de 10", "4 stars", "5 estrellas", "9 points": the words around the number
_OUT_OF = r"(?:\s*(?:/|out\s+of|of|de|sobre)\s*(?:5|10|five|ten|cinco|diez)\b)?"
_UNIT = r"(?:\s*(?:stars?|estrellas?|points?|puntos?)\b)?"
_NUMBER = re.compile(r"^\s*(\d{1,2}|[a-z]+)\b" + _OUT_OF + _UNIT + r"[\s.,;:!\-)]*(.*)$", re.DOTALL)


class Satisfaction(Model):
    """The tenant's rating of one job (one answer per job)."""

    rating: int
    comment: str | None = None
    channel: str  # "page", "sms" or "email"
    at: datetime


@dataclass(frozen=True)
class Score:
    value: int
    comment: str | None


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def read_number(body: str) -> Score | None:
    """The number a reply starts with (digits or an English or Spanish number word) and the comment after
    it; None when the reply does not start with a number 0-10."""
    match = _NUMBER.match(_plain(body))
    if not match:
        return None
    word = match.group(1)
    value = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
    if value is None or value > NPS_RANGE[1]:
        return None
    # the comment keeps the tenant's own spelling: cut the original at the same place
    rest = match.group(2)
    comment = body[len(body) - len(rest):] if rest and len(_plain(body)) == len(body) else rest
    return Score(value, clean_comment(comment))


def in_range(value: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= value <= bounds[1]


def clean_comment(comment: str | None) -> str | None:
    """Whitespace folded, cut to COMMENT_MAX; None when empty."""
    folded = " ".join((comment or "").split())
    return folded[:COMMENT_MAX] or None


# ---------------------------------------------------------------- quarters
def quarter_of(day: date | datetime) -> str:
    """"2026-Q4": the calendar quarter (UTC for a datetime)."""
    if isinstance(day, datetime):
        day = day.astimezone(UTC).date()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_start(quarter: str) -> date:
    year, q = quarter.split("-Q")
    return date(int(year), 3 * (int(q) - 1) + 1, 1)


def previous_quarter(quarter: str) -> str:
    return quarter_of(quarter_start(quarter) - timedelta(days=1))


def next_quarter(quarter: str) -> str:
    return quarter_of(quarter_start(quarter) + timedelta(days=92))


# ---------------------------------------------------------------- NPS rules
def tenant_key(unit_id: str, phone: str | None, email: str | None) -> str:
    """Who a survey is for, without their phone or email in the key: the unit and a hash of the contact."""
    contact = (phone or (email or "").lower()).encode()
    return f"{unit_id}#{hashlib.sha256(contact).hexdigest()[:16]}"


def nps_may_ask(last_question_at: datetime | None, now: datetime, gap_days: int = SURVEY_GAP_DAYS) -> bool:
    """The rate limit: no NPS question within `gap_days` of the tenant's last question (rating or NPS)."""
    return last_question_at is None or now - last_question_at >= timedelta(days=gap_days)


def still_open(asked_at: datetime | None, now: datetime, days: int) -> bool:
    return asked_at is not None and asked_at <= now < asked_at + timedelta(days=days)
