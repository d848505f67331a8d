"""Inbound SMS as a use case: keywords (STOP/START/HELP/STATUS), YES/NO answers to follow-ups, proposals
and safety questions, unknown numbers, a new request by text, Twilio's retries; replies in the tenant's
language."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from shared.domain.directory import Contact
from shared.domain.enums import Priority
from shared.domain.intent import Intent, classify, reply_language, request_language
from shared.domain.quiet_hours import QuietHours
from shared.domain.replies import reply
from shared.domain.workorder import Source, Status
from shared.services.container import Services
from shared.services.sms import (
    InboundSms,
    Outcome,
    handle_inbound,
    status_text,
    twilio_signature,
    twilio_signature_valid,
    twiml,
)
from shared.services.visits import vendor_propose
from tests.service.journeys import accepted, at, completed, deliver, scheduled, submit, triaged, window

UNIT = "unit-maple-1a"
ANA = "+15550100010"
LEAK = "The bathroom faucet drips constantly"


class Texts:
    """A tenant's phone: each text gets a fresh provider message id."""

    def __init__(self, svc: Services, phone: str = ANA, channel: str = "twilio") -> None:
        self.svc, self.phone, self.channel, self.n = svc, phone, channel, 0

    def send(self, body: str, message_id: str | None = None) -> Outcome:
        self.n += 1
        return handle_inbound(self.svc, InboundSms(channel=self.channel, message_id=message_id or f"SM{self.n:04d}",
                                                   from_phone=self.phone, to_phone="+15550009999", body=body))


@pytest.fixture
def ana(svc: Services) -> Texts:
    return Texts(svc)


def sms_work_orders(svc: Services) -> list:
    return svc.repo.list_work_orders(source="sms")


def replies_recorded(svc: Services, wo_id: str) -> list[str]:
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    return [e.detail for e in wo.timeline if e.event == "notified" and "reply to" in e.detail]


# ---------------------------------------------------------------- a new request by text
def test_a_text_from_a_known_tenant_opens_a_request(svc: Services, ana: Texts) -> None:
    outcome = ana.send("  The kitchen   sink is clogged ")
    assert outcome.action == "request_opened" and outcome.reply is None  # the acknowledgement is the usual one
    wo = svc.repo.get_work_order(outcome.work_order_id or "")
    assert (wo.source, wo.unit_id, wo.description) == (Source.SMS, UNIT, "The kitchen sink is clogged")
    assert (wo.tenant.name, wo.tenant.phone, wo.tenant.email) == ("Ana Lopez", ANA, "ana@tenant.example.com")
    assert svc.events.last("WorkOrderReceived") == {"work_order_id": wo.id, "status": "received",
                                                    "event_key": f"{wo.id}:received", "source": "sms"}


def test_a_retried_delivery_of_the_same_message_is_applied_once(svc: Services, ana: Texts) -> None:
    first = ana.send("The kitchen sink is clogged", message_id="SMretry")
    again = ana.send("The kitchen sink is clogged", message_id="SMretry")
    assert again == Outcome("duplicate")
    assert [w.id for w in sms_work_orders(svc)] == [first.work_order_id]


def test_the_same_message_id_on_another_channel_is_another_message(svc: Services) -> None:
    Texts(svc, channel="twilio").send("The kitchen sink is clogged", message_id="X1")
    other = Texts(svc, phone="+15550100011", channel="eum").send("The hallway light is out", message_id="X1")
    assert other.action == "request_opened"
    assert len(sms_work_orders(svc)) == 2


def test_the_same_message_id_from_both_providers_for_one_tenant_opens_two_requests(svc: Services) -> None:
    Texts(svc, channel="twilio").send("The kitchen sink is clogged", message_id="X1")
    other = Texts(svc, channel="eum").send("The hallway light is out", message_id="X1")
    assert other.action == "request_opened"
    assert len(sms_work_orders(svc)) == 2


def test_a_text_too_short_to_be_a_request_is_answered_not_opened(svc: Services, ana: Texts) -> None:
    outcome = ana.send("??")
    assert outcome == Outcome("too_short", reply("sms.too_short", "en"))
    assert sms_work_orders(svc) == []


def test_a_request_texted_in_spanish_is_saved_in_spanish(svc: Services, ana: Texts) -> None:
    outcome = ana.send("El grifo del baño sigue goteando")
    wo = svc.repo.get_work_order(outcome.work_order_id or "")
    assert wo.tenant.language == "es"
    deliver(svc, "WorkOrderReceived")
    assert svc.messenger.sms_to(ANA)[0].body.startswith("Hola Ana Lopez")


