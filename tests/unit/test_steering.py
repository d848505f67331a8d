"""The restart steps of a failed lifecycle agree with the state machine's `ResumeAt` choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.domain.errors import InvalidTransition
from shared.domain.steering import RESUME_AT, resume_at
from shared.domain.workorder import MONEY_STATUSES, OPEN_STATUSES, Status

ASL = Path(__file__).resolve().parents[2] / "state_machines" / "work_order.asl.json"


def _resume_choices() -> dict[str, str]:
    states = json.loads(ASL.read_text())["States"]
    choice = states["ResumeAt"]
    # The triage step sends a routine new lifecycle to its first offer and every other job here (its detour).
    detour = next(c for c in states["Triage"]["Catch"] if c["ErrorEquals"] == ["Detour"])
    assert states[detour["Next"]]["Next"] == "ResumeAt"
    # An incident member first, then the restart steps, then an emergency; else (a retry at dispatch, ranked by
    # the triage step) the offer.
    first, *resumes, last = choice["Choices"]
    assert first == {"Variable": "$.triage.linked", "BooleanEquals": True, "Next": "JoinedIncident"}
    assert last == {"Variable": "$.triage.emergency", "BooleanEquals": True, "Next": "PageOnCall"}
    assert choice["Default"] == "OfferToVendor"
    found = {}
    for rule in resumes:
        present, equals = rule["And"]
        assert present == {"Variable": "$.resume_at", "IsPresent": True}
        found[equals["StringEquals"]] = rule["Next"]
        assert rule["Next"] in states
    return found


def test_every_restart_step_is_a_branch_of_the_state_machine() -> None:
    branches = _resume_choices()
    for stage in set(RESUME_AT.values()) - {"triage", "dispatch"}:
        assert stage in branches, stage
    assert branches["schedule"] == "AwaitSchedule" and branches["dispatch_reopened"] == "Reopen"


def test_every_status_a_lifecycle_runs_in_has_a_restart_step() -> None:
    running = (set(OPEN_STATUSES) | set(MONEY_STATUSES)) - {Status.CLOSED}
    assert {s for s in running if s not in RESUME_AT} == set()
    for ended in (Status.CLOSED, Status.CANCELLED, Status.ESCALATED):
        with pytest.raises(InvalidTransition):
            resume_at(ended)


def _template() -> dict:
    from infra.localcloud.template import load_template

    return load_template(ASL.parents[1] / "template.yaml")


def test_every_dead_letter_queue_with_a_source_is_redrivable_and_nothing_more() -> None:
    """DEAD_LETTER_QUEUES names exactly the template's RedrivePolicy targets; the API may move from those
    and send to their sources, no other queue."""
    import re

    resources = _template()["Resources"]
    sources = {name: r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
               for name, r in resources.items()
               if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]}
    api = resources["ApiFunction"]["Properties"]
    named = json.loads(re.sub(r"\$\{(\w+)\}", r"\1", api["Environment"]["Variables"]["DEAD_LETTER_QUEUES"]["Fn::Sub"]))
    assert sorted(named.values()) == sorted(sources.values())
    statements = {s["Sid"]: s for s in api["Policies"][0]["Statement"]}
    moved_from = [r["Fn::GetAtt"][0] for r in statements["RedriveDeadLetters"]["Resource"]]
    sent_to = [r["Fn::GetAtt"][0] for r in statements["RedriveToSourceQueues"]["Resource"]]
    assert sorted(moved_from) == sorted(sources.values())
    assert sorted(sent_to) == sorted(sources)
