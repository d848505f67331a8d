"""`opslayer ops kpis|scorecard|baseline` and `opslayer kpi backfill` call the KPI routes (local ops key)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from infra.cli import main

KPI = {"id": "resolution", "name": "Request to resolution", "unit": "seconds", "kind": "duration", "value": 3600,
       "count": 2, "mean": 3000.0, "p50": 3600, "p90": 7200}
RATE = {"id": "reopen", "name": "Reopen rate", "unit": "ratio", "kind": "rate", "value": 0.5, "numerator": 1,
        "denominator": 2}


class _Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self._body, self.ok = status, body, status < 400
        self.text = body if isinstance(body, str) else json.dumps(body)

    def json(self) -> Any:
        if isinstance(self._body, str):
            raise ValueError("not JSON")
        return self._body


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def request(method: str, url: str, data: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 0) -> _Answer:
        parts = urlsplit(url)
        seen.append({"method": method, "path": parts.path, "query": parse_qs(parts.query),
                     "body": json.loads(data) if data else None, "headers": headers or {}})
        if parts.path == "/ops/kpis" and (headers or {}).get("Accept") == "text/csv":
            return _Answer(200, "group,id,name\n,resolution,Request to resolution\n")
        if parts.path == "/ops/kpis":
            return _Answer(200, {"from": "2026-09-01", "to": "2026-09-30", "property_id": None, "group_by": "priority",
                                 "rules_version": "v1", "kpis": [KPI, RATE],
                                 "groups": [{"priority": "urgent", "kpis": [KPI]}]})
        if parts.path == "/ops/kpis/backfill":
            body = json.loads(data)
            return _Answer(200, {**body, "work_orders": 3, "changed": 1})
        return _Answer(200, {"vendor_id": "ven-a", "name": "Aqua", "from": "a", "to": "b", "kpis": [RATE]})

    monkeypatch.setattr(requests, "request", request)
    return seen


def test_kpis_prints_a_table_per_group(calls, capsys) -> None:
    assert main(["ops", "kpis", "--url", "http://api.test", "--ops-key", "k", "--from", "2026-09-01",
                 "--group-by", "priority"]) == 0
    [call] = calls
    assert call["query"] == {"from": ["2026-09-01"], "group_by": ["priority"]}
    assert call["headers"]["X-Ops-Key"] == "k"
    out = capsys.readouterr().out
    assert "resolution" in out and "1/2" in out and "priority = urgent" in out


def test_kpis_as_csv_asks_the_api_for_csv(calls, capsys) -> None:
    assert main(["ops", "kpis", "--url", "http://api.test", "--ops-key", "k", "--csv"]) == 0
    assert calls[0]["headers"]["Accept"] == "text/csv"
    assert capsys.readouterr().out.startswith("group,id,name\n")


def test_scorecard_and_baseline(calls, capsys) -> None:
    assert main(["ops", "scorecard", "ven-a", "--url", "http://api.test", "--ops-key", "k", "--json"]) == 0
    assert calls[-1]["path"] == "/ops/vendors/ven-a/scorecard"
    assert json.loads(capsys.readouterr().out)["vendor_id"] == "ven-a"
    assert main(["ops", "baseline", "--url", "http://api.test", "--ops-key", "k", "--figure", "resolution=259200",
                 "--deployed-on", "2026-09-01"]) == 0
    assert (calls[-1]["method"], calls[-1]["path"]) == ("PUT", "/ops/kpis/baseline")
    assert calls[-1]["body"] == {"figures": {"resolution": 259200.0}, "deployed_on": "2026-09-01"}
    assert main(["ops", "baseline", "--url", "http://api.test", "--ops-key", "k"]) == 0
    assert (calls[-1]["method"], calls[-1]["path"]) == ("GET", "/ops/kpis/baseline")


def test_backfill_walks_the_period_a_slice_at_a_time(calls, capsys) -> None:
    assert main(["kpi", "backfill", "--from", "2026-01-01", "--to", "2026-03-05", "--url", "http://api.test",
                 "--ops-key", "k"]) == 0
    assert [c["body"] for c in calls] == [{"from": "2026-01-01", "to": "2026-01-31"},
                                          {"from": "2026-02-01", "to": "2026-03-03"},
                                          {"from": "2026-03-04", "to": "2026-03-05"}]
    assert "backfill done: 9 work orders, 3 changed" in capsys.readouterr().out
