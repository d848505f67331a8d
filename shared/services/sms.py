"""Two-way SMS: what a tenant's text can do, whatever carried it (AWS End User Messaging or a
Twilio-compatible webhook). One use case; the channels only parse, verify and deliver the reply.

- a text from a known tenant's phone opens a request (source "sms"); the acknowledgement is the usual one
- YES / NO (in plain words) answers the newest question the tenant was asked: triage's safety question,
  the follow-up of a completed work order ("is it fixed?"), or a visit time the vendor proposed
- a number (1-5, or 0-10 for the quarterly NPS question; "5 great job" is 5 with a comment) answers the
  newest open number question: a job's satisfaction rating or the NPS question (shared/services/satisfaction.py)
- STATUS replies with the latest open work order's status in plain words
- STOP / START / HELP and the carriers' synonyms are honoured (opt-out recorded; outbound SMS checks it)
- an unknown number gets a polite "not registered" reply and no work order
Every reply is in the tenant's language (shared/rules/replies.json; see `reply_language`).
The rules (keywords, yes/no, the reply language) are in shared/domain/intent.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
from dataclasses import dataclass

from pydantic import ConfigDict, Field

from shared.domain.directory import Unit
from shared.domain.enums import trade_name
from shared.domain.intent import Intent, classify, only_answer, reply_language, request_language, tenant_language
from shared.domain.messages import format_window
from shared.domain.model import Model
from shared.domain.oncall import ack_command
from shared.domain.replies import DEFAULT_LANGUAGE, book, reply
from shared.domain.workorder import (
    OPEN_STATUSES,
    Source,
    Status,
    TimelineEntry,
    WorkOrder,
    question_to_answer,
)
from shared.observability import count, logger
from shared.services import safety, satisfaction, visits, workorders
from shared.services.container import Services


class InboundSms(Model):
    """One text as a channel received it (phone numbers E.164; never logged)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    channel: str = Field(pattern=r"^(twilio|eum)$")
    message_id: str = Field(min_length=1, max_length=128)
    from_phone: str = Field(min_length=3, max_length=32)
    to_phone: str = Field(default="", max_length=32)
    body: str = Field(default="", max_length=1600)


@dataclass(frozen=True)
class Outcome:
    """What the text did and what to answer on the same channel (None = nothing to send)."""

    action: str
    reply: str | None = None
    work_order_id: str | None = None


# ---------------------------------------------------------------- the use case
def handle_inbound(svc: Services, msg: InboundSms) -> Outcome:
    """Apply one inbound text, once per provider message id."""
    from shared.schemas import normalize_phone  # cold start: the schemas load on first use, not at import

    if not svc.repo.claim_inbound_sms(msg.channel, msg.message_id):
        count("SmsInboundDuplicate")
        return Outcome("duplicate")
    count("SmsInbound")
    try:
        phone = normalize_phone(msg.from_phone)
    except ValueError:
        return Outcome("unknown_number", reply("sms.unknown_number", reply_language(said=msg.body)))
    intent = classify(msg.body)
    unit = _tenant_unit(svc, phone)
    lang = reply_language(unit.tenant.language if unit and unit.tenant else None, said=msg.body)
    opted_out = svc.repo.sms_opted_out(phone)
    if intent == Intent.STOP:
        svc.repo.set_sms_opt_out(phone, True, svc.clock().isoformat())
        return _done("opted_out", reply("sms.stop", lang))
    if intent == Intent.START or (opted_out and intent == Intent.YES and only_answer(msg.body)):
        svc.repo.set_sms_opt_out(phone, False, svc.clock().isoformat())
        return _done("opted_in", reply("sms.start", lang))
    if intent == Intent.HELP:
        return _done("help", reply("sms.help", lang))
    acked, reference = ack_command(msg.body)
    if acked:  # the person paged for an emergency (shared/services/paging.py), never a tenant's request
        outcome = _acknowledge_page(svc, phone, reference, lang)
        return Outcome(outcome.action, None, outcome.work_order_id) if opted_out else outcome
    outcome = _for_tenant(svc, msg, phone, intent, unit)
    if opted_out and outcome.reply:  # the number said STOP: act, but send nothing back
        return Outcome(outcome.action, None, outcome.work_order_id)
    return outcome


def _done(action: str, reply: str) -> Outcome:
    count(f"Sms{action.title().replace('_', '')}")
    logger.info("sms keyword", extra={"action": action})
    return Outcome(action, reply)


