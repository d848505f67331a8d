"""Alerts that reach people: escalations always find an ops contact (never dropped), are counted for their
alarm, and the stuck sweep notes and counts work orders the automation lost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.domain.workorder import Status
from shared.services.container import Services
from shared.services.notifications import NoOpsContact, notify
from shared.services.stuck import sweep_stuck
from shared.services.workorders import escalate
from tests.fakes.services import fake_settings
from tests.service.journeys import accepted, completed, deliver, offered, scheduled, submit, triaged

LEAK = "The bathroom faucet drips constantly"  # plumbing, routine
UNIT = "unit-maple-1a"
CONFIGURED_OPS = "+15550100009"  # the demo's ops_contact record


def alarm_metrics(out: str, name: str) -> list[dict]:
    """The alarm-facing EMF records (dimension Stage only) of `name` printed so far."""
    records = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return [r for r in records if name in r and r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stage"]]]


def without_ops_record(svc: Services) -> None:
    svc.repo.delete_listed("CONFIG", "ops_contact")
    assert svc.repo.ops_contact() is None


# ---------------------------------------------------------------- escalations
def test_an_escalation_goes_to_the_configured_ops_contact(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    escalate(svc, wo.id, "no_vendor", "No vendor accepted; ops alerted")
    deliver(svc, "WorkOrderEscalated")
    assert len(svc.messenger.sms_to(CONFIGURED_OPS)) == 1
    assert not svc.messenger.sent_to("ops-alerts@opslayer.test")


def test_without_the_ops_record_an_escalation_goes_to_the_deployments_ops_alert_contacts(svc: Services) -> None:
    without_ops_record(svc)
    wo = triaged(svc, UNIT, LEAK).wo
    escalate(svc, wo.id, "no_vendor", "No vendor accepted; ops alerted")
    deliver(svc, "WorkOrderEscalated")
    [email] = svc.messenger.emails_to("ops-alerts@opslayer.test")  # the first of OpsAlertEmails
    [sms] = svc.messenger.sms_to("+15550100099")
    assert wo.id in sms.body and "No vendor accepted; ops alerted" in email.body
    assert not svc.messenger.sent_to("ops-lead@opslayer.test")  # the others get the alarms only


def test_with_nobody_to_tell_an_escalation_fails_loudly_instead_of_being_dropped(svc: Services) -> None:
    without_ops_record(svc)
    svc.settings = fake_settings(ops_alert_emails="", ops_alert_phones="")
    wo = triaged(svc, UNIT, LEAK).wo
    escalate(svc, wo.id, "no_vendor", "No vendor accepted; ops alerted")
    with pytest.raises(NoOpsContact):
        notify(svc, "WorkOrderEscalated", svc.events.last("WorkOrderEscalated"))


def test_an_escalation_is_counted_once_for_the_deployments_alarm(svc: Services, capsys) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    capsys.readouterr()
    escalate(svc, wo.id, "no_vendor", "No vendor accepted; ops alerted")
    escalate(svc, wo.id, "no_vendor", "No vendor accepted; ops alerted")  # already escalated: no change
    [record] = alarm_metrics(capsys.readouterr().out, "WorkOrderEscalated")
    assert record["WorkOrderEscalated"] == 1 and record["Stage"]
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Opslayer"


# ---------------------------------------------------------------- the stuck sweep
def stuck_notes(svc: Services, wo_id: str) -> list[str]:
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    return [e.detail for e in wo.timeline if e.event == "stuck"]


def test_a_job_nobody_accepted_past_the_timer_and_grace_is_noted_and_counted_once(svc: Services, capsys) -> None:
    wo = offered(svc, UNIT, LEAK).wo  # routine: 24 h to accept, then 1 h grace
    svc.clock.advance(hours=24, minutes=59)
    assert sweep_stuck(svc) == []
    svc.clock.advance(minutes=2)
    capsys.readouterr()
    assert sweep_stuck(svc) == [wo.id]
    [record] = alarm_metrics(capsys.readouterr().out, "StuckWorkOrders")
    assert record["StuckWorkOrders"] == 1
    assert stuck_notes(svc, wo.id) == ["Still offered about 1 h past the stage's timer; ops alerted"]
    svc.clock.advance(hours=3)
    assert sweep_stuck(svc) == []  # noted once
    assert len(stuck_notes(svc, wo.id)) == 1
    [again] = alarm_metrics(capsys.readouterr().out, "StuckWorkOrders")
    assert again["StuckWorkOrders"] == 0  # the sweep ran: the alarm sees a value every hour


def test_a_job_that_moved_on_in_time_is_not_stuck(svc: Services) -> None:
    wo = offered(svc, UNIT, LEAK).wo
    svc.clock.advance(hours=20)
    accepted_now = accepted(svc, UNIT, "The kitchen sink is clogged").wo
    svc.clock.advance(hours=6)  # the first is 26 h offered; the second 6 h accepted (48 h to schedule)
    assert sweep_stuck(svc) == [wo.id]
    assert stuck_notes(svc, accepted_now.id) == []


def test_a_visit_booked_for_later_is_not_stuck_before_its_window_ends(svc: Services) -> None:
    wo = scheduled(svc, UNIT, LEAK).wo  # tomorrow 09:00-11:00; 14 days to complete (routine)
    end = wo.window.end
    svc.clock.set(end + timedelta(days=14, minutes=59))
    assert sweep_stuck(svc) == []
    svc.clock.set(end + timedelta(days=14, hours=1, minutes=1))
    assert sweep_stuck(svc) == [wo.id]


def test_escalated_jobs_are_not_swept_but_a_completion_nobody_followed_up_is(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    escalate(svc, wo.id, "no_vendor", "No vendor accepted; ops alerted")
    done = completed(svc, UNIT, "The kitchen sink is clogged").wo
    svc.clock.advance(days=60)
    assert svc.repo.get_work_order(wo.id).status == Status.ESCALATED
    assert sweep_stuck(svc) == [done.id]  # completed, the tenant never answered the follow-up: stuck
    assert stuck_notes(svc, wo.id) == []


def test_a_request_whose_lifecycle_never_started_is_stuck_after_the_grace(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)  # received; triage runs within seconds when the workflow starts
    svc.clock.advance(minutes=59)
    assert sweep_stuck(svc) == []
    svc.clock.advance(minutes=2)
    assert sweep_stuck(svc) == [wo.id]
    assert stuck_notes(svc, wo.id) == ["Still received about 1 h past the stage's timer; ops alerted"]
