"""Triage of tenant maintenance messages: which trade, how urgent, and why.

Everything that decides *what* a message means lives in the versioned rule file
``shared/rules/triage_rules.json``; this module is only the engine that applies it.

How a message is read (all steps are configured by the rule file):

1. Normalisation: lower case, accents stripped (``calefacción`` -> ``calefaccion``), apostrophes
   dropped so contractions become single tokens (``isn't`` -> ``isnt``), literal ``replacements``
   (``a/c`` -> ``ac``), then tokens of ``[a-z0-9]+``.  Clause punctuation (``. , ; : ! ?``, a
   spaced dash, a new line) becomes a boundary token that no pattern and no negation crosses.
2. Spelling: explicit ``spelling`` variants (``leek`` -> ``leak``), then, for unknown tokens, a
   fuzzy correction to a rule word at Damerau (OSA) distance <= ``fuzzy.max_distance`` (same first
   letter, minimum length, never for ``fuzzy.protected`` real words such as ``flooring``).
3. ``compounds`` merge multi-word names into one token (``water heater`` -> ``waterheater``) so
   that ``heater`` rules do not fire on a water heater.
4. Rules: each rule has patterns made of tokens; a pattern token is ``a|b|@GROUP`` (alternatives,
   ``@GROUP`` expands to a word group) or ``*N`` (skip 0..N tokens).  A rule fires when one of
   its patterns matches and the match is not negated: a negation cue (``no``, ``not``,
   ``isnt``...) at most ``negation.window`` tokens before the match, with no boundary token or
   ``negation.terminators`` word (``but``, ``just``...) between them, negates it, unless the cue
   starts a ``negation.pseudo`` phrase (``cant stop``, ``not sure``).
5. A fired rule may ``override`` other rules (a specific rule silencing a generic one for the
   whole message, e.g. a dripping tap overrides the active-leak emergency).
6. Priority is the highest priority among the fired rules; the emergency reason joins the reasons
   of the emergency rules.  The trade is the one whose fired rules rank highest on
   (highest priority, sum of weights, position in ``trade_precedence``); no trade -> general.

``classify`` never raises on a string; ``load_rules`` raises :class:`RulesFileError` with a clear
message when the file is missing, not JSON, or does not validate.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.domain.enums import DEFAULT_TRADE, Hazard, Priority, Trade
from shared.domain.model import Model
from shared.domain.text import BOUNDARY, clause_tokens, fold

if TYPE_CHECKING:
    from shared.domain.triage_model import Opinion, TriageModel

__all__ = [
    "DEFAULT_RULES_PATH",
    "Priority",
    "RulesFileError",
    "Trade",
    "TriageResult",
    "TriageRules",
    "classify",
    "classify_rules",
    "combine",
    "explain_tokens",
    "load_rules",
    "parse_rules",
]

logger = logging.getLogger(__name__)

DEFAULT_RULES_PATH: Path = Path(__file__).resolve().parent.parent / "rules" / "triage_rules.json"

# Higher is more pressing.
_PRIORITY_RANK: dict[Priority, int] = {Priority.ROUTINE: 0, Priority.URGENT: 1, Priority.EMERGENCY: 2}
_FUZZY_CACHE_MAX = 20_000


# --------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageResult:
    """The outcome of triaging one message."""

    trade: Trade
    priority: Priority
    emergency_reason: str | None
    """Plain-words reason for the on-call page (e.g. ``"gas smell"``); None unless an emergency."""
    matched_rules: tuple[str, ...]
    """Ids of the rules that fired (after overrides), in rule-file order, for the audit trail."""
    rules_version: str
    hazard: Hazard = Hazard.NONE
    """The emergency's hazard class; for a question (``ask``), the class being asked about."""
    ask: bool = False
    """Unsure whether this is an emergency: ask the tenant a safety question at once."""
    vulnerable: bool = False
    """A vulnerable occupant (infant, elderly, medical need) is mentioned."""
    emergency_probability: float | None = None
    """The learned model's probability that this is an emergency, as the policy blends its hazard and priority
    heads (None for the rules alone)."""
    opinions: dict[str, str] = field(default_factory=dict)
    """What each opinion said (``rules``, ``model``), for the audit trail."""
    stands: bool = False
    """A rule whose emergency stands whatever the model says fired (gas, carbon monoxide)."""

    @property
    def emergency(self) -> bool:
        return self.priority is Priority.EMERGENCY


