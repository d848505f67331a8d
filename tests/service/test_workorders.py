"""The work-order use cases (shared/services/workorders.py) on in-memory fakes: intake, triage, ranking and
offers, expiry, declines and escalation, recalls, vendor and tenant actions with their link checks, the
waiting stages, cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.domain import nte
from shared.domain.enums import Priority, Trade
from shared.domain.errors import ConcurrentUpdate, InvalidInput, InvalidTransition, LinkRejected
from shared.domain.workorder import Source, Status, WorkOrder
from shared.schemas import NewRequest
from shared.services import preventive
from shared.services.container import Services
from shared.services.preventive import assets, generate
from shared.services.visits import vendor_schedule
from shared.services.workorders import (
    answer_follow_up,
    await_stage,
    cancel,
    escalate,
    followup_unanswered,
    offer,
    offer_expired,
    rank,
    stage_overdue,
    start_lifecycle,
    submit_request,
    tenant_feedback,
    triage,
    vendor_accept,
    vendor_checkin,
    vendor_complete,
    vendor_decline,
)
from tests.service.journeys import (
    Job,
    accepted,
    at,
    completed,
    offer_next,
    offered,
    ranked,
    scheduled,
    submit,
    tenant_token,
    vendor_token,
    window,
)

DRIP = "The bathroom faucet drips constantly"  # plumbing, routine, no safety question
FLOOD = "Water is pouring through my kitchen ceiling and the floor is flooding"  # plumbing emergency
UNSURE = "The bathroom sink is leaking under the cabinet"  # plumbing, routine, asks about water
NO_HEAT = "There is no heat in my apartment, the radiators are cold"  # hvac emergency, a building-wide fault
MAPLE = "unit-maple-1a"  # Maple Court (north): AquaFix preferred, then Pipeline Pros


# ---------------------------------------------------------------- intake
def test_a_request_for_an_unknown_unit_is_invalid_and_writes_nothing(svc: Services) -> None:
    request = NewRequest(unit_id="unit-nowhere", name="Ana", description=DRIP)
    with pytest.raises(InvalidInput) as refused:
        submit_request(svc, request)
    assert refused.value.details == [{"field": "unit_id", "message": "no unit with this id"}]
    assert svc.repo.open_work_orders() == []
    assert svc.events.published == []


def test_a_request_without_contact_details_uses_the_tenant_on_file(svc: Services) -> None:
    wo = submit_request(svc, NewRequest(unit_id=MAPLE, name="Ana Lopez", description=DRIP))
    on_file = svc.repo.get_unit(MAPLE).tenant
    assert on_file is not None
    assert (wo.tenant.phone, wo.tenant.email) == (on_file.phone, on_file.email)
    stored = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert [(e.event, e.actor, e.detail) for e in stored.timeline] == [
        ("received", "tenant", "Request received via web")]


def test_contact_details_and_language_given_with_the_request_win(svc: Services) -> None:
    wo = submit(svc, MAPLE, DRIP, phone="+15559990000", email="other@example.com", language="es",
                entry_permission=True, pets="a cat")
    stored = svc.repo.get_work_order(wo.id)
    assert (stored.tenant.phone, stored.tenant.email, stored.tenant.language) == (
        "+15559990000", "other@example.com", "es")
    assert stored.entry_permission is True and stored.pets == "a cat"


def test_starting_the_lifecycle_twice_records_the_execution_once(svc: Services) -> None:
    wo = submit(svc, MAPLE, DRIP)
    arn = start_lifecycle(svc, wo.id)
    version = svc.repo.get_work_order(wo.id).version
    assert start_lifecycle(svc, wo.id) == arn
    assert svc.repo.get_work_order(wo.id).version == version  # nothing to write the second time
    assert list(svc.workflow.executions) == [wo.id]


# ---------------------------------------------------------------- triage
def test_an_emergency_is_triaged_with_its_reason_and_announced(svc: Services) -> None:
    wo = submit(svc, MAPLE, FLOOD)
    decided = triage(svc, wo.id)
    assert decided == {"trade": "plumbing", "priority": "emergency", "emergency": True, "linked": False,
                       "timeouts": svc.settings.timeouts.for_priority(Priority.EMERGENCY)}
    stored = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert stored.status == Status.TRIAGED and stored.hazard is not None and stored.hazard.value == "water"
    assert stored.matched_rules and stored.triage_rules_version
    assert stored.timeline[-1].event == "triaged"
    assert stored.timeline[-1].detail.startswith("plumbing, emergency (")
    assert svc.events.last("WorkOrderTriaged") == {
        "work_order_id": wo.id, "status": "triaged", "event_key": f"{wo.id}:triaged", "trade": "plumbing",
        "priority": "emergency", "incident_id": None}
    assert "SafetyQuestionAsked" not in svc.events.types()


def test_a_replayed_triage_step_keeps_the_first_decision(svc: Services) -> None:
    wo = submit(svc, MAPLE, DRIP)
    first = triage(svc, wo.id)
    svc.repo.save(svc.repo.get_work_order(wo.id).model_copy(update={"priority": Priority.URGENT}),
                  svc.repo.get_work_order(wo.id).version)  # ops-visible state moved on meanwhile
    again = triage(svc, wo.id)
    assert first["priority"] == "routine" and again["priority"] == "urgent"  # read back, not re-classified
    assert len(svc.events.of_type("WorkOrderTriaged")) == 1
    events = [e.event for e in svc.repo.get_work_order(wo.id, with_timeline=True).timeline]
    assert events.count("triaged") == 1


def test_a_sensor_job_keeps_its_pre_classified_trade_and_priority(svc: Services) -> None:
    request = NewRequest.model_construct(unit_id=MAPLE, name="Building sensor", phone=None, email=None,
                                         description="Water leak detected by sensor s-1.", availability=None)
    wo = submit_request(svc, request, source=Source.IOT, trade=Trade.HVAC, priority=Priority.URGENT,
                        sensor_id="s-1")
    decided = triage(svc, wo.id)
    assert (decided["trade"], decided["priority"]) == ("hvac", "urgent")  # not what the text would say
    stored = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert stored.matched_rules == [] and stored.triage_rules_version is None
    assert stored.timeline[-1].detail == "hvac, urgent (from the iot rules)"


def test_an_unsure_request_is_dispatched_and_the_tenant_asked_beside_it(svc: Services) -> None:
    wo = submit(svc, MAPLE, UNSURE)
    decided = triage(svc, wo.id)
    assert decided["priority"] == "routine" and decided["emergency"] is False
    stored = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert stored.safety_question is not None and stored.safety_question.hazard.value == "water"
    assert stored.safety_question.asked_at == svc.clock() and stored.asking_safety
    assert [e.event for e in stored.timeline] == ["received", "triaged", "safety_question"]
    assert stored.timeline[-1].detail == ("Unsure whether it is an emergency (water): the tenant is asked now; "
                                          "the job goes on meanwhile")
    assert svc.events.last("SafetyQuestionAsked") == {
        "work_order_id": wo.id, "status": "triaged", "event_key": f"{wo.id}:safety", "hazard": "water"}


def test_a_building_fault_opens_an_incident_and_a_second_report_joins_it_undispatched(svc: Services) -> None:
    first = submit(svc, "unit-harbor-102", NO_HEAT)
    assert triage(svc, first.id)["linked"] is False
    assert svc.repo.get_work_order(first.id).incident_id == first.id

    second = submit(svc, "unit-harbor-201", NO_HEAT)
    decided = triage(svc, second.id)
    assert decided["linked"] is True and decided["emergency"] is False  # the primary's dispatch covers it
    joined = svc.repo.get_work_order(second.id, with_timeline=True)
    assert joined.incident_id == first.id
    assert joined.timeline[-1].event == "joined_incident" and first.id in joined.timeline[-1].detail
    assert svc.events.last("WorkOrderTriaged")["incident_id"] == first.id


# ---------------------------------------------------------------- ranking and offers
def test_the_preferred_vendor_is_ranked_first_and_the_offer_carries_the_not_to_exceed(svc: Services) -> None:
    job = ranked(svc, MAPLE, FLOOD)
    assert svc.repo.get_work_order(job.id).candidates == ["ven-aqua", "ven-pipeline"]
    offer_next(svc, job, 0)
    wo = job.load(svc)
    assert wo.status == Status.OFFERED
    assert (wo.nte_cents, wo.currency) == nte.rules().amount(Trade.PLUMBING, Priority.EMERGENCY, "prop-maple")
    assert wo.nte_cents and wo.nte_cents > nte.rules().amount(Trade.PLUMBING, Priority.ROUTINE, "prop-maple")[0]
    assert wo.offer is not None and wo.offer.task_token == job.offer_token
    assert svc.events.last("VendorOffered") == {
        "work_order_id": job.id, "status": "offered", "event_key": f"{job.id}:offer:0:0:0", "vendor_id": "ven-aqua"}


def test_a_retried_offer_step_refreshes_the_token_only(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    offer(svc, job.id, 0, "token-retried", job.triage["timeouts"]["offer"])
    wo = job.load(svc)
    assert wo.offer is not None and wo.offer.task_token == "token-retried"
    assert len(svc.events.of_type("VendorOffered")) == 1
    assert svc.repo.get_vendor("ven-aqua").stats.offers == 1
    assert job.events(svc).count("offered") == 1


def test_a_job_cannot_be_offered_before_it_is_triaged(svc: Services) -> None:
    wo = submit(svc, MAPLE, DRIP)
    svc.repo.save(svc.repo.get_work_order(wo.id).model_copy(update={"candidates": ["ven-aqua"],
                                                                      "trade": Trade.PLUMBING,
                                                                      "priority": Priority.ROUTINE}), 0)
    with pytest.raises(InvalidTransition):
        offer(svc, wo.id, 0, "token-x", 60)
    assert svc.events.of_type("VendorOffered") == []


def test_an_expired_offer_goes_to_the_next_ranked_vendor(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    svc.clock.advance(seconds=job.triage["timeouts"]["offer"])
    svc.workflow.expire(job.offer_token)
    assert offer_expired(svc, job.id, 0) == "expired"
    assert job.load(svc).offer is None
    offer_next(svc, job, 1)
    assert job.load(svc).offer.vendor_id == "ven-pipeline"
    assert svc.repo.get_vendor("ven-aqua").stats.expired == 1
    assert job.events(svc)[-2:] == ["offer_expired", "offered"]


def test_an_offer_accepted_in_the_same_instant_as_its_timer_stays_accepted(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    vendor_accept(svc, job.vendor_token)
    assert offer_expired(svc, job.id, 0) == "accepted"
    wo = job.load(svc)
    assert wo.status == Status.ACCEPTED and wo.vendor_id == "ven-aqua"
    assert svc.repo.get_vendor("ven-aqua").stats.expired == 0


def test_a_stale_expiry_for_an_earlier_offer_changes_nothing(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    vendor_decline(svc, job.vendor_token, "Booked")
    offer_next(svc, job, 1)
    version = job.load(svc).version
    assert offer_expired(svc, job.id, 0) == "expired"  # the workflow moves on; candidate 1's offer stands
    assert job.load(svc).version == version and job.load(svc).offer.vendor_id == "ven-pipeline"


# ---------------------------------------------------------------- vendor answers
def test_the_vendor_accepts_through_their_link_and_the_workflow_resumes(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    wo = vendor_accept(svc, job.vendor_token)
    assert (wo.status, wo.vendor_id, wo.offer) == (Status.ACCEPTED, "ven-aqua", None)
    assert svc.workflow.output_for(job.offer_token) == {"outcome": "accepted"}
    assert svc.repo.get_vendor("ven-aqua").stats.accepted == 1
    assert svc.events.last("VendorAccepted")["vendor_id"] == "ven-aqua"
    entry = job.load(svc, with_timeline=True).timeline[-1]
    assert (entry.event, entry.actor) == ("accepted", "vendor:ven-aqua")
    with pytest.raises(InvalidTransition):  # the same answer again: the job is not on offer any more
        vendor_accept(svc, job.vendor_token)


def test_declines_move_down_the_list_then_the_job_is_escalated(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    first_link = job.vendor_token
    declined = vendor_decline(svc, first_link, "Booked solid this week")
    assert declined.status == Status.OFFERED and declined.offer is None
    assert svc.workflow.output_for(job.offer_token) == {"outcome": "declined"}
    assert svc.repo.get_vendor("ven-aqua").stats.declined == 1
    offer_next(svc, job, 1)
    with pytest.raises(InvalidTransition):  # the first vendor's link allows nothing now
        vendor_accept(svc, first_link)
    vendor_decline(svc, job.vendor_token, "Out of area today")

    # No candidate left: the workflow escalates (functions/dispatch.py, "no_vendor_accepted").
    escalate(svc, job.id, "no_vendor_accepted", "No vendor accepted the job; ops alerted")
    wo = job.load(svc, with_timeline=True)
    assert wo.status == Status.ESCALATED and wo.offer is None
    assert [e.detail for e in wo.timeline if e.event == "declined"] == [
        "Vendor declined: Booked solid this week", "Vendor declined: Out of area today"]
    assert svc.events.last("WorkOrderEscalated") | {"work_order_id": ""} == {
        "work_order_id": "", "status": "escalated", "event_key": f"{job.id}:escalated:{wo.version}",
        "reason": "no_vendor_accepted", "detail": "No vendor accepted the job; ops alerted"}


def test_escalating_a_job_that_is_already_over_does_nothing(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    escalate(svc, job.id, "no_vendor_accepted", "No vendor accepted the job; ops alerted")
    version = job.load(svc).version
    escalate(svc, job.id, "automation_error", "again")
    assert job.load(svc).version == version
    assert len(svc.events.of_type("WorkOrderEscalated")) == 1


def test_a_link_of_another_vendor_cannot_answer_the_offer(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    other = vendor_token(svc, job.id, "ven-pipeline")
    with pytest.raises(InvalidTransition) as refused:
        vendor_accept(svc, other)
    assert refused.value.details == {"status": "offered", "action": "accept"}
    assert job.load(svc).status == Status.OFFERED


@pytest.mark.parametrize("token", ["olk1_" + "A" * 43, "not-a-token", ""])
def test_unknown_or_malformed_vendor_links_are_refused_alike(svc: Services, token: str) -> None:
    offered(svc, MAPLE, DRIP)
    with pytest.raises(LinkRejected) as refused:
        vendor_accept(svc, token)
    assert refused.value.details == {"reason": "invalid"}


def test_a_tenant_link_cannot_act_as_the_vendor(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    with pytest.raises(LinkRejected) as refused:
        vendor_accept(svc, tenant_token(svc, job.load(svc)))
    assert refused.value.details == {"reason": "out_of_scope"}


def test_vendor_steps_out_of_order_are_conflicts(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    with pytest.raises(InvalidTransition):
        vendor_checkin(svc, job.vendor_token, 20)
    with pytest.raises(InvalidTransition):
        vendor_complete(svc, job.vendor_token, "x")
    assert job.load(svc).status == Status.OFFERED


def test_the_vendor_checks_in_on_the_way_then_on_site(svc: Services) -> None:
    job = scheduled(svc, MAPLE, DRIP)
    on_the_way = vendor_checkin(svc, job.vendor_token, 20)
    assert on_the_way.status == Status.SCHEDULED and on_the_way.arrived_at == svc.clock()
    first_arrival = svc.clock()
    assert svc.events.last("VendorOnTheWay") | {"event_key": ""} == {
        "work_order_id": job.id, "status": "scheduled", "event_key": "", "vendor_id": "ven-aqua", "eta_minutes": 20}
    svc.clock.advance(minutes=20)
    on_site = vendor_checkin(svc, job.vendor_token, None)
    assert on_site.arrived_at == first_arrival  # the first check-in stopped the arrive timer
    checkins = [e.detail for e in job.load(svc, with_timeline=True).timeline if e.event == "checkin"]
    assert checkins == ["Technician on the way, about 20 min", "Technician on site"]
    keys = [d["event_key"] for d in svc.events.of_type("VendorOnTheWay")]
    assert len(set(keys)) == 2  # two announcements, not one deduplicated away


def test_completion_resumes_the_waiting_completion_stage(svc: Services) -> None:
    job = scheduled(svc, MAPLE, DRIP)
    parked = svc.workflow.wait_token("completion", execution=job.id)
    await_stage(svc, job.id, "completion", parked)
    assert job.load(svc).stage_wait is not None
    wo = vendor_complete(svc, job.vendor_token, "Replaced the washer")
    assert (wo.status, wo.completion_notes, wo.completed_at, wo.stage_wait) == (
        Status.COMPLETED, "Replaced the washer", svc.clock(), None)
    assert svc.workflow.output_for(parked) == {"outcome": "completed"}
    assert svc.repo.get_vendor("ven-aqua").stats.completed == 1
    assert svc.events.last("WorkCompleted")["event_key"] == f"{job.id}:completed:0"


# ---------------------------------------------------------------- waiting stages
def test_a_stage_already_done_resumes_the_workflow_at_once(svc: Services) -> None:
    job = scheduled(svc, MAPLE, DRIP)  # the vendor scheduled before the workflow reached the schedule wait
    token = svc.workflow.wait_token("schedule", execution=job.id)
    await_stage(svc, job.id, "schedule", token)
    assert svc.workflow.output_for(token) == {"outcome": "scheduled"}
    assert job.load(svc).stage_wait is None


def test_the_followup_stage_asks_the_tenant_and_a_late_wait_reads_the_answer(svc: Services) -> None:
    job = completed(svc, MAPLE, DRIP)
    token = svc.workflow.wait_token("followup", execution=job.id)
    await_stage(svc, job.id, "followup", token)
    assert job.load(svc).stage_wait.task_token == token
    assert svc.events.last("FollowUpRequested")["event_key"] == f"{job.id}:followup:0"

    other = completed(svc, "unit-maple-1b", DRIP)
    answer_follow_up(svc, other.id, resolved=False, comment=None)  # answered before the wait was reached
    late = svc.workflow.wait_token("followup", execution=other.id)
    await_stage(svc, other.id, "followup", late)
    assert svc.workflow.output_for(late) == {"outcome": "not_resolved"}


def test_a_stage_nobody_acts_on_is_escalated(svc: Services) -> None:
    job = accepted(svc, MAPLE, DRIP)
    stage_overdue(svc, job.id, "schedule")
    assert job.load(svc).status == Status.ESCALATED
    event = svc.events.last("WorkOrderEscalated")
    assert (event["reason"], event["detail"]) == (
        "schedule_overdue", "Nobody acted on the schedule step in time; ops alerted")


def test_an_unanswered_followup_closes_the_job_as_resolved(svc: Services) -> None:
    job = completed(svc, MAPLE, DRIP)
    followup_unanswered(svc, job.id)
    wo = job.load(svc, with_timeline=True)
    assert wo.status == Status.VERIFIED and wo.timeline[-1].event == "verified"
    assert svc.events.last("WorkOrderVerified")["answered"] is False
    followup_unanswered(svc, job.id)  # the timer again: nothing more
    assert len(svc.events.of_type("WorkOrderVerified")) == 1


# ---------------------------------------------------------------- the tenant's follow-up
def test_the_tenant_confirms_the_fix_with_their_link(svc: Services) -> None:
    job = completed(svc, MAPLE, DRIP)
    parked = svc.workflow.wait_token("followup", execution=job.id)
    await_stage(svc, job.id, "followup", parked)
    token = tenant_token(svc, job.load(svc))
    wo = tenant_feedback(svc, job.id, token, resolved=True, comment="All dry")
    assert wo.status == Status.VERIFIED and wo.stage_wait is None
    assert job.load(svc, with_timeline=True).timeline[-1].detail == "Tenant confirmed the fix - All dry"
    assert svc.events.last("WorkOrderVerified")["answered"] is True
    assert svc.workflow.output_for(parked) == {"outcome": "resolved"}
    with pytest.raises(InvalidTransition):  # nothing to answer any more
        tenant_feedback(svc, job.id, token, resolved=False, comment=None)


def test_feedback_before_the_work_is_done_is_a_conflict(svc: Services) -> None:
    job = accepted(svc, MAPLE, DRIP)
    with pytest.raises(InvalidTransition) as refused:
        tenant_feedback(svc, job.id, tenant_token(svc, job.load(svc)), resolved=True, comment=None)
    assert refused.value.details == {"status": "accepted"}


def test_feedback_needs_the_tenants_own_link_for_this_request(svc: Services) -> None:
    job = completed(svc, MAPLE, DRIP)
    with pytest.raises(LinkRejected) as missing:
        tenant_feedback(svc, job.id, None, resolved=True, comment=None)
    assert missing.value.details == {"reason": "missing"}
    with pytest.raises(LinkRejected) as vendors:
        tenant_feedback(svc, job.id, job.vendor_token, resolved=True, comment=None)
    assert vendors.value.details == {"reason": "out_of_scope"}
    other = submit(svc, "unit-maple-1b", DRIP)
    with pytest.raises(LinkRejected) as elsewhere:
        tenant_feedback(svc, job.id, tenant_token(svc, other), resolved=True, comment=None)
    assert elsewhere.value.details == {"reason": "out_of_scope"}
    assert job.load(svc).status == Status.COMPLETED


def test_not_fixed_reopens_the_job_and_it_goes_back_to_the_same_vendor_first(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    vendor_decline(svc, job.vendor_token, "No capacity")
    offer_next(svc, job, 1)  # Pipeline Pros takes it
    vendor_accept(svc, job.vendor_token)
    vendor_schedule(svc, job.vendor_token, at(window(svc, 0, 12)))
    vendor_complete(svc, job.vendor_token, "Cleared the trap")
    old_link = job.vendor_token

    wo = tenant_feedback(svc, job.id, tenant_token(svc, job.load(svc)), resolved=False, comment="Still slow")
    assert (wo.status, wo.vendor_id, wo.previous_vendor_id, wo.reopen_count, wo.window) == (
        Status.REOPENED, None, "ven-pipeline", 1, None)
    assert svc.repo.get_vendor("ven-pipeline").stats.reopened == 1
    assert svc.events.last("WorkOrderReopened")["event_key"] == f"{job.id}:reopened:1"

    assert rank(svc, job.id, reopen=True) == {"count": 2, "index": 0}
    ranked = job.load(svc, with_timeline=True)
    assert ranked.candidates == ["ven-pipeline", "ven-aqua"]
    assert ranked.recall_of == job.id and "recall" not in [e.event for e in ranked.timeline]
    assert ranked.timeline[-1].detail == "2 candidate vendor(s), previous vendor first"
    offer(svc, job.id, 0, svc.workflow.wait_token("recall"), 60)
    # The old link answered the first offer; the new offer needs the new link.
    with pytest.raises(LinkRejected) as spent:
        vendor_accept(svc, old_link)
    assert spent.value.details == {"reason": "answered"}
    vendor_accept(svc, vendor_token(svc, job.id, "ven-pipeline"))
    assert job.load(svc).model_dump(include={"status", "vendor_id", "reopen_count"}) == {
        "status": Status.ACCEPTED, "vendor_id": "ven-pipeline", "reopen_count": 1}


def test_a_second_followup_cannot_be_answered_with_the_first_followups_link(svc: Services) -> None:
    job = completed(svc, MAPLE, DRIP)
    first_link = tenant_token(svc, job.load(svc))
    tenant_feedback(svc, job.id, first_link, resolved=False, comment=None)
    rank(svc, job.id, reopen=True)
    offer_next(svc, job, 0)
    vendor_accept(svc, job.vendor_token)
    vendor_schedule(svc, job.vendor_token, at(window(svc, 0, 12)))
    vendor_complete(svc, job.vendor_token, "Second try")
    with pytest.raises(LinkRejected) as spent:
        tenant_feedback(svc, job.id, first_link, resolved=True, comment=None)
    assert spent.value.details == {"reason": "answered"}
    assert job.load(svc).status == Status.COMPLETED


def test_a_verified_preventive_job_restarts_its_assets_cycle(svc: Services) -> None:
    [wo_id, *_] = [w for w in generate(svc) if svc.repo.get_work_order(w).asset_id == "hvac-filter-maple-2a"]
    start_lifecycle(svc, wo_id)
    decided = triage(svc, wo_id)
    rank(svc, wo_id, reopen=False)
    job = offer_next(svc, Job(svc.repo.get_work_order(wo_id), decided), 0)
    vendor_accept(svc, job.vendor_token)
    vendor_schedule(svc, job.vendor_token, at(window(svc, 0, 12)))
    svc.clock.advance(days=1)
    vendor_complete(svc, job.vendor_token, "New filter")
    answer_follow_up(svc, wo_id, resolved=True, comment=None)
    [verified] = [d for t, d in svc.events.published if t == "WorkOrderVerified"]
    assert verified["asset_id"] == "hvac-filter-maple-2a"
    # The preventive function consumes the event (its own EventBridge rule), once per event.
    assert [preventive.on_verified(svc, verified) for _ in range(2)] == ["serviced", "duplicate"]
    [filter_asset] = [a for a in assets(svc) if a.id == "hvac-filter-maple-2a"]
    assert filter_asset.last_service == svc.clock().date()


# ---------------------------------------------------------------- recalls
def test_the_same_unit_and_trade_within_the_recall_window_goes_to_the_same_vendor(svc: Services) -> None:
    first = offered(svc, "unit-maple-3a", DRIP)
    vendor_decline(svc, first.vendor_token, "Busy")
    offer_next(svc, first, 1)  # Pipeline Pros does the first job (not the preferred AquaFix)
    vendor_accept(svc, first.vendor_token)
    vendor_schedule(svc, first.vendor_token, at(window(svc, 0, 12)))
    vendor_complete(svc, first.vendor_token, "Tightened the handle")
    svc.clock.advance(days=svc.settings.recall_window_days - 1)

    again = ranked(svc, "unit-maple-3a", "The kitchen tap is dripping again")
    wo = again.load(svc, with_timeline=True)
    assert wo.recall_of == first.id and wo.previous_vendor_id == "ven-pipeline"
    assert wo.candidates[0] == "ven-pipeline"
    assert wo.timeline[-1].event == "recall" and first.id in wo.timeline[-1].detail

    other_trade = ranked(svc, "unit-maple-3a", "Bedroom outlet stopped working")
    assert other_trade.load(svc).recall_of is None


def test_a_job_completed_before_the_recall_window_is_not_a_recall(svc: Services) -> None:
    completed(svc, "unit-maple-3a", DRIP)
    svc.clock.advance(days=svc.settings.recall_window_days + 1)
    later = ranked(svc, "unit-maple-3a", "The kitchen tap is dripping again")
    wo = later.load(svc)
    assert wo.recall_of is None and wo.candidates == ["ven-aqua", "ven-pipeline"]


def test_a_job_completed_before_recalls_were_recorded_is_found_by_one_look_at_the_property(svc: Services) -> None:
    """A stack upgraded from before the per-unit record: the first ranking of a unit and trade looks through the
    property's recent work orders once and records what it found; later ones read the record alone."""
    first = completed(svc, "unit-maple-3a", DRIP)
    svc.repo.table.delete("RECALL#unit-maple-3a", "plumbing")  # as if completed before the record existed
    looked = []
    recent = svc.repo.recent_work_orders
    svc.repo.recent_work_orders = lambda *a: looked.append(a) or recent(*a)  # type: ignore[method-assign]
    svc.clock.advance(days=2)
    again = ranked(svc, "unit-maple-3a", "The kitchen tap is dripping again")
    assert again.load(svc).recall_of == first.id and len(looked) == 1
    assert svc.repo.last_completed_job("unit-maple-3a", "plumbing").work_order_id == first.id
    once_more = ranked(svc, "unit-maple-3a", "Still dripping in the kitchen, the tap")
    assert once_more.load(svc).recall_of == first.id and len(looked) == 1  # the record answered

    nothing_yet = ranked(svc, "unit-maple-3a", "Bedroom outlet stopped working")  # no electrical job here
    assert nothing_yet.load(svc).recall_of is None and len(looked) == 2
    assert svc.repo.last_completed_job("unit-maple-3a", "electrical") == (None, None)  # recorded: none found


