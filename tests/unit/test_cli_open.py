"""`opslayer ops open overview` asks for an overview link (`POST /ops/overview/links`); `open WO` for a work
order's page, as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from infra.cli import main


class _Answer:
    status_code, ok = 201, True

    def __init__(self, path: str) -> None:
        self.path = path

    def json(self) -> dict[str, Any]:
        return {"path": self.path, "url": "https://elsewhere" + self.path, "expires_at": "2026-12-03T10:10:00+00:00"}


@pytest.mark.parametrize("argv,route,body,opened", [
    (["overview"], "/ops/overview/links", {}, "/ops-pages/overview?token=t"),
    (["wo-1", "--page", "record"], "/ops/work-orders/wo-1/links", {"page": "record"}, "/ops-pages/wo-1/record?token=t"),
])
def test_open_asks_for_the_right_link_and_prints_it(monkeypatch: pytest.MonkeyPatch, capsys: Any, argv: list[str],
                                                    route: str, body: dict[str, Any], opened: str) -> None:
    seen: list[tuple[str, str, Any]] = []

    def request(method: str, url: str, data: Any = None, headers: Any = None, timeout: float = 0) -> _Answer:
        seen.append((method, url, json.loads(data) if data else None))
        return _Answer(opened)

    monkeypatch.setattr(requests, "request", request)
    assert main(["ops", "open", *argv, "--print-only", "--url", "http://api.test", "--ops-key", "k"]) == 0
    assert seen == [("POST", "http://api.test" + route, body)]
    assert capsys.readouterr().out.startswith("http://api.test" + opened)