# --------------------------------------------------------------------------------------------------
# Text normalisation (shared by the rule compiler and the classifier, so both see the same words)
# --------------------------------------------------------------------------------------------------

def _word_tokens(text: str) -> list[str]:
    """Tokens of a rule-file phrase (no boundaries)."""
    return [t for t in clause_tokens(fold(text)) if t != BOUNDARY]


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (Levenshtein + adjacent transposition), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        row_min = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            val = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                val = min(val, prev2[j - 2] + 1)
            cur[j] = val
            row_min = min(row_min, val)
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[len(b)]


def _deletes(word: str, depth: int) -> set[str]:
    """All strings obtained by deleting up to ``depth`` characters (SymSpell neighbourhood)."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        nxt: set[str] = set()
        for w in frontier:
            for i in range(len(w)):
                nxt.add(w[:i] + w[i + 1 :])
        out |= nxt
        frontier = nxt
    return out


# --------------------------------------------------------------------------------------------------
# Rule file schema (pydantic v2)
# --------------------------------------------------------------------------------------------------

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=80)]
Word = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+$")]
Phrase = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

_GAP = re.compile(r"^\*(\d)$")
_GROUP_REF = re.compile(r"^@[A-Z][A-Z0-9_]*$")


class _Strict(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChangelogEntry(_Strict):
    version: str
    changes: list[Phrase] = Field(min_length=1)


class NegationConfig(_Strict):
    cues: list[Word] = Field(min_length=1, description="words that negate what follows")
    window: int = Field(ge=1, le=10, description="how many tokens before a match a cue still negates")
    terminators: list[Word] = Field(
        default_factory=list, description="words that end a negation scope (but, just...)"
    )
    pseudo: list[Phrase] = Field(
        default_factory=list, description="phrases starting with a cue that do not negate (cant stop)"
    )

    @field_validator("pseudo")
    @classmethod
    def _pseudo_starts_with_cue(cls, value: list[str], info: ValidationInfo) -> list[str]:
        cues = set(info.data.get("cues") or ())
        for phrase in value:
            toks = _word_tokens(phrase)
            if len(toks) < 2 or toks[0] not in cues:
                raise ValueError(f"pseudo-negation {phrase!r} must be 2+ words starting with a negation cue")
        return value


class FuzzyConfig(_Strict):
    enabled: bool = True
    min_length: int = Field(default=6, ge=4, le=20, description="rule words shorter than this are exact-only")
    max_distance: int = Field(default=1, ge=1, le=2)
    same_first_letter: bool = True
    protected: list[Word] = Field(
        default_factory=list, description="real words never corrected (flooring is not flooding)"
    )


class Qualifier(StrEnum):
    STOPPED = "stopped"  # over, past, went away: "it stopped", "nothing smells now"
    CONTAINED = "contained"  # slow, small, caught: "a cup an hour into a bucket", "not growing"
    SPREADING = "spreading"  # ongoing and growing: "spreading into the hallway", "still coming"
    VULNERABLE = "vulnerable"  # an infant, an elderly or disabled person, a medical need
    MINOR = "minor"  # routine by the tenant's own account: it still works, there is a workaround, no hurry, cosmetic
    WORSENING = "worsening"  # it will get worse: getting worse, growing, bigger every week


class Policy(_Strict):
    """How qualifiers change a rule's priority, and how the rules and the learned model are combined."""

    demote: dict[Qualifier, list[Hazard]] = Field(
        description="an emergency rule of these hazards becomes urgent (and asked about) with this qualifier")
    raise_: dict[Qualifier, list[Hazard]] = Field(
        alias="raise", description="an urgent rule of these hazards becomes an emergency with this qualifier")
    emergency_probability: float = Field(
        ge=0, le=1, description="the model declares an emergency at or above this probability")
    ask_probability: float = Field(
        ge=0, le=1, description="below emergency_probability and at or above this, ask the safety question")
    hazard_head_weight: float = Field(
        ge=0, le=1, description="the emergency probability the thresholds above compare is this share of the "
                                "model's hazard head (any hazard) and the rest of its priority head (emergency)")
    rules_confirm_probability: float = Field(
        ge=0, le=1, description="a rules emergency stands when the model gives it at least this probability "
                                "(or one of its rules `stands`); below, the tenant is asked at once instead")
    no_answer_is_emergency: list[Hazard] = Field(
        description="hazard classes treated as an emergency when the safety question is not answered in time")
    urgent_share: float = Field(
        ge=0, le=1, description="not an emergency: urgent when the model's urgent probability is at least this "
                                "share of its urgent and routine probabilities together (0.5: the likelier)")
    urgent_share_with_rule: float = Field(
        ge=0, le=1, description="the urgent share when a rule named an urgent matter or a hazard the model doubts "
                                "(a rule's evidence lowers the bar; at most urgent_share)")
    model_trade_probability: float = Field(
        ge=0, le=1, description="the model's trade wins at or above this probability (or when no trade rule "
                                "fired); below, the rules' trade")
    hazard_words: dict[Hazard, str] = Field(description="plain words for each hazard class (on-call page)")
    qualifier_words: dict[Qualifier, str] = Field(description="plain words added to a raised rule's reason")

    @model_validator(mode="after")
    def _check(self) -> Policy:
        if self.ask_probability > self.emergency_probability:
            raise ValueError("ask_probability must not exceed emergency_probability")
        if self.urgent_share_with_rule > self.urgent_share:
            raise ValueError("urgent_share_with_rule must not exceed urgent_share")
        return self