def test_a_tenant_with_a_saved_language_keeps_it_whatever_they_write(svc: Services) -> None:
    unit = svc.repo.get_unit(UNIT)
    assert unit.tenant is not None
    english = unit.model_copy(update={"tenant": unit.tenant.model_copy(update={"language": "en"})})
    assert request_language(english, "El grifo del baño sigue goteando") is None  # inherits "en" from the unit
    assert request_language(unit, "El grifo del baño sigue goteando") == "es"


# ---------------------------------------------------------------- who may text
def test_an_unknown_number_gets_a_polite_reply_and_no_work_order(svc: Services) -> None:
    outcome = Texts(svc, phone="+15559990000").send("My sink is leaking")
    assert outcome == Outcome("unknown_number", reply("sms.unknown_number", "en"))
    assert sms_work_orders(svc) == []


def test_an_unknown_number_writing_spanish_is_answered_in_spanish(svc: Services) -> None:
    outcome = Texts(svc, phone="+15559990000").send("Hola, el grifo sigue goteando")
    assert outcome.reply == reply("sms.unknown_number", "es")


def test_a_number_that_is_not_a_phone_number_is_unknown(svc: Services) -> None:
    outcome = Texts(svc, phone="not-a-phone").send("My sink is leaking")
    assert outcome.action == "unknown_number" and sms_work_orders(svc) == []


def test_a_former_tenants_number_no_longer_opens_requests(svc: Services, ana: Texts) -> None:
    unit = svc.repo.get_unit(UNIT)
    svc.repo.put_unit(unit.model_copy(update={"tenant": Contact(name="New Tenant", phone="+15550177777")}))
    assert ana.send("My sink is leaking").action == "unknown_number"  # the phone index still names the unit


# ---------------------------------------------------------------- keywords
def test_stop_opts_out_and_start_opts_back_in(svc: Services, ana: Texts) -> None:
    assert ana.send("STOP") == Outcome("opted_out", reply("sms.stop", "en"))
    assert svc.repo.sms_opted_out(ANA)
    assert ana.send("start") == Outcome("opted_in", reply("sms.start", "en"))
    assert not svc.repo.sms_opted_out(ANA)


@pytest.mark.parametrize("word", ["unsubscribe", "Cancel", "END", "quit", "stopall"])
def test_the_carriers_stop_synonyms_opt_out(svc: Services, ana: Texts, word: str) -> None:
    assert ana.send(word).action == "opted_out"
    assert svc.repo.sms_opted_out(ANA)


def test_yes_from_an_opted_out_number_opts_it_back_in(svc: Services, ana: Texts) -> None:
    ana.send("STOP")
    assert ana.send("Yes").action == "opted_in"
    assert not svc.repo.sms_opted_out(ANA)


def test_an_opted_out_tenant_is_acted_for_but_sent_no_reply(svc: Services, ana: Texts) -> None:
    submit(svc, UNIT, LEAK)
    ana.send("STOP")
    status = ana.send("STATUS")
    assert status.action == "status" and status.reply is None and status.work_order_id
    assert svc.repo.sms_opted_out(ANA)


def test_help_is_answered_in_the_tenants_language(svc: Services, ana: Texts) -> None:
    assert ana.send("HELP") == Outcome("help", reply("sms.help", "en"))
    assert ana.send("ayuda") == Outcome("help", reply("sms.help", "es"))
    unit = svc.repo.get_unit(UNIT)
    assert unit.tenant is not None
    svc.repo.put_unit(unit.model_copy(update={"tenant": unit.tenant.model_copy(update={"language": "es"})}))
    assert ana.send("info").reply == reply("sms.help", "es")


# ---------------------------------------------------------------- STATUS
def test_status_with_no_requests_says_so(svc: Services, ana: Texts) -> None:
    assert ana.send("STATUS") == Outcome("status", reply("sms.no_open_requests", "en"))


def test_status_names_the_newest_open_request_and_is_recorded(svc: Services, ana: Texts) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    outcome = ana.send("status")
    assert outcome.action == "status" and outcome.work_order_id == wo.id
    assert outcome.reply == reply("status.line", "en", status=reply("status.triaged", "en"), reference=wo.id,
                                  trade=" (plumbing)")
    assert replies_recorded(svc, wo.id) == ["SMS to tenant: reply to STATUS (twilio)"]


