"""Two-way SMS: what a tenant's text can do, whatever carried it (AWS End User Messaging or a
Twilio-compatible webhook). One use case; the channels only parse, verify and deliver the reply.

- a text from a known tenant's phone opens a request (source "sms"); the acknowledgement is the usual one
- YES / NO (in plain words) answers the follow-up of a completed work order, else a visit time the
  vendor proposed (confirm / decline)
- STATUS replies with the latest open work order's status in plain words
- STOP / START / HELP and the carriers' synonyms are honoured (opt-out recorded; outbound SMS checks it)
- an unknown number gets a polite "not registered" reply and no work order
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
from shared.domain.workorder import OPEN_STATUSES, Source, Status, TimelineEntry, WorkOrder
from shared.observability import count, logger
from shared.services.container import Services

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
START_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info"})
YES_WORDS = frozenset({"yes", "y", "yep", "yeah", "yup", "si", "ok", "okay", "fixed", "oui", "sure"})
NO_WORDS = frozenset({"no", "n", "nope", "nah", "not", "non", "still"})

HELP_TEXT = ("Opslayer maintenance: text a description of the problem to report it, STATUS for an update, "
             "YES or NO to answer 'Is it fixed?'. Reply STOP to opt out. Msg&data rates may apply.")
STOP_TEXT = "You are unsubscribed from maintenance texts and will get no more messages. Reply START to resubscribe."
START_TEXT = "You are resubscribed to maintenance texts. Reply HELP for help, STOP to opt out."
UNKNOWN_TEXT = ("Sorry, this number is not registered with your property's maintenance service. "
                "Please use the web form or call the office.")
NOTHING_TO_ANSWER = ("We have no repair waiting for your answer. Text a description of a problem to report it, "
                     "or STATUS for an update.")

STATUS_WORDS = {
    Status.RECEIVED: "received and being reviewed",
    Status.TRIAGED: "reviewed; we are finding a technician",
    Status.OFFERED: "reviewed; we are finding a technician",
    Status.REOPENED: "reopened; we are sending a technician back",
    Status.ACCEPTED: "assigned to a technician, who will confirm a visit time",
    Status.SCHEDULED: "scheduled",
    Status.COMPLETED: "done, according to the technician. Is it fixed? Reply YES or NO",
}


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
    if single and first == "status":
        return Intent.STATUS
    if first in YES_WORDS or (first == "it" and "fixed" in words[:3] and "not" not in words):
        return Intent.YES
    if first in NO_WORDS:
        return Intent.NO
    return Intent.TEXT


def _only_answer(body: str) -> bool:
    return len(_words(body)) <= 2


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
        return Outcome("unknown_number", UNKNOWN_TEXT)
    intent = classify(msg.body)
    opted_out = svc.repo.sms_opted_out(phone)
    if intent == Intent.STOP:
        svc.repo.set_sms_opt_out(phone, True, svc.clock().isoformat())
        return _done("opted_out", STOP_TEXT)
    if intent == Intent.START or (opted_out and intent == Intent.YES and _only_answer(msg.body)):
        svc.repo.set_sms_opt_out(phone, False, svc.clock().isoformat())
        return _done("opted_in", START_TEXT)
    if intent == Intent.HELP:
        return _done("help", HELP_TEXT)
    outcome = _for_tenant(svc, msg, phone, intent)
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


def _for_tenant(svc: Services, msg: InboundSms, phone: str, intent: Intent) -> Outcome:
    unit = _tenant_unit(svc, phone)
    if unit is None or unit.tenant is None:
        count("SmsUnknownNumber")
        return Outcome("unknown_number", UNKNOWN_TEXT)
    mine = _their_work_orders(svc, unit, phone)
    if intent == Intent.STATUS:
        return _status(svc, mine, msg)
    if intent in (Intent.YES, Intent.NO):
        completed = next((w for w in mine if w.status == Status.COMPLETED), None)
        if completed is not None:
            return _answer(svc, completed, intent == Intent.YES, msg)
        proposed = next((w for w in mine if w.proposal and w.status in (Status.ACCEPTED, Status.SCHEDULED)), None)
        if proposed is not None:
            return _answer_proposal(svc, proposed, intent == Intent.YES, msg)
        if _only_answer(msg.body):
            return Outcome("nothing_to_answer", NOTHING_TO_ANSWER)
    return _open_request(svc, unit, phone, msg)


def _open_request(svc: Services, unit: Unit, phone: str, msg: InboundSms) -> Outcome:
    from shared.schemas import NewRequest
    from shared.services import workorders

    description = " ".join(msg.body.split())
    if len(description) < 3:
        return Outcome("too_short", "Please describe the problem in a few words (or reply HELP).")
    assert unit.tenant is not None
    req = NewRequest(unit_id=unit.id, name=unit.tenant.name, phone=phone, email=unit.tenant.email,
                     description=description[:5000])
    wo = workorders.submit_request(svc, req, source=Source.SMS, idempotency_key=f"sms:{msg.message_id}")
    logger.info("sms request", extra={"work_order_id": wo.id})
    # The acknowledgement (with the status link) is the usual WorkOrderReceived message.
    return Outcome("request_opened", None, wo.id)


def _answer(svc: Services, wo: WorkOrder, resolved: bool, msg: InboundSms) -> Outcome:
    from shared.services import workorders

    comment = f"by SMS: {' '.join(msg.body.split())}"[:2000]
    workorders.answer_follow_up(svc, wo.id, resolved, comment)  # the phone on file is the tenant's credential
    reply = ("Thanks for confirming! We have closed this repair. Ref " + wo.id if resolved
             else "Sorry it is not fixed. We are sending a technician back and will text you. Ref " + wo.id)
    _record_reply(svc, wo.id, msg, "YES" if resolved else "NO")
    return Outcome("feedback_resolved" if resolved else "feedback_not_resolved", reply, wo.id)


def _answer_proposal(svc: Services, wo: WorkOrder, confirmed: bool, msg: InboundSms) -> Outcome:
    from shared.services import visits

    # The phone on file is the tenant's credential here, as for the follow-up answer.
    visits.visit_answer(svc, wo.id, "confirm" if confirmed else "decline", "by SMS")
    reply = ("Thanks! The visit is confirmed. Ref " + wo.id if confirmed
             else "OK, we have asked the technician for another time. Ref " + wo.id)
    _record_reply(svc, wo.id, msg, "YES" if confirmed else "NO")
    return Outcome("visit_confirmed" if confirmed else "visit_declined", reply, wo.id)


def _status(svc: Services, mine: list[WorkOrder], msg: InboundSms) -> Outcome:
    open_ = [w for w in mine if w.status in OPEN_STATUSES]
    if not open_:
        return Outcome("status", "You have no open maintenance requests. Text a description of a problem to report "
                                 "one.")
    wo = open_[0]
    return Outcome("status", status_text(svc, wo), _record_reply(svc, wo.id, msg, "STATUS"))


def status_text(svc: Services, wo: WorkOrder) -> str:
    words = STATUS_WORDS.get(wo.status, wo.status.value)
    what = f" ({wo.trade.value})" if wo.trade else ""
    text = f"Your request{what} is {words}"
    if wo.status == Status.SCHEDULED and wo.window:
        vendor = svc.repo.find_vendor(wo.vendor_id) if wo.vendor_id else None
        who = vendor.name if vendor else "The technician"
        text = f"Your request{what} is scheduled: {who} will come {wo.window.start:%a %d %b %H:%M}" \
               f"-{wo.window.end:%H:%M}"
    return f"{text}. Ref {wo.id}"


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
