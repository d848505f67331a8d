"""Inbound email: what a tenant's email can do (SES receipt rule -> raw MIME in S3 -> this use case).

- from a known tenant's address (indexed like phones; SPF or DKIM must pass, so a forged From does
  nothing): YES / NO answers the newest question asked (as for SMS: the safety question, "is it fixed?",
  a proposed visit time), of the work order the reply names if it names one; a reply naming one of their
  work orders is otherwise added to it; STATUS replies with the latest open request's status, and
  anything else opens a request (source "email")
- image attachments become photos through the same checked path as uploads (written under uploads/)
- an unknown sender gets no work order, and a polite answer only when the mail passed SES's checks
- from a vendor's address: an invoice (matched by reference and sender, else the ops exception queue)
- a repeated SES delivery (same message id) is dropped
Every answer is in the sender's language (shared/rules/replies.json; the choice as for SMS: the saved
preference, else Spanish when the email is clearly Spanish, else English), signature and subject too.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain import photos as photo_rules
from shared.domain.directory import Unit
from shared.domain.inbound_email import InboundEmail
from shared.domain.intent import Intent, classify, reply_language, request_language, tenant_language
from shared.domain.invoices import sniff
from shared.domain.replies import DEFAULT_LANGUAGE, reply
from shared.domain.workorder import (
    OPEN_STATUSES,
    Source,
    TimelineEntry,
    WorkOrder,
    question_to_answer,
)
from shared.observability import count, logger
from shared.services import invoicing, safety, satisfaction, visits, workorders
from shared.services.container import Services
from shared.services.sms import status_text

RAW_PREFIX = "inbound-email/"  # the receipt rule's S3Action ObjectKeyPrefix (template.yaml)


@dataclass(frozen=True)
class Verdicts:
    """What SES's checks said: spam and virus must not fail; SPF or DKIM must pass to act as a tenant."""

    spam: str = "PASS"
    virus: str = "PASS"
    spf: str = "PASS"
    dkim: str = "PASS"
    dmarc: str = "PASS"

    @property
    def deliverable(self) -> bool:
        return self.spam != "FAIL" and self.virus != "FAIL"

    @property
    def authenticated(self) -> bool:
        return self.dmarc != "FAIL" and (self.spf == "PASS" or self.dkim == "PASS")


@dataclass(frozen=True)
class Outcome:
    action: str
    reply: str | None = None  # the body of an email answer (None = nothing to send)
    work_order_id: str | None = None
    photos: int = 0  # attachments handed to the photo check
    language: str = DEFAULT_LANGUAGE  # of the reply, its subject and signature


def handle_email(svc: Services, mail: InboundEmail, message_id: str, verdicts: Verdicts) -> Outcome:
    """Apply one inbound email, once per SES message id (if applying fails the claim is released, so
    SES's retry of the asynchronous invoke applies it again; the raw message stays in S3)."""
    if not svc.repo.claim_inbound_email(message_id):
        count("EmailInboundDuplicate")
        return Outcome("duplicate")
    try:
        return _handle(svc, mail, message_id, verdicts)
    except Exception:
        svc.repo.release_inbound_email(message_id)
        raise


def _handle(svc: Services, mail: InboundEmail, message_id: str, verdicts: Verdicts) -> Outcome:
    count("EmailInbound")
    if not verdicts.deliverable:
        count("EmailInboundRefused")
        return Outcome("refused")
    if mail.automatic:  # an out-of-office or list message: act on nothing, never answer (no mail loops)
        return Outcome("automatic_ignored")
    vendor_ids = svc.repo.vendors_for_email(mail.from_address) if verdicts.authenticated and mail.from_address \
        else []
    if vendor_ids:
        return _vendor_invoice(svc, mail, message_id, vendor_ids)
    unit = _tenant_unit(svc, mail.from_address) if verdicts.authenticated else None
    if unit is None:
        count("EmailUnknownSender")
        lang = reply_language(said=_said(mail))
        return Outcome("unknown_sender", reply("email.unknown_sender", lang) if verdicts.authenticated else None,
                       language=lang)
    return _for_tenant(svc, unit, mail, message_id, _their_work_orders(svc, unit, mail.from_address))


