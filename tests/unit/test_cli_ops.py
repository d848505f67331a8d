"""`opslayer ops redrive|retry|reassign|restart|resume|extend|note` call the API's ops routes with the local ops key."""

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

    def request(method: str, url: str, data: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 0) -> _Answer:
        seen.append((method, url, {k: v for k, v in (headers or {}).items() if k == "X-Ops-Key"}))
        if method == "POST" and "retry" in url:
            return _Answer(409, {"error": "conflict"})
        return _Answer(202, {"task": "t-1"}) if method == "POST" else _Answer(200, {"queues": []})

    monkeypatch.setattr(requests, "request", request)
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


@pytest.mark.parametrize("argv,body", [
    (["reassign", "wo-1", "--technician", "tech-sam", "--reason", "free today"],
     {"action": "reassign", "technician_id": "tech-sam", "reason": "free today"}),
    (["restart", "wo-1", "--reason", "new vendor"], {"action": "restart_dispatch", "reason": "new vendor"}),
    (["resume", "wo-1", "--stage", "invoice", "--reason", "ask again"],
     {"action": "resume", "stage": "invoice", "reason": "ask again"}),
    (["extend", "wo-1", "--hours", "48", "--reason", "parts"], {"action": "extend", "extend_hours": 48,
                                                                 "reason": "parts"}),
    (["note", "wo-1", "--text", "called the tenant"], {"action": "note", "text": "called the tenant"}),
])
def test_the_ways_forward_post_one_steer_body(monkeypatch, capsys, argv: list[str], body: dict[str, Any]) -> None:
    sent: list[tuple[str, Any]] = []

    def request(method: str, url: str, data: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 0) -> _Answer:
        sent.append((url, json.loads(data)))
        return _Answer(202, {"id": "wo-1", "status": "accepted", "resume_at": "schedule"})

    monkeypatch.setattr(requests, "request", request)
    assert main(["ops", *argv, "--url", "http://api.test", "--ops-key", "k"]) == 0
    assert sent == [("http://api.test/ops/work-orders/wo-1/steer", body)]
    assert capsys.readouterr().out.startswith("wo-1: accepted")
