"""Read models on in-memory fakes: what a tenant (in their language), a vendor (only when involved) and ops
may see of a work order, and the signed links that lead to those views."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from shared.domain.enums import Hazard
from shared.domain.errors import LinkRejected, NotFound
from shared.domain.ops_lists import parse_filters
from shared.domain.workorder import Offer, SafetyQuestion, StageWait
from shared.services import invoicing, ops_lists, views
from shared.services.container import Services
from shared.services.views import ops_view, ops_work_order, tenant_link, unit_request_link, vendor_link
from shared.services.writes import Edit, mutate
from tests.service.journeys import completed, invoice, invoice_awaited, offered, pms_ids_in_view, submit

UNIT = "unit-maple-1a"
LEAK = "The bathroom faucet drips constantly"


def tenant_status(svc: Services, wo_id: str, token: str | None) -> dict:
    """The tenant's view as the API serves it (JSON)."""
    return views.tenant_status(svc, wo_id, token).as_json()


def vendor_job(svc: Services, token: str) -> dict:
    """The vendor's view as the API serves it (JSON)."""
    return views.vendor_job(svc, token).as_json()


def token_in_tenant_link(svc: Services, wo_id: str) -> str:
    url = tenant_link(svc, svc.repo.get_work_order(wo_id), svc.settings.public_base_url)
    assert url.startswith(f"https://opslayer.test/requests/{wo_id}?token=")
    return parse_qs(urlparse(url).query)["token"][0]


def token_in_vendor_link(svc: Services, wo_id: str, vendor_id: str) -> str:
    url = vendor_link(svc, svc.repo.get_work_order(wo_id), vendor_id, svc.settings.public_base_url)
    assert url.startswith("https://opslayer.test/vendor/jobs/")
    return url.rsplit("/", 1)[1]


# ---------------------------------------------------------------- the tenant
def test_the_tenant_sees_their_request_in_plain_steps(svc: Services) -> None:
    wo_id = offered(svc, UNIT, LEAK).id
    view = tenant_status(svc, wo_id, token_in_tenant_link(svc, wo_id))
    assert (view["id"], view["status"], view["trade"], view["priority"]) == (wo_id, "offered", "plumbing", "routine")
    # Internal steps (ranking) stay internal; a message to the vendor is not the tenant's business.
    assert [e["event"] for e in view["timeline"]] == ["received", "triaged", "offered"]
    assert (view["language"], view["feedback_due"], view["allowed_actions"]) == ("en", False, [])
    assert view["photos"] == [] and view["photo_upload"] is True
    assert "vendor" not in view and "window" not in view and "safety_question" not in view


def test_a_tenant_view_needs_the_tenant_s_link_for_this_request(svc: Services) -> None:
    wo_id = offered(svc, UNIT, LEAK).id
    other = offered(svc, "unit-maple-1b", LEAK).id
    with pytest.raises(LinkRejected):
        tenant_status(svc, wo_id, None)
    with pytest.raises(LinkRejected):
        tenant_status(svc, wo_id, token_in_tenant_link(svc, other))
    with pytest.raises(LinkRejected):
        tenant_status(svc, wo_id, token_in_vendor_link(svc, wo_id, "ven-aqua"))


def test_after_the_fix_the_money_side_is_not_the_tenant_s_business(svc: Services) -> None:
    wo = invoice_awaited(svc, UNIT).wo
    view = tenant_status(svc, wo.id, token_in_tenant_link(svc, wo.id))
    assert view["status"] == "verified"  # the work order itself is invoice_awaited
    assert view["vendor"] == {"name": "AquaFix Plumbing"}
    assert wo.window is not None and wo.window.start == svc.clock() - timedelta(hours=1)
    assert view["window"] == {"start": wo.window.start.isoformat(), "end": wo.window.end.isoformat()}
    assert "invoice_awaited" not in [e["event"] for e in view["timeline"]]


