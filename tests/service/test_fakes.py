"""What the fakes promise the service tests beyond what tests/contract holds them to: the clock; the PMS's
injected faults; the schedules (only their port's methods are checked against the adapter); the workflow's
test-side tokens and the outbox's and queues' look-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.pms.models import EntityKind
from shared.pms.port import PmsError
from shared.services.container import Services
from tests.fakes import DEFAULT_NOW, FakeQueues, FakeSchedules, FakeWorkflow, FrozenClock, InMemoryPms, Outbox


def test_the_clock_stands_still_until_moved_and_only_forward() -> None:
    clock = FrozenClock(DEFAULT_NOW)
    assert clock() == clock() == DEFAULT_NOW and clock().tzinfo == UTC
    assert clock.advance(minutes=5, seconds=30) == DEFAULT_NOW + timedelta(minutes=5, seconds=30)
    with pytest.raises(ValueError):
        clock.advance(seconds=-1)
    assert clock.set(DEFAULT_NOW) == DEFAULT_NOW
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 6, 10, 10, 0))  # naive


def test_the_fixture_starts_on_a_weekday_morning_in_the_demo_time_zone(svc: Services) -> None:
    local = svc.clock().astimezone(DEFAULT_NOW.tzinfo)
    assert (local.weekday() < 5, local.hour, local.minute) == (True, 10, 0)
    assert svc.repo.get_property("prop-maple").name == "Maple Court"
    assert svc.repo.units_for_phone("+15550100010") == ["unit-maple-1a"]


def test_workflow_starts_once_per_name_and_tokens_resume_once() -> None:
    workflow = FakeWorkflow()
    arn = workflow.start("wo-1", {"work_order_id": "wo-1"})
    assert workflow.start("wo-1", {"other": True}) == arn == workflow.execution_arn("wo-1")
    assert workflow.executions["wo-1"].input == {"work_order_id": "wo-1"}
    token = workflow.wait_token("offer0", execution="wo-1")
    assert workflow.resume(token, {"outcome": "accepted"}) is True
    assert workflow.resume(token, {"outcome": "declined"}) is False
    assert workflow.output_for(token) == {"outcome": "accepted"}
    assert workflow.resume("unknown-token", {}) is False
    later = workflow.wait_token("schedule", execution="wo-1")
    workflow.stop(arn, "cancelled: tenant moved out")
    assert workflow.executions["wo-1"].stopped == "cancelled: tenant moved out"
    assert workflow.resume(later, {}) is False  # a stopped execution waits for nothing


def test_schedules_move_by_name_and_come_due_with_the_clock() -> None:
    clock = FrozenClock(DEFAULT_NOW)
    schedules = FakeSchedules(clock)
    schedules.put("wo-1-arrive", DEFAULT_NOW + timedelta(hours=2, microseconds=500), {"kind": "arrive"})
    schedules.put("wo-1-remind", DEFAULT_NOW + timedelta(hours=1), {"kind": "remind"})
    schedules.put("wo-1-arrive", DEFAULT_NOW + timedelta(hours=3), {"kind": "arrive", "v": 2})  # moved
    assert schedules.due() == []
    clock.advance(hours=3)
    assert [(s.name, s.payload) for s in schedules.fire_due()] == [
        ("wo-1-remind", {"kind": "remind"}), ("wo-1-arrive", {"kind": "arrive", "v": 2})]
    assert schedules.schedules == {}


def test_outbox_and_queues_record_in_order() -> None:
    outbox = Outbox()
    ids = [outbox.sms("+1555", "hi"), outbox.email("A@x.test", "Subject", "body")]
    assert len(set(ids)) == 2
    assert [m.channel for m in outbox.sent_to("a@X.test")] == ["email"]
    assert [m.body for m in outbox.sms_to("+1555")] == ["hi"]
    queues = FakeQueues()
    queues.send("q1", '{"a": 1}', {"reason": "x"})
    queues.send_delayed("q1", "{}", 5000)
    assert [(m.attributes, m.delay_seconds) for m in queues.on("q1")] == [({"reason": "x"}, 0), ({}, 900)]
    assert queues.on("q1")[0].json() == {"a": 1}


def test_the_pms_fails_a_call_when_told_then_works_again() -> None:
    pms = InMemoryPms()
    pms.fail_next("get", PmsError("Buildium is down"))
    with pytest.raises(PmsError):
        pms.get(EntityKind.UNIT, "1")
    assert pms.get(EntityKind.UNIT, "1") is None
    assert pms.calls == ["get", "get"]


def test_the_pms_adapter_follows_its_credentials_when_they_change(svc: Services) -> None:
    """A warm container built the adapter with the placeholder key; the operator stores the real one."""
    import json

    svc._pms = None  # as deployed: built from the secret on first use (the fixture gives an in-memory PMS)
    arn = svc.settings.pms_api_secret_arn
    first = svc.pms()
    assert svc.pms() is first  # built once while the key stays the same
    svc.secrets.put(arn, json.dumps({"client_id": "real-client", "client_secret": "real-secret"}))
    svc.secrets.ttl = 0  # the secret cache's few minutes have passed
    again = svc.pms()
    assert again is not first and svc.pms() is again
