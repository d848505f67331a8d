"""In-house technicians in dispatch (shared/domain/directory.py): working hours, and where staff rank among
vendors; and the rules of the ways forward from an escalation (shared/domain/steering.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from shared.domain.compliance import InsuranceRules
from shared.domain.directory import Property, Shift, Vendor, rank_vendors
from shared.domain.enums import Trade
from shared.domain.errors import InvalidTransition
from shared.domain.steering import RESUMABLE, restart_execution_name, resume_target, stalled_stage
from shared.domain.workorder import Status

MAPLE = Property(id="prop-maple", name="Maple", address="1 Main", service_area="north",
                 preferred_vendors={"plumbing": ["ven-pref"]}, time_zone="America/Chicago")
WEEKDAYS = [Shift(weekday=d, start="08:00", end="17:00") for d in range(5)]
STRICT = InsuranceRules(without_insurance="skip")  # a vendor without insurance is skipped: staff are not
WEDNESDAY_10_CHICAGO = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
WEDNESDAY_22_CHICAGO = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)


def _vendor(vid: str, **fields: object) -> Vendor:
    return Vendor(id=vid, name=vid, trades=[Trade.PLUMBING], service_areas=["north"], **fields)


def _tech(vid: str = "tech-sam", **fields: object) -> Vendor:
    return _vendor(vid, in_house=True, working_hours=WEEKDAYS, **fields)


def _rank(vendors: list[Vendor], at: datetime, emergency: bool) -> tuple[list[str], dict[str, str]]:
    ranking = rank_vendors(vendors, Trade.PLUMBING, MAPLE, on=date(2026, 12, 2), insurance=STRICT,
                           at=at, emergency=emergency)
    return ranking.candidates, ranking.skipped


@pytest.mark.parametrize("local,on_duty", [
    (datetime(2026, 12, 2, 8, 0), True), (datetime(2026, 12, 2, 16, 59), True), (datetime(2026, 12, 2, 17, 0), False),
    (datetime(2026, 12, 2, 7, 59), False), (datetime(2026, 12, 5, 10, 0), False),  # Saturday
])
def test_a_day_shift_covers_its_hours_on_its_weekdays(local: datetime, on_duty: bool) -> None:
    assert any(s.covers(local) for s in WEEKDAYS) is on_duty


def test_a_night_shift_runs_past_midnight_into_the_next_day() -> None:
    night = Shift(weekday=4, start="22:00", end="06:00")  # Friday night
    assert night.covers(datetime(2026, 12, 4, 23, 0)) and night.covers(datetime(2026, 12, 5, 5, 59))
    assert not night.covers(datetime(2026, 12, 5, 6, 0)) and not night.covers(datetime(2026, 12, 4, 21, 0))


def test_working_hours_are_read_in_the_technicians_zone_else_the_propertys() -> None:
    assert _tech().on_duty(WEDNESDAY_10_CHICAGO, "America/Chicago")
    assert not _tech().on_duty(WEDNESDAY_10_CHICAGO, "Asia/Tokyo")
    assert not _tech(time_zone="Asia/Tokyo").on_duty(WEDNESDAY_10_CHICAGO, "America/Chicago")
    assert _vendor("ven-a").on_duty(WEDNESDAY_22_CHICAGO, "UTC")  # a vendor is not held to hours


def test_staff_rank_after_the_preferred_vendor_before_others_without_an_insurance_check() -> None:
    vendors = [_vendor("ven-a"), _vendor("ven-pref"), _tech()]
    insured = {"insurance": {"expires_on": "2027-12-31"}}
    vendors = [Vendor.model_validate({**v.model_dump(), **({} if v.in_house else insured)}) for v in vendors]
    candidates, skipped = _rank(vendors, WEDNESDAY_10_CHICAGO, emergency=False)
    assert candidates == ["ven-pref", "tech-sam", "ven-a"] and skipped == {}


def test_an_off_duty_technician_is_offered_routine_work_but_not_an_emergency() -> None:
    assert _rank([_tech()], WEDNESDAY_22_CHICAGO, emergency=False)[0] == ["tech-sam"]
    assert _rank([_tech()], WEDNESDAY_22_CHICAGO, emergency=True) == ([], {"tech-sam": "in-house, off duty"})
    assert _rank([_tech()], WEDNESDAY_10_CHICAGO, emergency=True)[0] == ["tech-sam"]


# ---------------------------------------------------------------- ways forward: the rules
def test_a_job_stalls_at_the_stage_its_status_waits_in() -> None:
    assert stalled_stage(Status.ACCEPTED) == "schedule" and stalled_stage(Status.SCHEDULED) == "completion"
    assert stalled_stage(Status.VERIFIED) == "invoice" == stalled_stage(Status.INVOICE_AWAITED)
    assert stalled_stage(Status.OFFERED) is None and stalled_stage(None) is None


def test_resume_goes_back_to_a_reached_stage_only() -> None:
    assert resume_target("completion", Status.SCHEDULED, True, False) == Status.SCHEDULED
    assert resume_target("schedule", Status.SCHEDULED, True, False) == Status.ACCEPTED  # book the visit again
    assert resume_target("approval", Status.CODED, True, True) == Status.CODED
    for stage, stalled, assignee, invoice in (("completion", Status.ACCEPTED, True, False),
                                              ("schedule", Status.OFFERED, False, False),
                                              ("approval", Status.INVOICE_AWAITED, True, False),
                                              ("dispatch", Status.ACCEPTED, True, False)):
        with pytest.raises(InvalidTransition):
            resume_target(stage, stalled, assignee, invoice)


def test_every_resumable_stage_is_a_branch_of_the_state_machine_and_restarts_are_named() -> None:
    asl = Path(__file__).resolve().parents[2] / "state_machines" / "work_order.asl.json"
    choices = json.loads(asl.read_text())["States"]["ResumeAt"]["Choices"]
    branches = {rule["And"][1]["StringEquals"] for rule in choices if "And" in rule}
    assert set(RESUMABLE) <= branches
    assert restart_execution_name("wo-1", 2) == "wo-1-ops-2"
