"""Visits as use cases: the vendor schedules (a tenant window or a time already agreed) or proposes a time
the tenant confirms or declines; the tenant asks to reschedule or says nobody came; reminders and the
arrive timer are one-time schedules tied to the visit time they were made for."""

from __future__ import annotations

from datetime import date, time

import pytest

from shared.config import timeouts
from shared.domain.directory import Contact
from shared.domain.errors import InvalidInput, InvalidTransition, LinkRejected
from shared.domain.workorder import Status
from shared.schemas import VisitTime
from shared.services.container import Services
from shared.services.visits import (
    plan_timers,
    tenant_visit,
    timer_fired,
    vendor_propose,
    vendor_schedule,
    visit_answer,
)
from shared.services.workorders import await_stage, vendor_checkin
from tests.fakes import fake_services, fake_settings, seed_demo
from tests.service.journeys import accepted, at, local, offered, scheduled, tenant_token, vendor_token, window

UNIT = "unit-maple-1a"
LEAK = "The bathroom faucet drips constantly"  # routine: reminders 24 h and 1 h before, arrive grace 2 h


def availability(svc: Services) -> list[dict[str, str]]:
    """The tenant's windows: Thursday 09:00-11:00 and Friday 14:00-16:00."""
    return [{"start": w.start.isoformat(), "end": w.end.isoformat()} for w in (window(svc, 1, 9), window(svc, 2, 14))]


def timeline(svc: Services, wo_id: str, event: str) -> list[str]:
    return [e.detail for e in svc.repo.get_work_order(wo_id, with_timeline=True).timeline if e.event == event]


# ---------------------------------------------------------------- the vendor schedules
def test_the_vendor_picks_one_of_the_tenants_windows(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK, availability=availability(svc))
    parked = svc.workflow.wait_token("schedule", job.id)
    await_stage(svc, job.id, "schedule", parked)

    done = vendor_schedule(svc, job.vendor_token, VisitTime(window=1))
    assert done.status == Status.SCHEDULED and done.window == window(svc, 2, 14) and done.window_version == 1
    assert done.stage_wait is None
    assert svc.events.last("VisitScheduled") == {
        "work_order_id": job.id, "status": "scheduled", "event_key": f"{job.id}:scheduled:1", "vendor_id": "ven-aqua",
        "start": done.window.start.isoformat(), "end": done.window.end.isoformat(), "window_version": 1,
        "rescheduled": False, "how": "tenant_window"}
    assert svc.workflow.output_for(parked) == {"outcome": "scheduled"}  # the workflow's schedule step resumes
    assert timeline(svc, job.id, "scheduled") == [
        f"Visit scheduled: {done.window.start.isoformat()} to {done.window.end.isoformat()} (one of the tenant's "
        f"windows)"]


def test_a_tenant_window_that_does_not_exist_is_invalid_input(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK, availability=availability(svc))
    with pytest.raises(InvalidInput, match="there is no tenant window 2"):
        vendor_schedule(svc, job.vendor_token, VisitTime(window=2))
    assert svc.repo.get_work_order(job.id).status == Status.ACCEPTED


def test_a_visit_in_the_past_is_invalid_input(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK)
    earlier = window(svc, 0, 7)  # today 07:00-09:00, the clock says 10:00
    with pytest.raises(InvalidInput, match="in the past"):
        vendor_schedule(svc, job.vendor_token, at(earlier))
    assert svc.repo.get_work_order(job.id).window is None


def test_a_time_in_local_date_and_hours_is_read_in_the_propertys_zone(svc: Services) -> None:
    token = accepted(svc, UNIT, LEAK).vendor_token
    done = vendor_schedule(svc, token, VisitTime(date=date(2026, 6, 12), start_time=time(15), end_time=time(17)))
    assert done.window is not None
    assert done.window.start.isoformat() == "2026-06-12T15:00:00-04:00"
    assert svc.events.last("VisitScheduled")["how"] == "set_by_vendor"


def test_scheduling_again_reschedules_with_a_new_window_version(svc: Services) -> None:
    job = scheduled(svc, UNIT, LEAK)
    moved = vendor_schedule(svc, job.vendor_token, at(window(svc, 3, 13)))
    assert moved.window_version == 2 and moved.window == window(svc, 3, 13)
    assert svc.events.last("VisitScheduled")["rescheduled"] is True
    assert timeline(svc, job.id, "scheduled")[-1].startswith("Visit rescheduled: ")


