"""Load the canonical sample events in events/ (one helper for every test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str, **values: str) -> Any:
    """events/<name>.json with every {{placeholder}} replaced by `values`."""
    text = (EVENTS / f"{name}.json").read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return json.loads(text)
