"""Intake, triage and dispatch as use cases on in-memory fakes: the steps the state machine runs, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.errors import IdempotencyConflict
from shared.domain.workorder import Status
from shared.services.container import Services
from shared.services.workorders import offer_expired, rank, start_lifecycle, triage, triage_step
from tests.service.journeys import accepted, deliver, offer_to, offered, submit, workflow

LEAK = "The bathroom faucet drips constantly"  # plumbing, routine: no safety question
UNIT = "unit-maple-1a"  # Maple Court (north): AquaFix is its preferred plumber, Pipeline Pros the other one


def test_request_is_triaged_offered_and_passed_on_when_the_offer_expires(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)
    assert wo.status == Status.RECEIVED
    assert svc.events.of_type("WorkOrderReceived") == [
        {"work_order_id": wo.id, "status": "received", "event_key": f"{wo.id}:received", "source": "web"}]

    arn = start_lifecycle(svc, wo.id)
    assert svc.workflow.executions[wo.id].input == {"work_order_id": wo.id, "reopen": False}
    assert svc.repo.get_work_order(wo.id).execution_arn is None and arn == svc.workflow.execution_arn(wo.id)

    decided = triage(svc, wo.id)
    assert (decided["trade"], decided["priority"], decided["emergency"]) == ("plumbing", "routine", False)
    assert svc.repo.get_work_order(wo.id).status == Status.TRIAGED

    assert rank(svc, wo.id, reopen=False) == {"count": 2, "index": 0}
    assert svc.repo.get_work_order(wo.id).candidates == ["ven-aqua", "ven-pipeline"]

    first = offer_to(svc, wo.id, 0, decided)
    offered = svc.repo.get_work_order(wo.id)
    assert offered.status == Status.OFFERED and offered.offer is not None
    assert offered.offer.vendor_id == "ven-aqua"
    assert offered.offer.expires_at == svc.clock() + timedelta(seconds=decided["timeouts"]["offer"])
    deliver(svc, "VendorOffered")
    aqua = svc.repo.get_vendor("ven-aqua")
    [sms] = svc.messenger.sms_to(aqua.phone)
    assert "https://opslayer.test/" in sms.body  # the vendor's link to accept or decline

    # Nobody answers: the offer's timeout fires, the wait is over, the next candidate gets the job.
    svc.clock.advance(seconds=decided["timeouts"]["offer"])
    svc.workflow.expire(first)
    assert offer_expired(svc, wo.id, 0) == "expired"
    assert svc.workflow.resume(first, {"outcome": "accepted"}) is False  # too late for that token
    offer_to(svc, wo.id, 1, decided)

    passed_on = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert passed_on.status == Status.OFFERED and passed_on.offer is not None
    assert passed_on.offer.vendor_id == "ven-pipeline"
    assert [e.event for e in passed_on.timeline if e.event != "notified"] == [
        "received", "triaged", "vendors_ranked", "offered", "offer_expired", "offered"]
    assert [e.detail.split(":")[0] for e in passed_on.timeline if e.event == "notified"] == [
        "SMS and EMAIL to vendor"]  # both went at once: one entry
    assert svc.repo.get_vendor("ven-aqua").stats.model_dump(include={"offers", "expired"}) == {"offers": 1,
                                                                                                 "expired": 1}
    assert [d["vendor_id"] for d in svc.events.of_type("VendorOffered")] == ["ven-aqua", "ven-pipeline"]


def test_a_repeated_submit_with_the_same_idempotency_key_is_the_same_request(svc: Services) -> None:
    first = submit(svc, UNIT, LEAK, idempotency_key="tap-1")
    again = submit(svc, UNIT, LEAK, idempotency_key="tap-1")

    assert again.id == first.id
    assert [w.id for w in svc.repo.list_work_orders(property_id="prop-maple")] == [first.id]
    # Not triaged yet (its start may have failed): the replay announces it again; the start is idempotent.
    assert [d["work_order_id"] for d in svc.events.of_type("WorkOrderReceived")] == [first.id, first.id]
    start_lifecycle(svc, first.id)
    start_lifecycle(svc, first.id)
    assert list(svc.workflow.executions) == [first.id]

    triage(svc, first.id)
    svc.events.clear()
    assert submit(svc, UNIT, LEAK, idempotency_key="tap-1").id == first.id
    assert svc.events.published == []  # under way: a replay is not announced again


def test_the_same_idempotency_key_for_a_different_request_is_refused(svc: Services) -> None:
    submit(svc, UNIT, LEAK, idempotency_key="tap-2")
    with pytest.raises(IdempotencyConflict):
        submit(svc, UNIT, "The kitchen light flickers", idempotency_key="tap-2")
    assert len(svc.repo.list_work_orders(property_id="prop-maple")) == 1


def test_an_idempotency_key_is_scoped_to_its_unit(svc: Services) -> None:
    ana = submit(svc, UNIT, LEAK, idempotency_key="tap-3")
    ben = submit(svc, "unit-maple-1b", LEAK, idempotency_key="tap-3")
    assert ana.id != ben.id


# ---------------------------------------------------------------- the workflow's triage step
def test_the_triage_step_ranks_a_routine_job_and_sends_it_straight_to_its_first_offer(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)
    start_lifecycle(svc, wo.id)
    state = {"work_order_id": wo.id, "reopen": False}
    wait = workflow(svc).wait_token("triage", execution=wo.id)
    received = svc.repo.get_work_order(wo.id).version

    done = triage_step(svc, wo.id, state, wait)
    assert svc.repo.get_work_order(wo.id).version == received + 1  # triaged and ranked in one write
    answer = workflow(svc).output_for(wait)
    assert answer is not None and answer["outcome"] == "ranked"  # success: on to OfferToVendor
    assert answer["state"] == {**state, "triage": triage(svc, wo.id), "dispatch": {"count": 2, "index": 0}}
    assert done["dispatch"] == {"count": 2, "index": 0} and done["trade"] == "plumbing"
    ranked = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert ranked.status == Status.TRIAGED and ranked.candidates == ["ven-aqua", "ven-pipeline"]
    assert [e.event for e in ranked.timeline] == ["received", "triaged", "vendors_ranked"]

    # A retried step (the first try failed after its work) keeps the first triage and ranks the same vendors.
    again = workflow(svc).wait_token("triage", execution=wo.id)
    triage_step(svc, wo.id, state, again)
    assert workflow(svc).output_for(again)["state"]["dispatch"] == {"count": 2, "index": 0}
    assert [e.event for e in svc.repo.get_work_order(wo.id, with_timeline=True).timeline].count("triaged") == 1


def test_an_emergency_is_ranked_then_routed_to_the_page_before_its_offer(svc: Services) -> None:
    wo = submit(svc, UNIT, "Water is pouring through the ceiling onto the floor")
    start_lifecycle(svc, wo.id)
    wait = workflow(svc).wait_token("triage", execution=wo.id)
    triage_step(svc, wo.id, {"work_order_id": wo.id, "reopen": False}, wait)
    answer = workflow(svc).output_for(wait)
    assert answer is not None and answer["outcome"] == "routed"  # a detour: ResumeAt pages on-call, then offers
    assert answer["state"]["triage"]["emergency"] is True and answer["state"]["dispatch"]["count"] == 2


def test_an_ops_retry_is_routed_and_ranked_only_when_it_resumes_at_dispatch(svc: Services) -> None:
    later = accepted(svc, UNIT, LEAK)  # resumes at the schedule: no new ranking
    wait = workflow(svc).wait_token("triage", execution=later.id)
    state = {"work_order_id": later.id, "reopen": False, "resume_at": "schedule"}
    triage_step(svc, later.id, state, wait)
    assert workflow(svc).output_for(wait) == {"outcome": "routed", "state": {
        **state, "triage": triage(svc, later.id), "dispatch": {"count": 0, "index": 0}}}
    assert [e.event for e in later.load(svc, with_timeline=True).timeline].count("vendors_ranked") == 1

    stalled = offered(svc, "unit-maple-2a", LEAK)  # failed while offered: ops retry at dispatch
    wait = workflow(svc).wait_token("triage", execution=stalled.id)
    triage_step(svc, stalled.id, {"work_order_id": stalled.id, "reopen": False, "resume_at": "dispatch"}, wait)
    answer = workflow(svc).output_for(wait)
    assert answer is not None and answer["outcome"] == "routed" and answer["state"]["dispatch"]["count"] == 2
    assert [e.event for e in stalled.load(svc, with_timeline=True).timeline].count("vendors_ranked") == 2

    failed_first = submit(svc, "unit-maple-2a", LEAK)  # its first execution failed before triage: retried there
    wait = workflow(svc).wait_token("triage", execution=failed_first.id)
    triage_step(svc, failed_first.id, {"work_order_id": failed_first.id, "reopen": False, "resume_at": "triage"},
                wait)
    answer = workflow(svc).output_for(wait)
    assert answer is not None and answer["outcome"] == "routed" and answer["state"]["dispatch"]["count"] == 2