def _vendor_invoice(svc: Services, mail: InboundEmail, message_id: str, vendor_ids: list[str]) -> Outcome:
    """A vendor's email is an invoice: matched by the work-order reference and the sender; what does not
    match or cannot be read goes to the ops exception queue (shared/services/invoicing.py). The answer is
    in the vendor's language (Vendor.language)."""
    document = next(((a.filename, sniff(a.data) or a.content_type, a.data) for a in mail.attachments
                     if sniff(a.data) in ("application/pdf", "image/jpeg", "image/png")), None)
    result = invoicing.submit_by_email(svc, mail.from_address, mail.subject, mail.text, document, message_id)
    vendors = [svc.repo.find_vendor(v) for v in vendor_ids]
    lang = reply_language(*(v.language for v in vendors if v), said=_said(mail))
    if "invoice_id" in result:
        return Outcome("invoice_received", reply("email.invoice_received", lang, reference=result["work_order_id"]),
                       result["work_order_id"], language=lang)
    return Outcome("invoice_exception", reply("email.invoice_exception", lang), language=lang)


def _tenant_unit(svc: Services, address: str) -> Unit | None:
    """The unit whose current tenant has this address (stale index entries are skipped)."""
    if not address:
        return None
    for unit_id in svc.repo.units_for_email(address):
        unit = svc.repo.find_unit(unit_id)
        if unit and unit.tenant and (unit.tenant.email or "").lower() == address:
            return unit
    return None


def _their_work_orders(svc: Services, unit: Unit, address: str) -> list[WorkOrder]:
    found = svc.repo.list_work_orders(property_id=unit.property_id)
    return [w for w in found if w.unit_id == unit.id and (w.tenant.email or "").lower() == address]


def _said(mail: InboundEmail) -> str:
    """What the sender wrote (the subject when the body is empty), to classify and to tell the language."""
    return mail.text or mail.subject_words


def _for_tenant(svc: Services, unit: Unit, mail: InboundEmail, message_id: str,
                mine: list[WorkOrder]) -> Outcome:
    text = _said(mail)
    intent = classify(text)
    referenced = next((w for w in mine if w.id == mail.reference), None)
    # A YES or NO answers the newest question asked: about the request the reply names, if it names one.
    question = question_to_answer([referenced] if referenced else mine, svc.clock())
    if question is not None and intent in (Intent.YES, Intent.NO):
        wo, yes = question.work_order, intent == Intent.YES
        if question.kind == "safety":
            return _answer_safety(svc, unit, wo, yes, mail)
        if question.kind == "feedback":
            return _answer(svc, unit, wo, yes, mail)
        return _answer_proposal(svc, unit, wo, yes, mail)
    # A number answers the newest open number question (a rating of the request it names, or the NPS one).
    number = satisfaction.answer_number(svc, unit, [referenced] if referenced else mine, text, "email")
    if number is not None:
        wo = next((w for w in mine if w.id == number.work_order_id), None)
        lang = number.language or tenant_language(unit, wo or (mine[0] if mine else None), text)
        if wo is not None:
            _record(svc, wo.id, "reply to a rating")
        return Outcome(number.action, reply(number.reply_key, lang, reference=number.work_order_id or ""),
                       number.work_order_id, language=lang)
    if referenced is not None:
        return _add_to(svc, unit, referenced, mail)
    if intent == Intent.STATUS:
        open_ = [w for w in mine if w.status in OPEN_STATUSES]
        if not open_:
            lang = tenant_language(unit, mine[0] if mine else None, text)
            return Outcome("status", reply("email.no_open_requests", lang), language=lang)
        lang = tenant_language(unit, open_[0], text)
        _record(svc, open_[0].id, "reply to STATUS")
        return Outcome("status", status_text(svc, open_[0], lang), open_[0].id, language=lang)
    if (intent in (Intent.YES, Intent.NO) and len(text.split()) <= 2) or satisfaction.lone_number(text):
        lang = tenant_language(unit, mine[0] if mine else None, text)
        return Outcome("nothing_to_answer", reply("email.nothing_to_answer", lang), language=lang)
    return _open_request(svc, unit, mail, message_id)


