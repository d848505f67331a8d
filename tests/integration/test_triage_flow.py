"""Triage on the local cloud (real template, real handlers): the safety question when triage is unsure
(asked by the request's channel, answered by SMS, by the status page's buttons, or not at all), and ops
correcting a triage (dispatched again to the new trade, the tenant told, the example exported)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import U, eventually
from tests.integration.test_lifecycle import STATUS_LINK, record, submit, tenant_messages

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
    wo_id = submit(api, unit, "Water under the kitchen sink, a small puddle, not sure if it is still leaking")["id"]
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
