"""`opslayer ops tenant export|erase`: the phone or email goes in a POST body (never the URL), and erase asks
for --yes."""

from __future__ import annotations

from typing import Any

import pytest

from infra import cli


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def call(self, method: str, path: str, params: Any = None, body: Any = None, **_: Any) -> dict[str, Any]:
        self.calls.append((method, path, body))
        return {"person": "h"}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(cli, "_ops_client", lambda args: recorder)
    return recorder


def test_export_by_phone_and_erase_by_email_post_the_value_in_the_body(client: Recorder) -> None:
    assert cli.main(["ops", "tenant", "export", "+15550100010"]) == 0
    assert cli.main(["ops", "tenant", "erase", "ana@example.com", "--yes"]) == 0
    assert client.calls == [("POST", "/ops/people/export", {"phone": "+15550100010"}),
                            ("POST", "/ops/people/erase", {"email": "ana@example.com"})]


def test_erase_without_yes_does_nothing(client: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ops", "tenant", "erase", "+15550100010"]) == 2
    assert client.calls == [] and "--yes" in capsys.readouterr().err
