import itertools
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from shared.domain.compliance import InsuranceRules
from shared.domain.directory import Contact, Property, Vendor, VendorStats, rank_vendors
from shared.domain.enums import Hazard, Priority, Trade
from shared.domain.errors import InvalidTransition
from shared.domain.workorder import (
    MONEY_STATUSES,
    OPEN_STATUSES,
    TRANSITIONS,
    Offer,
    SafetyQuestion,
    Status,
    Window,
    WorkOrder,
    held_triage_change,
    new_work_order_id,
    question_to_answer,
    tenant_actions,
    vendor_actions,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def wo(**kw) -> WorkOrder:
    base = dict(id="wo-1", property_id="p1", unit_id="u1", tenant=Contact(name="T"), description="leak",
                created_at=NOW, updated_at=NOW)
    return WorkOrder(**{**base, **kw})


def test_happy_path_transitions_are_allowed():
    path = [Status.RECEIVED, Status.TRIAGED, Status.OFFERED, Status.ACCEPTED, Status.SCHEDULED, Status.COMPLETED,
            Status.VERIFIED]
    for current, nxt in itertools.pairwise(path):
        wo(status=current).require_transition(nxt)


@pytest.mark.parametrize("current,target", [
    (Status.RECEIVED, Status.ACCEPTED), (Status.OFFERED, Status.COMPLETED), (Status.VERIFIED, Status.REOPENED),
    (Status.CANCELLED, Status.OFFERED), (Status.ESCALATED, Status.OFFERED), (Status.COMPLETED, Status.SCHEDULED),
])
def test_disallowed_transitions_raise_conflict(current, target):
    with pytest.raises(InvalidTransition):
        wo(status=current).require_transition(target)


def test_every_open_status_can_escalate_or_cancel_and_terminal_cannot_move():
    for status, targets in TRANSITIONS.items():
        if status in OPEN_STATUSES:  # the repair is under way
            assert {Status.ESCALATED, Status.CANCELLED} <= targets
        elif status in MONEY_STATUSES - {Status.CLOSED}:  # the money side: ops may escalate or close
            assert {Status.ESCALATED, Status.CLOSED} <= targets and Status.CANCELLED not in targets
        elif status != Status.ESCALATED:
            assert not targets  # closed, cancelled: nothing
    assert not TRANSITIONS[Status.CLOSED] and not TRANSITIONS[Status.CANCELLED]
    # escalated: ops close or cancel it, or put it back on a waiting step (shared/services/escalations.py)
    assert TRANSITIONS[Status.ESCALATED] == {Status.CLOSED, Status.CANCELLED, Status.TRIAGED, Status.ACCEPTED,
                                             Status.SCHEDULED, Status.COMPLETED, Status.INVOICE_AWAITED,
                                             Status.CODED}
    # The money side runs in order: verified -> invoice awaited -> coded -> approved -> billed -> closed.
    chain = [Status.VERIFIED, Status.INVOICE_AWAITED, Status.CODED, Status.APPROVED, Status.BILLED, Status.CLOSED]
    for here, there in pairwise(chain):
        assert there in TRANSITIONS[here]
    assert Status.INVOICE_AWAITED in TRANSITIONS[Status.CODED]  # a rejected invoice goes back to the vendor


def test_vendor_actions_follow_state_and_identity():
    offer = Offer(vendor_id="v1", index=0, task_token="t", offered_at=NOW, expires_at=NOW)
    assert vendor_actions(wo(status=Status.OFFERED, offer=offer), "v1") == ["accept", "decline"]
    assert vendor_actions(wo(status=Status.OFFERED, offer=offer), "v2") == []
    assert vendor_actions(wo(status=Status.ACCEPTED, vendor_id="v1"), "v1") == ["schedule", "propose"]
    assert vendor_actions(wo(status=Status.SCHEDULED, vendor_id="v1"), "v1") == ["schedule", "propose", "checkin",
                                                                                 "complete"]
    assert vendor_actions(wo(status=Status.SCHEDULED, vendor_id="v1"), "v2") == []
    assert tenant_actions(wo(status=Status.COMPLETED)) == ["feedback"]
    assert tenant_actions(wo(status=Status.SCHEDULED)) == []


def test_tenant_visit_actions_follow_the_proposal_the_window_and_the_check_in():
    later = Window(start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))
    started = Window(start=NOW - timedelta(minutes=30), end=NOW + timedelta(hours=1))
    assert tenant_actions(wo(status=Status.ACCEPTED, proposal=later), NOW) == ["confirm", "decline"]
    assert tenant_actions(wo(status=Status.SCHEDULED, window=later), NOW) == ["reschedule"]
    assert tenant_actions(wo(status=Status.SCHEDULED, window=later, proposal=later), NOW) == [
        "confirm", "decline", "reschedule"]
    assert tenant_actions(wo(status=Status.SCHEDULED, window=started), NOW) == ["reschedule", "no_show"]
    passed = Window(start=NOW - timedelta(hours=4), end=NOW - timedelta(hours=2))
    assert tenant_actions(wo(status=Status.ACCEPTED, proposal=passed), NOW) == ["decline"]
    assert tenant_actions(wo(status=Status.ACCEPTED, proposal=passed), passed.end) == ["decline"]
    assert tenant_actions(wo(status=Status.ACCEPTED, proposal=passed), passed.start) == ["confirm", "decline"]
    assert tenant_actions(wo(status=Status.SCHEDULED, window=started, arrived_at=NOW), NOW) == ["reschedule"]
    assert tenant_actions(wo(status=Status.SCHEDULED, window=started, visit_missed=True), NOW) == ["reschedule"]