# ---------------------------------------------------------------- cancel
def test_cancelling_stops_the_workflow_and_the_links(svc: Services) -> None:
    job = accepted(svc, MAPLE, DRIP)
    wo = cancel(svc, job.id, "Tenant fixed it themselves")
    assert wo.status == Status.CANCELLED and wo.stage_wait is None
    execution = svc.workflow.executions[job.id]
    assert execution.stopped == "cancelled: Tenant fixed it themselves"
    assert svc.events.last("WorkOrderCancelled")["reason"] == "Tenant fixed it themselves"
    entry = job.load(svc, with_timeline=True).timeline[-1]
    assert (entry.event, entry.actor) == ("cancelled", "ops")
    with pytest.raises(LinkRejected) as dead:
        vendor_checkin(svc, job.vendor_token, 5)
    assert dead.value.details == {"reason": "invalid"}
    with pytest.raises(InvalidTransition):
        cancel(svc, job.id, "again")


def test_a_job_never_started_can_be_cancelled_without_a_workflow(svc: Services) -> None:
    wo = submit(svc, MAPLE, DRIP)
    assert cancel(svc, wo.id, "Duplicate", actor="tenant").status == Status.CANCELLED
    assert svc.workflow.executions == {}


def test_offers_of_each_round_have_their_own_event_key(svc: Services) -> None:
    job = offered(svc, MAPLE, DRIP)
    svc.clock.advance(timedelta(minutes=1))
    vendor_decline(svc, job.vendor_token, "Busy")
    offer_next(svc, job, 1)
    assert [d["event_key"] for d in svc.events.of_type("VendorOffered")] == [
        f"{job.id}:offer:0:0:0", f"{job.id}:offer:0:0:1"]