def _acknowledge_page(svc: Services, phone: str, reference: str | None, lang: str) -> Outcome:
    from shared.services.paging import acknowledge_by_sms  # cold start: the on-call chain only for an ACK

    ack = acknowledge_by_sms(svc, phone, reference)
    if ack is None:
        count("SmsOncallNothingToAcknowledge")
        return Outcome("nothing_to_acknowledge", reply("oncall.nothing_to_acknowledge", lang))
    wo, language = ack.work_order, ack.language or lang
    count("SmsOncallAcknowledged")
    logger.info("on-call ack by sms", extra={"work_order_id": wo.id, "level": ack.level})
    if ack.theirs:
        return Outcome("oncall_acknowledged", reply("oncall.acknowledged", language, reference=wo.id), wo.id)
    acked_by = wo.page.acked_by if wo.page and wo.page.acked_by else "someone else"
    return Outcome("oncall_already_acknowledged", reply("oncall.already_acknowledged", language, reference=wo.id,
                                                        acked_by=acked_by), wo.id)


def _tenant_unit(svc: Services, phone: str) -> Unit | None:
    """The unit whose current tenant has this phone (stale index entries are skipped)."""
    for unit_id in svc.repo.units_for_phone(phone):
        unit = svc.repo.find_unit(unit_id)
        if unit and unit.tenant and unit.tenant.phone == phone:
            return unit
    return None


def _their_work_orders(svc: Services, unit: Unit, phone: str) -> list[WorkOrder]:
    """This tenant's work orders at their unit, newest first (one Query on the property index)."""
    found = svc.repo.list_work_orders(property_id=unit.property_id)
    return [w for w in found if w.unit_id == unit.id and w.tenant.phone == phone]


def _for_tenant(svc: Services, msg: InboundSms, phone: str, intent: Intent, unit: Unit | None) -> Outcome:
    if unit is None or unit.tenant is None:
        count("SmsUnknownNumber")
        return Outcome("unknown_number", reply("sms.unknown_number", reply_language(said=msg.body)))
    mine = _their_work_orders(svc, unit, phone)
    question = question_to_answer(mine, svc.clock())  # a YES or NO answers the newest question asked
    if question is not None and (intent in (Intent.YES, Intent.NO) or (
            question.kind == "safety" and intent == Intent.TEXT and safety.describes_an_emergency(msg.body))):
        wo, yes = question.work_order, intent != Intent.NO
        if question.kind == "safety":
            return _answer_safety(svc, unit, wo, intent, msg)
        if question.kind == "feedback":
            return _answer(svc, unit, wo, yes, msg)
        return _answer_proposal(svc, unit, wo, yes, msg)
    number = satisfaction.answer_number(svc, unit, mine, msg.body, "sms")  # the phone on file is the credential
    if number is not None:
        return _number_answered(svc, unit, mine, number, msg)
    if intent == Intent.STATUS:
        return _status(svc, unit, mine, msg)
    if (intent in (Intent.YES, Intent.NO) and only_answer(msg.body)) or satisfaction.lone_number(msg.body):
        lang = tenant_language(unit, mine[0] if mine else None, msg.body)
        return Outcome("nothing_to_answer", reply("sms.nothing_to_answer", lang))
    return _open_request(svc, unit, phone, msg)


def _open_request(svc: Services, unit: Unit, phone: str, msg: InboundSms) -> Outcome:
    from shared.schemas import NewRequest  # cold start: the schemas (email validation) load on first use, not at import

    description = " ".join(msg.body.split())
    if len(description) < 3:
        return Outcome("too_short", reply("sms.too_short", tenant_language(unit, None, msg.body)))
    assert unit.tenant is not None
    req = NewRequest(unit_id=unit.id, name=unit.tenant.name, phone=phone, email=unit.tenant.email,
                     description=description[:5000], language=request_language(unit, msg.body))
    # a message id is unique per provider only (the inbound claim is per channel too)
    wo = workorders.submit_request(svc, req, source=Source.SMS, idempotency_key=f"sms:{msg.channel}:{msg.message_id}")
    logger.info("sms request", extra={"work_order_id": wo.id})
    # The acknowledgement (with the status link) is the usual WorkOrderReceived message.
    return Outcome("request_opened", None, wo.id)


def _answer(svc: Services, unit: Unit, wo: WorkOrder, resolved: bool, msg: InboundSms) -> Outcome:
    comment = f"by SMS: {' '.join(msg.body.split())}"[:2000]
    workorders.answer_follow_up(svc, wo.id, resolved, comment)  # the phone on file is the tenant's credential
    # a YES also asks for a 1-5 rating (a number reply answers it)
    text = reply("sms.resolved_rate" if resolved else "sms.not_resolved", tenant_language(unit, wo, msg.body),
                 reference=wo.id)
    _record_reply(svc, wo.id, msg, "YES" if resolved else "NO")
    return Outcome("feedback_resolved" if resolved else "feedback_not_resolved", text, wo.id)


