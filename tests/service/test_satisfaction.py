"""Tenant satisfaction on the fakes: the 1-5 rating after "fixed? YES" by page, SMS and email (in Spanish
too), one answer per job, number replies with no open question, and the quarterly NPS question: who is
asked, once per quarter, the rate limit, idempotent runs, answers by SMS, email and the signed page link."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.domain.errors import InvalidTransition, LinkRejected
from shared.domain.inbound_email import InboundEmail
from shared.domain.links import TOKEN_PATTERN
from shared.domain.replies import reply
from shared.domain.satisfaction import quarter_of, tenant_key
from shared.domain.workorder import Status
from shared.services import satisfaction
from shared.services.container import Services
from shared.services.email_inbound import Verdicts, handle_email
from shared.services.sms import InboundSms, handle_inbound
from shared.services.views import tenant_status
from shared.services.workorders import answer_follow_up, tenant_feedback
from tests.service.journeys import completed, tenant_token

UNIT = "unit-maple-1a"
ANA_PHONE = "+15550100010"
ANA_EMAIL = "ana@tenant.example.com"
LEAK = "The bathroom faucet drips constantly"
ANA = tenant_key(UNIT, ANA_PHONE, ANA_EMAIL)


class Tenant:
    """Ana, texting and emailing (fresh provider message ids)."""

    def __init__(self, svc: Services) -> None:
        self.svc, self.n = svc, 0

    def text(self, body: str):
        self.n += 1
        return handle_inbound(self.svc, InboundSms(channel="twilio", message_id=f"SM{self.n:04d}",
                                                   from_phone=ANA_PHONE, to_phone="+15550009999", body=body))

    def email(self, subject: str, body: str):
        self.n += 1
        mail = InboundEmail(from_address=ANA_EMAIL, from_name="", subject=subject, text=body, attachments=[])
        return handle_email(self.svc, mail, f"ses-{self.n}", Verdicts())


@pytest.fixture
def ana(svc: Services) -> Tenant:
    return Tenant(svc)


def fixed(svc: Services, ana: Tenant, language: str | None = None):
    """A completed job the tenant confirms by SMS: the rating is asked."""
    wo = completed(svc, UNIT, LEAK, **({"language": language} if language else {})).wo
    ana.text("si" if language == "es" else "yes")
    return svc.repo.get_work_order(wo.id, with_timeline=True)


def rated_events(svc: Services) -> list[dict]:
    return [d for t, d in svc.events.published if t == "TenantRated"]


# ---------------------------------------------------------------- the rating of a job
def test_yes_by_sms_asks_for_a_rating_and_a_digit_reply_answers_it(svc: Services, ana: Tenant) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    asked = ana.text("yes")
    assert asked.reply == reply("sms.resolved_rate", "en", reference=wo.id) and "1 (poor) to 5" in asked.reply
    assert svc.repo.get_work_order(wo.id).rating_asked_at == svc.clock()
    svc.clock.advance(minutes=5)
    outcome = ana.text("5 great job, very quick")
    assert (outcome.action, outcome.reply) == ("rated", reply("rating.thanks", "en", reference=wo.id))
    done = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert done.satisfaction is not None
    assert (done.satisfaction.rating, done.satisfaction.comment, done.satisfaction.channel,
            done.satisfaction.at) == (5, "great job, very quick", "sms", svc.clock())
    assert [e.detail for e in done.timeline if e.event == "rated"] == [
        "Tenant rated the repair 5/5 by sms: great job, very quick"]
    [event] = rated_events(svc)
    assert (event["work_order_id"], event["rating"], event["channel"], event["has_comment"],
            event["property_id"], event["event_key"]) == (wo.id, 5, "sms", True, wo.property_id, f"{wo.id}:rated")
    assert "great job" not in str(event)  # the comment stays on the work order
    assert done.status == Status.VERIFIED and svc.repo.list_work_orders(source="sms") == []  # no new request


def test_a_spanish_tenant_is_asked_and_thanked_in_spanish(svc: Services, ana: Tenant) -> None:
    wo = fixed(svc, ana, "es")
    outcome = ana.text("cuatro, muy amable el técnico")
    assert outcome.reply == reply("rating.thanks", "es", reference=wo.id) and outcome.reply.startswith("¡Gracias")
    sat = svc.repo.get_work_order(wo.id).satisfaction
    assert sat is not None and (sat.rating, sat.comment) == (4, "muy amable el técnico")


def test_a_second_rating_is_refused_politely_and_keeps_the_first(svc: Services, ana: Tenant) -> None:
    wo = fixed(svc, ana)
    ana.text("4")
    assert ana.text("4") .action == "nothing_to_answer"  # the rating question is closed once answered
    with pytest.raises(InvalidTransition) as refused:
        satisfaction.rate(svc, wo.id, 1, "changed my mind", "email")
    assert refused.value.details == {"reason": "already_rated"}
    sat = svc.repo.get_work_order(wo.id).satisfaction
    assert sat is not None and (sat.rating, sat.channel) == (4, "sms") and len(rated_events(svc)) == 1


def test_a_rating_out_of_range_asks_again(svc: Services, ana: Tenant) -> None:
    wo = fixed(svc, ana)
    outcome = ana.text("8")
    assert (outcome.action, outcome.reply) == ("rating_out_of_range", reply("rating.range", "en", reference=wo.id))
    assert svc.repo.get_work_order(wo.id).satisfaction is None
    assert ana.text("2 took two visits").action == "rated"


def test_a_digit_with_no_open_question_answers_nothing_and_opens_nothing(svc: Services, ana: Tenant) -> None:
    for body in ("5", "10/10"):
        outcome = ana.text(body)
        assert (outcome.action, outcome.reply) == ("nothing_to_answer", reply("sms.nothing_to_answer", "en"))
    assert svc.repo.list_work_orders(source="sms") == []
    # a text that starts with a number and says more is a request, as before
    assert ana.text("2 lights out in the hallway").action == "request_opened"


def test_the_rating_question_closes_after_its_days(svc: Services, ana: Tenant) -> None:
    fixed(svc, ana)
    svc.clock.advance(days=15)
    assert ana.text("5").action == "nothing_to_answer"


def test_not_fixed_asks_no_rating(svc: Services, ana: Tenant) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    ana.text("no, still dripping")
    reopened = svc.repo.get_work_order(wo.id)
    assert reopened.status == Status.REOPENED and reopened.rating_asked_at is None
    assert ana.text("3").action == "nothing_to_answer"


def test_the_status_page_asks_and_takes_the_rating(svc: Services) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    token = tenant_token(svc, wo)
    assert tenant_status(svc, wo.id, token).rating_due is False  # not before the fix is confirmed
    tenant_feedback(svc, wo.id, token, True, None)
    view = tenant_status(svc, wo.id, token)
    assert view.rating_due is True and view.rating is None
    satisfaction.tenant_rate(svc, wo.id, token, 3, "  <b>ok</b>\n but late  ")
    view = tenant_status(svc, wo.id, token)
    assert (view.rating_due, view.rating) == (False, 3)
    assert "rated" in [e.event for e in view.timeline]
    sat = svc.repo.get_work_order(wo.id).satisfaction
    assert sat is not None and (sat.comment, sat.channel) == ("<b>ok</b> but late", "page")
    with pytest.raises(InvalidTransition):
        satisfaction.tenant_rate(svc, wo.id, token, 5, None)
    with pytest.raises(LinkRejected):
        satisfaction.tenant_rate(svc, wo.id, "ol_" + "x" * 43, 5, None)


def test_a_rating_before_the_question_is_a_409(svc: Services) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    with pytest.raises(InvalidTransition) as refused:
        satisfaction.tenant_rate(svc, wo.id, tenant_token(svc, wo), 5, None)
    assert refused.value.details == {"reason": "not_asked"}


def test_yes_by_email_asks_and_a_number_reply_rates_it(svc: Services, ana: Tenant) -> None:
    wo = completed(svc, UNIT, LEAK).wo
    asked = ana.email(f"Re: Is it fixed? ({wo.id})", "Yes")
    assert asked.reply == reply("email.resolved_rate", "en", reference=wo.id)
    outcome = ana.email(f"Re: Request closed ({wo.id})", "4 stars - friendly technician")
    assert (outcome.action, outcome.work_order_id) == ("rated", wo.id)
    sat = svc.repo.get_work_order(wo.id).satisfaction
    assert sat is not None and (sat.rating, sat.comment, sat.channel) == (4, "friendly technician", "email")


# ---------------------------------------------------------------- NPS: who is asked
def verified_job(svc: Services, ana: Tenant) -> None:
    """A job the tenant confirmed (the rating is asked), its tenant due this quarter's NPS; a minute passes."""
    wo = completed(svc, UNIT, LEAK).wo
    answer_follow_up(svc, wo.id, True, None)
    svc.clock.advance(minutes=1)


