"""Notifications as a use case: lifecycle events become SMS and email from the message book, in the
recipient's language, once per event, held for quiet hours (never dropped) unless urgent, never by SMS to
a number that said STOP."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from shared.domain.directory import Contact
from shared.domain.workorder import Source, Status, Window
from shared.services.container import Services
from shared.services.notifications import format_window, notify, quiet_release
from shared.services.visits import vendor_propose
from shared.services.workorders import escalate
from tests.fakes.services import DEMO_TIME_ZONE
from tests.service.journeys import (
    accepted,
    at,
    completed,
    deliver,
    local,
    offer_to,
    scheduled,
    submit,
    triaged,
    vendor_token,
    window,
)

LEAK = "The bathroom faucet drips constantly"  # plumbing, routine
GAS = "I smell gas in the kitchen"  # plumbing, emergency, a building-wide fault
UNIT = "unit-maple-1a"
ANA = "+15550100010"  # the tenant of maple-1a
ANA_EMAIL = "ana@tenant.example.com"
AQUA = "+15550200001"  # AquaFix, the preferred plumber at Maple Court
OPS = "+15550100009"


def notified(svc: Services, wo_id: str) -> list[str]:
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    return [e.detail for e in wo.timeline if e.event == "notified"]


def events_of(svc: Services, wo_id: str, event: str) -> list[str]:
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    return [e.detail for e in wo.timeline if e.event == event]


# ---------------------------------------------------------------- what is sent, to whom, in which language
def test_a_received_request_is_acknowledged_by_sms_and_email_with_a_status_link(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)
    assert deliver(svc, "WorkOrderReceived") == 2

    [sms] = svc.messenger.sms_to(ANA)
    [mail] = svc.messenger.emails_to(ANA_EMAIL)
    assert sms.body.startswith(f"Hi Ana Lopez, we received your request for Maple Court, unit 1A: \"{LEAK}\"")
    assert f"https://opslayer.test/requests/{wo.id}?token=olk1_" in sms.body
    assert mail.subject == f"We received your maintenance request ({wo.id})"
    assert notified(svc, wo.id) == [f"SMS and EMAIL to tenant: We received your maintenance request ({wo.id})"]


def test_a_tenant_who_prefers_spanish_is_written_to_in_spanish(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK, language="es")
    deliver(svc, "WorkOrderReceived")

    [sms] = svc.messenger.sms_to(ANA)
    [mail] = svc.messenger.emails_to(ANA_EMAIL)
    assert sms.body.startswith("Hola Ana Lopez, recibimos su solicitud para Maple Court, unidad 1A")
    assert mail.subject == f"Recibimos su solicitud de mantenimiento ({wo.id})"


def test_a_long_description_is_shortened_in_the_message(svc: Services) -> None:
    long = "The bathroom faucet drips constantly and " + "it keeps dripping all night long " * 5
    submit(svc, UNIT, long)
    deliver(svc, "WorkOrderReceived")
    [sms] = svc.messenger.sms_to(ANA)
    quoted = sms.body.split('"')[1]
    assert len(quoted) == 80 and quoted.endswith("...")


def test_the_same_event_delivered_twice_sends_each_message_once(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)
    [(detail_type, detail)] = svc.events.published
    assert notify(svc, detail_type, detail) == 2
    assert notify(svc, detail_type, detail) == 0  # SQS delivered it again
    assert len(svc.messenger.sent) == 2
    assert notified(svc, wo.id) == [f"SMS and EMAIL to tenant: We received your maintenance request ({wo.id})"]


def test_a_send_that_fails_midway_sends_only_the_rest_when_the_event_comes_back(svc: Services) -> None:
    submit(svc, UNIT, LEAK)
    [(detail_type, detail)] = svc.events.published
    verified, svc.messenger.verified = svc.messenger.verified, set()  # SES rejects the sender for now
    with pytest.raises(Exception, match=r"not verified"):
        notify(svc, detail_type, detail)  # the SMS went, the email failed: the SQS record fails
    assert [m.channel for m in svc.messenger.sent] == ["sms"]
    svc.messenger.verified = verified
    assert notify(svc, detail_type, detail) == 1  # SQS delivers it again: only the email goes
    assert sorted(m.channel for m in svc.messenger.sent) == ["email", "sms"]
    wo_id = detail["work_order_id"]
    assert [d.split(":")[0] for d in notified(svc, wo_id)] == ["SMS to tenant", "EMAIL to tenant"]  # one each
    assert notify(svc, detail_type, detail) == 0  # and a third delivery sends nothing


def test_an_event_without_a_key_is_deduplicated_on_the_work_orders_version(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)
    assert notify(svc, "WorkOrderReceived", {"work_order_id": wo.id}) == 2
    assert notify(svc, "WorkOrderReceived", {"work_order_id": wo.id}) == 0


def test_an_event_with_no_messages_sends_nothing(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)
    assert notify(svc, "WorkOrderTriaged", {"work_order_id": wo.id, "event_key": f"{wo.id}:triaged"}) == 0
    assert svc.messenger.sent == []


def test_the_vendor_offer_carries_the_job_link_and_the_tenant_learns_who_accepted(svc: Services) -> None:
    accepted(svc, UNIT, LEAK)
    deliver(svc, "VendorOffered", "VendorAccepted")
    [offer] = svc.messenger.sms_to(AQUA)
    assert "https://opslayer.test/vendor/jobs/olk1_" in offer.body and "RECALL" not in offer.body
    [told] = svc.messenger.sms_to(ANA)[-1:]
    assert "AquaFix Plumbing" in told.body  # VendorAccepted: the tenant learns who comes


def test_the_visit_time_is_written_in_the_recipients_language_and_zone(svc: Services) -> None:
    visit = window(svc, days=1, hour=9)  # Thursday 11 June, 09:00-11:00 New York (EDT)
    wo = scheduled(svc, UNIT, LEAK, visit, language="es").wo
    deliver(svc, "VisitScheduled")

    [tenant_sms] = svc.messenger.sms_to(ANA)
    [vendor_sms] = svc.messenger.sms_to(AQUA)
    assert "el jue 11 jun 09:00-11:00 (UTC-0400)" in tenant_sms.body
    assert "on Thu 11 Jun 09:00-11:00 (UTC-0400)" in vendor_sms.body  # the vendor keeps English
    assert "Access: Key in lockbox 700 by the side door" in vendor_sms.body
    assert f"Ref {wo.id}" in vendor_sms.body


def test_a_visit_window_is_written_per_language_with_or_without_its_offset() -> None:
    assert format_window(None) == "a time to be confirmed"
    assert format_window(None, "es") == "una hora por confirmar"
    start = datetime(2026, 11, 24, 9, 0, tzinfo=DEMO_TIME_ZONE)
    w = Window(start=start, end=start + timedelta(hours=2))
    assert format_window(w) == "Tue 24 Nov 09:00-11:00 (UTC-0500)"
    assert format_window(w, "es", zone=False) == "mar 24 nov 09:00-11:00"


def test_a_proposal_names_the_proposed_time_and_the_tenants_windows_are_listed(svc: Services) -> None:
    first, second = window(svc, 1, 9), window(svc, 2, 14)
    availability = [{"start": w.start.isoformat(), "end": w.end.isoformat()} for w in (first, second)]
    token = accepted(svc, UNIT, LEAK, availability=availability).vendor_token
    deliver(svc)
    [offer] = svc.messenger.sms_to(AQUA)[:1]
    assert "Thu 11 Jun 09:00-11:00; Fri 12 Jun 14:00-16:00" in offer.body  # the tenant's availability

    vendor_propose(svc, token, at(window(svc, 3, 13)))
    deliver(svc, "VisitProposed")
    [proposal] = svc.messenger.sms_to(ANA)[-1:]
    assert "AquaFix Plumbing proposes to visit Maple Court, unit 1A on Sat 13 Jun 13:00-15:00 (UTC-0400)" \
        in proposal.body


def test_the_tenants_availability_is_quoted_as_written_or_said_to_be_missing(svc: Services) -> None:
    accepted(svc, UNIT, LEAK, availability="weekday mornings")
    accepted(svc, "unit-maple-1b", "The kitchen sink faucet drips")
    deliver(svc, "VendorOffered")
    free_text, missing = svc.messenger.sms_to(AQUA)
    assert "weekday mornings" in free_text.body
    assert "not given" in missing.body


def test_an_offer_reads_its_vendor_once_for_the_message_and_its_addresses(svc: Services) -> None:
    accepted(svc, UNIT, LEAK)
    read: list[str] = []
    real = svc.repo.get_vendor
    svc.repo.get_vendor = lambda vendor_id: read.append(vendor_id) or real(vendor_id)  # type: ignore[method-assign]
    assert deliver(svc, "VendorOffered") == 2  # its SMS and its email
    assert read == ["ven-aqua"]


def test_the_on_the_way_message_says_how_far_the_technician_is(svc: Services) -> None:
    from shared.services.workorders import vendor_checkin

    token = scheduled(svc, UNIT, LEAK, language="es").vendor_token
    svc.events.clear()
    vendor_checkin(svc, token, 20)
    deliver(svc, "VendorOnTheWay")
    [sms] = svc.messenger.sms_to(ANA)
    assert "AquaFix Plumbing va en camino, llega en unos 20 minutos" in sms.body

    svc.clock.advance(minutes=25)
    vendor_checkin(svc, token, None)
    deliver(svc, "VendorOnTheWay")
    assert "AquaFix Plumbing ya está en su domicilio" in svc.messenger.sms_to(ANA)[-1].body


# ---------------------------------------------------------------- recipients by role
def test_an_emergency_pages_the_propertys_on_call_else_the_portfolios(svc: Services) -> None:
    maple = triaged(svc, UNIT, GAS).wo
    harbor = triaged(svc, "unit-harbor-101", GAS).wo  # Harbor Lofts has no on-call of its own
    for wo in (maple, harbor):
        notify(svc, "EmergencyDeclared", {"work_order_id": wo.id, "event_key": f"{wo.id}:emergency"})

    [dana] = svc.messenger.sms_to("+15550100001")
    [portfolio] = svc.messenger.sms_to("+15550100000")
    assert dana.body.startswith("EMERGENCY (gas smell or gas leak) at 120 Maple Ave, Springfield, unit 1A")
    assert f"Tenant Ana Lopez {ANA}" in dana.body
    assert portfolio.body.startswith("EMERGENCY (gas smell or gas leak) at 8 Harbor St, Springfield, unit 101")


def test_an_escalation_tells_ops_and_the_tenant(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    escalate(svc, wo.id, "no_vendor", "No vendor accepted; ops alerted")
    deliver(svc, "WorkOrderEscalated")
    [ops] = svc.messenger.sms_to(OPS)
    assert wo.id in ops.body and "No vendor accepted; ops alerted" in ops.body
    assert len(svc.messenger.sms_to(ANA)) == 1


def test_a_vendor_message_with_no_vendor_on_the_job_goes_nowhere(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    assert notify(svc, "VisitReminder", {"work_order_id": wo.id, "event_key": f"{wo.id}:r", "hours": 2}) == 2
    assert {m.to for m in svc.messenger.sent} == {ANA, ANA_EMAIL}
    assert "Your technician will come" in svc.messenger.sms_to(ANA)[0].body


def test_an_invoice_approval_goes_to_the_owner_when_routed_to_them_else_to_ops(svc: Services) -> None:
    from shared.services.notifications import _recipients

    wo = triaged(svc, "unit-harbor-101", LEAK).wo
    prop = svc.repo.get_property(wo.property_id)
    owner = _recipients(svc, "approver", wo, prop, None, {"route": "owner"}, svc.repo.get_vendor)
    ops = _recipients(svc, "approver", wo, prop, None, {"route": "ops"}, svc.repo.get_vendor)
    assert owner is not None and owner.email == "owner@harbor-lofts.example.com"
    assert ops is not None and ops.phone == OPS
    maple = triaged(svc, UNIT, LEAK).wo
    assert _recipients(svc, "approver", maple, svc.repo.get_property(maple.property_id), None,
                       {"route": "owner"}, svc.repo.get_vendor) is None  # Maple Court has no owner approver


# ---------------------------------------------------------------- channels
def test_a_contact_without_an_email_gets_only_the_sms(svc: Services) -> None:
    unit = svc.repo.get_unit(UNIT)
    assert unit.tenant is not None
    svc.repo.put_unit(unit.model_copy(update={"tenant": Contact(name="Ana Lopez", phone=ANA)}))
    submit(svc, UNIT, LEAK)
    assert deliver(svc) == 1
    assert [m.channel for m in svc.messenger.sent] == ["sms"]


def test_a_question_goes_only_by_the_channel_the_request_came_in_on(svc: Services) -> None:
    from shared.schemas import NewRequest
    from shared.services.workorders import submit_request, triage

    by_text = submit_request(svc, NewRequest(unit_id=UNIT, name="Ana Lopez", description="The heat is not working"),
                             source=Source.SMS)
    triage(svc, by_text.id)
    by_web = triaged(svc, "unit-maple-1b", "The heat is not working").wo
    svc.messenger.clear()
    deliver(svc, "SafetyQuestionAsked")

    assert [m.channel for m in svc.messenger.sent_to(ANA) + svc.messenger.sent_to(ANA_EMAIL)] == ["sms"]
    assert sorted(m.channel for m in svc.messenger.sent if by_web.id in m.body) == ["email", "sms"]
    [question] = svc.messenger.sms_to(ANA)
    assert "freezing" in question.body and "Reply YES or NO" in question.body


def test_the_safety_question_is_asked_in_spanish_for_a_spanish_speaker(svc: Services) -> None:
    wo = triaged(svc, UNIT, "The heat is not working", language="es").wo
    deliver(svc, "SafetyQuestionAsked")
    [sms] = svc.messenger.sms_to(ANA)
    assert sms.body.startswith(f"Sobre su solicitud {wo.id}: ") and "Responda SÍ o NO" in sms.body


# ---------------------------------------------------------------- opt-outs
def test_a_number_that_said_stop_gets_no_sms_but_still_the_email(svc: Services) -> None:
    svc.repo.set_sms_opt_out(ANA, True, svc.clock().isoformat())
    wo = submit(svc, UNIT, LEAK)
    assert deliver(svc) == 1
    assert deliver(svc) == 0  # again: still not sent, and the suppression is recorded once
    assert [m.channel for m in svc.messenger.sent] == ["email"]
    assert events_of(svc, wo.id, "sms_suppressed") == ["SMS to tenant not sent: the number opted out (STOP)"]


# ---------------------------------------------------------------- quiet hours
def test_a_routine_sms_in_quiet_hours_is_held_and_sent_when_they_end(svc: Services) -> None:
    svc.clock.set(local(svc, 0, 22))  # 22:00 in New York: quiet hours (21:00-08:00)
    wo = submit(svc, UNIT, LEAK)
    assert deliver(svc) == 1  # the email goes now
    assert [m.channel for m in svc.messenger.sent] == ["email"]
    assert events_of(svc, wo.id, "sms_deferred") == ["SMS to tenant held for quiet hours until 08:00 "
                                                     "(America/New_York)"]
    [requeued] = svc.queues.on(svc.settings.notification_queue_url)
    assert requeued.delay_seconds == 900  # SQS's longest delay: the event comes back and checks again
    assert requeued.json() == {"detail-type": "WorkOrderReceived", "detail": svc.events.published[0][1]}

    svc.clock.advance(hours=9)  # 07:00: still quiet
    event = requeued.json()
    assert notify(svc, event["detail-type"], event["detail"]) == 0
    assert len(svc.queues.on(svc.settings.notification_queue_url)) == 2
    assert svc.queues.sent[-1].delay_seconds == 900
    assert len(events_of(svc, wo.id, "sms_deferred")) == 1  # held once in the timeline

    svc.clock.advance(hours=1)  # 08:00: quiet hours are over
    assert notify(svc, event["detail-type"], event["detail"]) == 1
    assert [m.channel for m in svc.messenger.sent] == ["email", "sms"]
    assert len(svc.queues.on(svc.settings.notification_queue_url)) == 2


def test_a_held_sms_due_within_the_queue_delay_comes_back_just_in_time(svc: Services) -> None:
    svc.clock.set(local(svc, 1, 7, 55))
    submit(svc, UNIT, LEAK)
    deliver(svc)
    assert svc.queues.sent[-1].delay_seconds == 300


def test_an_emergency_is_never_held_for_quiet_hours(svc: Services) -> None:
    svc.clock.set(local(svc, 0, 23))
    submit(svc, UNIT, GAS)  # not triaged yet: the acknowledgement classifies the text itself
    assert deliver(svc) == 2
    assert svc.queues.sent == []


def test_the_safety_question_is_urgent_and_never_held(svc: Services) -> None:
    svc.clock.set(local(svc, 0, 23))
    wo = triaged(svc, UNIT, "The heat is not working").wo
    notify(svc, "SafetyQuestionAsked", {"work_order_id": wo.id, "event_key": f"{wo.id}:safety"})
    assert [m.channel for m in svc.messenger.sms_to(ANA)] == ["sms"]


def test_quiet_hours_follow_the_configured_policy_and_the_propertys_zone(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    prop = svc.repo.get_property(wo.property_id)
    svc.clock.set(local(svc, 0, 20))  # 20:00 New York
    assert quiet_release(svc, wo, prop) is None
    svc.repo.put_config("quiet_hours", {"start": "19:30", "end": "07:00"})
    assert quiet_release(svc, wo, prop) == local(svc, 1, 7)
    svc.repo.put_config("quiet_hours", {"enabled": False})
    assert quiet_release(svc, wo, prop) is None
    svc.repo.put_config("quiet_hours", {})
    # A property in Los Angeles: 20:00 in New York is 17:00 there, not quiet; 00:30 New York is.
    west = prop.model_copy(update={"time_zone": "America/Los_Angeles"})
    svc.clock.set(local(svc, 1, 0, 30))
    release = quiet_release(svc, wo, west)
    assert release is not None and release.isoformat() == "2026-06-11T08:00:00-07:00"


def test_with_quiet_hours_disabled_a_routine_sms_goes_at_night(svc: Services) -> None:
    svc.repo.put_config("quiet_hours", {"enabled": False})
    svc.clock.set(local(svc, 0, 23))
    submit(svc, UNIT, LEAK)
    assert deliver(svc) == 2


# ---------------------------------------------------------------- building incidents
def test_a_building_incident_tells_every_members_tenant_and_mirrors_its_stage(svc: Services) -> None:
    primary = accepted(svc, UNIT, GAS).wo
    member = triaged(svc, "unit-maple-1b", GAS).wo  # same fault, same building, within the window
    assert member.incident_id == primary.id
    svc.messenger.clear()

    sent = notify(svc, "VendorAccepted", {"work_order_id": primary.id, "event_key": f"{primary.id}:accepted:0",
                                          "vendor_id": primary.vendor_id})
    assert sent == 4  # SMS and email to both tenants
    ben = svc.messenger.sms_to("+15550100011")
    assert len(ben) == 1 and primary.vendor_id
    mirrored = svc.repo.get_work_order(member.id, with_timeline=True)
    assert mirrored.status == Status.ACCEPTED and mirrored.vendor_id == primary.vendor_id
    assert [e.detail for e in mirrored.timeline if e.event == "accepted"] == [
        f"Building incident {primary.id}: accepted"]


def test_a_members_tenant_is_not_asked_to_answer_the_primarys_proposal(svc: Services) -> None:
    token = accepted(svc, UNIT, GAS).vendor_token
    triaged(svc, "unit-maple-1b", GAS)
    svc.messenger.clear()
    vendor_propose(svc, token, at(window(svc)))
    deliver(svc, "VisitProposed")
    assert svc.messenger.sent_to("+15550100011") == []
    assert len(svc.messenger.sms_to(ANA)) == 1


def test_the_timeline_names_the_role_and_channel_never_the_phone_number(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)
    deliver(svc)
    assert [d.split(":")[0] for d in notified(svc, wo.id)] == ["SMS and EMAIL to tenant"]
    assert json.dumps(notified(svc, wo.id)).count(ANA) == 0  # no phone numbers in the timeline


def test_a_vendor_who_prefers_spanish_gets_spanish_offers_and_confirmations(svc: Services) -> None:
    handy = svc.repo.get_vendor("ven-handy")
    svc.repo.put_vendor(handy.model_copy(update={"language": "es"}))
    wo = scheduled(svc, "unit-harbor-102", "Closet door hinge is loose").wo
    assert wo.vendor_id == "ven-handy"
    deliver(svc, "VendorOffered", "VisitScheduled")
    offer, confirmed = svc.messenger.sms_to(handy.phone or "")
    assert offer.body.startswith("Nuevo trabajo de rutina de mantenimiento general para Handy Hands")
    assert "Monto máximo: 300.00 USD" in offer.body
    assert confirmed.body.startswith("Confirmado:") and "unidad 102" in confirmed.body
    assert svc.messenger.sms_to("+15550100017")[0].body.startswith("Handy Hands will come")  # the tenant: English


def test_after_a_redispatch_the_tenant_is_told_the_new_vendor_accepted(svc: Services) -> None:
    from shared.domain.enums import Priority, Trade
    from shared.services.corrections import correct_triage
    from shared.services.workorders import await_stage, rank, triage_output, vendor_accept

    wo = accepted(svc, UNIT, "The kitchen light flickers").wo  # electrical: Volt Electric accepts
    await_stage(svc, wo.id, "schedule", svc.workflow.wait_token("schedule", wo.id))
    deliver(svc)
    svc.messenger.clear()
    correct_triage(svc, wo.id, Trade.PLUMBING, Priority.ROUTINE, "it is the faucet, not the light")
    rank(svc, wo.id, reopen=False)
    offer_to(svc, wo.id, 0, triage_output(svc, svc.repo.get_work_order(wo.id)))
    vendor_accept(svc, vendor_token(svc, wo.id, "ven-aqua"))

    deliver(svc, "VendorAccepted")
    assert any("AquaFix Plumbing" in m.body for m in svc.messenger.sms_to(ANA))


# ---------------------------------------------------------------- every template renders
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_message_of_every_event_fills_all_its_variables(svc: Services, language: str) -> None:
    """Each event of the message book, for a job with a vendor, a visit, a proposal and an invoice: no
    `$name` is left in any subject or body (tenant and vendor speak `language`)."""
    from shared.domain.enums import Hazard
    from shared.domain.oncall import OnCallLevel, OnCallRota, start
    from shared.domain.workorder import SafetyQuestion
    from shared.services.invoicing import submit_by_email
    from shared.services.notifications import message_book

    vendor = svc.repo.get_vendor("ven-aqua")
    svc.repo.put_vendor(vendor.model_copy(update={"language": language}))
    wo = completed(svc, UNIT, LEAK, language=language).wo
    invoice = submit_by_email(svc, vendor.email or "", f"Invoice {wo.id}",
                              "Invoice number: AQ-7\nMaterials: 120.00\nTotal: 120.00", None, "ses-invoice")
    current = svc.repo.get_work_order(wo.id)
    question = SafetyQuestion(hazard=Hazard.WATER, asked_at=svc.clock())
    dana = Contact(name="Dana On-Call", phone="+15550100001", email="oncall@maple.example.com", language=language)
    page = start(OnCallRota(levels=[OnCallLevel(contact=dana)]), svc.clock())  # for the on-call chain's events
    svc.repo.save(current.model_copy(update={"proposal": window(svc, 3, 13), "safety_question": question,
                                             "page": page}), current.version)
    svc.messenger.clear()

    book = message_book().events
    for n, detail_type in enumerate(book):
        detail = {"work_order_id": wo.id, "event_key": f"{wo.id}:all:{n}", "vendor_id": "ven-aqua", "hours": 2,
                  "eta_minutes": 15, "detail": "the reason", "reason": "the reason", "reported_by": "tenant",
                  "invoice_id": invoice["invoice_id"], "route": "ops", "stage": "completion"}
        assert notify(svc, detail_type, detail) == 2 * len(book[detail_type]), detail_type
    left = [(m.subject, m.body) for m in svc.messenger.sent if re.search(r"\$[a-z_]+", f"{m.subject} {m.body}")]
    assert left == []
    spanish = [m for m in svc.messenger.sent_to(ANA) if m.body.startswith(("Hola", "Recordatorio", "Lo sentimos"))]
    assert bool(spanish) == (language == "es")
