"""Tenant satisfaction: the 1-5 rating asked once a tenant confirms a fix, and the quarterly NPS question.

- Rating: a tenant who answers "is it fixed?" with YES (page, SMS or email) is asked for a 1-5 rating and an
  optional comment (the status page's form, the SMS or email reply). One answer per job: a second one is a
  409 (page) or a polite reply (SMS, email), never a replacement. "Not fixed" asks nothing: the job reopens
  and the rating is asked when a later visit is confirmed.
- NPS: a job verified in a quarter notes its tenant as due (NPSDUE#<quarter>); a daily schedule asks each due
  tenant once per quarter (the survey record is claimed before the message goes: at most once), never within
  SURVEY_GAP_DAYS of their last question. Answers by SMS or email (a number 0-10) or the signed page link.
- A number reply answers the tenant's newest open number question (a rating or the NPS question);
  YES / NO keep answering the yes/no questions (shared/services/sms.py).
Comments are tenant text: cut to COMMENT_MAX, escaped on pages, never in events or logs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain import links
from shared.domain.directory import Contact, Unit
from shared.domain.errors import InvalidInput, InvalidTransition, LinkRejected
from shared.domain.replies import reply
from shared.domain.satisfaction import (
    NPS_OPEN_DAYS,
    NPS_RANGE,
    RATING_RANGE,
    SURVEY_GAP_DAYS,
    Satisfaction,
    clean_comment,
    in_range,
    nps_may_ask,
    previous_quarter,
    quarter_of,
    quarter_start,
    read_number,
    still_open,
    tenant_key,
)
from shared.domain.workorder import WorkOrder, rating_to_answer
from shared.observability import count, logger
from shared.services.container import Services
from shared.services.writes import Edit, entry, mutate, publish, tenant_scope

NPS_CATCH_UP_DAYS = 30  # tenants verified late in a quarter are still asked this long into the next one


# ---------------------------------------------------------------- the rating of one job
def ask_rating_update(svc: Services, wo: WorkOrder) -> dict[str, object]:
    """The work-order fields that ask for a rating (merged into the "fixed? YES" change)."""
    return {"rating_asked_at": svc.clock()} if wo.satisfaction is None else {}


def rate(svc: Services, wo_id: str, rating: int, comment: str | None, channel: str) -> WorkOrder:
    """Store the tenant's 1-5 rating (the caller authenticated them). One answer per job: a second is a 409."""
    if not in_range(rating, RATING_RANGE):
        raise InvalidInput("The rating is a number from 1 to 5.", [{"field": "rating", "message": "1 to 5"}])
    said = clean_comment(comment)

    def apply(wo: WorkOrder) -> Edit[None]:
        if wo.satisfaction is not None:
            raise InvalidTransition("This repair was already rated. Thank you!", {"reason": "already_rated"})
        if wo.rating_asked_at is None:
            raise InvalidTransition("No rating is asked for this request.", {"reason": "not_asked"})
        answer = Satisfaction(rating=rating, comment=said, channel=channel, at=svc.clock())
        detail = f"Tenant rated the repair {rating}/5 by {channel}" + (f": {said}" if said else "")
        return Edit(wo.model_copy(update={"satisfaction": answer}), [entry(svc, "rated", detail, actor="tenant")])

    wo = mutate(svc, wo_id, apply).saved
    publish(svc, "TenantRated", wo, "rated", rating=rating, channel=channel, has_comment=said is not None,
            property_id=wo.property_id, vendor_id=wo.vendor_id, trade=wo.trade.value if wo.trade else None)
    logger.info("tenant rated", extra={"work_order_id": wo.id, "rating": rating, "channel": channel})
    return wo


def tenant_rate(svc: Services, wo_id: str, token: str | None, rating: int, comment: str | None) -> WorkOrder:
    """The rating from the status page (the tenant's link)."""
    tenant_scope(svc, wo_id, token, "rate")
    return rate(svc, wo_id, rating, comment, "page")


