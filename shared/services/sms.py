"""Two-way SMS: what a tenant's text can do, whatever carried it (AWS End User Messaging or a
Twilio-compatible webhook). One use case; the channels only parse, verify and deliver the reply.

- a text from a known tenant's phone opens a request (source "sms"); the acknowledgement is the usual one
- YES / NO (in plain words) answers the follow-up of a completed work order, else a visit time the
  vendor proposed (confirm / decline)
- STATUS replies with the latest open work order's status in plain words
- STOP / START / HELP and the carriers' synonyms are honoured (opt-out recorded; outbound SMS checks it)
- an unknown number gets a polite "not registered" reply and no work order
Every reply is in the tenant's language (shared/rules/replies.json; see `reply_language`).
Quiet hours for outbound SMS live here too (pure: the clock is passed in).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.directory import Unit
from shared.domain.replies import DEFAULT_LANGUAGE, reply, supported
from shared.domain.workorder import (
    OPEN_STATUSES,
    Source,
    Status,
    TimelineEntry,
    WorkOrder,
    safety_question_to_answer,
)
from shared.observability import count, logger
from shared.services.container import Services

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
START_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info", "ayuda"})
STATUS_KEYWORDS = frozenset({"status", "estado"})
YES_WORDS_ES = frozenset({"si", "listo", "arreglado", "arreglada"})
NO_WORDS_ES = frozenset({"todavia", "sigue", "aun"})
YES_WORDS = frozenset({"yes", "y", "yep", "yeah", "yup", "ok", "okay", "fixed", "oui", "sure"}) | YES_WORDS_ES
NO_WORDS = frozenset({"no", "n", "nope", "nah", "not", "non", "still"}) | NO_WORDS_ES
# "it's fixed" / "ya está arreglado": a leading word, then (within three words) a fixed word, and no negation
FIXED_PHRASES = {"it": (frozenset({"fixed"}), "not"), "ya": (frozenset({"arreglado", "arreglada", "funciona"}), "no")}
# The classifier's words that only Spanish uses: a text with one of them is answered in Spanish when the
# tenant has no saved preference ("no" is both languages' word, so it says nothing).
SPANISH_WORDS = YES_WORDS_ES | NO_WORDS_ES | {"estado", "ayuda", "arreglado", "arreglada", "funciona"}


class Intent(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    STATUS = "status"
    YES = "yes"
    NO = "no"
    TEXT = "text"


class InboundSms(BaseModel):
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


def _words(body: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", body).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z]+", plain)


def classify(body: str) -> Intent:
    """Keywords first (a carrier's STOP must never be read as a repair request), then yes/no words."""
    words = _words(body)
    if not words:
        return Intent.TEXT
    first, single = words[0], len(words) == 1
    if single and first in STOP_WORDS:
        return Intent.STOP
    if single and first in START_WORDS:
        return Intent.START
    if single and first in HELP_WORDS:
        return Intent.HELP
    if single and first in STATUS_KEYWORDS:
        return Intent.STATUS
    fixed, negation = FIXED_PHRASES.get(first, (frozenset(), ""))
    if first in YES_WORDS or (fixed.intersection(words[:3]) and negation not in words):
        return Intent.YES
    if first in NO_WORDS:
        return Intent.NO
    return Intent.TEXT


def _only_answer(body: str) -> bool:
    return len(_words(body)) <= 2


SPANISH_CONFIDENCE = 0.8  # a request is saved in Spanish when the model is this sure


def spanish(body: str) -> bool:
    """The text uses one of the classifier's Spanish words (no general language detection)."""
    return not SPANISH_WORDS.isdisjoint(_words(body))


def reply_language(*preferences: str | None, said: str = "") -> str:
    """The first saved preference we answer in (most specific first: the work order's tenant, then the
    unit's); else Spanish when what they wrote is clearly Spanish; else English."""
    for preference in preferences:
        if supported(preference):
            return str(preference)
    return "es" if spanish(said) else DEFAULT_LANGUAGE


# ---------------------------------------------------------------- the use case
def handle_inbound(svc: Services, msg: InboundSms) -> Outcome:
    """Apply one inbound text, once per provider message id."""
    from shared.schemas import normalize_phone

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
    if intent == Intent.START or (opted_out and intent == Intent.YES and _only_answer(msg.body)):
        svc.repo.set_sms_opt_out(phone, False, svc.clock().isoformat())
        return _done("opted_in", reply("sms.start", lang))
    if intent == Intent.HELP:
        return _done("help", reply("sms.help", lang))
    outcome = _for_tenant(svc, msg, phone, intent, unit)
    if opted_out and outcome.reply:  # the number said STOP: act, but send nothing back
        return Outcome(outcome.action, None, outcome.work_order_id)
    return outcome


def _done(action: str, reply: str) -> Outcome:
    count(f"Sms{action.title().replace('_', '')}")
    logger.info("sms keyword", extra={"action": action})
    return Outcome(action, reply)


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


def tenant_language(unit: Unit, wo: WorkOrder | None, said: str) -> str:
    """The language to answer a tenant in: the work order's saved preference (or, for an answer about no
    one work order, their newest one's), the unit tenant's, else what they wrote."""
    return reply_language(wo.tenant.language if wo else None, unit.tenant.language if unit.tenant else None,
                          said=said)


def request_language(unit: Unit, said: str) -> str | None:
    """The language a request opened by text or email is saved with: none of its own when the unit's
    tenant has a saved preference (it inherits that), else Spanish when they wrote clearly Spanish, so the
    acknowledgement and every later message are in Spanish."""
    if unit.tenant and supported(unit.tenant.language):
        return None
    return "es" if spanish(said) or written_in_spanish(said) else None


def written_in_spanish(text: str) -> bool:
    """The triage model's language head reads the request as Spanish with confidence."""
    from shared.domain.triage_model import load_model

    language = load_model().predict(text).language or {}
    return language.get("es", 0.0) >= SPANISH_CONFIDENCE


def _for_tenant(svc: Services, msg: InboundSms, phone: str, intent: Intent, unit: Unit | None) -> Outcome:
    if unit is None or unit.tenant is None:
        count("SmsUnknownNumber")
        return Outcome("unknown_number", reply("sms.unknown_number", reply_language(said=msg.body)))
    mine = _their_work_orders(svc, unit, phone)
    asking = safety_question_to_answer(mine)
    if asking is not None and intent in (Intent.YES, Intent.NO, Intent.TEXT):
        from shared.services import safety

        if intent != Intent.TEXT or safety.describes_an_emergency(msg.body):
            return _answer_safety(svc, unit, asking, intent, msg)
    if intent == Intent.STATUS:
        return _status(svc, unit, mine, msg)
    if intent in (Intent.YES, Intent.NO):
        completed = next((w for w in mine if w.status == Status.COMPLETED), None)
        if completed is not None:
            return _answer(svc, unit, completed, intent == Intent.YES, msg)
        proposed = next((w for w in mine if w.proposal and w.status in (Status.ACCEPTED, Status.SCHEDULED)), None)
        if proposed is not None:
            return _answer_proposal(svc, unit, proposed, intent == Intent.YES, msg)
        if _only_answer(msg.body):
            lang = tenant_language(unit, mine[0] if mine else None, msg.body)
            return Outcome("nothing_to_answer", reply("sms.nothing_to_answer", lang))
    return _open_request(svc, unit, phone, msg)


def _open_request(svc: Services, unit: Unit, phone: str, msg: InboundSms) -> Outcome:
    from shared.schemas import NewRequest
    from shared.services import workorders

    description = " ".join(msg.body.split())
    if len(description) < 3:
        return Outcome("too_short", reply("sms.too_short", tenant_language(unit, None, msg.body)))
    assert unit.tenant is not None
    req = NewRequest(unit_id=unit.id, name=unit.tenant.name, phone=phone, email=unit.tenant.email,
                     description=description[:5000], language=request_language(unit, msg.body))
    wo = workorders.submit_request(svc, req, source=Source.SMS, idempotency_key=f"sms:{msg.message_id}")
    logger.info("sms request", extra={"work_order_id": wo.id})
    # The acknowledgement (with the status link) is the usual WorkOrderReceived message.
    return Outcome("request_opened", None, wo.id)


def _answer(svc: Services, unit: Unit, wo: WorkOrder, resolved: bool, msg: InboundSms) -> Outcome:
    from shared.services import workorders

    comment = f"by SMS: {' '.join(msg.body.split())}"[:2000]
    workorders.answer_follow_up(svc, wo.id, resolved, comment)  # the phone on file is the tenant's credential
    text = reply("sms.resolved" if resolved else "sms.not_resolved", tenant_language(unit, wo, msg.body),
                 reference=wo.id)
    _record_reply(svc, wo.id, msg, "YES" if resolved else "NO")
    return Outcome("feedback_resolved" if resolved else "feedback_not_resolved", text, wo.id)


def _answer_safety(svc: Services, unit: Unit, wo: WorkOrder, intent: Intent, msg: InboundSms) -> Outcome:
    """The tenant's answer to triage's safety question (the phone on file is their credential): YES, NO, or
    free text that describes an emergency, read as YES. Other free text is a new request, as always."""
    from shared.services import safety

    lang = tenant_language(unit, wo, msg.body)
    yes = intent != Intent.NO
    said = " ".join(msg.body.split())[:300]
    safety.answer(svc, wo.id, yes, via=f"SMS (\"{said}\")" if intent == Intent.TEXT else "SMS")
    _record_reply(svc, wo.id, msg, "YES" if yes else "NO")
    return Outcome("safety_yes" if yes else "safety_no", reply("safety.yes" if yes else "safety.no", lang,
                                                               reference=wo.id), wo.id)


def _answer_proposal(svc: Services, unit: Unit, wo: WorkOrder, confirmed: bool, msg: InboundSms) -> Outcome:
    from shared.services import visits

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
    from shared.domain.enums import trade_name
    from shared.domain.replies import book
    from shared.services.notifications import format_window  # the lifecycle messages' format

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
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(reply)}</Message></Response>'


# ---------------------------------------------------------------- quiet hours (outbound)
@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def build(cls, start: str, end: str, time_zone: str | None, default_zone: str) -> QuietHours:
        try:
            zone = ZoneInfo(time_zone or default_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(default_zone)
        return cls(time.fromisoformat(start), time.fromisoformat(end), zone)

    def release_at(self, now: datetime) -> datetime | None:
        """None outside quiet hours; else when they end (an aware datetime)."""
        local = now.astimezone(self.zone)
        t = local.time()
        overnight = self.start > self.end
        inside = (t >= self.start or t < self.end) if overnight else (self.start <= t < self.end)
        if not inside:
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end
