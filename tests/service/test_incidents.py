"""Building incidents (shared/services/incidents.py): the first report of a building-wide fault is the
primary and is dispatched; later reports in the window join it, are not dispatched, and follow it."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.workorder import Status
from shared.services.container import Services
from shared.services.incidents import correlate, is_member, members, mirror
from shared.services.visits import vendor_schedule
from shared.services.workorders import answer_follow_up, cancel, start_lifecycle, triage, vendor_accept, vendor_complete
from tests.service.journeys import at, deliver, offered, submit, window

NO_HEAT = "There is no heat in my apartment, the radiators are cold"  # hvac emergency "no heat": building-wide
DRIP = "The bathroom faucet drips constantly"
HARBOR = ["unit-harbor-102", "unit-harbor-201", "unit-harbor-202"]


def report(svc: Services, unit_id: str, text: str = NO_HEAT) -> str:
    wo = submit(svc, unit_id, text)
    start_lifecycle(svc, wo.id)
    triage(svc, wo.id)
    return wo.id


def test_the_first_report_of_a_building_fault_opens_the_incident(svc: Services) -> None:
    first = report(svc, HARBOR[0])
    record = svc.repo.get_record("INCIDENT#prop-harbor#no-heat", "OPEN")
    assert record == {"PK": "INCIDENT#prop-harbor#no-heat", "SK": "OPEN", "primary": first, "rule": "no-heat",
                      "until": (svc.clock() + timedelta(minutes=360)).isoformat(), "members": [first]}
    primary = svc.repo.get_work_order(first)
    assert primary.incident_id == first and not is_member(primary)
    assert members(svc, primary) == []


def test_later_reports_in_the_window_join_and_are_not_dispatched(svc: Services) -> None:
    first = report(svc, HARBOR[0])
    svc.clock.advance(minutes=30)
    others = [report(svc, unit) for unit in HARBOR[1:]]
    primary = svc.repo.get_work_order(first)
    assert members(svc, primary) == others
    assert members(svc, svc.repo.get_work_order(others[0])) == []  # a member holds no incident of its own
    for wo_id in others:
        wo = svc.repo.get_work_order(wo_id)
        assert wo.incident_id == first and wo.status == Status.TRIAGED and is_member(wo)
    assert [d["incident_id"] for d in svc.events.of_type("WorkOrderTriaged")] == [first, first, first]


def test_a_report_after_the_window_opens_a_new_incident(svc: Services) -> None:
    first = report(svc, HARBOR[0])
    svc.clock.advance(minutes=361)
    later = report(svc, HARBOR[1])
    assert svc.repo.get_work_order(later).incident_id == later
    assert svc.repo.get_record("INCIDENT#prop-harbor#no-heat", "OPEN")["primary"] == later
    assert members(svc, svc.repo.get_work_order(first)) == []  # the old primary no longer holds the record


def test_a_report_after_the_primary_is_over_opens_a_new_incident(svc: Services) -> None:
    first = report(svc, HARBOR[0])
    cancel(svc, first, "Reported by mistake")
    later = report(svc, HARBOR[1])
    assert svc.repo.get_work_order(later).incident_id == later


def test_incidents_are_per_property_and_per_fault(svc: Services) -> None:
    harbor = report(svc, HARBOR[0])
    maple = report(svc, "unit-maple-1a")
    drip = report(svc, HARBOR[1], DRIP)
    assert svc.repo.get_work_order(maple).incident_id == maple  # another building: its own incident
    assert svc.repo.get_work_order(drip).incident_id is None  # not a building-wide fault
    assert members(svc, svc.repo.get_work_order(harbor)) == []
    assert correlate(svc, svc.repo.get_work_order(drip)) is None


def test_members_follow_the_primary_and_their_tenants_are_told(svc: Services) -> None:
    job = offered(svc, HARBOR[0], NO_HEAT)
    others = [report(svc, unit) for unit in HARBOR[1:]]
    vendor_accept(svc, job.vendor_token)
    deliver(svc, "VendorAccepted")
    for wo_id in others:
        wo = svc.repo.get_work_order(wo_id, with_timeline=True)
        assert (wo.status, wo.vendor_id) == (Status.ACCEPTED, job.vendor_id)
        assert any(e.event == "accepted" and e.detail == f"Building incident {job.id}: accepted"
                   for e in wo.timeline)

    primary = vendor_schedule(svc, job.vendor_token, at(window(svc, 0, 12)))
    deliver(svc, "VisitScheduled")
    for wo_id, unit_id in zip(others, HARBOR[1:], strict=True):
        wo = svc.repo.get_work_order(wo_id)
        assert (wo.status, wo.window) == (Status.SCHEDULED, primary.window)
        tenant = svc.repo.get_unit(unit_id).tenant
        assert any("will come to" in m.body for m in svc.messenger.sms_to(tenant.phone))
    assert [d["vendor_id"] for d in svc.events.of_type("VendorOffered")] == [job.vendor_id]  # one dispatch


def test_only_lifecycle_milestones_are_mirrored_and_ended_members_stay_ended(svc: Services) -> None:
    job = offered(svc, HARBOR[0], NO_HEAT)
    stays, leaves = report(svc, HARBOR[1]), report(svc, HARBOR[2])
    cancel(svc, leaves, "The tenant moved out")
    primary = svc.repo.get_work_order(job.id)
    assert mirror(svc, "VendorOffered", primary) == []
    vendor_accept(svc, job.vendor_token)
    updated = mirror(svc, "VendorAccepted", svc.repo.get_work_order(job.id))
    assert [w.id for w in updated] == [stays]
    assert svc.repo.get_work_order(leaves).status == Status.CANCELLED
    assert not is_member(svc.repo.get_work_order(leaves))
    assert mirror(svc, "VendorAccepted", svc.repo.get_work_order(job.id)) == []  # already there: no write


def test_a_member_that_is_not_fixed_goes_to_a_person(svc: Services) -> None:
    job = offered(svc, HARBOR[0], NO_HEAT)
    member = report(svc, HARBOR[1])
    vendor_accept(svc, job.vendor_token)
    vendor_schedule(svc, job.vendor_token, at(window(svc, 0, 12)))
    vendor_complete(svc, job.vendor_token, "Relit the boiler")
    deliver(svc)
    assert svc.repo.get_work_order(member).status == Status.COMPLETED

    wo = answer_follow_up(svc, member, resolved=False, comment="Still cold")
    assert wo.status == Status.ESCALATED and wo.reopen_count == 0
    entry = svc.repo.get_work_order(member, with_timeline=True).timeline[-1]
    assert (entry.event, entry.actor) == ("escalated", "tenant")
    assert entry.detail == f"Tenant says it is not fixed - Still cold (building incident {job.id})"
    assert svc.events.last("WorkOrderEscalated")["reason"] == "not_fixed"
    assert "WorkOrderReopened" not in svc.events.types()


def test_the_triage_step_routes_a_report_that_joined_an_incident_without_ranking_it(svc: Services) -> None:
    from shared.services.workorders import triage_step
    from tests.service.journeys import workflow

    report(svc, HARBOR[0])
    joined = submit(svc, HARBOR[1], NO_HEAT)
    start_lifecycle(svc, joined.id)
    wait = workflow(svc).wait_token("triage", execution=joined.id)
    triage_step(svc, joined.id, {"work_order_id": joined.id, "reopen": False}, wait)
    answer = workflow(svc).output_for(wait)
    assert answer is not None and answer["outcome"] == "routed" and answer["state"]["triage"]["linked"] is True
    assert answer["state"]["dispatch"] == {"count": 0, "index": 0}  # ResumeAt ends it: JoinedIncident
    assert svc.repo.get_work_order(joined.id).candidates == []

