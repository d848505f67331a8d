"""Fixtures for scenarios on the local cloud: the real template, deployed once per session."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from infra import demo
from infra.stack import Stack

BASE_URL = "http://testserver"


class Api:
    """A tiny HTTP-ish client over the local cloud's API Gateway emulation."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud

    def call(self, method: str, path: str, json_body: Any = None, raw: bytes | str | None = None,
             headers: dict[str, str] | None = None) -> Any:
        hdrs = {"Accept": "application/json", **(headers or {})}
        body = raw
        if json_body is not None:
            body = json.dumps(json_body)
            hdrs.setdefault("Content-Type", "application/json")
        if path.startswith(BASE_URL):
            path = path[len(BASE_URL):]
        return self.cloud.invoke_api(method, path, headers=hdrs, body=body)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, json_body=json_body if json_body is not None else {}, **kw)


@pytest.fixture(scope="session")
def stack(cloud) -> Stack:
    s = Stack(cloud=cloud, base_url=BASE_URL)
    s.seed()
    return s


@pytest.fixture(scope="session")
def api(stack) -> Api:
    return Api(stack.cloud)


@pytest.fixture(scope="session")
def ops_headers(stack) -> dict[str, str]:
    return {"X-Ops-Key": stack.ops_key()}


def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll until `check` returns a truthy value (asynchronous delivery is the point of the system)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


UNITS = {u.id: u for u in demo.UNITS}
VENDORS = {v.id: v for v in demo.VENDORS}