class Rule(_Strict):
    id: RuleId
    description: str | None = None
    patterns: list[Phrase] = Field(min_length=1)
    trade: Trade | None = None
    priority: Priority = Priority.ROUTINE
    reason: str | None = Field(default=None, description="plain words for the on-call page")
    weight: float = Field(default=1.0, gt=0, le=100)
    negatable: bool = True
    overrides: list[RuleId] = Field(default_factory=list)
    hazard: Hazard | None = Field(
        default=None, description="the hazard class: required on emergency rules; on an urgent rule, the emergency "
                                  "it becomes when a qualifier raises it (spreading water, a vulnerable occupant)")
    stands: bool = Field(
        default=False, description="an emergency of this rule stands whatever the model says (gas, carbon monoxide)")
    qualifies: Qualifier | None = Field(
        default=None, description="a qualifier rule sets no trade or priority: it says the hazard is stopped, "
                                  "contained, spreading, or that a vulnerable occupant is affected")

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if self.qualifies is not None:
            if self.trade is not None or self.priority is not Priority.ROUTINE or self.hazard is not None:
                raise ValueError(f"rule {self.id!r}: a qualifier rule sets no trade, priority or hazard")
            return self
        if self.priority is Priority.EMERGENCY and not (self.reason and self.reason.strip()):
            raise ValueError(f"rule {self.id!r}: an emergency rule needs a plain-words 'reason'")
        if self.priority is Priority.EMERGENCY and self.hazard in (None, Hazard.NONE):
            raise ValueError(f"rule {self.id!r}: an emergency rule needs its hazard class")
        if self.hazard not in (None, Hazard.NONE) and not (self.reason and self.reason.strip()):
            raise ValueError(f"rule {self.id!r}: a rule with a hazard needs a plain-words 'reason'")
        if self.trade is None and self.priority is Priority.ROUTINE and not self.overrides:
            raise ValueError(f"rule {self.id!r}: sets neither a trade, a priority above routine, nor overrides")
        for pattern in self.patterns:
            parts = pattern.split()
            if _GAP.match(parts[0]) or _GAP.match(parts[-1]):
                raise ValueError(f"rule {self.id!r}: pattern {pattern!r} must not start or end with a gap")
        return self