def test_only_the_assigned_vendor_with_a_schedule_link_may_schedule(svc: Services) -> None:
    wo = accepted(svc, UNIT, LEAK).wo
    other = vendor_token(svc, wo.id, "ven-pipeline")
    with pytest.raises(InvalidTransition):
        vendor_schedule(svc, other, at(window(svc)))
    with pytest.raises(LinkRejected):
        vendor_schedule(svc, tenant_token(svc, wo), at(window(svc)))


def test_a_job_not_yet_accepted_cannot_be_scheduled(svc: Services) -> None:
    token = offered(svc, UNIT, LEAK).vendor_token
    with pytest.raises(InvalidTransition, match="the job is offered"):
        vendor_schedule(svc, token, at(window(svc)))


# ---------------------------------------------------------------- proposals
def test_a_proposal_is_confirmed_by_the_tenant(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK)
    proposal = window(svc, 2, 13)
    proposed = vendor_propose(svc, job.vendor_token, at(proposal))
    assert proposed.status == Status.ACCEPTED and proposed.proposal == proposal
    assert svc.events.last("VisitProposed") == {
        "work_order_id": job.id, "status": "accepted", "event_key": f"{job.id}:proposed:{proposed.version}",
        "vendor_id": "ven-aqua", "start": proposal.start.isoformat(), "end": proposal.end.isoformat()}

    confirmed = tenant_visit(svc, job.id, tenant_token(svc, job.wo), "confirm")
    assert confirmed.status == Status.SCHEDULED and confirmed.window == proposal and confirmed.proposal is None
    assert svc.events.last("VisitScheduled")["how"] == "confirmed_by_tenant"
    assert timeline(svc, job.id, "scheduled")[-1].endswith("(proposed by the vendor, confirmed by the tenant)")


def test_a_proposal_while_scheduled_keeps_the_visit_until_confirmed(svc: Services) -> None:
    job = scheduled(svc, UNIT, LEAK)
    first = job.wo.window
    vendor_propose(svc, job.vendor_token, at(window(svc, 3, 13)))
    assert svc.repo.get_work_order(job.id).window == first
    confirmed = visit_answer(svc, job.id, "confirm")
    assert confirmed.window == window(svc, 3, 13) and confirmed.window_version == 2
    assert timeline(svc, job.id, "scheduled")[-1].startswith("Visit rescheduled: ")


def test_a_declined_proposal_asks_the_vendor_again(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK)
    vendor_propose(svc, job.vendor_token, at(window(svc, 2, 13)))
    declined = tenant_visit(svc, job.id, tenant_token(svc, job.wo), "decline", "I work then")
    assert declined.proposal is None and declined.status == Status.ACCEPTED
    assert svc.events.last("ProposalDeclined")["detail"] == "I work then"
    assert timeline(svc, job.id, "proposal_declined") == ["Tenant cannot make the proposed time - I work then"]


def test_a_tenant_who_cannot_be_reached_gets_the_proposed_time_scheduled(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK)
    unreachable = svc.repo.get_work_order(job.id)
    svc.repo.save(unreachable.model_copy(update={"tenant": Contact(name="Ana Lopez")}), unreachable.version)
    done = vendor_propose(svc, job.vendor_token, at(window(svc, 2, 13)))
    assert done.status == Status.SCHEDULED and done.proposal is None
    assert svc.events.last("VisitScheduled")["how"] == "set_by_vendor"
    assert "VisitProposed" not in svc.events.types()


def test_confirm_without_a_proposal_is_refused(svc: Services) -> None:
    wo = accepted(svc, UNIT, LEAK).wo
    with pytest.raises(InvalidTransition, match="with no proposed time"):
        visit_answer(svc, wo.id, "confirm")


def test_the_tenants_visit_answers_need_their_link(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK)
    vendor_propose(svc, job.vendor_token, at(window(svc, 2, 13)))
    with pytest.raises(LinkRejected):
        tenant_visit(svc, job.id, None, "confirm")
    with pytest.raises(LinkRejected):
        tenant_visit(svc, job.id, job.vendor_token, "confirm")  # the vendor's link is not the tenant's
    assert svc.repo.get_work_order(job.id).proposal is not None


