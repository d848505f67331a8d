"""One contract for the one-time schedules port: EventBridge Scheduler (on moto) and FakeSchedules.

Observed on both sides the same way: the schedule a name holds now - its time (UTC, whole seconds, as an
`at()` expression carries it) and its payload as JSON - so a visit reminder, a safety-question timer or an
on-call ack-by check planned on the twin is what Scheduler would hold."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.adapters.scheduler import OneTimeSchedules
from tests.contract.conftest import REGION
from tests.fakes import FakeSchedules

_groups = itertools.count(1)
AT = re.compile(r"^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$")
NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


@dataclass
class Backend:
    schedules: OneTimeSchedules | FakeSchedules
    held: Callable[[str], tuple[datetime, dict[str, Any]] | None]  # name -> (when, payload), None: no schedule


@pytest.fixture(params=["scheduler", "memory"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        fake = FakeSchedules(lambda: NOW)

        def fake_held(name: str) -> tuple[datetime, dict[str, Any]] | None:
            s = fake.get(name)
            return (s.at, s.payload) if s else None

        return Backend(fake, fake_held)
    request.getfixturevalue("aws")
    import boto3

    client = boto3.client("scheduler", region_name=REGION)
    group = f"contract-{next(_groups)}"
    client.create_schedule_group(Name=group)
    target = f"arn:aws:lambda:{REGION}:123456789012:function:timers"
    role = "arn:aws:iam::123456789012:role/scheduler"
    real = OneTimeSchedules(group, target, role, scheduler=client,
                            dead_letter_arn=f"arn:aws:sqs:{REGION}:123456789012:scheduler-dlq")

    def real_held(name: str) -> tuple[datetime, dict[str, Any]] | None:
        try:
            got = client.get_schedule(Name=name, GroupName=group)
        except client.exceptions.ResourceNotFoundException:
            return None
        assert got["ScheduleExpressionTimezone"] == "UTC" and got["ActionAfterCompletion"] == "DELETE"
        assert got["Target"]["Arn"] == target and got["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
        match = AT.match(got["ScheduleExpression"])
        assert match, got["ScheduleExpression"]
        return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC), json.loads(got["Target"]["Input"])

    return Backend(real, real_held)


def test_a_schedule_holds_its_time_and_payload(backend: Backend) -> None:
    at = NOW + timedelta(hours=2)
    backend.schedules.put("wo-1-reminder", at, {"action": "remind", "work_order_id": "wo-1", "n": 1})
    assert backend.held("wo-1-reminder") == (at, {"action": "remind", "work_order_id": "wo-1", "n": 1})
    assert backend.held("wo-2-reminder") is None


def test_a_put_of_the_same_name_moves_the_schedule(backend: Backend) -> None:
    backend.schedules.put("wo-1-oncall-0", NOW + timedelta(minutes=5), {"level": 0})
    backend.schedules.put("wo-1-oncall-0", NOW + timedelta(minutes=9), {"level": 0, "again": True})
    assert backend.held("wo-1-oncall-0") == (NOW + timedelta(minutes=9), {"level": 0, "again": True})


def test_the_time_is_kept_in_utc_to_the_second(backend: Backend) -> None:
    local = datetime(2026, 12, 3, 10, 30, 15, 987654, tzinfo=timezone(timedelta(hours=-5)))
    backend.schedules.put("wo-3-arrive", local, {})
    assert backend.held("wo-3-arrive") == (datetime(2026, 12, 3, 15, 30, 15, tzinfo=UTC), {})


def test_the_payload_is_what_json_carries(backend: Backend) -> None:
    backend.schedules.put("wo-4-safety", NOW, {"tuple": (1, 2), "text": "Sí", "none": None})
    assert backend.held("wo-4-safety") == (NOW, {"tuple": [1, 2], "text": "Sí", "none": None})


def test_a_payload_json_cannot_carry_is_refused_before_anything_is_held(backend: Backend) -> None:
    with pytest.raises(TypeError):
        backend.schedules.put("wo-5-bad", NOW, {"when": NOW})
    assert backend.held("wo-5-bad") is None
