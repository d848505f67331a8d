"""Text normalisation shared by the triage rules and the triage model, so both read the same words."""

from __future__ import annotations

import re
import unicodedata

BOUNDARY = "|"
"""The clause-boundary token (from . , ; : ! ? a spaced dash or a new line); never a word."""

_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc`\u00b4]")
_SPACED_DASH = re.compile(r"\s[-\u2013\u2014]+\s|[\u2013\u2014]")
_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?\n\r]+")


def fold(text: str) -> str:
    """Lower-case, strip accents, drop apostrophes (contractions become one token)."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _APOSTROPHES.sub("", text)


def clause_tokens(folded: str) -> list[str]:
    """Word tokens plus one boundary token per run of clause punctuation."""
    folded = _SPACED_DASH.sub(" , ", folded)
    out: list[str] = []
    for tok in _TOKEN.findall(folded):
        if tok[0].isalnum():
            out.append(tok)
        elif not out or out[-1] != BOUNDARY:
            out.append(BOUNDARY)
    return out