def _open_request(svc: Services, unit: Unit, mail: InboundEmail, message_id: str) -> Outcome:
    from shared.schemas import NewRequest  # cold start: the schemas (email validation) load on first use, not at import

    parts = [p for p in (mail.subject_words, " ".join(mail.text.split())) if p]
    description = ": ".join(parts) if len(parts) == 2 and not parts[1].startswith(parts[0]) else " ".join(parts[-1:])
    if len(description) < 3:
        lang = tenant_language(unit, None, _said(mail))
        return Outcome("too_short", reply("email.too_short", lang), language=lang)
    assert unit.tenant is not None
    req = NewRequest(unit_id=unit.id, name=unit.tenant.name, phone=unit.tenant.phone, email=mail.from_address,
                     description=description[:5000], language=request_language(unit, description))
    wo = workorders.submit_request(svc, req, source=Source.EMAIL, idempotency_key=f"email:{message_id}")
    logger.info("email request", extra={"work_order_id": wo.id})
    # The acknowledgement (with the status link) is the usual WorkOrderReceived message.
    return Outcome("request_opened", None, wo.id, _attach(svc, wo, mail))


def _add_to(svc: Services, unit: Unit, wo: WorkOrder, mail: InboundEmail) -> Outcome:
    added = _attach(svc, wo, mail)
    if mail.text:
        svc.repo.add_timeline(wo.id, TimelineEntry(at=svc.clock(), event="tenant_message",
                                                   detail=f"Email from tenant: {mail.text[:1000]}", actor="tenant"))
    lang = tenant_language(unit, wo, _said(mail))
    _record(svc, wo.id, "message added")
    text = reply("email.added_with_photos" if added else "email.added", lang, reference=wo.id)
    return Outcome("added_to_request", text, wo.id, added, lang)


def _answer_safety(svc: Services, unit: Unit, wo: WorkOrder, yes: bool, mail: InboundEmail) -> Outcome:
    """The tenant's YES or NO to triage's safety question (the authenticated address is the credential)."""
    safety.answer(svc, wo.id, yes, via="email")
    lang = tenant_language(unit, wo, _said(mail))
    _record(svc, wo.id, "YES" if yes else "NO")
    return Outcome("safety_yes" if yes else "safety_no",
                   reply("safety.yes" if yes else "safety.no", lang, reference=wo.id), wo.id, language=lang)


def _answer(svc: Services, unit: Unit, wo: WorkOrder, resolved: bool, mail: InboundEmail) -> Outcome:
    comment = f"by email: {' '.join((mail.text or mail.subject_words).split())}"[:2000]
    # The authenticated address on file is the tenant's credential here, as the phone is for SMS.
    workorders.answer_follow_up(svc, wo.id, resolved, comment)
    added = _attach(svc, wo, mail)
    lang = tenant_language(unit, wo, _said(mail))
    text = reply("email.resolved_rate" if resolved else "email.not_resolved", lang, reference=wo.id)  # asks 1-5
    _record(svc, wo.id, "YES" if resolved else "NO")
    return Outcome("feedback_resolved" if resolved else "feedback_not_resolved", text, wo.id, added, lang)


def _answer_proposal(svc: Services, unit: Unit, wo: WorkOrder, confirmed: bool, mail: InboundEmail) -> Outcome:
    # The authenticated address on file is the tenant's credential, as for the follow-up answer.
    visits.visit_answer(svc, wo.id, "confirm" if confirmed else "decline", "by email")
    lang = tenant_language(unit, wo, _said(mail))
    text = reply("email.visit_confirmed" if confirmed else "email.visit_declined", lang, reference=wo.id)
    _record(svc, wo.id, "YES" if confirmed else "NO")
    return Outcome("visit_confirmed" if confirmed else "visit_declined", text, wo.id, _attach(svc, wo, mail), lang)


def _attach(svc: Services, wo: WorkOrder, mail: InboundEmail) -> int:
    """Image attachments go under uploads/ like any upload: the photo check keeps or rejects each."""
    room = photo_rules.rules().max_per_party - photo_rules.count_for(wo.photos, "tenant")
    images = [a for a in mail.attachments if a.content_type.startswith("image/")][:max(0, room)]
    store = svc.photo_store()
    for attachment in images:
        store.put(photo_rules.upload_key(wo.id, "tenant"), attachment.data, attachment.content_type)
    return len(images)


def _record(svc: Services, wo_id: str, what: str) -> None:
    svc.repo.add_timeline(wo_id, TimelineEntry(at=svc.clock(), event="notified",
                                               detail=f"Email to tenant: {what}"))


def reply_subject(mail: InboundEmail, outcome: Outcome) -> str:
    subject = mail.subject_words or reply("email.subject", outcome.language)
    ref = outcome.work_order_id
    return f"Re: {subject}" + (f" ({ref})" if ref and ref not in subject else "")


def signature(outcome: Outcome) -> str:
    """Appended to every answer, in the answer's language."""
    return reply("email.signature", outcome.language)