def nps_messages(svc: Services) -> list:
    return [m for m in svc.messenger.sent if "recommend" in m.body or "recomiende" in m.body]


def test_a_tenant_with_a_verified_job_is_asked_once_per_quarter(svc: Services, ana: Tenant) -> None:
    verified_job(svc, ana)
    quarter = quarter_of(svc.clock())
    assert [d["tenant"] for d in svc.repo.nps_due(quarter)] == [ANA]
    assert satisfaction.ask_nps(svc, gap_days=0) == {"asked": 1}
    [message] = nps_messages(svc)
    assert message.channel == "sms" and message.to == ANA_PHONE
    assert TOKEN_PATTERN[:3] in message.body and "/surveys/nps?token=" in message.body
    survey = svc.repo.survey(ANA, quarter)
    assert survey is not None and survey["channel"] == "sms" and "score" not in survey
    # the same day, a week later, after another verified job: not again this quarter
    assert satisfaction.ask_nps(svc, gap_days=0) == {"already_asked": 1}
    svc.clock.advance(days=7)
    verified_job(svc, ana)
    assert satisfaction.ask_nps(svc, gap_days=0) == {"already_asked": 1}
    assert len(nps_messages(svc)) == 1


def test_the_rate_limit_waits_for_the_gap_after_the_rating_question(svc: Services, ana: Tenant) -> None:
    fixed(svc, ana)  # "yes" by SMS: the rating question is a survey question too
    assert satisfaction.ask_nps(svc, gap_days=14) == {"too_soon": 1}
    svc.clock.advance(days=13)
    assert satisfaction.ask_nps(svc, gap_days=14) == {"too_soon": 1}
    svc.clock.advance(days=1)
    assert satisfaction.ask_nps(svc, gap_days=14) == {"asked": 1}
    assert len(nps_messages(svc)) == 1


