"""Ops correct a triage (shared/services/corrections.py): re-dispatched when the trade changes, re-timed when
only the priority changes while the job waits for a visit time, the tenant told, the example kept."""

from __future__ import annotations

import pytest

from shared.domain.enums import Priority, Trade
from shared.domain.errors import InvalidTransition
from shared.domain.workorder import Status
from shared.services.container import Services
from shared.services.corrections import correct_triage, corrections
from shared.services.workorders import await_stage, cancel, triage_output
from tests.service.journeys import Job, accepted, deliver, offered, ranked, scheduled

DOOR = "The sliding door to the patio will not close all the way"  # glazing_doors, routine, asks (security)
DRIP = "The bathroom faucet drips constantly"  # plumbing, routine
UNIT = "unit-maple-3b"


def parked_for_a_visit_time(svc: Services, job: Job) -> str:
    """The workflow reached the schedule stage: it waits (task token) for the vendor to set a time."""
    token = svc.workflow.wait_token("schedule", execution=job.id)
    await_stage(svc, job.id, "schedule", token)
    return token


def test_a_new_trade_withdraws_the_offer_and_dispatches_again(svc: Services) -> None:
    job = offered(svc, UNIT, DRIP)
    done = correct_triage(svc, job.id, Trade.GENERAL, Priority.URGENT, "The track needs a handyman")

    assert (done.redispatched, done.retimed, done.tenant_told) == (True, False, True)
    wo = job.load(svc, with_timeline=True)
    assert (wo.status, wo.trade, wo.priority, wo.offer, wo.candidates, wo.dispatch_round) == (
        Status.TRIAGED, Trade.GENERAL, Priority.URGENT, None, [], 1)
    assert wo.emergency_reason is None
    assert (wo.timeline[-1].event, wo.timeline[-1].actor) == ("triage_corrected", "ops")
    assert wo.timeline[-1].detail == ("plumbing, routine -> general, urgent: The track needs a handyman; "
                                      "dispatching again")
    assert svc.workflow.output_for(job.offer_token) == {"outcome": "retriaged",
                                                        "triage": triage_output(svc, wo)}
    assert svc.events.last("JobWithdrawn")["vendor_id"] == "ven-aqua"
    assert svc.events.last("TriageCorrected") | {"event_key": ""} == {
        "work_order_id": job.id, "status": "triaged", "event_key": "", "trade": "general", "priority": "urgent"}
    [correction] = wo.triage_corrections
    assert (correction.before, correction.after) == (
        {"trade": "plumbing", "priority": "routine", "hazard": None}, {"trade": "general", "priority": "urgent"})


def test_the_withdrawn_vendor_and_the_tenant_are_told(svc: Services) -> None:
    job = offered(svc, UNIT, DRIP)
    correct_triage(svc, job.id, Trade.GENERAL, Priority.URGENT, "The track needs a handyman")
    deliver(svc, "JobWithdrawn", "TriageCorrected")
    aqua = svc.repo.get_vendor("ven-aqua")
    assert any("reassigned after a review" in m.body for m in svc.messenger.sent_to(aqua.phone or ""))
    tenant = job.load(svc).tenant
    told = svc.messenger.sms_to(tenant.phone or "")
    assert told and "our team reviewed your request" in told[-1].body and "urgent" in told[-1].body


def test_a_spanish_speaking_tenant_is_told_in_spanish(svc: Services) -> None:
    job = offered(svc, UNIT, DRIP, language="es")
    correct_triage(svc, job.id, Trade.GENERAL, Priority.URGENT, "The track needs a handyman")
    deliver(svc, "TriageCorrected")
    [sms] = svc.messenger.sms_to(job.load(svc).tenant.phone or "")
    assert "nuestro equipo revisó su solicitud" in sms.body


def test_the_same_trade_at_another_priority_is_offered_again_without_a_withdrawal_notice(svc: Services) -> None:
    job = offered(svc, UNIT, DRIP)
    done = correct_triage(svc, job.id, Trade.PLUMBING, Priority.URGENT, "Two units below are affected")
    assert done.redispatched is True and done.tenant_told is False  # routine -> urgent: nothing new for them
    assert job.load(svc).status == Status.TRIAGED
    assert "JobWithdrawn" not in svc.events.types() and "TriageCorrected" not in svc.events.types()


