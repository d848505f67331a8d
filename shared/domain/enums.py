"""Vocabulary shared by the triage rules, the work order and the vendor directory."""

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

WORK_ORDER_ID = r"wo-[0-9a-f]{11,24}"  # how a work-order id is found in a subject, a key or a text

TRADES_FILE = Path(__file__).resolve().parent.parent / "rules" / "trades.json"


def _load_trades() -> dict[str, Any]:
    data = json.loads(TRADES_FILE.read_text(encoding="utf-8"))
    ids = [t["id"] for t in data["trades"]]
    if len(ids) != len(set(ids)) or data["default"] not in ids:
        raise ValueError(f"{TRADES_FILE}: trade ids must be unique and include the default {data['default']!r}")
    return data


TRADES: dict[str, Any] = _load_trades()
"""The trade list (``shared/rules/trades.json``): ids, names per language, what each covers."""

# The trades are data: the enum is built from the file, so adding a trade is a data change.
Trade = StrEnum("Trade", {t["id"].upper(): t["id"] for t in TRADES["trades"]}, module=__name__)  # type: ignore[misc]
DEFAULT_TRADE: Trade = Trade(TRADES["default"])


def trade_name(trade: str | None, language: str | None = "en") -> str:
    """The trade in the recipient's words (English when the language has no name)."""
    for t in TRADES["trades"]:
        if t["id"] == trade:
            return t["name"].get(language or "en") or t["name"]["en"]
    return str(trade or "")


class Priority(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


class Hazard(StrEnum):
    """Why a message is an emergency (``none`` when it is not)."""

    LIFE_SAFETY = "life_safety"  # trapped person, fall hazard, falling debris, live wiring, fire/smoke/CO/gas
    SECURITY = "security"  # the home or the building entrance cannot be secured
    WATER = "water"  # uncontrolled water or sewage, by source or by effect
    ESSENTIAL_SERVICE = "essential_service"  # no heat in the cold, no water, no power to the whole unit
    NONE = "none"