def _number_answered(svc: Services, unit: Unit, mine: list[WorkOrder], number: satisfaction.NumberAnswer,
                     msg: InboundSms) -> Outcome:
    wo = next((w for w in mine if w.id == number.work_order_id), None)
    lang = number.language or tenant_language(unit, wo or (mine[0] if mine else None), msg.body)
    text = reply(number.reply_key, lang, reference=number.work_order_id or "")
    if wo is not None:
        _record_reply(svc, wo.id, msg, "a rating")
    return Outcome(number.action, text, number.work_order_id)


def _answer_safety(svc: Services, unit: Unit, wo: WorkOrder, intent: Intent, msg: InboundSms) -> Outcome:
    """The tenant's answer to triage's safety question (the phone on file is their credential): YES, NO, or
    free text that describes an emergency, read as YES. Other free text is a new request, as always."""
    lang = tenant_language(unit, wo, msg.body)
    yes = intent != Intent.NO
    said = " ".join(msg.body.split())[:300]
    safety.answer(svc, wo.id, yes, via=f"SMS (\"{said}\")" if intent == Intent.TEXT else "SMS")
    _record_reply(svc, wo.id, msg, "YES" if yes else "NO")
    return Outcome("safety_yes" if yes else "safety_no", reply("safety.yes" if yes else "safety.no", lang,
                                                               reference=wo.id), wo.id)


def _answer_proposal(svc: Services, unit: Unit, wo: WorkOrder, confirmed: bool, msg: InboundSms) -> Outcome:
    # The phone on file is the tenant's credential here, as for the follow-up answer.
    visits.visit_answer(svc, wo.id, "confirm" if confirmed else "decline", "by SMS")
    text = reply("sms.visit_confirmed" if confirmed else "sms.visit_declined", tenant_language(unit, wo, msg.body),
                 reference=wo.id)
    _record_reply(svc, wo.id, msg, "YES" if confirmed else "NO")
    return Outcome("visit_confirmed" if confirmed else "visit_declined", text, wo.id)


def _status(svc: Services, unit: Unit, mine: list[WorkOrder], msg: InboundSms) -> Outcome:
    open_ = [w for w in mine if w.status in OPEN_STATUSES]
    if not open_:
        lang = tenant_language(unit, mine[0] if mine else None, msg.body)
        return Outcome("status", reply("sms.no_open_requests", lang))
    wo = open_[0]
    text = status_text(svc, wo, tenant_language(unit, wo, msg.body))
    return Outcome("status", text, _record_reply(svc, wo.id, msg, "STATUS"))


def status_text(svc: Services, wo: WorkOrder, language: str = DEFAULT_LANGUAGE) -> str:
    """The latest request's status in plain words (the visit's day in the tenant's language)."""
    trade = trade_name(wo.trade, language) if wo.trade else ""
    values = {"reference": wo.id, "trade": f" ({trade})" if trade else ""}
    if wo.status == Status.SCHEDULED and wo.window:
        vendor = svc.repo.find_vendor(wo.vendor_id) if wo.vendor_id else None
        who = vendor.name if vendor else reply("status.technician", language)
        return reply("status.scheduled_line", language, vendor=who,
                     window=format_window(wo.window, language, zone=False), **values)
    key = f"status.{wo.status.value}"
    words = reply(key, language) if key in book().replies else wo.status.value
    return reply("status.line", language, status=words, **values)


def _record_reply(svc: Services, wo_id: str, msg: InboundSms, what: str) -> str:
    svc.repo.add_timeline(wo_id, TimelineEntry(at=svc.clock(), event="notified",
                                               detail=f"SMS to tenant: reply to {what} ({msg.channel})"))
    return wo_id


# ---------------------------------------------------------------- Twilio
def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: base64(HMAC-SHA1(token, url + every POST param name+value sorted by name))."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def twilio_signature_valid(auth_token: str, url: str, params: dict[str, str], given: str | None) -> bool:
    if not given or not auth_token:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params).encode(), given.encode())


def twiml(reply: str | None) -> str:
    if not reply:
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    text = html.escape(reply, quote=False)  # &, <, > as xml.sax.saxutils.escape does, without importing xml.sax
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{text}</Message></Response>'