def test_a_tenant_who_left_the_unit_is_not_asked(svc: Services, ana: Tenant) -> None:
    verified_job(svc, ana)
    unit = svc.repo.get_unit(UNIT)
    assert unit.tenant is not None
    svc.repo.put_unit(unit.model_copy(update={"tenant": unit.tenant.model_copy(
        update={"phone": "+15550100099", "email": "next@tenant.example.com"})}))
    assert satisfaction.ask_nps(svc, gap_days=0) == {"moved_out": 1}
    assert nps_messages(svc) == []


def test_an_opted_out_phone_is_asked_by_email_in_spanish(svc: Services, ana: Tenant) -> None:
    unit = svc.repo.get_unit(UNIT)
    assert unit.tenant is not None
    svc.repo.put_unit(unit.model_copy(update={"tenant": unit.tenant.model_copy(update={"language": "es"})}))
    verified_job(svc, ana)
    svc.repo.set_sms_opt_out(ANA_PHONE, True, svc.clock().isoformat())
    assert satisfaction.ask_nps(svc, gap_days=0) == {"asked": 1}
    [message] = nps_messages(svc)
    assert (message.channel, message.to, message.subject) == ("email", ANA_EMAIL, reply("nps.subject", "es"))


def test_a_job_verified_late_in_a_quarter_is_asked_early_in_the_next(svc: Services, ana: Tenant) -> None:
    svc.clock.set(datetime(2026, 6, 29, 15, tzinfo=svc.clock().tzinfo))
    verified_job(svc, ana)
    assert quarter_of(svc.clock()) == "2026-Q2"
    svc.clock.set(datetime(2026, 7, 20, 15, tzinfo=svc.clock().tzinfo))
    assert satisfaction.ask_nps(svc, gap_days=14) == {"asked": 1}
    assert svc.repo.survey(ANA, "2026-Q2") is not None
    svc.clock.advance(timedelta(days=30))  # past the catch-up days: the old quarter is not read any more
    assert satisfaction.ask_nps(svc, gap_days=0) == {}


