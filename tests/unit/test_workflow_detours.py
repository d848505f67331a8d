"""The state machine's waits and the workflow port agree on detours: an expected answer succeeds the wait and
the machine goes straight on to the next step (no billed Choice state after a wait); a detour fails it with
the error `Detour` (shared/adapters/messaging.py), which every wait that can get one catches."""

from __future__ import annotations

import json
from pathlib import Path

from shared.adapters.messaging import DETOUR, DETOURS

ASL = Path(__file__).resolve().parents[2] / "state_machines" / "work_order.asl.json"
STATES = json.loads(ASL.read_text())["States"]
WAITS = {name: s for name, s in STATES.items() if s.get("Resource", "").endswith(".waitForTaskToken")}
# The detours each wait can get (shared/services: the triage step off the routine path, vendor_decline, the offer
# step past the ranked candidates or on an out-of-date triage, corrections.retriage, the tenant's "not fixed",
# close without an invoice, an invoice decided by a person).
GETS = {"Triage": {"routed"}, "OfferToVendor": {"declined", "exhausted", "retriaged", "retimed"},
        "AwaitSchedule": {"retriaged", "retimed"},
        "AwaitCompletion": set(), "AwaitFollowUp": {"not_resolved"}, "AwaitInvoice": {"closed"},
        "CodeInvoice": {"approved", "rejected", "closed"}, "AwaitApproval": {"approved", "rejected", "closed"}}


def _answered(name: str, outcome: str) -> str:
    """Where a detour `outcome` of wait `name` goes: through the Catch, its answer Pass and its Choice."""
    catch = next(c for c in STATES[name]["Catch"] if DETOUR in c["ErrorEquals"])
    target = catch["Next"]
    if STATES[target].get("OutputPath", "$").startswith("$.answer."):  # hands on the state its answer carries
        return STATES[target]["Next"]
    if STATES[target]["Type"] == "Pass" and "answer.$" in STATES[target].get("Parameters", {}):
        assert STATES[target]["Parameters"]["answer.$"] == f"States.StringToJson({catch['ResultPath']}.Cause)"
        choice = STATES[STATES[target]["Next"]]
        rule = next((r for r in choice["Choices"] if r.get("StringEquals") == outcome), None)
        assert rule is None or rule["Variable"] == f"{catch['ResultPath']}.answer.outcome"
        return rule["Next"] if rule else choice["Default"]
    return target


def test_every_wait_goes_straight_on_and_catches_the_detours_it_can_get_first() -> None:
    assert set(WAITS) == set(GETS)
    assert set().union(*GETS.values()) == DETOURS
    for name, wait in WAITS.items():
        assert wait.get("End") or STATES[wait["Next"]]["Type"] == "Task", name  # no Choice after an expected answer
        errors = [c["ErrorEquals"] for c in wait["Catch"]]
        assert errors[-1] == ["States.ALL"], name
        if GETS[name]:
            assert errors[0] == [DETOUR], name


def test_each_detour_goes_where_its_answer_used_to() -> None:
    expected = {("Triage", "routed"): "ResumeAt", ("OfferToVendor", "declined"): "NextCandidate",
                ("OfferToVendor", "exhausted"): "NoVendorLeft",
                ("OfferToVendor", "retriaged"): "RetriagedWhileOffered",
                ("OfferToVendor", "retimed"): "RetimedWhileOffered",
                ("AwaitSchedule", "retriaged"): "RetriagedWhileAccepted",
                ("AwaitSchedule", "retimed"): "RetimedWhileAccepted", ("AwaitFollowUp", "not_resolved"): "Reopen",
                ("AwaitInvoice", "closed"): "Closed", ("CodeInvoice", "approved"): "PostBill",
                ("CodeInvoice", "rejected"): "AwaitInvoice", ("CodeInvoice", "closed"): "Closed",
                ("AwaitApproval", "approved"): "PostBill", ("AwaitApproval", "rejected"): "AwaitInvoice",
                ("AwaitApproval", "closed"): "Closed"}
    assert {(w, o): _answered(w, o) for w, outcomes in GETS.items() for o in outcomes} == expected
    for name in ("RetriagedWhileOffered", "RetimedWhileOffered", "RetriagedWhileAccepted", "RetimedWhileAccepted"):
        source = "$.offer" if "Offered" in name else "$.schedule"
        assert all(v.startswith(f"{source}.answer.triage.") for v in STATES[name]["Parameters"].values()), name


def test_an_expired_offer_answers_like_a_detour() -> None:
    expired = STATES["OfferExpired"]
    assert expired["ResultSelector"] == {"answer": {"outcome.$": "$.Payload.outcome"}}
    assert expired["ResultPath"] == "$.offer" and expired["Next"] == "OfferOutcome"
    rules = {r["StringEquals"]: r["Next"] for r in STATES["OfferOutcome"]["Choices"]}
    assert rules["accepted"] == "AwaitSchedule"  # accepted as the offer expired


def test_the_coding_step_ends_the_routine_lifecycle_and_parks_like_the_approval_wait() -> None:
    """Approved at once, the coding step bills and closes, and answers its own wait: the lifecycle ends there.
    Otherwise it is the approval wait: same timer, same reminders, same answers."""
    code, wait = STATES["CodeInvoice"], STATES["AwaitApproval"]
    assert code["End"] is True and code["Parameters"]["Payload"]["action"] == "code"
    assert code["TimeoutSecondsPath"] == wait["TimeoutSecondsPath"]
    assert [(c["ErrorEquals"], c["Next"], c["ResultPath"]) for c in code["Catch"]] == \
        [(c["ErrorEquals"], c["Next"], c["ResultPath"]) for c in wait["Catch"]]


def test_the_triage_step_answers_with_the_state_the_rest_of_the_workflow_reads() -> None:
    """Both of the triage step's answers carry the execution's state (with $.triage and $.dispatch set): the
    routine one goes straight to the first offer, the detour through its Pass to ResumeAt, each handing on the
    state itself, not the answer around it."""
    triage, answer = STATES["Triage"], STATES["TriageAnswer"]
    assert (triage["ResultPath"], triage["OutputPath"], triage["Next"]) == ("$", "$.state", "OfferToVendor")
    assert triage["Parameters"]["Payload"]["state.$"] == "$"
    assert answer["Parameters"] == {"answer.$": "States.StringToJson($.triaged.Cause)"}
    assert (answer["ResultPath"], answer["OutputPath"], answer["Next"]) == ("$", "$.answer.state", "ResumeAt")
    # Every way to an offer has ranked first: the triage step, or RankVendors on a reopen or a correction.
    into_offer = {name for name, s in STATES.items() if s.get("Next") == "OfferToVendor" or s.get("Default") ==
                  "OfferToVendor" or any(c.get("Next") == "OfferToVendor" for c in s.get("Choices", []))}
    assert into_offer == {"Triage", "ResumeAt", "PageOnCall", "IsEmergency", "RetimedWhileOffered", "NextCandidate"}
    assert STATES["RankVendors"]["Next"] == "IsEmergency"