# ---------------------------------------------------------------- NPS: who is due, asking them
def note_verified(svc: Services, wo: WorkOrder) -> None:
    """A verified job makes its tenant due for this quarter's NPS question (drills never count)."""
    if wo.drill or not (wo.tenant.phone or wo.tenant.email):
        return
    now = svc.clock()
    svc.repo.note_nps_due(quarter_of(now), tenant_key(wo.unit_id, wo.tenant.phone, wo.tenant.email), {
        "unit_id": wo.unit_id, "work_order_id": wo.id, "verified_at": now.isoformat(),
        "language": wo.tenant.language})


def note_rating_asked(svc: Services, wo: WorkOrder) -> None:
    """The rating question counts as a survey question for the NPS rate limit."""
    if not wo.drill and (wo.tenant.phone or wo.tenant.email):
        svc.repo.note_question(tenant_key(wo.unit_id, wo.tenant.phone, wo.tenant.email), svc.clock().isoformat())


def quarters_to_ask(now: datetime) -> list[str]:
    """This quarter, and the previous one during the first NPS_CATCH_UP_DAYS of this one."""
    current = quarter_of(now)
    if now.date() < quarter_start(current) + timedelta(days=NPS_CATCH_UP_DAYS):
        return [previous_quarter(current), current]
    return [current]


def ask_nps(svc: Services, gap_days: int = SURVEY_GAP_DAYS) -> dict[str, int]:
    """One run of the schedule: ask every due tenant who was not asked yet this quarter and not lately.
    Idempotent: a second run the same day asks nobody again. Returns the count per outcome."""
    outcomes: Counter[str] = Counter()
    for quarter in quarters_to_ask(svc.clock()):
        for due in svc.repo.nps_due(quarter):
            outcomes[_ask_one(svc, quarter, due, gap_days)] += 1
    for outcome, n in outcomes.items():
        count(f"Nps{outcome.title().replace('_', '')}", n)
    logger.info("nps run", extra={"outcomes": dict(outcomes)})
    return dict(outcomes)


def _ask_one(svc: Services, quarter: str, due: dict[str, object], gap_days: int) -> str:
    tenant, now = str(due["tenant"]), svc.clock()
    if svc.repo.survey(tenant, quarter) is not None:
        return "already_asked"
    last = svc.repo.last_question_at(tenant)
    if not nps_may_ask(datetime.fromisoformat(last) if last else None, now, gap_days):
        return "too_soon"
    unit = svc.repo.find_unit(str(due["unit_id"]))
    contact = unit.tenant if unit else None
    if unit is None or contact is None or unit.drill or tenant_key(unit.id, contact.phone, contact.email) != tenant:
        return "moved_out"  # not the unit's tenant any more (or no such unit)
    channel = "sms" if contact.phone and not svc.repo.sms_opted_out(contact.phone) else \
        "email" if contact.email else None
    if channel is None:
        return "unreachable"
    language = contact.language or str(due.get("language") or "en")
    if not svc.repo.claim_survey(tenant, quarter, {"asked_at": now.isoformat(), "channel": channel,
                                                   "unit_id": unit.id, "language": language}):
        return "already_asked"  # a run at the same time claimed it
    token = svc.link_tokens().issue(tenant, "survey", quarter, NPS_OPEN_DAYS * 86400, actions=("view", "nps"))
    text = reply("nps.question", language, link=nps_link(svc.settings.public_base_url, token))
    messenger = svc.outbound(False)
    if channel == "sms":
        messenger.sms(str(contact.phone), text)
    else:
        messenger.email(str(contact.email), reply("nps.subject", language), text)
    svc.repo.note_question(tenant, now.isoformat())
    return "asked"


def nps_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/surveys/nps?token={token}"


# ---------------------------------------------------------------- NPS: answers
@dataclass(frozen=True)
class OpenNps:
    tenant: str
    quarter: str
    asked_at: datetime
    language: str


def open_nps(svc: Services, unit: Unit, contact: Contact) -> OpenNps | None:
    """The tenant's unanswered NPS question, if one is still open (this quarter's or the previous one's)."""
    tenant, now = tenant_key(unit.id, contact.phone, contact.email), svc.clock()
    for quarter in (quarter_of(now), previous_quarter(quarter_of(now))):
        survey = svc.repo.survey(tenant, quarter)
        if survey and "score" not in survey:
            asked = datetime.fromisoformat(str(survey["asked_at"]))
            if still_open(asked, now, NPS_OPEN_DAYS):
                return OpenNps(tenant, quarter, asked, str(survey.get("language") or "en"))
    return None


