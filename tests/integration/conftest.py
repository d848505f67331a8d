"""Fixtures for scenarios on the local cloud: the real template, deployed once per session."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra import demo
from infra.fake_buildium.seed import build as build_seed
from infra.localcloud.patches import stepfunctions
from infra.stack import Stack
from shared.config import timeouts

TIMERS = timeouts(None)
"""The stage timers the test cloud runs on (shared/rules/timers.json; no overrides)."""

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
def stack(cloud, fake_buildium) -> Stack:
    s = Stack(cloud=cloud, base_url=BASE_URL, fake=fake_buildium)
    s.seed()
    return s


@pytest.fixture(scope="session")
def api(stack) -> Api:
    return Api(stack.cloud)


@pytest.fixture(scope="module")
def served(stack) -> Any:
    """The stack's API over real HTTP on 127.0.0.1 (a free port), for browsers and the drill."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = stack.serve("127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    stack.served_url = None


@pytest.fixture(scope="session")
def mint(stack) -> Callable[..., str]:
    """Mint a link through the real service on the test cloud's table and key:
    `mint(work_order_id, party, party_id, ttl_seconds, now=None)`."""
    return stack.link_tokens().issue


@pytest.fixture(scope="session")
def ops_headers(stack) -> dict[str, str]:
    return {"X-Ops-Key": stack.ops_key()}


class Clock:
    """The session cloud's frozen clock, for a test that lets a work order's timer run out."""

    def __init__(self, stack: Stack) -> None:
        self.cloud = stack.cloud

    def execution_arn(self, wo_id: str) -> str:
        return self.cloud.physical("WorkOrderStateMachine").replace(":stateMachine:", ":execution:") + f":{wo_id}"

    def sleeping(self, wo_id: str, seconds: int) -> bool:
        """The work order's execution waits (no step running) on a timer that ends ``seconds`` from now."""
        due = self.cloud.clock_now() + timedelta(seconds=seconds)
        busy = stepfunctions.busy_executions(self.cloud.account_id, self.cloud.region)
        return self.execution_arn(wo_id) not in busy and due in self.cloud.clock.wakeups()

    def expire(self, wo_id: str, seconds: int) -> None:
        """Wait until the work order's workflow sits on its ``seconds`` timer, advance past its end, and wait
        until what the advance set off has run.

        The session's cloud is shared: the advance also ends the timers of earlier tests' work orders, and
        the reminders and escalations they send can queue ahead of this work order's next message for longer
        than one ``eventually`` allows (seed 1796327772: the ops approval link came 28 s after the reroute)."""
        eventually(lambda: self.sleeping(wo_id, seconds))
        self.cloud.advance_clock(seconds)
        assert self.cloud.wait_idle(timeout=180), "the local cloud did not settle after the clock advance"


@pytest.fixture
def clock(stack: Stack) -> Iterator[Clock]:
    """The frozen clock, set to the present before the test and again after it.

    The app plans visits and reminders in real time; a test that advances the clock days (for a timeout)
    must not leave the next test's schedules in the clock's past, nor the next test's timers behind."""
    stack.cloud.freeze_clock(datetime.now(UTC))
    yield Clock(stack)
    stack.cloud.freeze_clock(datetime.now(UTC))


def eventually(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02) -> Any:
    """Poll until `check` returns a truthy value (asynchronous delivery is the point of the system)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


# The demo portfolio lives in the fake Buildium; Opslayer ids come from its (deterministic) Buildium ids.
IDS = demo.Ids(build_seed().ids)
U, V, P = IDS.unit, IDS.vendor, IDS.property
UNITS = {U(u.id): u.model_copy(update={"id": U(u.id)}) for u in demo.UNITS}
VENDORS = {V(v.id): v.model_copy(update={"id": V(v.id)}) for v in demo.VENDORS}
