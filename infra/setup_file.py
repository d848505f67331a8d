"""The setup as one YAML file (`opslayer config export|import`): what the API's export looks like in git,
and the plan an import makes from it. Pure: the CLI does the HTTP (infra/cli.py)."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

import yaml

HEADER = ("# Opslayer setup: `opslayer config import` applies it through /ops/config (validated, versioned).\n"
          "# One section per kind, records by id; see docs/operating.md#configuration-as-code.\n")


def _plain(value: Any) -> Any:
    """JSON values only (a date YAML read unquoted becomes its ISO text, as the API shows it)."""
    return json.loads(json.dumps(value, default=str))


def to_yaml(export: dict[str, list[dict[str, Any]]]) -> str:
    """The API's export ({kind: [{id, version, value, ...}]}) as the file: kinds and ids sorted, keys sorted,
    values only (versions stay in the API), so the same setup always gives the same text."""
    document = {kind: {r["id"]: r["value"] for r in sorted(records, key=lambda r: r["id"])}
                for kind, records in sorted(export.items())}
    return HEADER + yaml.safe_dump(document, sort_keys=True, default_flow_style=False, allow_unicode=True, width=100)


def from_yaml(text: str) -> dict[str, dict[str, Any]]:
    """The file as {kind: {id: value}}; a malformed file is a ValueError saying where."""
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("the file is a mapping of kinds (vendors:, properties:, ...)")
    for kind, records in document.items():
        if not isinstance(records, dict):
            raise ValueError(f"{kind}: a mapping of ids to values")
        for item_id, value in records.items():
            if not isinstance(value, dict):
                raise ValueError(f"{kind}/{item_id}: the value is a mapping")
    return {str(kind): {str(i): _plain(v) for i, v in records.items()} for kind, records in document.items()}


@dataclass(frozen=True)
class Change:
    kind: str
    id: str
    version: int  # the version the change is made against (If-Match)
    value: dict[str, Any]
    diff: str


@dataclass(frozen=True)
class Plan:
    changes: list[Change]
    unknown_kinds: list[str]  # in the file, not in the API
    left_alone: list[str]  # "kind/id" in the API, not in the file (an import never deletes)


def _lines(value: dict[str, Any] | None) -> list[str]:
    if value is None:
        return []
    return yaml.safe_dump(value, sort_keys=True, default_flow_style=False, allow_unicode=True).splitlines(True)


def plan(current: dict[str, list[dict[str, Any]]], desired: dict[str, dict[str, Any]], source: str) -> Plan:
    """What an import changes: every record of the file whose value differs from the API's, in kind and id
    order, with a unified diff each."""
    changes: list[Change] = []
    for kind in sorted(set(desired) & set(current)):
        records = {r["id"]: r for r in current[kind]}
        for item_id in sorted(desired[kind]):
            value = desired[kind][item_id]
            record = records.get(item_id)
            if record is not None and _plain(record["value"]) == value:
                continue
            version = record["version"] if record else 0
            label = f"{kind}/{item_id}"
            diff = "".join(difflib.unified_diff(
                _lines(record["value"] if record else None), _lines(value),
                f"{label} (version {version})" if record else f"{label} (new)", f"{source}: {label}"))
            changes.append(Change(kind, item_id, version, value, diff))
    left_alone = sorted(f"{kind}/{r['id']}" for kind, records in current.items() for r in records
                        if r["id"] not in desired.get(kind, {}))
    return Plan(changes, sorted(set(desired) - set(current)), left_alone)