def answer_nps(svc: Services, tenant: str, quarter: str, score: int, channel: str,
               comment: str | None = None) -> bool:
    """Record the NPS answer once; False if it was answered already (or never asked)."""
    if not in_range(score, NPS_RANGE):
        raise InvalidInput("The score is a number from 0 to 10.", [{"field": "score", "message": "0 to 10"}])
    survey = svc.repo.survey(tenant, quarter)
    if survey is None:
        return False
    answered = svc.repo.answer_survey(tenant, quarter, {
        "score": score, "answer_channel": channel, "answered_at": svc.clock().isoformat(),
        "comment": clean_comment(comment)})
    if not answered:
        return False
    unit = svc.repo.find_unit(str(survey.get("unit_id") or ""))
    detail = {"tenant": tenant, "quarter": quarter, "score": score, "channel": channel,
              "unit_id": survey.get("unit_id"), "property_id": unit.property_id if unit else None,
              "event_key": f"nps:{tenant}:{quarter}"}
    svc.events.publish("TenantNpsAnswered", detail)
    count("TenantNpsAnswered")
    logger.info("nps answered", extra={"quarter": quarter, "score": score, "channel": channel})
    return True


def page_nps(svc: Services, token: str | None, score: int | None = None, comment: str | None = None) -> OpenNps:
    """The NPS page's link: its survey (GET), or record the answer (POST, `score` given; a second is a 409)."""
    if not token:
        raise LinkRejected("This page needs the link we sent you (token missing).", {"reason": "missing"})
    scope = svc.link_tokens().verify(token)
    links.require(scope, None, "survey", "view" if score is None else "nps")
    survey = svc.repo.survey(scope.work_order_id, scope.party_id)
    if survey is None:
        raise links.invalid()
    found = OpenNps(scope.work_order_id, scope.party_id, datetime.fromisoformat(str(survey["asked_at"])),
                    str(survey.get("language") or "en"))
    if score is not None and not answer_nps(svc, found.tenant, found.quarter, score, "page", comment):
        raise InvalidTransition("You already answered this survey. Thank you!", {"reason": "already_answered"})
    return found


def nps_answered(svc: Services, found: OpenNps) -> bool:
    survey = svc.repo.survey(found.tenant, found.quarter)
    return bool(survey and "score" in survey)


# ---------------------------------------------------------------- a number by SMS or email
@dataclass(frozen=True)
class NumberAnswer:
    """What a number reply did: `action` and the reply's key (replies.json) and values."""

    action: str
    reply_key: str
    work_order_id: str | None = None
    language: str | None = None


def answer_number(svc: Services, unit: Unit, mine: list[WorkOrder], body: str, channel: str) -> NumberAnswer | None:
    """A reply that starts with a number answers the tenant's newest open number question: a job's 1-5
    rating or the NPS question. None when it is no number or no such question is open (the caller goes on:
    a lone number gets "nothing to answer", a longer text may be a new request)."""
    said = read_number(body)
    if said is None or unit.tenant is None:
        return None
    rating = rating_to_answer(mine, svc.clock())
    nps = open_nps(svc, unit, unit.tenant)
    if rating is None and nps is None:
        return None
    if nps is not None and (rating is None or nps.asked_at > rating.asked_at):
        if answer_nps(svc, nps.tenant, nps.quarter, said.value, channel, said.comment):
            return NumberAnswer("nps_answered", "nps.thanks", None, nps.language)
        return NumberAnswer("nps_already_answered", "nps.already", None, nps.language)
    assert rating is not None
    wo = rating.work_order
    if not in_range(said.value, RATING_RANGE):
        return NumberAnswer("rating_out_of_range", "rating.range", wo.id)
    try:
        rate(svc, wo.id, said.value, said.comment, channel)
    except InvalidTransition:
        return NumberAnswer("rating_already_given", "rating.already", wo.id)
    return NumberAnswer("rated", "rating.thanks", wo.id)


def lone_number(body: str) -> bool:
    """Only a number (no comment): never a new request."""
    said = read_number(body)
    return said is not None and said.comment is None
