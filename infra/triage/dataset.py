"""Labelled triage messages (JSONL), as written for the blind, development and training sets."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.domain.enums import Hazard, Priority, Trade


class Example(BaseModel):
    """One labelled message: what the tenant wrote and what a careful property manager would decide."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    channel: Literal["sms", "email", "web", "voicemail"]
    language: Literal["en", "es"]
    text: str
    trade: Trade
    priority: Priority
    hazard: Hazard
    vulnerable: bool = False


class DatasetError(ValueError):
    pass


def load_examples(path: str | Path) -> list[Example]:
    """Every line of a JSONL file as an :class:`Example`; a bad line is an error naming the line."""
    out: list[Example] = []
    seen: set[str] = set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            example = Example.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DatasetError(f"{path}:{number}: {exc}") from exc
        if example.id in seen:
            raise DatasetError(f"{path}:{number}: duplicate id {example.id!r}")
        seen.add(example.id)
        out.append(example)
    return out


def word_set(text: str) -> frozenset[str]:
    """The message's words as the rules read them (folded, no punctuation), for near-copy checks."""
    from shared.domain.text import BOUNDARY, clause_tokens, fold

    return frozenset(t for t in clause_tokens(fold(text)) if t != BOUNDARY)


def near_copies(pool: list[Example], blind: list[Example], threshold: float = 0.6) -> dict[str, str]:
    """Pool messages whose words overlap a blind message's by ``threshold`` or more (token Jaccard):
    pool id -> the blind id it nearly copies (the first in the blind set's order). They are left out of
    training before the blind set is used.

    Exact, with a prefix filter: with the words of every message in one order (rarest first), two messages
    that overlap by ``threshold`` share a word among the first ``len - ceil(threshold * len) + 1`` of each,
    so only blind messages sharing such a word are compared."""
    from collections import Counter, defaultdict

    pool_words = [(e.id, word_set(e.text)) for e in pool]
    blind_words = [(b.id, word_set(b.text)) for b in blind]
    frequency = Counter(w for _, words in pool_words + blind_words for w in words)

    def prefix(words: frozenset[str]) -> list[str]:
        ordered = sorted(words, key=lambda w: (frequency[w], w))
        return ordered[:len(ordered) - math.ceil(threshold * len(ordered)) + 1]

    having: dict[str, list[int]] = defaultdict(list)
    for n, (_, words) in enumerate(blind_words):
        for word in prefix(words):
            having[word].append(n)
    out: dict[str, str] = {}
    for pool_id, words in pool_words:
        for n in sorted({n for word in prefix(words) for n in having.get(word, ())}):
            blind_id, other = blind_words[n]
            if len(words & other) / len(words | other) >= threshold:
                out[pool_id] = blind_id
                break
    return out
