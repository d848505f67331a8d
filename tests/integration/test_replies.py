"""Automatic replies in the tenant's (or vendor's) language on the local cloud: the Twilio webhook and
SES email receiving, through the real handlers. English answers are asserted by test_sms.py and
test_photos_email.py; here a Spanish preference, or a text that is clearly Spanish, gets Spanish."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from shared.domain.directory import Contact
from tests.integration.conftest import UNITS, U, V, eventually
from tests.integration.test_lifecycle import record, submit, wait_offer, wait_status, window
from tests.integration.test_photos_email import mail
from tests.integration.test_sms import complete_job, twilio

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _settle(request):
    yield
    request.getfixturevalue("stack").cloud.wait_idle(timeout=20)


@contextmanager
def prefers_spanish(stack, unit_id: str):
    """The unit's tenant saves Spanish as their language (as a PMS sync or ops would), then back."""
    unit = stack.repo.get_unit(unit_id)
    assert unit.tenant is not None and unit.tenant.language is None
    stack.repo.put_unit(unit.model_copy(update={"tenant": unit.tenant.model_copy(update={"language": "es"})}))
    try:
        yield
    finally:
        stack.repo.put_unit(unit)


@contextmanager
def new_tenant(stack, unit_id: str, phone: str):
    """A new tenant moves in (no saved language, no requests yet: other tests' requests from the unit's
    tenant, in whichever order they run, are not theirs), then the unit is as before."""
    unit = stack.repo.get_unit(unit_id)
    stack.repo.put_unit(unit.model_copy(update={"tenant": Contact(name="Noor Haddad", phone=phone)}))
    stack.repo.index_tenant_phone(phone, unit_id)
    try:
        yield phone
    finally:
        stack.repo.put_unit(unit)


def emails_to(stack, address: str, subject_start: str) -> list[dict]:
    return [m for m in stack.cloud.outbox() if m["channel"] == "email" and m["to"] == address
            and m.get("subject", "").startswith(subject_start)]


def test_a_tenant_who_prefers_spanish_gets_spanish_text_replies(stack, api, ops_headers):
    unit = U("unit-harbor-101")
    tenant = UNITS[unit].tenant
    with prefers_spanish(stack, unit):
        wo_id = submit(api, unit, "The bathroom sink drips all day")["id"]  # inherits the saved language
        eventually(lambda: record(api, ops_headers, wo_id)["trade"])
        status = twilio(stack, api, tenant.phone, "STATUS").text  # the English keyword; the preference decides
        assert "<Message>Su solicitud (plomería) está " in status and wo_id in status, status
        help_ = twilio(stack, api, tenant.phone, "HELP").text
        assert "Mantenimiento Opslayer" in help_ and "Responda STOP" in help_
        complete_job(stack, api, ops_headers, wo_id)
        done = twilio(stack, api, tenant.phone, "YES").text
        assert f"<Message>¡Gracias por confirmar! Cerramos esta reparación. Ref {wo_id}</Message>" in done, done
        wait_status(api, ops_headers, wo_id, "verified")
        assert any(e["detail"] == "SMS to tenant: reply to YES (twilio)"
                   for e in record(api, ops_headers, wo_id)["timeline"])
    # A tenant with no saved preference: English, unless what they wrote is clearly Spanish.
    with new_tenant(stack, U("unit-harbor-102"), "+15550399102") as phone:
        english = twilio(stack, api, phone, "status").text
        assert "<Message>You have no open" in english, english
        spanish = twilio(stack, api, phone, "estado").text
        assert "<Message>No tiene solicitudes" in spanish, spanish


def test_an_unknown_number_writing_spanish_is_answered_in_spanish(stack, api):
    assert "no está registrado" in twilio(stack, api, "+15557770456", "estado").text
    assert "not registered" in twilio(stack, api, "+15557770456", "status").text


def test_email_answers_follow_the_language_of_the_request(stack, api, ops_headers):
    unit = U("unit-maple-1b")
    tenant = UNITS[unit].tenant
    wo_id = submit(api, unit, "La puerta del baño no cierra", language="es")["id"]
    _, job = wait_offer(stack, wo_id)
    assert api.post(f"/vendor/jobs/{job}/accept").status == 200
    assert api.post(f"/vendor/jobs/{job}/schedule", window()).status == 200
    wait_status(api, ops_headers, wo_id, "scheduled")
    stack.cloud.receive_email(mail(tenant.email, "status please", "status"))
    status = eventually(lambda: emails_to(stack, tenant.email, "Re: status please"))
    body = status[0]["body"]
    assert "está programada:" in body and "vendrá el" in body and wo_id in body, body
    assert body.endswith("El equipo de mantenimiento de su edificio")
    assert api.post(f"/vendor/jobs/{job}/complete", {"notes": "Ajusté la bisagra"}).status == 200
    wait_status(api, ops_headers, wo_id, "completed")
    eventually(lambda: record(api, ops_headers, wo_id).get("stage_wait"))
    stack.cloud.receive_email(mail(tenant.email, f"Re: Is it fixed? ({wo_id})", "Yes, thanks"))
    wait_status(api, ops_headers, wo_id, "verified")
    thanks = eventually(lambda: emails_to(stack, tenant.email, "Re: Is it fixed?"))
    assert thanks[0]["body"].startswith(f"¡Gracias por confirmar! Cerramos la solicitud {wo_id}.")


def test_a_vendor_who_prefers_spanish_gets_the_invoice_answer_in_spanish(stack):
    handy = stack.repo.get_vendor(V("ven-handy"))
    stack.repo.put_vendor(handy.model_copy(update={"language": "es"}))
    try:
        stack.cloud.receive_email(mail(handy.email, "Factura de octubre", "Adjunto la factura."))
        answer = eventually(lambda: emails_to(stack, handy.email, "Re: Factura de octubre"))
    finally:
        stack.repo.put_vendor(handy)
    assert answer[0]["body"].startswith("Gracias. No pudimos asociar automáticamente esta factura")
    # An English-speaking vendor (no preference, English text) keeps the English answer.
    volt = stack.repo.get_vendor(V("ven-volt"))
    stack.cloud.receive_email(mail(volt.email, "October invoice", "Invoice attached."))
    english = eventually(lambda: emails_to(stack, volt.email, "Re: October invoice"))
    assert english[0]["body"].startswith("Thank you. We could not match this invoice")
    assert english[0]["body"].endswith("Your property's maintenance team")


def test_a_request_texted_in_spanish_is_acknowledged_in_spanish(stack, api, ops_headers):
    from tests.integration.test_sms import newest_sms_wo, sms_to, sms_wo_ids

    unit = U("unit-harbor-102")
    # A tenant of their own: the request's language is kept for them, and other tests use this unit's tenant.
    with new_tenant(stack, unit, "+15550399103") as phone:
        before = sms_wo_ids(api, ops_headers)
        assert twilio(stack, api, phone, "La ducha no está arreglada y gotea").text.endswith("<Response/>")
        wo = newest_sms_wo(api, ops_headers, unit, before)
        assert record(api, ops_headers, wo["id"])["tenant"]["language"] == "es"
        eventually(lambda: any(wo["id"] in m["body"] and m["body"].startswith("Hola")
                               for m in sms_to(stack, phone)))
