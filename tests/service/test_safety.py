"""The safety question (shared/services/safety.py): asked beside the dispatch when triage is unsure; YES
makes it an emergency at once, NO keeps triage's priority, no answer in time makes it an emergency for
the life-safety and water classes only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.enums import Priority, Trade
from shared.domain.errors import InvalidTransition
from shared.domain.workorder import Source, Status
from shared.schemas import NewRequest
from shared.services.container import Services
from shared.services.corrections import correct_triage, corrections
from shared.services.safety import answer, describes_an_emergency, plan_timer, unanswered
from shared.services.visits import vendor_schedule
from shared.services.workorders import (
    cancel,
    escalate,
    start_lifecycle,
    submit_request,
    triage,
    triage_output,
    vendor_accept,
    vendor_complete,
    vendor_decline,
)
from tests.fakes import DEFAULT_NOW
from tests.service.journeys import at, deliver, offer_next, offer_to, offered, ranked, window

WATER = "The bathroom sink is leaking under the cabinet"  # plumbing routine; asks about water
SPARKED = "The kitchen outlet sparked once yesterday"  # electrical urgent; asks about life safety
NO_HEAT_UNSURE = "The heater is not working in the apartment"  # hvac urgent; asks about an essential service
DOOR = "The sliding door to the patio will not close all the way"  # routine; asks about security
DRIP = "The bathroom faucet drips constantly"  # no question
UNIT = "unit-maple-2b"


def test_the_no_answer_timer_is_planned_from_when_the_question_was_asked(svc: Services) -> None:
    job = ranked(svc, UNIT, WATER)
    asked_at = job.load(svc).safety_question.asked_at
    svc.clock.advance(seconds=30)  # the timers queue delivers a little later
    assert plan_timer(svc, job.id) is True
    scheduled = svc.schedules().get(f"{job.id}-safety")
    seconds = svc.settings.timeouts.stages["safety_question"][Priority.ROUTINE]
    assert scheduled.at == (asked_at + timedelta(seconds=seconds)).replace(microsecond=0)
    assert scheduled.payload == {"action": "safety_unanswered", "work_order_id": job.id}


def test_no_timer_once_the_question_is_answered_or_never_asked(svc: Services) -> None:
    answered = ranked(svc, UNIT, WATER)
    answer(svc, answered.id, yes=False, via="SMS")
    assert plan_timer(svc, answered.id) is False
    never = ranked(svc, "unit-maple-1a", DRIP)
    assert plan_timer(svc, never.id) is False
    assert svc.schedules().schedules == {}


def test_yes_makes_it_an_emergency_at_once_and_the_offer_is_made_again(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    svc.clock.advance(minutes=2)
    wo = answer(svc, job.id, yes=True, via="SMS")

    assert (wo.priority, wo.status, wo.offer) == (Priority.EMERGENCY, Status.TRIAGED, None)
    assert wo.emergency_reason == "uncontrolled water (the tenant answered YES)"
    question = wo.safety_question
    assert (question.answer, question.answered_by, question.answered_at) == ("yes", "tenant", svc.clock())
    timeline = job.load(svc, with_timeline=True).timeline
    assert [(e.event, e.actor) for e in timeline][-2:] == [("safety_answered", "tenant"), ("safety_raised", "tenant")]
    assert timeline[-2].detail == "The tenant answered YES by SMS: handled as an emergency now"
    assert svc.workflow.output_for(job.offer_token)["outcome"] == "retriaged"
    assert svc.events.last("EmergencyDeclared")["priority"] == "emergency"
    assert "TriageCorrected" not in svc.events.types()  # the tenant's own YES is answered where they gave it
    assert corrections(svc) == [] and wo.triage_corrections == []  # not an ops label


def test_no_keeps_triages_priority(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    wo = answer(svc, job.id, yes=False, via="the status page")
    assert (wo.priority, wo.status, wo.safety_question.answer) == (Priority.ROUTINE, Status.OFFERED, "no")
    assert job.load(svc, with_timeline=True).timeline[-1].detail == (
        "The tenant answered NO by the status page: kept as routine")
    assert "EmergencyDeclared" not in svc.events.types()
    assert svc.workflow.waiting(job.offer_token)  # the offer stands


def test_a_second_answer_finds_no_question(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    answer(svc, job.id, yes=True, via="SMS")
    with pytest.raises(InvalidTransition):
        answer(svc, job.id, yes=False, via="SMS")
    wo = job.load(svc)
    assert (wo.safety_question.answer, wo.priority) == ("yes", Priority.EMERGENCY)


def test_a_request_without_a_question_cannot_be_answered(svc: Services) -> None:
    job = ranked(svc, "unit-maple-1a", DRIP)
    with pytest.raises(InvalidTransition) as refused:
        answer(svc, job.id, yes=True, via="SMS")
    assert refused.value.details == {"status": "triaged"}


@pytest.mark.parametrize(("text", "hazard_words"), [(WATER, "uncontrolled water"), (SPARKED, "danger to people")])
def test_no_answer_in_time_makes_a_water_or_life_safety_question_an_emergency(svc: Services, text: str,
                                                                                hazard_words: str) -> None:
    job = offered(svc, UNIT, text)
    svc.clock.advance(seconds=svc.settings.timeouts.stages["safety_question"][job.load(svc).priority])
    assert unanswered(svc, job.id) == "emergency"
    wo = job.load(svc, with_timeline=True)
    assert (wo.priority, wo.safety_question.answer, wo.safety_question.answered_by) == (
        Priority.EMERGENCY, "no_answer", "timer")
    assert wo.emergency_reason == f"{hazard_words} (no answer to the safety question)"
    assert [(e.event, e.actor) for e in wo.timeline][-2:] == [("safety_unanswered", "system"),
                                                             ("safety_raised", "timer")]
    assert svc.workflow.output_for(job.offer_token)["outcome"] == "retriaged"
    assert svc.events.last("TriageCorrected")["priority"] == "emergency"  # the tenant is told by message
    assert "EmergencyDeclared" in svc.events.types()


def test_the_timer_delivered_twice_changes_nothing_the_second_time(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    assert unanswered(svc, job.id) == "emergency"
    version = job.load(svc).version
    assert unanswered(svc, job.id) == "answered"
    assert job.load(svc).version == version
    assert job.events(svc).count("safety_unanswered") == 1


@pytest.mark.parametrize("text", [NO_HEAT_UNSURE, DOOR])
def test_no_answer_keeps_the_priority_for_the_other_hazards(svc: Services, text: str) -> None:
    job = offered(svc, UNIT, text)
    triaged_as = job.load(svc).priority
    assert triaged_as is not Priority.EMERGENCY
    assert unanswered(svc, job.id) == "kept"
    wo = job.load(svc, with_timeline=True)
    assert (wo.priority, wo.safety_question.answer) == (triaged_as, "no_answer")
    assert wo.timeline[-1].detail == f"No answer to the safety question in time: kept as {triaged_as.value}"
    assert svc.workflow.waiting(job.offer_token)


def test_a_timer_after_the_job_was_escalated_does_not_raise_it(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    escalate(svc, job.id, "no_vendor_accepted", "No vendor accepted the job; ops alerted")
    assert unanswered(svc, job.id) == "closed"
    wo = job.load(svc)
    assert (wo.status, wo.priority) == (Status.ESCALATED, Priority.ROUTINE)
    assert "EmergencyDeclared" not in svc.events.types()


def test_a_timer_after_the_job_was_cancelled_keeps_it_cancelled(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    cancel(svc, job.id, "Tenant fixed it")
    assert unanswered(svc, job.id) == "kept"
    assert job.load(svc).status == Status.CANCELLED and "EmergencyDeclared" not in svc.events.types()


def test_free_text_counts_as_yes_when_it_reads_as_an_emergency() -> None:
    assert describes_an_emergency("Water is pouring through the ceiling and the floor is flooding") is True
    assert describes_an_emergency("It is just a small drip, nothing else") is False


# ---------------------------------------------------------------- how the question reaches the tenant
def test_the_question_goes_by_the_channel_the_request_came_in_on(svc: Services) -> None:
    unit = svc.repo.get_unit(UNIT)
    request = NewRequest(unit_id=UNIT, name=unit.tenant.name, description=WATER)
    wo = submit_request(svc, request, source=Source.SMS)
    start_lifecycle(svc, wo.id)
    triage(svc, wo.id)
    assert deliver(svc, "SafetyQuestionAsked") == 1
    [question] = svc.messenger.sent_to(unit.tenant.phone)
    assert question.channel == "sms" and "Reply YES or NO" in question.body
    assert "Is water still spreading" in question.body
    assert svc.messenger.emails_to(unit.tenant.email) == []


def test_a_spanish_speaking_tenant_is_asked_in_spanish(svc: Services) -> None:
    job = ranked(svc, UNIT, WATER, language="es")
    assert deliver(svc, "SafetyQuestionAsked") == 2  # a web request: by text and by email
    tenant = job.load(svc).tenant
    [sms] = svc.messenger.sms_to(tenant.phone)
    assert "Responda SÍ o NO" in sms.body and "¿El agua se sigue extendiendo" in sms.body
    [email] = svc.messenger.emails_to(tenant.email)
    assert email.subject.startswith("¿Hay alguien en peligro?")


def test_the_question_is_never_held_for_quiet_hours(svc: Services) -> None:
    svc.clock.set(DEFAULT_NOW.replace(hour=23))  # quiet hours at the property
    job = ranked(svc, UNIT, WATER)
    tenant = job.load(svc).tenant
    deliver(svc, "WorkOrderReceived")  # a routine acknowledgement waits for the morning...
    assert svc.messenger.sms_to(tenant.phone) == []
    assert len(svc.queues.on(svc.settings.notification_queue_url)) == 1
    deliver(svc, "SafetyQuestionAsked")  # ...the question does not
    [sms] = svc.messenger.sms_to(tenant.phone)
    assert "Reply YES or NO" in sms.body


def test_a_yes_between_two_offers_puts_the_next_offer_on_emergency_timers(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    vendor_decline(svc, job.vendor_token, "Busy")  # the workflow is on its way to the next candidate
    wo = answer(svc, job.id, yes=True, via="SMS")
    assert wo.priority == Priority.EMERGENCY and "EmergencyDeclared" in svc.events.types()
    offer_next(svc, job, 1)  # the offer step, with the routine triage the workflow holds...
    assert job.load(svc).offer is None  # ...makes no offer on the old timers: it hands the new triage back
    handed_back = svc.workflow.output_for(job.offer_token)
    assert handed_back == {"outcome": "retimed", "triage": triage_output(svc, job.load(svc))}
    job.triage = handed_back["triage"]  # RetimedWhileOffered, then the same candidate again
    offer_next(svc, job, 1)
    offer = job.load(svc).offer
    assert offer is not None and offer.index == 1
    emergency = svc.settings.timeouts.for_priority(Priority.EMERGENCY)["offer"]
    assert offer.expires_at == svc.clock() + timedelta(seconds=emergency)


def test_a_trade_correction_between_two_offers_ranks_the_new_trades_vendors(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    vendor_decline(svc, job.vendor_token, "Busy")
    correct_triage(svc, job.id, Trade.GENERAL, Priority.ROUTINE, "a loose cabinet hinge, not a leak")
    wo = job.load(svc)
    assert (wo.status, wo.candidates, wo.dispatch_round) == (Status.TRIAGED, [], 1)  # no plumber is offered it
    token = offer_to(svc, job.id, 1, job.triage)  # the workflow, still on the plumbing candidates
    assert svc.workflow.output_for(token) == {"outcome": "retriaged", "triage": triage_output(svc, wo)}


def test_an_offer_step_past_the_dropped_candidates_sends_the_workflow_back_to_ranking(svc: Services) -> None:
    """A timer and a re-triage racing: the workflow already holds the new triage but still counts the old
    candidates, which the re-triage dropped. No offer (and no crash): back to ranking."""
    job = offered(svc, UNIT, WATER)
    vendor_decline(svc, job.vendor_token, "Busy")
    correct_triage(svc, job.id, Trade.GENERAL, Priority.ROUTINE, "a loose cabinet hinge, not a leak")
    wo = job.load(svc)
    token = offer_to(svc, job.id, 1, triage_output(svc, wo))  # the new triage, the old count
    assert svc.workflow.output_for(token) == {"outcome": "retriaged", "triage": triage_output(svc, wo)}
    assert job.load(svc).offer is None


def test_a_yes_after_the_work_is_done_is_refused(svc: Services) -> None:
    job = offered(svc, UNIT, WATER)
    vendor_accept(svc, job.vendor_token)
    vendor_schedule(svc, job.vendor_token, at(window(svc, 0, 12)))
    vendor_complete(svc, job.vendor_token, "Resealed the trap")
    assert not job.load(svc).asking_safety  # the tenant is asked "is it fixed?" now
    with pytest.raises(InvalidTransition):
        answer(svc, job.id, yes=True, via="the status page")
    assert "EmergencyDeclared" not in svc.events.types()