def test_a_new_priority_while_waiting_for_a_visit_time_resets_the_timers(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    token = parked_for_a_visit_time(svc, job)
    done = correct_triage(svc, job.id, Trade.PLUMBING, Priority.URGENT, "Getting worse")
    assert (done.redispatched, done.retimed, done.tenant_told) == (False, True, False)
    wo = job.load(svc, with_timeline=True)
    assert (wo.status, wo.vendor_id, wo.priority) == (Status.ACCEPTED, "ven-aqua", Priority.URGENT)
    assert wo.timeline[-1].detail.endswith("Getting worse; timers reset")
    assert svc.workflow.output_for(token) == {"outcome": "retimed", "triage": triage_output(svc, wo)}
    assert "JobWithdrawn" not in svc.events.types()


def test_a_new_trade_while_waiting_for_a_visit_time_takes_the_job_from_the_vendor(svc: Services) -> None:
    job = accepted(svc, UNIT, DRIP)
    token = parked_for_a_visit_time(svc, job)
    done = correct_triage(svc, job.id, Trade.GENERAL, Priority.ROUTINE, "Not a plumbing job")
    assert done.redispatched is True
    wo = job.load(svc)
    assert (wo.status, wo.vendor_id, wo.stage_wait) == (Status.TRIAGED, None, None)
    assert svc.workflow.output_for(token)["outcome"] == "retriaged"
    assert svc.events.last("JobWithdrawn")["vendor_id"] == "ven-aqua"


def test_a_scheduled_job_is_only_relabelled(svc: Services) -> None:
    job = scheduled(svc, UNIT, DRIP)
    resumes = len(svc.workflow.resumed)
    done = correct_triage(svc, job.id, Trade.GENERAL, Priority.ROUTINE, "Handyman job really")
    assert (done.redispatched, done.retimed, done.tenant_told) == (False, False, True)
    wo = job.load(svc, with_timeline=True)
    assert (wo.status, wo.vendor_id, wo.trade) == (Status.SCHEDULED, "ven-aqua", Trade.GENERAL)
    assert wo.timeline[-1].detail == "plumbing, routine -> general, routine: Handyman job really"
    assert len(svc.workflow.resumed) == resumes and "JobWithdrawn" not in svc.events.types()


def test_raised_to_an_emergency_pages_on_call_once_with_the_workflows_key(svc: Services) -> None:
    job = offered(svc, UNIT, DRIP)
    done = correct_triage(svc, job.id, Trade.PLUMBING, Priority.EMERGENCY, "water through the ceiling below")
    assert done.tenant_told is True  # emergency handling changes what happens to them
    wo = job.load(svc)
    assert wo.emergency_reason == "water through the ceiling below"
    assert svc.events.last("EmergencyDeclared") == {
        "work_order_id": job.id, "status": "triaged", "event_key": f"{job.id}:EmergencyDeclared",
        "trade": "plumbing", "priority": "emergency"}


def test_a_correction_to_what_the_triage_already_says_is_a_conflict(svc: Services) -> None:
    job = offered(svc, UNIT, DRIP)
    version = job.load(svc).version
    with pytest.raises(InvalidTransition) as refused:
        correct_triage(svc, job.id, Trade.PLUMBING, Priority.ROUTINE, "no change")
    assert refused.value.details == {"trade": "plumbing", "priority": "routine"}
    assert job.load(svc).version == version and corrections(svc) == []


def test_a_job_that_is_over_cannot_be_corrected(svc: Services) -> None:
    job = offered(svc, UNIT, DRIP)
    cancel(svc, job.id, "Duplicate")
    with pytest.raises(InvalidTransition) as refused:
        correct_triage(svc, job.id, Trade.GENERAL, Priority.ROUTINE, "late")
    assert refused.value.details == {"status": "cancelled"}


def test_an_offer_whose_wait_is_over_is_not_counted_as_redispatched(svc: Services) -> None:
    job = offered(svc, UNIT, DRIP)
    svc.workflow.expire(job.offer_token)  # its timer fired just before
    done = correct_triage(svc, job.id, Trade.GENERAL, Priority.ROUTINE, "Handyman")
    assert done.redispatched is False and done.work_order.status == Status.TRIAGED


def test_a_correction_settles_an_open_safety_question(svc: Services) -> None:
    job = ranked(svc, UNIT, DOOR)
    assert job.load(svc).asking_safety
    correct_triage(svc, job.id, Trade.GLAZING_DOORS, Priority.URGENT, "The patio door does not lock", actor="ops:key")
    question = job.load(svc).safety_question
    assert question is not None
    assert (question.answer, question.answered_by, question.answered_at) == ("ops", "ops:key", svc.clock())
    assert job.load(svc).triage_corrections[0].before == {"trade": "glazing_doors", "priority": "routine",
                                                          "hazard": "security"}  # what the question asked about


def test_corrections_are_listed_oldest_first_as_labelled_examples(svc: Services) -> None:
    first = offered(svc, UNIT, DRIP, language="es")
    correct_triage(svc, first.id, Trade.GENERAL, Priority.ROUTINE, "Handyman job")
    svc.clock.advance(minutes=5)
    second = offered(svc, "unit-maple-1b", DRIP)
    correct_triage(svc, second.id, Trade.PLUMBING, Priority.URGENT, "Worse than it sounds")
    listed = corrections(svc)
    assert [(c["work_order_id"], c["text"], c["reason"], c["language"], c["after"]) for c in listed] == [
        (first.id, DRIP, "Handyman job", "es", {"trade": "general", "priority": "routine"}),
        (second.id, DRIP, "Worse than it sounds", "", {"trade": "plumbing", "priority": "urgent"})]
    assert listed[0]["before"] == {"trade": "plumbing", "priority": "routine", "hazard": None}
