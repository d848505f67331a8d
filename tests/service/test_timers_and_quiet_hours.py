"""Timers and deferrals on the fakes: the safety question's no-answer timer is a one-time schedule that comes
due when the clock gets there; an SMS in quiet hours waits on the queue (a delayed send) instead of going."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.services.container import Services
from shared.services.safety import plan_timer, unanswered
from shared.services.workorders import triage
from tests.fakes import DEFAULT_NOW
from tests.service.journeys import deliver, submit

UNSURE_LEAK = "The kitchen sink pipe is leaking under the cabinet and dripping into a bucket"  # asks: is it spreading?


def test_an_unanswered_safety_question_comes_due_and_makes_it_an_emergency(svc: Services) -> None:
    wo = submit(svc, "unit-maple-1a", UNSURE_LEAK)
    decided = triage(svc, wo.id)
    assert decided["priority"] == "urgent"
    [asked] = svc.events.of_type("SafetyQuestionAsked")
    assert asked["hazard"] == "water"

    assert plan_timer(svc, wo.id) is True
    timers = svc.schedules()
    wait = svc.settings.timeouts.stages["safety_question"]["urgent"]
    timer = timers.get(f"{wo.id}-safety")
    assert timer is not None
    assert timer.at == svc.clock() + timedelta(seconds=wait)
    assert timer.payload == {"action": "safety_unanswered", "work_order_id": wo.id}

    svc.clock.advance(seconds=wait - 1)
    assert timers.due() == []
    svc.clock.advance(seconds=1)
    [fired] = timers.fire_due()
    assert timers.get(f"{wo.id}-safety") is None  # one-time: gone once it ran
    unanswered(svc, fired.payload["work_order_id"])
    after = svc.repo.get_work_order(wo.id)
    assert after.priority is not None and after.priority.value == "emergency"
    assert after.safety_question is not None and after.safety_question.answer == "no_answer"


def test_an_sms_in_quiet_hours_is_queued_to_come_back_not_sent(svc: Services) -> None:
    night = datetime.combine(DEFAULT_NOW.date(), datetime.min.time(), DEFAULT_NOW.tzinfo).replace(hour=23, minute=50)
    svc.clock.set(night)
    wo = submit(svc, "unit-maple-1a", "The bathroom faucet drips constantly", phone="+15550100010")
    tenant_phone = "+15550100010"

    deliver(svc, "WorkOrderReceived")

    assert svc.messenger.sms_to(tenant_phone) == []
    assert svc.messenger.emails_to("ana@tenant.example.com")  # email is not held
    [queued] = svc.queues.on(svc.settings.notification_queue_url)
    assert queued.delay_seconds == 900  # at most 15 minutes; it checks the hours again when it comes back
    assert queued.json() == {"detail-type": "WorkOrderReceived", "detail": svc.events.last("WorkOrderReceived")}
    timeline = svc.repo.get_work_order(wo.id, with_timeline=True).timeline
    assert [e.event for e in timeline if e.event == "sms_deferred"] == ["sms_deferred"]