# ---------------------------------------------------------------- NPS: answers
def test_nps_answers_by_sms_digits_and_the_newest_question_wins(svc: Services, ana: Tenant) -> None:
    wo = fixed(svc, ana)
    svc.clock.advance(days=1)
    assert satisfaction.ask_nps(svc, gap_days=0) == {"asked": 1}  # asked after the rating: the newest
    outcome = ana.text("9 always quick")
    assert (outcome.action, outcome.reply) == ("nps_answered", reply("nps.thanks", "en"))
    survey = svc.repo.survey(ANA, quarter_of(svc.clock()))
    assert survey is not None and (survey["score"], survey["answer_channel"], survey["comment"]) == (
        9, "sms", "always quick")
    assert svc.repo.get_work_order(wo.id).satisfaction is None  # the rating is still open
    [detail] = [d for t, d in svc.events.published if t == "TenantNpsAnswered"]
    assert (detail["tenant"], detail["score"], detail["channel"], detail["unit_id"]) == (ANA, 9, "sms", UNIT)
    assert ANA_PHONE not in str(detail) and ANA_EMAIL not in str(detail)
    assert ana.text("4").action == "rated"  # the NPS question answered, the rating is the open one


def test_nps_by_email_and_a_second_answer_is_refused(svc: Services, ana: Tenant) -> None:
    verified_job(svc, ana)
    satisfaction.ask_nps(svc, gap_days=0)
    assert ana.email("Re: A quick question", "10").action == "nps_answered"  # the newest question
    # the NPS question answered, the next number answers the (older) rating question
    assert ana.email("Re: A quick question", "3").action == "rated"
    assert ana.email("Re: A quick question", "3").action == "nothing_to_answer"
    assert satisfaction.answer_nps(svc, ANA, quarter_of(svc.clock()), 2, "sms") is False
    survey = svc.repo.survey(ANA, quarter_of(svc.clock()))
    assert survey is not None and (survey["score"], survey["answer_channel"]) == (10, "email")


def test_the_signed_page_link_shows_and_takes_the_answer_once(svc: Services, ana: Tenant) -> None:
    verified_job(svc, ana)
    satisfaction.ask_nps(svc, gap_days=0)
    [message] = nps_messages(svc)
    token = message.body.split("token=")[1].split()[0]
    survey = satisfaction.page_nps(svc, token)
    assert survey.quarter == quarter_of(svc.clock()) and not satisfaction.nps_answered(svc, survey)
    satisfaction.page_nps(svc, token, 7, "fine")
    assert satisfaction.nps_answered(svc, survey)
    with pytest.raises(InvalidTransition):
        satisfaction.page_nps(svc, token, 8)
    # a tenant's status link is no survey link
    wo = svc.repo.list_work_orders(property_id=svc.repo.get_unit(UNIT).property_id)[0]
    with pytest.raises(LinkRejected):
        satisfaction.page_nps(svc, tenant_token(svc, wo), 8)


def test_an_expired_survey_link_is_not_renewed(svc: Services, ana: Tenant) -> None:
    from shared.services.link_renewal import renew

    verified_job(svc, ana)
    satisfaction.ask_nps(svc, gap_days=0)
    [message] = nps_messages(svc)
    token = message.body.split("token=")[1].split()[0]
    svc.clock.advance(days=31)
    with pytest.raises(LinkRejected):
        satisfaction.page_nps(svc, token)
    sent = len(svc.messenger.sent)
    renew(svc, token)
    assert len(svc.messenger.sent) == sent