def test_status_of_a_scheduled_visit_names_the_vendor_and_the_time_in_spanish(svc: Services, ana: Texts) -> None:
    wo = scheduled(svc, UNIT, LEAK, window(svc, 1, 9), language="es").wo
    text = ana.send("ESTADO").reply or ""
    assert "AquaFix Plumbing" in text and "jue 11 jun 09:00-11:00" in text and wo.id in text


def test_status_text_for_a_status_without_words_of_its_own(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    closed = wo.model_copy(update={"status": Status.CLOSED, "trade": None})
    assert status_text(svc, closed) == reply("status.line", "en", status="closed", reference=wo.id, trade="")


# ---------------------------------------------------------------- YES / NO
def test_yes_to_the_follow_up_closes_the_job(svc: Services, ana: Texts) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    outcome = ana.send("Yes, thanks!")
    assert outcome == Outcome("feedback_resolved", reply("sms.resolved_rate", "en", reference=wo.id), wo.id)
    done = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert done.status == Status.VERIFIED
    assert [e.detail for e in done.timeline if e.event == "verified"] == [
        "Tenant confirmed the fix - by SMS: Yes, thanks!"]
    assert replies_recorded(svc, wo.id) == ["SMS to tenant: reply to YES (twilio)"]


def test_no_to_the_follow_up_reopens_the_job_in_spanish(svc: Services, ana: Texts) -> None:
    wo = completed(svc, UNIT, LEAK, language="es").wo
    outcome = ana.send("todavia gotea")
    assert outcome == Outcome("feedback_not_resolved", reply("sms.not_resolved", "es", reference=wo.id), wo.id)
    assert svc.repo.get_work_order(wo.id).status == Status.REOPENED
    assert svc.events.last("WorkOrderReopened")["work_order_id"] == wo.id


def test_its_fixed_is_a_yes(svc: Services, ana: Texts) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    assert ana.send("it's fixed now").action == "feedback_resolved"
    assert svc.repo.get_work_order(wo.id).status == Status.VERIFIED


def test_yes_confirms_a_proposed_visit_time(svc: Services, ana: Texts) -> None:
    job = accepted(svc, UNIT, LEAK)
    proposal = window(svc, 2, 13)
    vendor_propose(svc, job.vendor_token, at(proposal))
    outcome = ana.send("Yes")
    assert outcome == Outcome("visit_confirmed", reply("sms.visit_confirmed", "en", reference=job.id), job.id)
    confirmed = svc.repo.get_work_order(job.id)
    assert confirmed.status == Status.SCHEDULED and confirmed.window == proposal and confirmed.proposal is None
    assert svc.events.last("VisitScheduled")["how"] == "confirmed_by_tenant"


def test_no_declines_a_proposed_visit_time(svc: Services, ana: Texts) -> None:
    job = accepted(svc, UNIT, LEAK)
    vendor_propose(svc, job.vendor_token, at(window(svc, 2, 13)))
    assert ana.send("no").action == "visit_declined"
    declined = svc.repo.get_work_order(job.id)
    assert declined.status == Status.ACCEPTED and declined.proposal is None
    assert svc.events.last("ProposalDeclined")["detail"] == "by SMS"


def test_a_yes_with_nothing_to_answer_says_so(svc: Services, ana: Texts) -> None:
    triaged(svc, UNIT, LEAK)
    assert ana.send("yes").action == "nothing_to_answer"
    assert ana.send("ok").reply == reply("sms.nothing_to_answer", "en")


def test_a_longer_text_starting_with_no_is_a_new_request(svc: Services, ana: Texts) -> None:
    outcome = ana.send("No hot water in my bathroom sink since this morning")
    assert outcome.action == "request_opened"


# ---------------------------------------------------------------- the safety question
def asked(svc: Services) -> str:
    # urgent, and unsure: is anyone at risk from the cold?
    wo = triaged(svc, UNIT, "The heater is not working in the apartment").wo
    assert wo.asking_safety and wo.priority == Priority.URGENT
    return wo.id


def test_yes_to_the_safety_question_makes_it_an_emergency(svc: Services, ana: Texts) -> None:
    wo_id = asked(svc)
    outcome = ana.send("YES")
    assert outcome == Outcome("safety_yes", reply("safety.yes", "en", reference=wo_id), wo_id)
    wo = svc.repo.get_work_order(wo_id)
    assert wo.priority == Priority.EMERGENCY and wo.safety_question and wo.safety_question.answer == "yes"
    assert ana.send("NO").action == "nothing_to_answer"  # the question was answered: no second answer


def test_no_to_the_safety_question_keeps_the_priority(svc: Services, ana: Texts) -> None:
    wo_id = asked(svc)
    assert ana.send("no").action == "safety_no"
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    assert wo.priority == Priority.URGENT and wo.safety_question and wo.safety_question.answer == "no"
    assert [e.detail for e in wo.timeline if e.event == "safety_answered"] == [
        "The tenant answered NO by SMS: kept as urgent"]


def test_free_text_describing_an_emergency_answers_the_safety_question_yes(svc: Services, ana: Texts) -> None:
    wo_id = asked(svc)
    outcome = ana.send("My baby is freezing and I smell gas")
    assert outcome.action == "safety_yes" and outcome.work_order_id == wo_id
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    assert any('by SMS ("My baby is freezing and I smell gas")' in e.detail for e in wo.timeline)


def test_other_free_text_while_asked_is_a_new_request(svc: Services, ana: Texts) -> None:
    wo_id = asked(svc)
    outcome = ana.send("Also the kitchen light flickers")
    assert outcome.action == "request_opened" and outcome.work_order_id != wo_id
    wo = svc.repo.get_work_order(wo_id)
    assert wo.safety_question and wo.safety_question.answer is None


# ---------------------------------------------------------------- the pure parts
@pytest.mark.parametrize(("body", "intent"), [
    ("STOP", Intent.STOP), ("stop please", Intent.TEXT), ("Start", Intent.START),
    ("HELP", Intent.HELP), ("Estado", Intent.STATUS), ("Sí", Intent.YES), ("ya está arreglado", Intent.YES),
    ("it is not fixed", Intent.TEXT), ("nope", Intent.NO), ("", Intent.TEXT), ("My sink leaks", Intent.TEXT),
])
def test_keywords_come_before_yes_and_no_and_a_negated_fix_is_no_yes(body: str, intent: Intent) -> None:
    assert classify(body) == intent


def test_reply_language_prefers_a_saved_language_then_what_was_written() -> None:
    assert reply_language(None, "es", said="hello") == "es"
    assert reply_language("fr", None, said="sigue goteando") == "es"  # unsupported preference skipped
    assert reply_language(said="hello") == "en"


def test_twilio_signature_is_checked_in_constant_time_against_the_token() -> None:
    params = {"From": ANA, "Body": "STATUS", "MessageSid": "SM1"}
    url = "https://opslayer.test/sms/twilio"
    good = twilio_signature("token", url, params)
    assert twilio_signature_valid("token", url, params, good)
    assert not twilio_signature_valid("other", url, params, good)
    assert not twilio_signature_valid("token", url, {**params, "Body": "STOP"}, good)
    assert not twilio_signature_valid("token", url, params, None)
    assert not twilio_signature_valid("", url, params, good)


def test_twiml_escapes_the_reply() -> None:
    assert twiml(None) == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert twiml("A < B & C") == ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>A &lt; B &amp; C'
                                  '</Message></Response>')


def test_quiet_hours_within_one_day_and_an_unknown_zone() -> None:
    hours = QuietHours.build("13:00", "14:00", "Not/AZone", "America/New_York")
    assert hours.zone == ZoneInfo("America/New_York") and hours.start == time(13)
    ny = ZoneInfo("America/New_York")
    assert hours.release_at(datetime(2026, 6, 10, 12, 59, tzinfo=ny)) is None
    assert hours.release_at(datetime(2026, 6, 10, 13, 30, tzinfo=ny)) == datetime(2026, 6, 10, 14, 0, tzinfo=ny)
    assert hours.release_at(datetime(2026, 6, 10, 14, 0, tzinfo=ny)) is None


def test_yes_answers_the_newest_question_a_proposal_made_after_a_follow_up(svc: Services, ana: Texts) -> None:
    done = completed(svc, UNIT, LEAK).wo
    svc.clock.advance(hours=2)
    light = accepted(svc, UNIT, "The kitchen light flickers")
    vendor_propose(svc, light.vendor_token, at(window(svc, 2, 13)))
    outcome = ana.send("YES")
    assert outcome.action == "visit_confirmed" and outcome.work_order_id == light.id
    assert svc.repo.get_work_order(done.id).status == Status.COMPLETED