class TriageRules(_Strict):
    """A validated, compiled rule set (load it with :func:`load_rules`)."""

    version: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}\.\d+$")]
    changelog: list[ChangelogEntry] = Field(min_length=1)
    trade_precedence: list[Trade] = Field(description="tie-break order, first wins; must list every trade")
    policy: Policy
    negation: NegationConfig
    gap_stops: list[Word] = Field(
        default_factory=list, description="words a pattern gap (*N) never skips, e.g. but"
    )
    fuzzy: FuzzyConfig = FuzzyConfig()
    replacements: dict[str, str] = Field(default_factory=dict, description="literal text replacements")
    spelling: dict[Word, Word] = Field(default_factory=dict, description="misspelling -> word")
    compounds: dict[Phrase, Word] = Field(default_factory=dict, description="multi-word name -> one token")
    groups: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")], list[Phrase]] = Field(
        default_factory=dict
    )
    rules: list[Rule] = Field(min_length=1)

    _compiled: _Compiled = PrivateAttr()

    @model_validator(mode="after")
    def _check(self) -> TriageRules:
        if self.changelog[0].version != self.version:
            raise ValueError(
                f"the first changelog entry must describe the current version {self.version!r}, "
                f"found {self.changelog[0].version!r}"
            )
        missing = set(Trade) - set(self.trade_precedence)
        if missing or len(self.trade_precedence) != len(set(self.trade_precedence)):
            raise ValueError(
                f"trade_precedence must list every trade exactly once (missing: {sorted(missing)})"
            )
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        for rule in self.rules:
            for target in rule.overrides:
                if target not in seen:
                    raise ValueError(f"rule {rule.id!r} overrides unknown rule {target!r}")
                if target == rule.id:
                    raise ValueError(f"rule {rule.id!r} overrides itself")
        for name, members in self.groups.items():
            for member in members:
                if len(_word_tokens(member)) != 1:
                    raise ValueError(f"group @{name}: member {member!r} must be a single word")
        # Compiling checks the pattern syntax and the group references.
        self._compiled = _Compiled(self)
        return self


# --------------------------------------------------------------------------------------------------
# Compiled matcher
# --------------------------------------------------------------------------------------------------

# A pattern element is either a frozenset of accepted tokens or an int N (skip 0..N tokens).
_Element = frozenset[str] | int


@dataclass(frozen=True)
class _Pattern:
    rule_index: int
    elements: tuple[_Element, ...]