# ---------------------------------------------------------------- rescheduling and no-shows
def test_the_tenant_asks_to_reschedule(svc: Services) -> None:
    wo = scheduled(svc, UNIT, LEAK).wo
    after = tenant_visit(svc, wo.id, tenant_token(svc, wo), "reschedule", "Can we do Monday?")
    assert after.status == Status.SCHEDULED and after.window == wo.window
    assert svc.events.last("RescheduleRequested")["detail"] == "Can we do Monday?"
    assert timeline(svc, wo.id, "reschedule_requested") == ["Tenant asked for another time - Can we do Monday?"]


def test_nobody_came_can_only_be_said_once_the_visit_started(svc: Services) -> None:
    wo = scheduled(svc, UNIT, LEAK).wo
    with pytest.raises(InvalidTransition):
        visit_answer(svc, wo.id, "no_show")
    svc.clock.set(local(svc, 1, 9, 30))
    missed = visit_answer(svc, wo.id, "no_show", "waited all morning")
    assert missed.visit_missed and missed.missed_visits == 1
    assert svc.events.last("VisitMissed") == {"work_order_id": wo.id, "status": "scheduled",
                                              "event_key": f"{wo.id}:missed:1", "vendor_id": "ven-aqua",
                                              "reported_by": "tenant"}
    assert timeline(svc, wo.id, "no_show") == [
        "Tenant says nobody came - waited all morning; the vendor is asked to reschedule"]
    with pytest.raises(InvalidTransition):
        visit_answer(svc, wo.id, "no_show")  # said already for this visit


def test_a_second_no_show_escalates_to_ops(svc: Services) -> None:
    job = scheduled(svc, UNIT, LEAK)
    svc.clock.set(local(svc, 1, 9, 30))
    visit_answer(svc, job.id, "no_show")
    vendor_schedule(svc, job.vendor_token, at(window(svc, 1, 14)))
    svc.clock.set(local(svc, 1, 14, 30))
    escalated = visit_answer(svc, job.id, "no_show")
    assert escalated.missed_visits == 2
    assert svc.repo.get_work_order(job.id).status == Status.ESCALATED
    assert svc.events.last("WorkOrderEscalated")["reason"] == "repeated_no_show"
    assert len(svc.events.of_type("VisitMissed")) == 1


# ---------------------------------------------------------------- timers
def test_timers_are_planned_for_the_visit_and_a_past_reminder_is_skipped(svc: Services) -> None:
    wo = scheduled(svc, UNIT, LEAK).wo  # tomorrow 09:00-11:00; the 24 h reminder would be today 09:00: past
    assert plan_timers(svc, wo.id, 1) == ["remind_1h", "arrive"]
    timers = svc.schedules()
    assert timers.get(f"{wo.id}-remind_1h").at == local(svc, 1, 8)
    assert timers.get(f"{wo.id}-arrive").at == local(svc, 1, 13)  # the window's end + 2 h (routine)
    assert timers.get(f"{wo.id}-arrive").payload == {"action": "fire", "work_order_id": wo.id, "kind": "arrive",
                                                     "window_version": 1}
    assert timers.get(f"{wo.id}-remind_24h") is None


def test_planning_for_an_old_visit_time_does_nothing(svc: Services) -> None:
    job = scheduled(svc, UNIT, LEAK)
    vendor_schedule(svc, job.vendor_token, at(window(svc, 3, 9)))
    assert plan_timers(svc, job.id, 1) == []
    assert plan_timers(svc, job.id, 2) == ["remind_24h", "remind_1h", "arrive"]


