"""`opslayer ops redrive|retry` call the API's ops routes with the local ops key."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from infra.cli import main


class _Answer:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code, self._body, self.ok = status, body, status < 400

    def json(self) -> dict[str, Any]:
        return self._body


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, str]]]:
    seen: list[tuple[str, str, dict[str, str]]] = []

    def post(url: str, json: Any = None, headers: dict[str, str] | None = None, timeout: float = 0) -> _Answer:
        seen.append(("POST", url, dict(headers or {})))
        return _Answer(409, {"error": "conflict"}) if "retry" in url else _Answer(202, {"task": "t-1"})

    def get(url: str, headers: dict[str, str] | None = None, timeout: float = 0) -> _Answer:
        seen.append(("GET", url, dict(headers or {})))
        return _Answer(200, {"queues": []})

    monkeypatch.setattr(requests, "post", post)
    monkeypatch.setattr(requests, "get", get)
    return seen


def test_redrive_posts_to_the_queue_route_with_the_key(calls, capsys) -> None:
    assert main(["ops", "redrive", "intake", "--url", "http://api.test/", "--ops-key", "k"]) == 0
    assert calls == [("POST", "http://api.test/ops/dlq/intake/redrive", {"X-Ops-Key": "k"})]
    assert json.loads(capsys.readouterr().out) == {"task": "t-1"}


def test_redrive_without_a_queue_lists_the_dead_letter_queues(calls) -> None:
    assert main(["ops", "redrive", "--url", "http://api.test", "--ops-key", "k"]) == 0
    assert calls == [("GET", "http://api.test/ops/dlq", {"X-Ops-Key": "k"})]


def test_retry_reports_a_refusal_as_a_failure(calls) -> None:
    assert main(["ops", "retry", "wo-1", "--url", "http://api.test", "--ops-key", "k"]) == 1
    assert calls == [("POST", "http://api.test/ops/work-orders/wo-1/retry", {"X-Ops-Key": "k"})]