class _Compiled:
    """Everything derived from the validated rule data that makes classify() fast."""

    def __init__(self, rules: TriageRules) -> None:
        self.version = rules.version
        self.rules = rules.rules
        self.policy = rules.policy
        self.precedence = {trade: i for i, trade in enumerate(rules.trade_precedence)}
        self.replacements = [(fold(k), fold(v)) for k, v in rules.replacements.items()]
        self.spelling = dict(rules.spelling)
        self.compounds = self._compile_compounds(rules.compounds)
        self.groups = {
            name: frozenset(t for m in members for t in _word_tokens(m)) for name, members in rules.groups.items()
        }

        neg = rules.negation
        self.neg_cues = frozenset(neg.cues)
        self.neg_window = neg.window
        self.neg_terminators = frozenset(neg.terminators)
        self.neg_pseudo = [tuple(_word_tokens(p)) for p in neg.pseudo]
        # A gap never skips a clause boundary, a gap-stop word or a negation cue
        # ("the lock isn't broken" must not match "lock *3 broken").
        self.gap_blockers = frozenset(rules.gap_stops) | self.neg_cues | {BOUNDARY}

        self.by_first: dict[str, list[_Pattern]] = {}
        vocabulary: set[str] = set(self.spelling.values()) | set(self.compounds_words)
        for index, rule in enumerate(rules.rules):
            for text in rule.patterns:
                pattern = _Pattern(index, self._compile_pattern(rule.id, text))
                first = pattern.elements[0]
                assert isinstance(first, frozenset)
                for token in first:
                    self.by_first.setdefault(token, []).append(pattern)
                for element in pattern.elements:
                    if isinstance(element, frozenset):
                        vocabulary |= element
        self.vocabulary = frozenset(vocabulary)
        self.overrides = {i: [self._index_of(t) for t in r.overrides] for i, r in enumerate(rules.rules)}

        fz = rules.fuzzy
        self.fuzzy_enabled = fz.enabled
        self.fuzzy_min = fz.min_length
        self.fuzzy_max = fz.max_distance
        self.fuzzy_first = fz.same_first_letter
        self.fuzzy_protected = frozenset(fz.protected)
        self.fuzzy_index: dict[str, set[str]] = {}
        if fz.enabled:
            for word in self.vocabulary:
                if len(word) >= fz.min_length and word.isalpha():
                    for key in _deletes(word, fz.max_distance):
                        self.fuzzy_index.setdefault(key, set()).add(word)
        self._fuzzy_cache: dict[str, str] = {}

    # -- compilation helpers ------------------------------------------------------------------------

    def _index_of(self, rule_id: str) -> int:
        return next(i for i, r in enumerate(self.rules) if r.id == rule_id)

    def _compile_compounds(self, compounds: Mapping[str, str]) -> dict[str, list[tuple[tuple[str, ...], str]]]:
        table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        words: set[str] = set()
        for phrase, token in compounds.items():
            toks = tuple(self.spelling.get(t, t) for t in _word_tokens(phrase))
            if len(toks) < 2:
                raise ValueError(f"compound {phrase!r} must have at least two words")
            table.setdefault(toks[0], []).append((toks, token))
            words.update(toks)
        for entries in table.values():
            entries.sort(key=lambda e: -len(e[0]))  # longest first
        self.compounds_words = words
        return table

    def _expand(self, rule_id: str, alternative: str) -> set[str]:
        if _GROUP_REF.match(alternative):
            name = alternative[1:]
            if name not in self.groups:
                raise ValueError(f"rule {rule_id!r}: unknown group @{name}")
            return set(self.groups[name])
        toks = _word_tokens(alternative)
        if len(toks) != 1:
            raise ValueError(f"rule {rule_id!r}: {alternative!r} is not a single word (use spaces between tokens)")
        return {toks[0]}

    def _compile_pattern(self, rule_id: str, text: str) -> tuple[_Element, ...]:
        elements: list[_Element] = []
        for part in text.split():
            gap = _GAP.match(part)
            if gap:
                elements.append(int(gap.group(1)))
                continue
            accepted: set[str] = set()
            for alternative in part.split("|"):
                if not alternative:
                    raise ValueError(f"rule {rule_id!r}: empty alternative in {text!r}")
                accepted |= self._expand(rule_id, alternative)
            # Patterns are matched against normalised tokens, so normalise their words the same way.
            accepted = {self.spelling.get(t, t) for t in accepted}
            elements.append(frozenset(accepted))
        return tuple(elements)

    # -- run time -----------------------------------------------------------------------------------

    def tokens(self, text: str) -> list[str]:
        folded = fold(text)
        for old, new in self.replacements:
            folded = folded.replace(old, new)
        tokens = [self._correct(t) for t in clause_tokens(folded)]
        return self._merge_compounds(tokens)

    def _correct(self, token: str) -> str:
        if token == BOUNDARY:
            return token
        fixed = self.spelling.get(token)
        if fixed is not None:
            return fixed
        if token in self.vocabulary or not self.fuzzy_enabled:
            return token
        cached = self._fuzzy_cache.get(token)
        if cached is not None:
            return cached
        fixed = self._fuzzy(token)
        if len(self._fuzzy_cache) >= _FUZZY_CACHE_MAX:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[token] = fixed
        return fixed

    def _fuzzy(self, token: str) -> str:
        if len(token) < self.fuzzy_min - self.fuzzy_max or not token.isalpha() or token in self.fuzzy_protected:
            return token
        candidates: set[str] = set()
        for key in _deletes(token, self.fuzzy_max):
            hit = self.fuzzy_index.get(key)
            if hit:
                candidates |= hit
        best: list[tuple[int, str]] = []
        for word in candidates:
            if self.fuzzy_first and word[0] != token[0]:
                continue
            distance = _osa_distance(token, word, self.fuzzy_max)
            if distance <= self.fuzzy_max:
                best.append((distance, word))
        if not best:
            return token
        best.sort()
        if len(best) > 1 and best[0][0] == best[1][0]:
            return token  # ambiguous: do not guess
        return best[0][1]

    def _merge_compounds(self, tokens: list[str]) -> list[str]:
        if not self.compounds:
            return tokens
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for toks, merged in self.compounds.get(tokens[i], ()):
                if tuple(tokens[i : i + len(toks)]) == toks:
                    out.append(merged)
                    i += len(toks)
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def match_end(self, tokens: Sequence[str], start: int, elements: tuple[_Element, ...]) -> int | None:
        """End (exclusive) of the shortest match of ``elements`` at ``start``, or None."""

        def step(pos: int, k: int) -> int | None:
            if k == len(elements):
                return pos
            element = elements[k]
            if isinstance(element, int):
                for skip in range(element + 1):
                    if skip and (pos + skip - 1 >= len(tokens) or tokens[pos + skip - 1] in self.gap_blockers):
                        return None
                    end = step(pos + skip, k + 1)
                    if end is not None:
                        return end
                return None
            if pos < len(tokens) and tokens[pos] in element:
                return step(pos + 1, k + 1)
            return None

        return step(start, 0)

    def negated(self, tokens: Sequence[str], start: int) -> bool:
        for j in range(start - 1, max(-1, start - 1 - self.neg_window), -1):
            tok = tokens[j]
            if tok == BOUNDARY or tok in self.neg_terminators:
                return False
            if tok in self.neg_cues and not self._pseudo_at(tokens, j):
                return True
        return False

    def _pseudo_at(self, tokens: Sequence[str], j: int) -> bool:
        return any(tuple(tokens[j : j + len(p)]) == p for p in self.neg_pseudo)

    def fired(self, tokens: Sequence[str]) -> list[int]:
        """Indexes of the rules that fire on ``tokens`` (before overrides), sorted."""
        fired: set[int] = set()
        for start, token in enumerate(tokens):
            for pattern in self.by_first.get(token, ()):
                if pattern.rule_index in fired:
                    continue
                if self.match_end(tokens, start, pattern.elements) is None:
                    continue
                if self.rules[pattern.rule_index].negatable and self.negated(tokens, start):
                    continue
                fired.add(pattern.rule_index)
        return sorted(fired)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


