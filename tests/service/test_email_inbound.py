"""Inbound email as a use case: a tenant's email opens a request, is added to the request it names, answers
a follow-up or a safety question, asks for the status; a vendor's email is an invoice; unknown or
unauthenticated senders open nothing; SES's repeated deliveries are applied once."""

from __future__ import annotations

import pytest

from shared.domain.enums import Priority
from shared.domain.inbound_email import Attachment, InboundEmail
from shared.domain.replies import reply
from shared.domain.workorder import Source, Status
from shared.services.container import Services
from shared.services.email_inbound import Outcome, Verdicts, handle_email, reply_subject, signature
from shared.services.invoicing import exceptions
from tests.service.journeys import accepted, at, completed, triaged, window

UNIT = "unit-maple-1a"
ANA = "ana@tenant.example.com"
AQUA = "dispatch@aquafix.example.com"
LEAK = "The bathroom faucet drips constantly"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
PDF = b"%PDF-1.4\n" + b"0" * 200


class Mailbox:
    """Emails from one sender, each with a fresh SES message id."""

    def __init__(self, svc: Services, sender: str = ANA) -> None:
        self.svc, self.sender, self.n = svc, sender, 0

    def send(self, subject: str, text: str = "", attachments: list[Attachment] | None = None,
             verdicts: Verdicts | None = None, message_id: str | None = None, automatic: bool = False) -> Outcome:
        self.n += 1
        mail = InboundEmail(from_address=self.sender, from_name="", subject=subject, text=text,
                            attachments=attachments or [], automatic=automatic)
        return handle_email(self.svc, mail, message_id or f"ses-{self.sender}-{self.n}", verdicts or Verdicts())


@pytest.fixture
def ana(svc: Services) -> Mailbox:
    return Mailbox(svc)


def uploads(svc: Services, wo_id: str) -> list[str]:
    return sorted(k for k in svc.photo_store().objects if k.startswith(f"uploads/{wo_id}/tenant/"))


def email_work_orders(svc: Services) -> list:
    return svc.repo.list_work_orders(source="email")


# ---------------------------------------------------------------- a new request by email
def test_an_email_from_a_tenant_opens_a_request_with_its_photos(svc: Services, ana: Mailbox) -> None:
    photo = Attachment("sink.png", "image/png", PNG)
    notes = Attachment("notes.txt", "text/plain", b"not an image")
    outcome = ana.send("Leaking sink", "Water drips under the kitchen sink.", [photo, notes])
    assert outcome.action == "request_opened" and outcome.reply is None and outcome.photos == 1
    wo = svc.repo.get_work_order(outcome.work_order_id or "")
    assert (wo.source, wo.unit_id, wo.tenant.email, wo.tenant.phone) == (Source.EMAIL, UNIT, ANA, "+15550100010")
    assert wo.description == "Leaking sink: Water drips under the kitchen sink."
    [key] = uploads(svc, wo.id)  # the image goes through the photo check, the text file nowhere
    assert svc.photo_store().objects[key].body == PNG


def test_a_body_that_repeats_the_subject_is_not_said_twice(svc: Services, ana: Mailbox) -> None:
    outcome = ana.send("Re: Leaking sink", "Leaking sink under the kitchen counter")
    assert svc.repo.get_work_order(outcome.work_order_id or "").description == "Leaking sink under the kitchen counter"


def test_an_email_too_short_to_be_a_request_is_answered(svc: Services, ana: Mailbox) -> None:
    outcome = ana.send("", "?!")
    assert outcome == Outcome("too_short", reply("email.too_short", "en"))
    assert email_work_orders(svc) == []


def test_a_repeated_ses_delivery_is_applied_once(svc: Services, ana: Mailbox) -> None:
    first = ana.send("Leaking sink", "Water under the sink", message_id="ses-1")
    again = ana.send("Leaking sink", "Water under the sink", message_id="ses-1")
    assert again == Outcome("duplicate")
    assert [w.id for w in email_work_orders(svc)] == [first.work_order_id]