def test_the_safety_question_is_open_while_unanswered_and_the_work_is_not_done():
    asked = SafetyQuestion(hazard=Hazard.WATER, asked_at=NOW)
    assert wo(status=Status.OFFERED, safety_question=asked).asking_safety
    assert wo(status=Status.SCHEDULED, safety_question=asked).asking_safety
    assert not wo(status=Status.OFFERED, safety_question=asked.model_copy(update={"answer": "no"})).asking_safety
    for done in (Status.COMPLETED, Status.VERIFIED, Status.CLOSED, Status.CANCELLED):
        assert not wo(status=done, safety_question=asked).asking_safety, done
    assert not wo(status=Status.OFFERED).asking_safety


def test_a_yes_or_no_answers_the_newest_question_whatever_its_kind():
    later = Window(start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=2))
    asked = SafetyQuestion(hazard=Hazard.WATER, asked_at=NOW - timedelta(hours=3))
    safety = wo(id="wo-s", status=Status.OFFERED, safety_question=asked)
    done = wo(id="wo-d", status=Status.COMPLETED, completed_at=NOW - timedelta(hours=2))
    proposed = wo(id="wo-p", status=Status.ACCEPTED, proposal=later, proposed_at=NOW - timedelta(hours=1))

    def answered(*mine: WorkOrder) -> tuple[str, str] | None:
        question = question_to_answer(list(mine), NOW)
        return (question.kind, question.work_order.id) if question else None

    assert answered() is None and answered(wo(status=Status.OFFERED)) is None
    assert answered(safety) == ("safety", "wo-s")
    assert answered(safety, done) == ("feedback", "wo-d")  # "is it fixed?" was asked after the safety question
    assert answered(done, proposed) == ("proposal", "wo-p")  # the visit time was proposed after the completion
    assert answered(proposed, done, safety) == ("proposal", "wo-p")
    earlier = proposed.model_copy(update={"proposed_at": NOW - timedelta(hours=5)})
    assert answered(earlier, done) == ("feedback", "wo-d")
    gone = Window(start=NOW - timedelta(hours=3), end=NOW - timedelta(hours=2))
    passed = proposed.model_copy(update={"proposal": gone})
    assert answered(passed, safety) == ("safety", "wo-s")  # a time that has passed is no question any more
    answered_safety = safety.model_copy(update={"safety_question": asked.model_copy(update={"answer": "no"})})
    assert answered(answered_safety) is None


def test_the_workflows_triage_is_behind_when_the_trade_or_the_priority_changed():
    job = wo(trade=Trade.PLUMBING, priority=Priority.EMERGENCY)
    assert held_triage_change({"trade": "plumbing", "priority": "emergency", "timeouts": {}}, job) is None
    assert held_triage_change({"trade": "plumbing", "priority": "routine"}, job) == "retimed"
    assert held_triage_change({"trade": "general", "priority": "routine"}, job) == "retriaged"
    assert held_triage_change({"trade": "general", "priority": "emergency"}, job) == "retriaged"
    assert held_triage_change({"trade": "plumbing", "priority": "routine"}, wo()) is None  # not triaged yet