# ---------------------------------------------------------------- concurrent writes
def save_after_a_concurrent_write(svc: Services, monkeypatch: pytest.MonkeyPatch,
                                  concurrent: dict[str, Any], times: int = 1) -> None:
    """The next `times` saves each find that another writer changed the work order (`concurrent`) first."""
    real_save = svc.repo.save
    left = [times]

    def save(wo: WorkOrder, expected_version: int, entries: Any = ()) -> WorkOrder:
        if left[0] > 0:
            left[0] -= 1
            current = svc.repo.get_work_order(wo.id)
            real_save(current.model_copy(update=concurrent), current.version)
        return real_save(wo, expected_version, entries)

    monkeypatch.setattr(svc.repo, "save", save)


def test_an_answer_racing_another_write_is_applied_to_the_fresh_state(svc: Services,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    job = offered(svc, MAPLE, DRIP)
    save_after_a_concurrent_write(svc, monkeypatch, {"pets": "a dog"})
    wo = vendor_accept(svc, job.vendor_token)
    assert (wo.status, wo.vendor_id, wo.pets) == (Status.ACCEPTED, "ven-aqua", "a dog")  # neither write lost


def test_a_write_that_keeps_losing_the_race_gives_up_with_a_conflict(svc: Services,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    job = offered(svc, MAPLE, DRIP)
    save_after_a_concurrent_write(svc, monkeypatch, {"pets": "a dog"}, times=10)
    with pytest.raises(ConcurrentUpdate):
        vendor_accept(svc, job.vendor_token)
    assert job.load(svc).status == Status.OFFERED
    assert "VendorAccepted" not in svc.events.types() and svc.workflow.waiting(job.offer_token)


def test_two_triage_steps_racing_announce_one_decision(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    wo = submit(svc, MAPLE, DRIP)
    save_after_a_concurrent_write(svc, monkeypatch, {"status": Status.TRIAGED, "trade": Trade.GENERAL,
                                                     "priority": Priority.URGENT})
    decided = triage(svc, wo.id)
    assert (decided["trade"], decided["priority"]) == ("general", "urgent")  # the step that won stands
    assert svc.events.of_type("WorkOrderTriaged") == []  # announced by the winner, not again here
