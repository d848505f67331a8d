"""`make local` refuses to start, in one line and with a non-zero status, when its API port or the local AWS
endpoint's (PORT+1) is taken, instead of printing "Address already in use" and hanging."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from infra import local


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something listens on (as another `make local` would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_listening_port_is_reported_with_its_role(listening: int) -> None:
    free = free_port()
    assert local.ports_taken("127.0.0.1", {free: "the API, PORT", listening: "the local AWS endpoint, PORT+1"}) == [
        f"port {listening} (the local AWS endpoint, PORT+1) is already in use on 127.0.0.1"]
    assert local.ports_taken("127.0.0.1", {free: "the API, PORT"}) == []


def test_make_local_exits_non_zero_with_one_line_when_port_plus_one_is_taken(
        listening: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PORT", str(listening - 1))
    monkeypatch.delenv("AWS_PORT", raising=False)
    monkeypatch.setattr(local.local_stack, "start", lambda *a, **k: pytest.fail("nothing may start"))
    assert local.main() == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"port {listening} (the local AWS endpoint, PORT+1) is already in use" in err[0]