def test_visit_time_is_a_tenant_window_an_iso_pair_or_local_date_and_times():
    from zoneinfo import ZoneInfo

    from pydantic import ValidationError

    from shared.schemas import Propose, Schedule

    zone = ZoneInfo("America/Chicago")
    windows = [Window(start=NOW, end=NOW + timedelta(hours=2))]
    assert Schedule.model_validate({"window": 0}).resolve(windows, zone) == windows[0]
    local = Propose.model_validate({"date": "2026-12-01", "start_time": "09:00", "end_time": "11:30"}).resolve([], zone)
    assert local.start.isoformat() == "2026-12-01T09:00:00-06:00" and local.end.hour == 11
    with pytest.raises(ValueError, match="no tenant window 1"):
        Schedule.model_validate({"window": 1}).resolve(windows, zone)
    for bad in ({}, {"window": 0, "start": NOW.isoformat()}, {"date": "2026-12-01", "start_time": "09:00"},
                {"date": "2026-12-01", "start_time": "11:00", "end_time": "09:00"},
                {"start": "2026-12-01T09:00:00", "end": "2026-12-01T11:00:00"}):
        with pytest.raises(ValidationError):
            Schedule.model_validate(bad)
    with pytest.raises(ValidationError, match="schedule it instead"):
        Propose.model_validate({"window": 0})


def test_nte_comes_from_the_rules_with_property_overrides_first():
    from shared.domain.enums import Priority
    from shared.domain.nte import NteRules, money, rules

    assert rules().amount(Trade.PLUMBING, Priority.EMERGENCY, "any") == (150000, "USD")
    custom = NteRules(version="t", currency="USD", default={"routine": 100}, trades={"plumbing": {"routine": 200}},
                      properties={"p1": {"plumbing": {"routine": 300}, "*": {"routine": 400}}})
    assert custom.amount(Trade.PLUMBING, Priority.ROUTINE, "p1") == (300, "USD")
    assert custom.amount(Trade.HVAC, Priority.ROUTINE, "p1") == (400, "USD")
    assert custom.amount(Trade.PLUMBING, Priority.ROUTINE, "p2") == (200, "USD")
    assert custom.amount(Trade.HVAC, Priority.ROUTINE, "p2") == (100, "USD")
    assert money(123456, "USD") == "1,234.56 USD" and money(5, "EUR") == "0.05 EUR"


def test_ids_are_unique_and_sortable():
    ids = [new_work_order_id() for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(i.startswith("wo-") and len(i) < 80 for i in ids)


def vendor(vid, trades=("plumbing",), areas=("north",), available=True, offers=0, accepted=0):
    return Vendor(id=vid, name=vid, trades=list(trades), service_areas=list(areas), available=available,
                  stats=VendorStats(offers=offers, accepted=accepted))


def test_ranking_prefers_recall_vendor_then_property_preference_then_availability_then_score():
    prop = Property(id="p1", name="P", address="1 Main", service_area="north",
                    preferred_vendors={"plumbing": ["pref"]})
    vendors = [
        vendor("good", offers=10, accepted=9), vendor("poor", offers=10, accepted=1),
        vendor("busy", available=False, offers=10, accepted=10), vendor("pref", offers=10, accepted=0),
        vendor("elsewhere", areas=("south",)), vendor("sparky", trades=("electrical",)), vendor("previous"),
    ]
    today, policy = date(2026, 12, 3), InsuranceRules()
    assert rank_vendors(vendors, Trade.PLUMBING, prop, today, policy).candidates == [
        "pref", "good", "previous", "poor", "busy"]
    assert rank_vendors(vendors, Trade.PLUMBING, prop, today, policy,
                        previous_vendor_id="previous").candidates[0] == "previous"
    assert rank_vendors(vendors, Trade.HVAC, prop, today, policy).candidates == []


def test_stage_timers_come_from_data_and_overrides():
    from shared.config import timeouts
    from shared.domain.enums import Priority

    base = timeouts("{}")
    assert base.for_priority(Priority.EMERGENCY) == {"offer": 900, "schedule": 1800, "completion": 43200,
                                                     "followup": 172800, "invoice": 604800, "approval": 86400}
    assert timeouts('{"accept": {"urgent": 2}}').for_priority(Priority.URGENT)["offer"] == 2
    assert base.arrive_grace(Priority.ROUTINE) == 7200 and base.reminders_before_visit == [86400, 3600]
    assert timeouts('{"arrive": {"urgent": 60}}').arrive_grace(Priority.URGENT) == 60
    for bad in ('{"arrival": {"urgent": 1}}', '{"accept": {"urgent": 0}}', "not json"):
        with pytest.raises(ValueError):
            timeouts(bad)
