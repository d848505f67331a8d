"""Not-to-exceed amounts for vendors (data: shared/rules/nte.json). Pure: no I/O beyond reading the rules."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import Field

from shared.domain.enums import Priority, Trade
from shared.domain.model import Model

RULES = Path(__file__).resolve().parent.parent / "rules" / "nte.json"
ANY_TRADE = "*"


class NteRules(Model):
    version: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    default: dict[Priority, int]
    trades: dict[Trade, dict[Priority, int]] = Field(default_factory=dict)
    # property id -> trade (or "*") -> priority -> cents
    properties: dict[str, dict[str, dict[Priority, int]]] = Field(default_factory=dict)

    def amount(self, trade: Trade, priority: Priority, property_id: str) -> tuple[int, str]:
        """(cents, currency): the property's override for the trade, then for any trade, then the
        trade's amount, then the default - each for the job's priority."""
        own = self.properties.get(property_id, {})
        for table in (own.get(trade.value), own.get(ANY_TRADE), self.trades.get(trade), self.default):
            if table and priority in table:
                return table[priority], self.currency
        raise KeyError(f"no not-to-exceed amount for {trade}/{priority}")

    def with_overrides(self, overrides: dict[str, dict[str, dict[str, int]]] | None) -> NteRules:
        """These rules with ops' per-property overrides (the `nte` setup) in place of the file's."""
        if not overrides:
            return self
        return NteRules.model_validate({**self.model_dump(mode="json"),
                                        "properties": {**self.model_dump(mode="json")["properties"], **overrides}})


@cache
def rules() -> NteRules:
    return NteRules.model_validate(json.loads(RULES.read_text()))


def money(cents: int, currency: str) -> str:
    """'1,500.00 USD' - amounts are integer cents everywhere; this is only for people."""
    return f"{cents // 100:,}.{cents % 100:02d} {currency}"
