"""The learned second opinion on a tenant message: a small multinomial logistic regression.

The weights file (``shared/rules/triage_model.json``) is written by ``opslayer triage train`` from the
training corpus; this module only reads it. Inference is plain Python: the message's features are
looked up in a dict and summed per class, then a softmax, so nothing but the standard library runs
and nothing is downloaded. One model has four heads sharing the features: priority, trade, hazard, and
the message's language (so a request written in Spanish is answered in Spanish).

Features (all from :mod:`shared.domain.text`, the same normalisation the rules use):
- ``w:`` words, ``b:`` word pairs inside a clause,
- ``n:`` words that follow a negation cue in the same clause (so "no smoke" is not "smoke"),
- ``c:`` character 4-grams of each word with boundary marks (spelling slips, Spanish endings),
- ``r:`` the triage rules that fired on the message (after overrides; qualifiers included), when the model
  was trained with them (``settings.rule_features``): the model learns how far to trust each rule, with
  the rules' negation, spelling and compound handling. Such a model is retrained when the rules change
  (its file records the rules version it was trained with).
"""

from __future__ import annotations

import base64
import json
import math
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shared.domain.text import BOUNDARY, clause_tokens, fold

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "rules" / "triage_model.json"
FORMAT = 2  # 2: one feature list; per head 16-bit weights (base64, little-endian) and a scale

NEGATION_CUES = frozenset({
    "no", "not", "nor", "never", "without", "none", "nothing", "isnt", "arent", "wasnt", "werent", "doesnt", "dont",
    "didnt", "wont", "cant", "cannot", "couldnt", "havent", "hasnt", "aint", "sin", "nunca", "ni", "nada", "tampoco",
})
NEGATION_WINDOW = 3
CHAR_N = 4


def rule_features(rules_fired: Iterable[str]) -> list[str]:
    """The features of the triage rules that fired on a message."""
    return [f"r:{rule_id}" for rule_id in rules_fired]


def features(text: str) -> list[str]:
    """The model's text features of one message (duplicates removed, order kept)."""
    tokens = clause_tokens(fold(text or ""))
    out: dict[str, None] = {}
    negated_for = 0
    previous: str | None = None
    for token in tokens:
        if token == BOUNDARY:
            negated_for, previous = 0, None
            continue
        out[f"w:{token}"] = None
        if previous is not None:
            out[f"b:{previous}_{token}"] = None
        if negated_for:
            out[f"n:{token}"] = None
            negated_for -= 1
        if token in NEGATION_CUES:
            negated_for = NEGATION_WINDOW
        if len(token) >= CHAR_N and not token.isdigit():
            marked = f"<{token}>"
            for i in range(len(marked) - CHAR_N + 1):
                out[f"c:{marked[i:i + CHAR_N]}"] = None
        previous = token
    return list(out)


@dataclass(frozen=True)
class Head:
    """One output of the model: its classes, their biases, and per known feature a row of weights
    (stored as 16-bit integers times ``scale``, row after row in feature order)."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]
    scale: float
    weights: array

    def probabilities(self, rows: Iterable[int], input_scale: float) -> dict[str, float]:
        k = len(self.classes)
        sums = [0] * k
        w = self.weights
        for row in rows:
            base = row * k
            for j in range(k):
                sums[j] += w[base + j]
        factor = self.scale * input_scale
        scores = [b + s * factor for b, s in zip(self.bias, sums, strict=True)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}


@dataclass(frozen=True)
class Opinion:
    """What the model thinks of one message; each head's class probabilities."""

    priority: dict[str, float]
    trade: dict[str, float]
    hazard: dict[str, float]
    model_version: str
    language: dict[str, float] | None = None  # the language the message is written in (en, es)

    @property
    def emergency_probability(self) -> float:
        return self.priority.get("emergency", 0.0)

    @property
    def hazard_probability(self) -> float:
        """The hazard head's probability that the message names some hazard (any class but none): a second,
        independently trained reading of "is this an emergency"."""
        return 1.0 - self.hazard.get("none", 1.0)

    def emergency_score(self, hazard_head_weight: float) -> float:
        """The two heads' emergency probabilities blended: ``hazard_head_weight`` of the hazard head's, the
        rest the priority head's."""
        w = hazard_head_weight
        return w * self.hazard_probability + (1.0 - w) * self.emergency_probability

    @staticmethod
    def best(probabilities: dict[str, float]) -> tuple[str, float]:
        label = max(probabilities, key=probabilities.__getitem__)
        return label, probabilities[label]


@dataclass(frozen=True)
class TriageModel:
    version: str
    vocabulary: dict[str, int]
    heads: dict[str, Head]
    uses_rules: bool = False
    """Trained with the fired rules as features: :meth:`predict` needs them."""

    def predict(self, text: str, rules_fired: Sequence[str] = ()) -> Opinion:
        """The model's opinion of ``text``; ``rules_fired`` are the triage rules that fired on it (ignored by a
        model trained without them)."""
        feats = features(text) + (rule_features(rules_fired) if self.uses_rules else [])
        # Inputs are scaled by 1/sqrt(n) as in training, so long e-mails do not shout.
        scale = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        rows = [i for i in map(self.vocabulary.get, feats) if i is not None]
        probs = {name: head.probabilities(rows, scale) for name, head in self.heads.items()}
        return Opinion(priority=probs["priority"], trade=probs["trade"], hazard=probs["hazard"],
                       model_version=self.version, language=probs.get("language"))


class ModelFileError(ValueError):
    """The weights file is missing or malformed (a deploy error, said plainly)."""


def parse_model(data: dict[str, Any], source: str = "<data>") -> TriageModel:
    try:
        if data.get("format") != FORMAT:
            raise ModelFileError(f"{source}: unsupported model format {data.get('format')!r} (expected {FORMAT})")
        vocabulary = {feature: i for i, feature in enumerate(data["features"])}
        heads = {}
        for name in ("priority", "trade", "hazard", "language"):
            raw = data["heads"][name]
            classes = tuple(raw["classes"])
            weights = array("h")
            weights.frombytes(base64.b64decode(raw["weights"]))
            if sys.byteorder != "little":  # pragma: no cover - written little-endian
                weights.byteswap()
            if len(raw["bias"]) != len(classes) or len(weights) != len(classes) * len(vocabulary):
                raise ModelFileError(f"{source}: head {name!r} does not match its {len(classes)} classes")
            heads[name] = Head(classes=classes, bias=tuple(raw["bias"]), scale=float(raw["scale"]), weights=weights)
        uses_rules = bool(data.get("settings", {}).get("rule_features", False))
        return TriageModel(version=str(data["version"]), vocabulary=vocabulary, heads=heads, uses_rules=uses_rules)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{source}: malformed triage model ({exc!r})") from exc


@cache
def load_model(path: str | None = None) -> TriageModel:
    """The shipped model (cached: loaded once per process, on first use)."""
    file = Path(path) if path else DEFAULT_MODEL_PATH
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(f"triage model not found at {file}; run `opslayer triage train`") from exc
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{file}: not JSON ({exc})") from exc
    return parse_model(data, str(file))
