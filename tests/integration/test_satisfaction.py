"""Tenant satisfaction on the local cloud, wired end to end: "fixed? YES" by SMS asks for a rating and a
digit reply through the signed SMS webhook stores it (TenantRated); the NPS schedule fires its function,
which asks the tenant with a signed survey link; a digit reply answers it; a second firing asks nobody again."""

from __future__ import annotations

import pytest

from shared.domain.satisfaction import quarter_of, tenant_key
from tests.integration.conftest import UNITS, U, eventually
from tests.integration.test_lifecycle import record, submit, wait_status
from tests.integration.test_sms import complete_job, sms_to, twilio

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _settle(request):
    """Let this module's asynchronous deliveries (PMS writes, notifications) finish before later tests."""
    yield
    request.getfixturevalue("stack").cloud.wait_idle(timeout=20)


def test_a_rating_by_sms_and_the_quarterly_nps_question(stack, api, ops_headers):
    unit_id = U("unit-harbor-301")
    tenant = UNITS[unit_id].tenant
    wo_id = submit(api, unit_id, "The bedroom window latch is broken and will not lock")["id"]
    complete_job(stack, api, ops_headers, wo_id)

    asked = twilio(stack, api, tenant.phone, "Yes it's fixed")
    assert asked.status == 200 and "1 (poor) to 5 (excellent)" in asked.body.decode()
    rated = twilio(stack, api, tenant.phone, "5 great job")
    assert rated.status == 200 and "Thank you for your rating!" in rated.body.decode()
    wo = wait_status(api, ops_headers, wo_id, "verified")
    assert any(e["event"] == "rated" for e in record(api, ops_headers, wo_id)["timeline"])
    stored = stack.repo.get_work_order(wo_id)
    assert stored.satisfaction is not None and (stored.satisfaction.rating, stored.satisfaction.comment,
                                                stored.satisfaction.channel) == (5, "great job", "sms")
    assert wo["status"] in ("verified", "invoice_awaited")

    # The rating was a survey question just now: as if it were long ago, so the NPS rate limit lets this run ask.
    key = tenant_key(unit_id, tenant.phone, tenant.email)
    stack.repo.note_question(key, "2000-01-01T00:00:00+00:00")
    before = len(sms_to(stack, tenant.phone))
    assert stack.cloud.fire_schedule("NpsSurveySchedule").error is None
    question = eventually(lambda: [m for m in sms_to(stack, tenant.phone)[:len(sms_to(stack, tenant.phone)) - before]
                                   if "recommend" in m["body"]])
    assert len(question) == 1 and "/surveys/nps?token=" in question[0]["body"]
    [survey] = [s for q in {quarter_of(stored.updated_at)} if (s := stack.repo.survey(key, q))]
    token = question[0]["body"].split("token=")[1].split()[0]
    assert api.get(f"/surveys/nps?token={token}").json() == {"quarter": survey["quarter"], "answered": False,
                                                            "language": "en"}

    answered = twilio(stack, api, tenant.phone, "9")
    assert answered.status == 200 and "Thank you for your answer!" in answered.body.decode()
    assert api.get(f"/surveys/nps?token={token}").json()["answered"] is True
    assert api.post(f"/surveys/nps?token={token}", {"score": 3}).status == 409
    done = stack.repo.survey(key, survey["quarter"])
    assert done is not None and (done["score"], done["answer_channel"]) == (9, "sms")

    assert stack.cloud.fire_schedule("NpsSurveySchedule").error is None  # idempotent: asks nobody twice
    stack.cloud.wait_idle(timeout=20)
    assert len([m for m in sms_to(stack, tenant.phone) if "recommend" in m["body"]]) == 1