def test_reminders_fire_on_the_clock_and_the_vendor_checks_in_before_the_arrive_timer(svc: Services) -> None:
    job = scheduled(svc, UNIT, LEAK)
    plan_timers(svc, job.id, 1)
    svc.clock.set(local(svc, 1, 8))
    [reminder] = svc.schedules().fire_due()
    assert timer_fired(svc, job.id, reminder.payload["kind"], 1) == "reminded"
    assert svc.events.last("VisitReminder") == {"work_order_id": job.id, "status": "scheduled",
                                                "event_key": f"{job.id}:reminder:1:remind_1h",
                                                "vendor_id": "ven-aqua", "hours": 1}
    vendor_checkin(svc, job.vendor_token, None)
    svc.clock.set(local(svc, 1, 13))
    [arrive] = svc.schedules().fire_due()
    assert timer_fired(svc, job.id, arrive.payload["kind"], 1) == "arrived"
    assert not svc.repo.get_work_order(job.id).visit_missed


def test_no_check_in_by_the_arrive_timer_is_a_no_show(svc: Services) -> None:
    wo = scheduled(svc, UNIT, LEAK).wo
    svc.clock.set(local(svc, 1, 13))
    assert timer_fired(svc, wo.id, "arrive", 1) == "no_show"
    missed = svc.repo.get_work_order(wo.id)
    assert missed.visit_missed and missed.missed_visits == 1
    assert svc.events.last("VisitMissed")["reported_by"] == "system"
    assert timeline(svc, wo.id, "no_show") == [
        "No check-in by the end of the visit window; the vendor is asked to reschedule"]
    assert timer_fired(svc, wo.id, "arrive", 1) == "arrived"  # a repeated delivery changes nothing
    assert svc.repo.get_work_order(wo.id).missed_visits == 1


def test_timers_of_an_old_visit_time_are_stale(svc: Services) -> None:
    job = scheduled(svc, UNIT, LEAK)
    vendor_schedule(svc, job.vendor_token, at(window(svc, 3, 9)))
    assert timer_fired(svc, job.id, "remind_1h", 1) == "stale"
    assert timer_fired(svc, job.id, "arrive", 1) == "stale"
    assert "VisitReminder" not in svc.events.types() and "VisitMissed" not in svc.events.types()


def test_an_unknown_timer_kind_is_an_error(svc: Services) -> None:
    wo = scheduled(svc, UNIT, LEAK).wo
    with pytest.raises(ValueError, match="unknown visit timer 'lunch'"):
        timer_fired(svc, wo.id, "lunch", 1)


def test_a_reminder_lead_that_is_not_whole_hours_is_named_in_seconds() -> None:
    settings = fake_settings(timeouts=timeouts(None).model_copy(update={"reminders_before_visit": [1800, 7200]}))
    svc = fake_services(settings=settings)
    seed_demo(svc.repo, svc.clock().date())
    wo = scheduled(svc, UNIT, LEAK).wo
    assert plan_timers(svc, wo.id, 1) == ["remind_1800s", "remind_2h", "arrive"]
    assert svc.schedules().get(f"{wo.id}-remind_1800s").at == local(svc, 1, 8, 30)
    timer_fired(svc, wo.id, "remind_1800s", 1)
    assert svc.events.last("VisitReminder")["hours"] == 1  # "in about 1 hour", never "in 0 hours"


def test_a_no_show_the_tenant_reported_is_not_counted_again_by_the_arrive_timer(svc: Services) -> None:
    wo = scheduled(svc, UNIT, LEAK).wo
    svc.clock.set(local(svc, 1, 10))
    visit_answer(svc, wo.id, "no_show")
    svc.clock.set(local(svc, 1, 13))
    assert timer_fired(svc, wo.id, "arrive", 1) == "arrived"  # nothing more to do for this visit
    assert svc.repo.get_work_order(wo.id).missed_visits == 1
    assert len(svc.events.of_type("VisitMissed")) == 1


def test_a_proposal_whose_time_has_passed_can_no_longer_be_confirmed(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK)
    vendor_propose(svc, job.vendor_token, at(window(svc, 1, 9)))
    svc.clock.set(local(svc, 2, 12))  # the day after the proposed visit
    with pytest.raises(InvalidTransition, match="the proposed time has passed"):
        visit_answer(svc, job.id, "confirm")
    assert svc.repo.get_work_order(job.id).status == Status.ACCEPTED
    visit_answer(svc, job.id, "decline")  # the tenant can still say no: the vendor is asked for another time
    assert svc.repo.get_work_order(job.id).proposal is None and svc.events.last("ProposalDeclined")
