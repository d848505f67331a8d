"""Labelled triage messages (JSONL), as written for the blind, development and training sets."""

from __future__ import annotations

import json
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
