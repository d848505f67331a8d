"""Incident correlation rules (data: shared/rules/correlation_rules.json): reports of the same
building-wide fault in the same property within a window become one incident - one dispatch."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import Field

from shared.domain.enums import Trade
from shared.domain.model import Model

RULES = Path(__file__).resolve().parent.parent / "rules" / "correlation_rules.json"


class CorrelationRule(Model):
    id: str
    trade: Trade
    reasons: list[str] = Field(min_length=1)
    window_minutes: int = Field(gt=0)


class CorrelationRules(Model):
    version: str
    rules: list[CorrelationRule]


@cache
def load_rules(path: Path = RULES) -> CorrelationRules:
    return CorrelationRules.model_validate(json.loads(path.read_text()))


def building_fault(trade: str | None, emergency_reason: str | None,
                   rules: CorrelationRules | None = None) -> CorrelationRule | None:
    """The rule a report matches, if its fault is one that affects a whole building."""
    if not trade or not emergency_reason:
        return None
    reasons = {r.strip().lower() for r in emergency_reason.split(";")}
    for rule in (rules or load_rules()).rules:
        if rule.trade.value == trade and reasons & {r.lower() for r in rule.reasons}:
            return rule
    return None