def test_a_completed_job_asks_the_tenant_for_feedback_once_per_link(svc: Services) -> None:
    from shared.services.workorders import tenant_feedback

    wo = completed(svc, UNIT, LEAK, hours_on_site=1).wo
    token = token_in_tenant_link(svc, wo.id)
    view = tenant_status(svc, wo.id, token)
    assert (view["feedback_due"], view["allowed_actions"]) == (True, ["feedback"])
    tenant_feedback(svc, wo.id, token, resolved=False, comment="Still drips")
    assert tenant_status(svc, wo.id, token)["feedback_due"] is False  # this link answered


@pytest.mark.parametrize(("language", "question"), [
    ("es", "¿El agua se sigue extendiendo, cae del techo o está cerca de la electricidad? ¿Hay alguien en peligro?"),
    (None, "Is water still spreading, coming through a ceiling or near electrics? Is anyone in danger?"),
])
def test_the_safety_question_is_shown_in_the_tenant_s_language(svc: Services, language: str | None,
                                                                question: str) -> None:
    wo = submit(svc, UNIT, LEAK, language=language)
    mutate(svc, wo.id, lambda w: Edit(w.model_copy(update={"safety_question": SafetyQuestion(
        hazard=Hazard.WATER, asked_at=svc.clock())}), []))
    view = tenant_status(svc, wo.id, token_in_tenant_link(svc, wo.id))
    assert view["language"] == (language or "en")
    assert view["safety_question"] == {"hazard": "water", "question": question}


# ---------------------------------------------------------------- the vendor
def test_the_offered_vendor_sees_the_job_with_access_details(svc: Services) -> None:
    wo_id = offered(svc, UNIT, LEAK).id
    job = vendor_job(svc, token_in_vendor_link(svc, wo_id, "ven-aqua"))
    assert (job["status"], job["allowed_actions"], job["property"], job["unit"]) == (
        "offered", ["accept", "decline"], "Maple Court", "1A")
    assert job["nte"] == {"cents": 50000, "currency": "USD", "text": "500.00 USD"}
    assert job["access_instructions"] == "Key in lockbox 700 by the side door; dog friendly"
    assert job["tenant"] == {"name": "Ana Lopez", "phone": "+15550100010"}
    assert job["time_zone"] == svc.settings.default_time_zone and job["checked_in"] is False
    assert "invoices" not in job  # not assigned yet


def test_a_vendor_not_involved_sees_no_contact_or_access_details_in_their_language(svc: Services) -> None:
    wo_id = offered(svc, UNIT, LEAK).id
    volt = svc.repo.get_vendor("ven-volt")
    svc.repo.put_vendor(volt.model_copy(update={"language": "es"}))
    job = vendor_job(svc, token_in_vendor_link(svc, wo_id, "ven-volt"))
    assert (job["status"], job["allowed_actions"], job["language"]) == ("no_longer_available", [], "es")
    assert not {"tenant", "access_instructions", "photos", "availability", "invoices"} & set(job)
    assert vendor_job(svc, token_in_vendor_link(svc, wo_id, "ven-aqua"))["language"] is None


def test_an_answered_offer_link_does_not_answer_again(svc: Services) -> None:
    from shared.services.workorders import vendor_decline

    wo_id = offered(svc, UNIT, LEAK).id
    token = token_in_vendor_link(svc, wo_id, "ven-aqua")
    vendor_decline(svc, token, "Fully booked")
    # Offered again to the same vendor later (e.g. after a triage correction): the old link views only.
    mutate(svc, wo_id, lambda w: Edit(w.model_copy(update={"offer": Offer(
        vendor_id="ven-aqua", index=0, task_token="t", expires_at=svc.clock() + timedelta(hours=1),
        offered_at=svc.clock())}), []))
    assert vendor_job(svc, token)["allowed_actions"] == []
    assert vendor_job(svc, token_in_vendor_link(svc, wo_id, "ven-aqua"))["allowed_actions"] == ["accept", "decline"]


