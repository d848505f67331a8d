"""Triage on the local cloud (real template, real handlers): the safety question when triage is unsure
(asked by the request's channel, answered by SMS, by the status page's buttons, or not at all), and ops
correcting a triage (dispatched again to the new trade, the tenant told, the example exported)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest

from infra.cli import main as cli
from tests.integration.conftest import UNITS, VENDORS, U, eventually
from tests.integration.test_lifecycle import STATUS_LINK, offers, record, submit, tenant_messages, wait_offer
from tests.integration.test_sms import eum, newest_sms_wo, sms_to, sms_wo_ids, twilio

pytestmark = pytest.mark.integration
GROUP = "opslayer-test-visits"  # the template's one-time timers group for Stage "test"


@pytest.fixture(scope="module", autouse=True)
def _settle(request):
    yield
    request.getfixturevalue("stack").cloud.wait_idle(timeout=20)


def timeline(api, ops_headers, wo_id: str) -> list[dict]:
    return record(api, ops_headers, wo_id)["timeline"]


def paged(stack, wo_id: str) -> list[dict]:
    """The on-call page (the property's on-call contact, else the portfolio's)."""
    return [m for m in stack.cloud.outbox() if m["body"].startswith("EMERGENCY") and wo_id in m["body"]]


def question_to(stack, unit_id: str, wo_id: str) -> list[dict]:
    return [m for m in tenant_messages(stack, unit_id, wo_id) if "Reply YES or NO" in m["body"]
            or "Responda SÍ o NO" in m["body"]]


def test_an_unsure_text_is_asked_by_text_and_yes_makes_it_an_emergency(stack, api, ops_headers):
    unit = U("unit-maple-1b")
    tenant = UNITS[unit].tenant
    before = sms_wo_ids(api, ops_headers)
    eum(stack, tenant.phone, "The heat is not working")  # not an emergency as written, and unsure: is it freezing?
    wo = newest_sms_wo(api, ops_headers, unit, before)
    asked = eventually(lambda: question_to(stack, unit, wo["id"]))
    assert {m["channel"] for m in asked} == {"sms"}  # by the channel it came in on, not also by email
    assert "freezing" in asked[0]["body"]
    # Asking holds nothing: the job is offered at its priority while the tenant is asked.
    wait_offer(stack, wo["id"])
    rec = record(api, ops_headers, wo["id"])
    assert rec["priority"] != "emergency" and rec["safety_question"]["answer"] is None
    assert any(e["event"] == "safety_question" for e in rec["timeline"])

    reply = twilio(stack, api, tenant.phone, "YES").text
    assert "emergency" in reply and wo["id"] in reply
    eventually(lambda: record(api, ops_headers, wo["id"])["priority"] == "emergency")
    eventually(lambda: paged(stack, wo["id"]))  # on-call paged at once
    # The waiting offer was withdrawn and made again on the emergency timers.
    eventually(lambda: len(offers(stack, wo["id"])) >= 2)
    events = [e["event"] for e in timeline(api, ops_headers, wo["id"])]
    assert "safety_answered" in events and "safety_raised" in events
    # A second answer finds no open question: it changes nothing.
    twilio(stack, api, tenant.phone, "NO")
    rec = record(api, ops_headers, wo["id"])
    assert rec["safety_question"]["answer"] == "yes" and rec["priority"] == "emergency"


def test_no_answer_in_time_makes_a_water_question_an_emergency(stack, api, ops_headers):
    unit = U("unit-maple-2b")
    wo_id = submit(api, unit, "The bathroom sink is leaking under the cabinet")["id"]
    # A web request: asked by text and by email.
    eventually(lambda: {m["channel"] for m in question_to(stack, unit, wo_id)} == {"sms", "email"})
    assert record(api, ops_headers, wo_id)["priority"] != "emergency"
    schedule = eventually(lambda: _schedule(stack, f"{wo_id}-safety"))
    assert schedule["Target"]["Input"] and "safety_unanswered" in schedule["Target"]["Input"]
    fired = stack.cloud.fire_schedule(f"{wo_id}-safety", group=GROUP)
    assert fired.error is None
    rec = eventually(lambda: (r := record(api, ops_headers, wo_id))["priority"] == "emergency" and r)
    assert rec["safety_question"]["answer"] == "no_answer" and rec["hazard"] == "water"
    assert "no answer to the safety question" in rec["emergency_reason"]
    eventually(lambda: paged(stack, wo_id))
    eventually(lambda: any("now handled as EMERGENCY" in m["body"] for m in tenant_messages(stack, unit, wo_id)))
    # The timer again (a duplicate delivery) changes nothing.
    assert stack.cloud.fire_schedule(f"{wo_id}-safety", group=GROUP).error is None
    assert [e["event"] for e in timeline(api, ops_headers, wo_id)].count("safety_unanswered") == 1


def _schedule(stack, name: str) -> dict | None:
    scheduler = stack.cloud.client("scheduler")
    try:
        return scheduler.get_schedule(Name=name, GroupName=GROUP)
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def test_the_status_page_asks_with_buttons_and_no_keeps_the_priority(stack, api, ops_headers):
    unit = U("unit-harbor-202")
    wo_id = submit(api, unit, "Water on the bathroom floor, not sure where from")["id"]
    body = eventually(lambda: next((m["body"] for m in question_to(stack, unit, wo_id)), None))
    token = STATUS_LINK.search(body).group(2)
    page = api.get(f"/requests/{wo_id}?token={token}", headers={"Accept": "text/html"})
    assert page.status == 200 and 'name="answer" value="yes"' in page.text and 'value="no"' in page.text
    assert api.get(f"/requests/{wo_id}?token={token}").json()["safety_question"]["question"]
    priority = record(api, ops_headers, wo_id)["priority"]
    form = api.call("POST", f"/requests/{wo_id}/safety?token={token}", raw="answer=no",
                    headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
    assert form.status == 303
    rec = record(api, ops_headers, wo_id)
    assert rec["priority"] == priority and rec["safety_question"]["answer"] == "no"
    assert any(e["event"] == "safety_answered" and "NO by the status page" in e["detail"] for e in rec["timeline"])
    again = api.post(f"/requests/{wo_id}/safety?token={token}", {"answer": "yes"})
    assert again.status == 409 and again.json()["message"]
    bad = api.post(f"/requests/{wo_id}/safety?token={token}", {"answer": "maybe"})
    assert bad.status == 422 and bad.json()["details"][0]["field"] == "answer"
    assert api.post(f"/requests/{wo_id}/safety?token=olk1_forged", {"answer": "yes"}).status == 403
    page = api.get(f"/requests/{wo_id}?token={token}", headers={"Accept": "text/html"})
    assert 'name="answer"' not in page.text  # answered: no more buttons


def test_ops_correct_a_triage_the_job_goes_to_the_new_trade_and_the_example_is_kept(stack, api, ops_headers,
                                                                                     served):
    unit = U("unit-maple-3b")
    text = f"The sliding door to the patio will not close all the way {uuid.uuid4().hex[:6]}"
    wo_id = submit(api, unit, text)["id"]
    first_vendor, _ = wait_offer(stack, wo_id)
    trade = record(api, ops_headers, wo_id)["trade"]
    # (not locksmith: a PMS scenario deletes the demo's only locksmith, and the suite runs in any order)
    new_trade = "general" if trade != "general" else "glazing_doors"
    bad = api.post(f"/ops/work-orders/{wo_id}/triage", {"trade": "carpentry", "priority": "urgent",
                                                        "reason": "wrong trade"}, headers=ops_headers)
    assert bad.status == 422 and {d["field"] for d in bad.json()["details"]} == {"trade"}
    assert api.post(f"/ops/work-orders/{wo_id}/triage", {"trade": new_trade, "priority": "urgent",
                                                         "reason": "x" * 3}).status in (401, 403)
    done = api.post(f"/ops/work-orders/{wo_id}/triage", {"trade": new_trade, "priority": "urgent",
                                                         "reason": "The track needs a handyman"},
                    headers=ops_headers)
    assert done.status == 200, done.body
    assert done.json() | {"id": wo_id} == {"id": wo_id, "status": "triaged", "trade": new_trade,
                                           "priority": "urgent", "redispatched": True, "tenant_told": True}
    # Offered again, to a vendor of the new trade; the first vendor is told the job was withdrawn.
    vendor_id, _ = eventually(lambda: len(offers(stack, wo_id)) >= 2 and offers(stack, wo_id)[0])  # newest first
    assert new_trade in [t.value for t in VENDORS[vendor_id].trades]
    first = VENDORS[first_vendor]
    eventually(lambda: any(m["to"] in (first.phone, first.email) and "reassigned after a review" in m["body"]
                           for m in stack.cloud.outbox() if wo_id in m["body"]))
    eventually(lambda: any("our team reviewed your request" in m["body"]
                           for m in tenant_messages(stack, unit, wo_id)))
    rec = record(api, ops_headers, wo_id)
    assert rec["triage_corrections"][-1]["after"] == {"trade": new_trade, "priority": "urgent"}
    assert any(e["event"] == "triage_corrected" and e["actor"] == "ops:key" for e in rec["timeline"])
    same = api.post(f"/ops/work-orders/{wo_id}/triage", {"trade": new_trade, "priority": "urgent",
                                                         "reason": "again"}, headers=ops_headers)
    assert same.status == 409

    exported = api.get("/ops/triage/corrections", headers=ops_headers).json()["corrections"]
    mine = [c for c in exported if c["work_order_id"] == wo_id]
    assert mine and mine[0]["text"] == text and mine[0]["after"]["trade"] == new_trade


def test_the_cli_corrects_and_exports_through_the_api(stack, api, ops_headers, served, tmp_path):
    unit = U("unit-harbor-301")
    wo_id = submit(api, unit, f"Hallway ceiling light flickers {uuid.uuid4().hex[:6]}")["id"]
    wait_offer(stack, wo_id)
    assert cli(["triage", "correct", wo_id, "--trade", "electrical", "--priority", "emergency",
                "--reason", "sparks seen by the super", "--url", served]) == 0
    rec = eventually(lambda: (r := record(api, ops_headers, wo_id))["priority"] == "emergency" and r)
    assert rec["emergency_reason"] == "sparks seen by the super"
    eventually(lambda: paged(stack, wo_id))
    out = tmp_path / "corrections.jsonl"
    assert cli(["triage", "export", "--url", served, "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert any(f"ops-{wo_id}-" in line and '"priority": "emergency"' in line for line in lines)
    assert re.search(r'"was": \{"trade": "\w+", "priority": "\w+"', lines[-1])


def test_a_spanish_text_gets_the_question_in_spanish_and_si_answers_it(stack, api, ops_headers):
    unit = U("unit-maple-1a")
    tenant = UNITS[unit].tenant
    before = sms_wo_ids(api, ops_headers)
    eum(stack, tenant.phone, "Sale agua debajo del lavabo")  # no saved preference: Spanish read from the text
    wo = newest_sms_wo(api, ops_headers, unit, before)
    asked = eventually(lambda: question_to(stack, unit, wo["id"]))
    assert "Responda SÍ o NO" in asked[0]["body"] and "¿El agua se sigue extendiendo" in asked[0]["body"]
    reply = twilio(stack, api, tenant.phone, "sí").text
    assert "emergencia" in reply
    eventually(lambda: record(api, ops_headers, wo["id"])["priority"] == "emergency")
    assert any(m["channel"] == "sms" for m in sms_to(stack, tenant.phone))


def test_a_relabel_between_two_offers_puts_the_next_offer_on_the_new_timers(stack, api, ops_headers):
    """No wait is there to resume between two offers, so the offer step checks the triage the workflow holds:
    behind on the priority, it hands the new one back (RetimedWhileOffered) and the next vendor is offered
    the job on the emergency timers."""
    from shared.domain.enums import Priority

    unit = U("unit-maple-2a")
    wo_id = submit(api, unit, "Kitchen faucet has a slow drip, not urgent")["id"]
    _, token = wait_offer(stack, wo_id)
    first = stack.repo.get_work_order(wo_id)
    assert first.priority is not Priority.EMERGENCY and first.offer is not None
    # The relabel a safety YES or an ops correction makes while no wait can be resumed (as in the gap
    # between the decline and the next offer): the workflow is not told.
    stack.repo.save(first.model_copy(update={"priority": Priority.EMERGENCY}), first.version)
    assert api.post(f"/vendor/jobs/{token}/decline", {"reason": "Booked solid this week"}).status == 200
    wait_offer(stack, wo_id, count=2)
    second = eventually(lambda: (w := stack.repo.get_work_order(wo_id)).offer and w.offer.index == 1 and w)

    sfn = stack.cloud.client("stepfunctions")
    arn = stack.cloud.physical("WorkOrderStateMachine").replace(":stateMachine:", ":execution:") + f":{wo_id}"
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert "RetimedWhileOffered" in entered
    timeout = int(json.loads(next(e for e in reversed(history) if e.get("stateEnteredEventDetails", {}).get(
        "name") == "HasCandidate")["stateEnteredEventDetails"]["input"])["triage"]["timeouts"]["offer"])
    assert second.offer.expires_at - second.offer.offered_at == timedelta(seconds=timeout)
    assert timeout < (first.offer.expires_at - first.offer.offered_at).total_seconds()
