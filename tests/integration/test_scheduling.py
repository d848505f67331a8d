"""Visit scheduling on the local cloud (real template, real handlers, the frozen Scheduler clock):
picking a tenant window, proposals the tenant confirms or declines, reschedule requests, reminders,
the arrive timer (no-show) and "nobody came", the NTE, and vendors in Spanish."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.domain.enums import Priority
from tests.integration.conftest import TIMERS, VENDORS, U, V, eventually
from tests.integration.test_lifecycle import STATUS_LINK, record, submit, tenant_messages, wait_offer, wait_status

pytestmark = pytest.mark.integration
GROUP = "opslayer-test-visits"  # the template's visit schedule group for Stage "test"
NEW_YORK = ZoneInfo("America/New_York")  # the deployment's DefaultTimeZone (demo properties set none)


@pytest.fixture(scope="module", autouse=True)
def _settle(request):
    yield
    request.getfixturevalue("stack").cloud.wait_idle(timeout=20)


def now() -> datetime:
    return datetime.now(UTC)


def iso(start: datetime, hours: float = 2) -> dict[str, str]:
    return {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat()}


def assigned(stack, api, unit_id: str, description: str, **extra) -> tuple[str, str, str]:
    """A new request whose first offer the vendor accepted: (work order id, vendor id, job token)."""
    wo_id = submit(api, unit_id, description, **extra)["id"]
    vendor_id, token = wait_offer(stack, wo_id)
    assert api.post(f"/vendor/jobs/{token}/accept").status == 200
    return wo_id, vendor_id, token


def vendor_messages(stack, vendor_id: str, wo_id: str) -> list[dict]:
    v = VENDORS[vendor_id]
    return [m for m in stack.cloud.outbox() if m["to"] in (v.phone, v.email) and wo_id in m["body"]]


def ops_messages(stack, wo_id: str) -> list[dict]:
    return [m for m in stack.cloud.outbox() if m["to"] in ("+15550100009", "ops@opslayer.example.com")
            and wo_id in m["body"]]


def tenant_token(stack, unit_id: str, wo_id: str) -> str:
    body = eventually(lambda: next((m["body"] for m in tenant_messages(stack, unit_id, wo_id)
                                    if "/requests/" in m["body"]), None))
    return STATUS_LINK.search(body).group(2)


def schedule_of(stack, wo_id: str, kind: str) -> dict | None:
    scheduler = stack.cloud.client("scheduler")
    try:
        return scheduler.get_schedule(Name=f"{wo_id}-{kind}", GroupName=GROUP)
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def at_time(schedule: dict) -> datetime:
    return datetime.fromisoformat(re.fullmatch(r"at\((.+)\)", schedule["ScheduleExpression"]).group(1)) \
        .replace(tzinfo=UTC)


# ---------------------------------------------------------------- picking, proposing, confirming
def test_tenant_reports_nobody_came_and_a_second_no_show_escalates(stack, api, ops_headers):
    unit = U("unit-harbor-201")
    wo_id, vendor_id, token = assigned(stack, api, unit, "Sink drain is clogged")
    ttoken = tenant_token(stack, unit, wo_id)
    assert api.post(f"/vendor/jobs/{token}/schedule", iso(now() - timedelta(minutes=40), 1.5)).status == 200
    assert "no_show" in api.get(f"/requests/{wo_id}?token={ttoken}").json()["allowed_actions"]
    reported = api.post(f"/requests/{wo_id}/visit?token={ttoken}", {"action": "no_show"})
    assert reported.status == 200 and reported.json()["status"] == "scheduled"
    assert api.post(f"/requests/{wo_id}/visit?token={ttoken}", {"action": "no_show"}).status == 409  # once
    eventually(lambda: [m for m in ops_messages(stack, wo_id) if m["body"].startswith("No-show")])
    eventually(lambda: [m for m in tenant_messages(stack, unit, wo_id) if "did not check in" in m["body"]])
    eventually(lambda: [m for m in vendor_messages(stack, vendor_id, wo_id) if "Please set a new time" in m["body"]])
    full = record(api, ops_headers, wo_id)
    assert full["missed_visits"] == 1 and "no_show" in [e["event"] for e in full["timeline"]]

    assert api.post(f"/vendor/jobs/{token}/schedule", iso(now() - timedelta(minutes=10), 1)).status == 200
    assert api.post(f"/requests/{wo_id}/visit?token={ttoken}", {"action": "no_show"}).status == 200
    full = wait_status(api, ops_headers, wo_id, "escalated")
    assert full["missed_visits"] == 2
    eventually(lambda: [m for m in ops_messages(stack, wo_id) if "missed 2 visits" in m["body"]])


# ---------------------------------------------------------------- timers on the frozen Scheduler clock
def test_reminders_and_the_arrive_timer_fire_on_the_clock(stack, api, ops_headers, clock):
    """One clock advance fires: a 1 h reminder, a 24 h reminder, a stale reminder of a rescheduled visit
    (not sent), the arrive timer of a visit nobody checked in for (no-show) and of one checked in (nothing)."""
    due: list[datetime] = []

    def plan(wo_id: str, kinds: set[str], later: set[str] = frozenset()) -> None:
        """Wait for the visit's timers; `kinds` are due in this test's advance, `later` only exist."""
        found = eventually(lambda: (t := {k: schedule_of(stack, wo_id, k) for k in kinds | later})
                           and all(t.values()) and t)
        due.extend(at_time(s) for k, s in found.items() if k in kinds)

    one_h = assigned(stack, api, U("unit-maple-1a"), "Bathroom faucet drips slowly")
    start = now().replace(microsecond=0) + timedelta(hours=1, seconds=50)
    assert api.post(f"/vendor/jobs/{one_h[2]}/schedule", iso(start)).status == 200
    plan(one_h[0], {"remind_1h"})
    assert schedule_of(stack, one_h[0], "remind_24h") is None  # its moment has passed: not made

    day = assigned(stack, api, U("unit-maple-1b"), "Kitchen sink sprayer drips")
    assert api.post(f"/vendor/jobs/{day[2]}/schedule", iso(now().replace(microsecond=0)
                                                              + timedelta(hours=24, seconds=50))).status == 200
    plan(day[0], {"remind_24h"}, later={"remind_1h"})

    stale = assigned(stack, api, U("unit-maple-3a"), "Laundry sink faucet drips")
    assert api.post(f"/vendor/jobs/{stale[2]}/schedule", iso(now().replace(microsecond=0)
                                                                + timedelta(hours=1, seconds=55))).status == 200
    plan(stale[0], {"remind_1h"})
    assert api.post(f"/vendor/jobs/{stale[2]}/schedule", iso(now() + timedelta(minutes=50))).status == 200
    eventually(lambda: record(api, ops_headers, stale[0])["window_version"] == 2)
    stack.cloud.wait_idle()

    missed = assigned(stack, api, U("unit-maple-3b"), "Tub spout drips constantly")
    end = now().replace(microsecond=0) + timedelta(seconds=15)
    assert api.post(f"/vendor/jobs/{missed[2]}/schedule", {"start": (end - timedelta(hours=1)).isoformat(),
                                                            "end": end.isoformat()}).status == 200
    plan(missed[0], {"arrive"})
    came = assigned(stack, api, U("unit-harbor-101"), "Bathroom sink drips all day")
    end = now().replace(microsecond=0) + timedelta(seconds=15)
    assert api.post(f"/vendor/jobs/{came[2]}/schedule", {"start": (end - timedelta(hours=1)).isoformat(),
                                                          "end": end.isoformat()}).status == 200
    plan(came[0], {"arrive"})
    assert api.post(f"/vendor/jobs/{came[2]}/checkin", {}).status == 200

    # One advance to the last of them: the arrive timers, a routine grace after the windows' ends, come last.
    assert max(due) - now() < timedelta(seconds=TIMERS.arrive_grace(Priority.ROUTINE), minutes=5)
    fired = stack.cloud.advance_clock((max(due) - stack.cloud.clock_now()).total_seconds() + 1)
    names = {f.schedule for f in fired}
    assert {f"{one_h[0]}-remind_1h", f"{day[0]}-remind_24h", f"{stale[0]}-remind_1h", f"{missed[0]}-arrive",
            f"{came[0]}-arrive"} <= names
    assert all(f.error is None for f in fired if f.schedule in names)
    stack.cloud.wait_idle()

    def reminders(wo, unit_id):
        return [m for m in tenant_messages(stack, unit_id, wo[0]) + vendor_messages(stack, wo[1], wo[0])
                if m["body"].startswith("Reminder")]

    got = eventually(lambda: len(r := reminders(one_h, U("unit-maple-1a"))) == 4 and r)  # tenant + vendor, SMS + email
    assert all("(in about 1 hour)" in m["body"] for m in got)
    got = eventually(lambda: len(r := reminders(day, U("unit-maple-1b"))) == 4 and r)
    assert all("(in about 24 hours)" in m["body"] for m in got)
    assert reminders(stale, U("unit-maple-3a")) == []  # the visit moved: the old reminder is stale

    full = eventually(lambda: (r := record(api, ops_headers, missed[0]))["visit_missed"] and r)
    assert full["status"] == "scheduled" and full["missed_visits"] == 1
    assert any(e["event"] == "no_show" and "No check-in" in e["detail"] for e in full["timeline"])
    eventually(lambda: [m for m in ops_messages(stack, missed[0]) if m["body"].startswith("No-show (no check-in)")])
    eventually(lambda: [m for m in tenant_messages(stack, U("unit-maple-3b"), missed[0]) if "did not check in"
                        in m["body"]])
    eventually(lambda: [m for m in vendor_messages(stack, missed[1], missed[0]) if "Please set a new time"
                        in m["body"]])
    checked_in = record(api, ops_headers, came[0])
    assert checked_in["visit_missed"] is False and checked_in["missed_visits"] == 0
    assert ops_messages(stack, came[0]) == []

    # Scheduler may deliver twice: the same firing again sends nothing more.
    before = len(stack.cloud.outbox())
    stack.cloud.fire_schedule(f"{day[0]}-remind_1h")  # not due yet, fired by hand: sent once
    stack.cloud.wait_idle()
    after_first = len(stack.cloud.outbox())
    stack.cloud.fire_schedule(f"{day[0]}-remind_1h")
    stack.cloud.wait_idle()
    assert after_first > before and len(stack.cloud.outbox()) == after_first


# ---------------------------------------------------------------- vendors in Spanish
def handy_offer(stack, wo_id: str) -> tuple[str, str, dict]:
    """The general-trade vendor's SMS offer, whatever its language: (vendor id, job token, message)."""
    vendor_id = V("ven-handy")
    offer = eventually(lambda: next((m for m in vendor_messages(stack, vendor_id, wo_id)
                                     if m["channel"] == "sms" and "/vendor/jobs/" in m["body"]), None))
    return vendor_id, re.search(r"/vendor/jobs/([\w\-.]+)", offer["body"]).group(1), offer