class RulesFileError(ValueError):
    """The triage rule file is missing, is not JSON, or does not validate."""


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "<root>"
        lines.append(f"  - {where}: {item['msg']}")
    return "\n".join(lines)


def parse_rules(data: Any, source: str = "<data>") -> TriageRules:
    """Validate and compile already-decoded rule data (a dict as in the JSON file)."""
    try:
        return TriageRules.model_validate(data)
    except ValidationError as exc:
        raise RulesFileError(
            f"invalid triage rules in {source}: {exc.error_count()} problem(s):\n{_describe(exc)}"
        ) from exc
    except ValueError as exc:  # raised while compiling patterns outside a validator's error wrapping
        raise RulesFileError(f"invalid triage rules in {source}: {exc}") from exc


def _load_file(path: Path) -> TriageRules:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesFileError(f"cannot read triage rules file {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RulesFileError(
            f"triage rules file {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    return parse_rules(data, str(path))


@functools.cache
def _load_default() -> TriageRules:
    return _load_file(DEFAULT_RULES_PATH)


def load_rules(path: str | Path | None = None) -> TriageRules:
    """Load and validate a rule file; the packaged default is loaded once per process and cached."""
    if path is None:
        return _load_default()
    return _load_file(Path(path))


# --------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------


def _decide(compiled: _Compiled, fired: Iterable[int]) -> TriageResult:
    active = set(fired)
    silenced = {target for i in active for target in compiled.overrides[i]}
    active -= silenced
    fired_rules = [compiled.rules[i] for i in sorted(active)]
    policy = compiled.policy
    qualifiers = {r.qualifies for r in fired_rules if r.qualifies is not None}
    rules = [r for r in fired_rules if r.qualifies is None]
    # Spreading water or an ongoing hazard is never "contained" or "stopped" by another phrase of the message.
    demoting = set() if Qualifier.SPREADING in qualifiers else qualifiers & set(policy.demote)

    effective: list[tuple[Rule, Priority, str | None]] = []  # rule, its priority here, its reason here
    demoted: list[Rule] = []
    for rule in rules:
        priority, reason = rule.priority, rule.reason
        if priority is Priority.EMERGENCY and any(rule.hazard in policy.demote[q] for q in demoting):
            priority = Priority.URGENT
            demoted.append(rule)
        elif priority is Priority.URGENT and rule.hazard not in (None, Hazard.NONE):
            raised_by = [q for q in sorted(qualifiers) if rule.hazard in policy.raise_.get(q, ())]
            if raised_by:
                priority = Priority.EMERGENCY
                reason = f"{rule.reason} ({policy.qualifier_words[raised_by[0]]})"
        effective.append((rule, priority, reason))

    priority = max((p for _, p, _ in effective), key=_PRIORITY_RANK.__getitem__, default=Priority.ROUTINE)
    emergencies = sorted((e for e in effective if e[1] is Priority.EMERGENCY), key=lambda e: -e[0].weight)
    reasons: list[str] = []  # most specific (heaviest) emergency first, then rule-file order
    for _, _, reason in emergencies:
        if reason and reason not in reasons:
            reasons.append(reason)
    hazard = Hazard.NONE
    ask = False
    if emergencies:
        hazard = emergencies[0][0].hazard or Hazard.NONE
    elif demoted:  # a hazard was named but reads as stopped or contained: ask rather than guess
        hazard = max(demoted, key=lambda r: r.weight).hazard or Hazard.NONE
        ask = True

    best: dict[Trade, tuple[int, float]] = {}
    for rule, rule_priority, _ in effective:
        if rule.trade is None:
            continue
        rank, score = best.get(rule.trade, (0, 0.0))
        best[rule.trade] = (max(rank, _PRIORITY_RANK[rule_priority]), score + rule.weight)
    trade = DEFAULT_TRADE
    if best:
        trade = max(best, key=lambda t: (best[t][0], best[t][1], -compiled.precedence[t]))

    return TriageResult(
        trade=trade,
        priority=priority,
        emergency_reason="; ".join(reasons) if priority is Priority.EMERGENCY else None,
        matched_rules=tuple(r.id for r in fired_rules),
        rules_version=compiled.version,
        hazard=hazard,
        ask=ask,
        vulnerable=Qualifier.VULNERABLE in qualifiers,
        stands=any(rule.stands for rule, _, _ in emergencies),
        opinions={"rules": f"{trade.value}/{priority.value}/{hazard.value}" + ("/ask" if ask else ""),
                  "rules_trade": "matched" if best else "unsure"},
    )


def explain_tokens(text: str, rules: TriageRules | None = None) -> list[str]:
    """The normalised tokens the rules see (for debugging rule files; ``|`` is a clause boundary)."""
    return (rules or load_rules())._compiled.tokens(text)


def classify_rules(text: str, rules: TriageRules | None = None) -> TriageResult:
    """Triage by the rules alone.  Never raises on a string: empty or unknown text is general/routine."""
    ruleset = rules if rules is not None else load_rules()
    compiled = ruleset._compiled
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    try:
        tokens = compiled.tokens(text)
        return _decide(compiled, compiled.fired(tokens))
    except Exception:  # pragma: no cover - defensive: triage must not drop a work order
        logger.exception("triage engine failed; falling back to general/urgent for human review")
        return TriageResult(
            trade=DEFAULT_TRADE,
            priority=Priority.URGENT,
            emergency_reason=None,
            matched_rules=("engine.fallback",),
            rules_version=compiled.version,
            ask=True,
        )


def classify(text: str, rules: TriageRules | None = None, model: TriageModel | None = None) -> TriageResult:
    """Triage a tenant message: the rules, then the learned model's second opinion, safety first.

    - an emergency when the model says so with confidence (``policy.emergency_probability``), or when a
      rule says so and the model does not rule it out (``policy.rules_confirm_probability``; the rules
      marked ``stands``, gas and carbon monoxide, stand whatever the model says);
    - otherwise urgent or routine as the model reads it (urgent from a lower share of the two when a rule
      named an urgent matter or a hazard, ``policy.urgent_share_with_rule``), with a safety question (``ask``) when the
      model's emergency probability is in the uncertain band, or a rule named a hazard the model doubts
      or that reads as stopped or contained (no answer in time: an emergency for life safety and water);
    - the model's trade when it is sure enough (or no trade rule fired), else the rules'.
    """
    from shared.domain.triage_model import ModelFileError, load_model

    ruleset = rules if rules is not None else load_rules()
    result = classify_rules(text, ruleset)
    try:
        opinion = (model or load_model()).predict(text if isinstance(text, str) else str(text or ""),
                                                  result.matched_rules)
    except ModelFileError:
        logger.exception("triage model unavailable; the rules decide alone")
        return result
    return combine(result, opinion, ruleset.policy)


def combine(result: TriageResult, opinion: Opinion, policy: Policy) -> TriageResult:
    """The rules' result and the model's opinion of one message, combined by ``policy`` (see :func:`classify`).

    Pure: cross-validation calls it with each fold's model and candidate policies.
    """
    p_emergency = round(opinion.emergency_score(policy.hazard_head_weight), 9)  # float noise never decides a threshold
    model_hazard = Hazard(max((h for h in opinion.hazard if h != Hazard.NONE.value), key=opinion.hazard.__getitem__))
    model_trade, trade_probability = opinion.best(opinion.trade)
    update: dict[str, Any] = {"emergency_probability": round(p_emergency, 4),
                              "opinions": {**result.opinions, "model": f"{model_trade}/"
                                           f"{opinion.best(opinion.priority)[0]}/{opinion.best(opinion.hazard)[0]}",
                                           "model_version": opinion.model_version}}
    hazard = result.hazard if result.hazard is not Hazard.NONE else model_hazard
    if result.priority is Priority.EMERGENCY and (p_emergency >= policy.rules_confirm_probability or result.stands):
        pass  # the rules' emergency stands, with their reason
    elif p_emergency >= policy.emergency_probability:
        update |= {"priority": Priority.EMERGENCY, "hazard": hazard, "ask": False,
                   "emergency_reason": result.emergency_reason or policy.hazard_words[hazard]}
    else:
        # Not an emergency on the evidence: urgent or routine as the model reads it; ask when either
        # opinion saw a possible emergency (the model in the uncertain band, or a rule hazard).
        p_urgent, p_routine = opinion.priority.get(Priority.URGENT.value, 0.0), opinion.priority.get(
            Priority.ROUTINE.value, 0.0)
        # A rule that named an urgent matter or a hazard is evidence for urgent: a lower bar than the model's alone.
        share = policy.urgent_share if result.priority is Priority.ROUTINE else policy.urgent_share_with_rule
        urgent = p_urgent >= share * (p_urgent + p_routine)
        ask = p_emergency >= policy.ask_probability or result.ask or result.priority is Priority.EMERGENCY
        update |= {"priority": Priority.URGENT if urgent else Priority.ROUTINE, "emergency_reason": None,
                   "ask": ask, "hazard": hazard if ask else Hazard.NONE}
    if trade_probability >= policy.model_trade_probability or result.opinions.get("rules_trade") == "unsure":
        update["trade"] = Trade(model_trade)
    return replace(result, **update)