def test_the_assigned_vendor_sees_their_invoices_and_whether_they_may_invoice(svc: Services) -> None:
    token = invoice_awaited(svc, UNIT).vendor_token
    assert vendor_job(svc, token)["allowed_actions"] == ["invoice"]
    invoicing.submit_by_link(svc, token, invoice("AQ-5", on=svc.clock().date()))
    job = vendor_job(svc, token)
    assert job["allowed_actions"] == []
    assert job["invoices"] == [{"invoice_number": "AQ-5", "total": "215.90 USD", "status": "submitted",
                                "rejection_reason": None}]
    assert job["window"] is not None and job["checked_in"] is True


# ---------------------------------------------------------------- ops
def test_ops_see_everything_but_the_workflow_s_task_tokens(svc: Services) -> None:
    wo_id = offered(svc, UNIT, LEAK).id
    mutate(svc, wo_id, lambda w: Edit(w.model_copy(update={"stage_wait": StageWait(stage="schedule",
                                                                                 task_token="secret-2")}), []))
    view = ops_work_order(svc, wo_id)
    assert view["offer"]["vendor_id"] == "ven-aqua" and "task_token" not in view["offer"]
    assert view["stage_wait"] == {"stage": "schedule"}
    assert "token-" not in str(view) and "secret-2" not in str(view)
    assert [e["event"] for e in view["timeline"]][:3] == ["received", "triaged", "vendors_ranked"]
    assert pms_ids_in_view(view) == {"task_id": None, "work_order_id": None}


def test_ops_see_the_pms_ids_whether_on_the_work_order_or_recorded_by_the_writer(svc: Services) -> None:
    from shared.schemas import NewRequest
    from shared.services.workorders import submit_request

    from_pms = submit_request(svc, NewRequest(unit_id=UNIT, name="Ana Lopez", description=LEAK),
                              pms_task_id="71", pms_work_order_id="81")
    assert pms_ids_in_view(ops_work_order(svc, from_pms.id)) == {"task_id": "71", "work_order_id": "81"}
    web = submit(svc, UNIT, "The kitchen light flickers")
    svc.repo.put_pms_state(web.id, "72", "82", web.version)
    assert pms_ids_in_view(ops_view(svc, svc.repo.get_work_order(web.id, with_timeline=True))) == {
        "task_id": "72", "work_order_id": "82"}


def test_the_ops_list_filters_by_status_property_and_source(svc: Services) -> None:
    def ops_list(status: str | None, property_id: str | None, source: str | None) -> dict:
        return ops_lists.page(svc, parse_filters(status=status, property_id=property_id, source=source), 50)

    first = offered(svc, UNIT, LEAK).id
    second = submit(svc, "unit-harbor-101", "The hallway light is out").id
    assert {w["id"] for w in ops_list(None, None, None)["work_orders"]} == {first, second}
    by_property = ops_list(None, "prop-harbor", None)
    assert by_property["count"] == 1 and by_property["work_orders"][0]["id"] == second
    assert [w["id"] for w in ops_list("offered", None, None)["work_orders"]] == [first]
    assert ops_list(None, None, "pms") == {"work_orders": [], "count": 0, "next_cursor": None}
    row = ops_list("offered", None, None)["work_orders"][0]
    assert (row["trade"], row["vendor_id"], row["source"], row["property_id"]) == (
        "plumbing", None, "web", "prop-maple")


def test_a_unit_request_link_carries_a_unit_key_that_verifies(svc: Services) -> None:
    url = unit_request_link(svc, UNIT, svc.settings.public_base_url + "/")
    assert url.startswith(f"https://opslayer.test/units/{UNIT}/request?key=olk1_")
    scope = svc.link_tokens().verify(parse_qs(urlparse(url).query)["key"][0])
    assert (scope.party, scope.party_id, scope.actions) == ("unit", UNIT, ("request",))


def test_views_of_an_unknown_work_order_are_not_found(svc: Services) -> None:
    with pytest.raises(NotFound):
        ops_work_order(svc, "wo-0000000000000000")
