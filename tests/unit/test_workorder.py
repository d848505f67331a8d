import itertools
from datetime import UTC, datetime
from itertools import pairwise

import pytest

from shared.domain.directory import Contact, Property, Vendor, VendorStats, rank_vendors
from shared.domain.enums import Trade
from shared.domain.errors import InvalidTransition
from shared.domain.workorder import (
    MONEY_STATUSES,
    OPEN_STATUSES,
    TRANSITIONS,
    Offer,
    Status,
    WorkOrder,
    new_work_order_id,
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
    (Status.CANCELLED, Status.OFFERED), (Status.ESCALATED, Status.CANCELLED), (Status.COMPLETED, Status.SCHEDULED),
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
        else:
            assert targets <= {Status.CLOSED}  # closed, cancelled: nothing; escalated: ops may close it
    assert not TRANSITIONS[Status.CLOSED] and not TRANSITIONS[Status.CANCELLED]
    assert TRANSITIONS[Status.ESCALATED] == {Status.CLOSED}
    # The money side runs in order: verified -> invoice awaited -> coded -> approved -> billed -> closed.
    chain = [Status.VERIFIED, Status.INVOICE_AWAITED, Status.CODED, Status.APPROVED, Status.BILLED, Status.CLOSED]
    for here, there in pairwise(chain):
        assert there in TRANSITIONS[here]
    assert Status.INVOICE_AWAITED in TRANSITIONS[Status.CODED]  # a rejected invoice goes back to the vendor


def test_vendor_actions_follow_state_and_identity():
    offer = Offer(vendor_id="v1", index=0, task_token="t", offered_at=NOW, expires_at=NOW)
    assert vendor_actions(wo(status=Status.OFFERED, offer=offer), "v1") == ["accept", "decline"]
    assert vendor_actions(wo(status=Status.OFFERED, offer=offer), "v2") == []
    assert vendor_actions(wo(status=Status.ACCEPTED, vendor_id="v1"), "v1") == ["schedule"]
    assert vendor_actions(wo(status=Status.SCHEDULED, vendor_id="v1"), "v1") == ["schedule", "checkin", "complete"]
    assert vendor_actions(wo(status=Status.SCHEDULED, vendor_id="v1"), "v2") == []
    assert tenant_actions(wo(status=Status.COMPLETED)) == ["feedback"]
    assert tenant_actions(wo(status=Status.SCHEDULED)) == []


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
    assert rank_vendors(vendors, Trade.PLUMBING, prop) == ["pref", "good", "previous", "poor", "busy"]
    assert rank_vendors(vendors, Trade.PLUMBING, prop, previous_vendor_id="previous")[0] == "previous"
    assert rank_vendors(vendors, Trade.HVAC, prop) == []


def test_stage_timers_come_from_data_and_overrides():
    from shared.config import timeouts
    from shared.domain.enums import Priority

    base = timeouts("{}")
    assert base.for_priority(Priority.EMERGENCY) == {"offer": 900, "schedule": 1800, "completion": 43200,
                                                     "followup": 172800, "invoice": 604800, "approval": 86400}
    assert timeouts('{"accept": {"urgent": 2}}').for_priority(Priority.URGENT)["offer"] == 2
    for bad in ('{"arrive": {"urgent": 1}}', '{"accept": {"urgent": 0}}', "not json"):
        with pytest.raises(ValueError):
            timeouts(bad)