def test_a_failure_releases_the_claim_so_the_retry_applies_it(svc: Services, ana: Mailbox,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(**_: object) -> list:
        raise RuntimeError("table unavailable")

    monkeypatch.setattr(svc.repo, "list_work_orders", unavailable)
    with pytest.raises(RuntimeError):
        ana.send("Leaking sink", "Water under the sink", message_id="ses-2")
    monkeypatch.undo()
    assert ana.send("Leaking sink", "Water under the sink", message_id="ses-2").action == "request_opened"


def test_a_spanish_email_opens_a_request_saved_in_spanish(svc: Services, ana: Mailbox) -> None:
    outcome = ana.send("Fuga", "El grifo del baño sigue goteando")
    assert svc.repo.get_work_order(outcome.work_order_id or "").tenant.language == "es"


# ---------------------------------------------------------------- who may write
def test_an_unknown_sender_opens_nothing_and_gets_a_polite_answer(svc: Services) -> None:
    outcome = Mailbox(svc, "stranger@example.com").send("Leak", "My sink leaks")
    assert outcome == Outcome("unknown_sender", reply("email.unknown_sender", "en"))
    spanish = Mailbox(svc, "extrano@example.com").send("Fuga", "El grifo sigue goteando")
    assert spanish.reply == reply("email.unknown_sender", "es") and spanish.language == "es"
    assert email_work_orders(svc) == []


def test_a_tenant_address_that_fails_spf_and_dkim_opens_nothing_and_gets_no_answer(svc: Services,
                                                                                    ana: Mailbox) -> None:
    outcome = ana.send("Leak", "My sink leaks", verdicts=Verdicts(spf="FAIL", dkim="FAIL"))
    assert outcome == Outcome("unknown_sender")  # a forged From: nothing done, nothing answered
    assert ana.send("Leak", "My sink leaks", verdicts=Verdicts(dmarc="FAIL")).reply is None
    assert email_work_orders(svc) == []


def test_dkim_alone_is_enough_to_act(svc: Services, ana: Mailbox) -> None:
    assert ana.send("Leak", "My sink leaks", verdicts=Verdicts(spf="FAIL")).action == "request_opened"


@pytest.mark.parametrize("verdicts", [Verdicts(spam="FAIL"), Verdicts(virus="FAIL")])
def test_spam_or_a_virus_is_refused(svc: Services, ana: Mailbox, verdicts: Verdicts) -> None:
    assert ana.send("Leak", "My sink leaks", verdicts=verdicts) == Outcome("refused")
    assert email_work_orders(svc) == []


def test_an_automatic_reply_is_never_acted_on_or_answered(svc: Services, ana: Mailbox) -> None:
    assert ana.send("Out of office", "I am away until Monday", automatic=True) == Outcome("automatic_ignored")
    assert email_work_orders(svc) == []


def test_a_former_tenants_address_is_an_unknown_sender(svc: Services, ana: Mailbox) -> None:
    unit = svc.repo.get_unit(UNIT)
    assert unit.tenant is not None
    svc.repo.put_unit(unit.model_copy(update={"tenant": unit.tenant.model_copy(update={"email": "new@x.example"})}))
    assert ana.send("Leak", "My sink leaks").action == "unknown_sender"


def test_an_empty_sender_is_unknown(svc: Services) -> None:
    assert Mailbox(svc, "").send("Leak", "My sink leaks").action == "unknown_sender"


# ---------------------------------------------------------------- replies to a request
def test_a_reply_naming_a_request_is_added_to_it(svc: Services, ana: Mailbox) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    outcome = ana.send(f"Re: We received your maintenance request ({wo.id})", "It is getting worse.",
                       [Attachment("drip.png", "image/png", PNG)])
    assert outcome == Outcome("added_to_request", reply("email.added_with_photos", "en", reference=wo.id), wo.id, 1)
    timeline = svc.repo.get_work_order(wo.id, with_timeline=True).timeline
    assert [(e.detail, e.actor) for e in timeline if e.event == "tenant_message"] == [
        ("Email from tenant: It is getting worse.", "tenant")]
    assert [e.detail for e in timeline if e.event == "notified"][-1] == "Email to tenant: message added"
    assert len(uploads(svc, wo.id)) == 1
    assert email_work_orders(svc) == []


def test_a_reply_without_text_or_photos_is_still_acknowledged(svc: Services, ana: Mailbox) -> None:
    wo = triaged(svc, UNIT, LEAK, language="es").wo
    outcome = ana.send(f"Re: ({wo.id}) update")
    assert outcome.reply == reply("email.added", "es", reference=wo.id) and outcome.language == "es"


def test_a_reply_naming_someone_elses_request_opens_a_new_one(svc: Services, ana: Mailbox) -> None:
    bens = triaged(svc, "unit-maple-1b", LEAK).wo
    outcome = ana.send(f"About {bens.id}", "My own faucet drips too")
    assert outcome.action == "request_opened" and outcome.work_order_id != bens.id


def test_yes_in_a_reply_to_the_follow_up_closes_the_job(svc: Services, ana: Mailbox) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    outcome = ana.send(f"Re: Is it fixed? ({wo.id})", "Yes")
    assert outcome == Outcome("feedback_resolved", reply("email.resolved_rate", "en", reference=wo.id), wo.id)
    verified = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert verified.status == Status.VERIFIED
    assert "Tenant confirmed the fix - by email: Yes" in [e.detail for e in verified.timeline]


def test_no_without_a_reference_answers_the_completed_job(svc: Services, ana: Mailbox) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    outcome = ana.send("Still broken", "No, still dripping", [Attachment("drip.png", "image/png", PNG)])
    assert (outcome.action, outcome.work_order_id, outcome.photos) == ("feedback_not_resolved", wo.id, 1)
    assert svc.repo.get_work_order(wo.id).status == Status.REOPENED


def test_yes_with_nothing_to_answer_says_so(svc: Services, ana: Mailbox) -> None:
    triaged(svc, UNIT, LEAK)
    assert ana.send("", "yes") == Outcome("nothing_to_answer", reply("email.nothing_to_answer", "en"))


def test_status_names_the_newest_open_request(svc: Services, ana: Mailbox) -> None:
    assert ana.send("STATUS") == Outcome("status", reply("email.no_open_requests", "en"))
    wo = triaged(svc, UNIT, LEAK).wo
    outcome = ana.send("status")
    assert outcome.action == "status" and outcome.work_order_id == wo.id and wo.id in (outcome.reply or "")
    timeline = svc.repo.get_work_order(wo.id, with_timeline=True).timeline
    assert timeline[-1].detail == "Email to tenant: reply to STATUS"


# ---------------------------------------------------------------- the safety question
def test_yes_by_email_answers_the_safety_question(svc: Services, ana: Mailbox) -> None:
    wo = triaged(svc, UNIT, "The heater is not working in the apartment").wo
    outcome = ana.send(f"Re: Is anyone in danger? ({wo.id})", "YES")
    assert outcome == Outcome("safety_yes", reply("safety.yes", "en", reference=wo.id), wo.id)
    assert svc.repo.get_work_order(wo.id).priority == Priority.EMERGENCY


def test_no_by_email_without_a_reference_answers_the_open_question(svc: Services, ana: Mailbox) -> None:
    wo = triaged(svc, UNIT, "The heater is not working in the apartment", language="es").wo
    outcome = ana.send("", "no")
    assert outcome == Outcome("safety_no", reply("safety.no", "es", reference=wo.id), wo.id, language="es")
    answered = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert answered.safety_question and answered.safety_question.answer == "no"
    assert "The tenant answered NO by email: kept as urgent" in [e.detail for e in answered.timeline]


# ---------------------------------------------------------------- invoices from vendors
INVOICE = "Invoice number: AQ-1001\nLabour: 2 h x 95\nMaterials: 40.00\nTotal: 230.00"


def test_a_vendors_email_is_an_invoice_for_the_job_it_names(svc: Services) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    outcome = Mailbox(svc, AQUA).send(f"Invoice for {wo.id}", INVOICE, [Attachment("inv.pdf", "application/pdf",
                                                                                   PDF)])
    assert outcome == Outcome("invoice_received", reply("email.invoice_received", "en", reference=wo.id), wo.id)
    [invoice] = svc.repo.invoices_for(wo.id)
    assert (invoice.vendor_id, invoice.invoice_number, str(invoice.total)) == ("ven-aqua", "AQ-1001", "230.00")
    assert invoice.attachment is not None


def test_a_vendors_email_that_matches_no_job_goes_to_the_exception_queue(svc: Services) -> None:
    outcome = Mailbox(svc, AQUA).send("Invoice", INVOICE)
    assert outcome == Outcome("invoice_exception", reply("email.invoice_exception", "en"))
    [kept] = exceptions(svc)
    assert kept["reason"] == "no work-order reference in the email" and kept["source"] == "email"


def test_a_vendor_who_prefers_spanish_is_answered_in_spanish(svc: Services) -> None:
    vendor = svc.repo.get_vendor("ven-aqua")
    svc.repo.put_vendor(vendor.model_copy(update={"language": "es"}))
    outcome = Mailbox(svc, AQUA).send("Factura", INVOICE)
    assert outcome.reply == reply("email.invoice_exception", "es") and outcome.language == "es"


def test_an_unauthenticated_vendor_address_is_not_taken_for_the_vendor(svc: Services) -> None:
    outcome = Mailbox(svc, AQUA).send("Invoice", INVOICE, verdicts=Verdicts(spf="FAIL", dkim="FAIL"))
    assert outcome == Outcome("unknown_sender")
    assert exceptions(svc) == []


# ---------------------------------------------------------------- the answer's subject and signature
def test_the_answer_keeps_the_subject_names_the_request_and_is_signed_in_its_language() -> None:
    mail = InboundEmail(from_address=ANA, from_name="Ana", subject="Fwd: Leaking sink", text="")
    assert reply_subject(mail, Outcome("request_opened", None, "wo-1")) == "Re: Leaking sink (wo-1)"
    named = InboundEmail(from_address=ANA, from_name="Ana", subject="About wo-1", text="")
    assert reply_subject(named, Outcome("added_to_request", "x", "wo-1")) == "Re: About wo-1"
    empty = InboundEmail(from_address=ANA, from_name="Ana", subject="", text="")
    assert reply_subject(empty, Outcome("too_short", "x", language="es")) == f"Re: {reply('email.subject', 'es')}"
    assert signature(Outcome("x", language="es")) == reply("email.signature", "es")


def test_yes_in_a_reply_to_a_proposal_confirms_the_visit(svc: Services, ana: Mailbox) -> None:
    from shared.services.visits import vendor_propose

    job = accepted(svc, UNIT, LEAK)
    vendor_propose(svc, job.vendor_token, at(window(svc, 2, 13)))
    outcome = ana.send(f"Re: Can you make it? ({job.id})", "Yes")
    assert svc.repo.get_work_order(job.id).status == Status.SCHEDULED
    assert outcome.work_order_id == job.id


def test_no_in_an_email_declines_the_proposed_time_and_the_vendor_is_asked_again(svc: Services, ana: Mailbox) -> None:
    from shared.services.visits import vendor_propose

    job = accepted(svc, UNIT, LEAK)
    vendor_propose(svc, job.vendor_token, at(window(svc, 2, 13)))
    outcome = ana.send("Re: the visit", "No")  # names no request: the newest question is the proposal
    assert (outcome.action, outcome.work_order_id) == ("visit_declined", job.id)
    assert outcome.reply == reply("email.visit_declined", "en", reference=job.id)
    assert svc.repo.get_work_order(job.id).proposal is None and svc.events.last("ProposalDeclined")
