"""The on-call chain for emergencies as a use case (shared/services/paging.py) on the fakes: an emergency
pages the rota's first level by SMS and email (never held for quiet hours) with an acknowledge link and
"reply ACK"; the ack-by schedule pages the next level; past the last level ops are alarmed and alerted; an
acknowledgement (link or SMS) is recorded once and stops the chain, even after it moved on. The rota is
set up through /ops/config (on-call-rotas)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.domain.errors import InvalidTransition, LinkRejected, NotFound
from shared.domain.oncall import OnCallRota
from shared.domain.workorder import WorkOrder
from shared.schemas import NewRequest
from shared.services import config, paging
from shared.services.container import Services
from shared.services.notifications import notify
from shared.services.sms import InboundSms, handle_inbound
from shared.services.workorders import start_lifecycle, submit_request, triage
from tests.fakes import RecordingEvents
from tests.fakes.services import DEFAULT_NOW

GAS = "I smell gas in the kitchen"  # an emergency
LEAK = "The bathroom faucet drips constantly"  # routine
UNIT, HARBOR_UNIT = "unit-maple-1a", "unit-harbor-101"  # Maple Court (on-call: Dana); Harbor Lofts (none of its own)
DANA, DANA_EMAIL = "+15550100001", "oncall@maple.example.com"  # Maple Court's old single on-call contact
SAM, SAM_EMAIL = "+15550100002", "sam@maple.example.com"
MO_EMAIL = "mo@maple.example.com"
PORTFOLIO_ON_CALL = "+15550100000"
OPS, OPS_EMAIL = "+15550100009", "ops@opslayer.example.com"
ACK_LINK = re.compile(r"https://opslayer\.test/oncall/(olk1_[A-Za-z0-9_-]{43})")
OPS_KEY = "ops:key"


def level(name: str, phone: str | None = None, email: str | None = None, label: str = "primary",
          minutes: int | None = None, language: str | None = None) -> dict[str, Any]:
    contact = {k: v for k, v in {"name": name, "phone": phone, "email": email, "language": language}.items() if v}
    return {"contact": contact, "label": label, **({"ack_within_minutes": minutes} if minutes else {})}


MAPLE_ROTA = {"levels": [level("Dana", DANA, DANA_EMAIL), level("Sam", SAM, SAM_EMAIL, "secondary", 10),
                         level("Mo", email=MO_EMAIL, label="manager", minutes=15)]}


def set_rota(svc: Services, rota_id: str, rota: dict[str, Any]) -> None:
    current = next((i.version for i in config.items(svc, "on-call-rotas") if i.id == rota_id), 0)
    config.change(svc, "on-call-rotas", rota_id, rota, current, by=OPS_KEY)


def triaged(svc: Services, unit_id: str, description: str) -> WorkOrder:
    """A tenant's web request, its lifecycle started and triaged (the state machine's first steps)."""
    unit = svc.repo.get_unit(unit_id)
    wo = submit_request(svc, NewRequest(unit_id=unit_id, name=unit.tenant.name if unit.tenant else "Tenant",
                                        description=description))
    start_lifecycle(svc, wo.id)
    triage(svc, wo.id)
    return svc.repo.get_work_order(wo.id)


def deliver(svc: Services, *detail_types: str) -> int:
    """The notification consumer on the published events of these types (EventBridge rule -> SQS)."""
    assert isinstance(svc.events, RecordingEvents)
    return sum(notify(svc, t, d) for t, d in list(svc.events.published) if t in detail_types)


def emergency(svc: Services, unit: str = UNIT, text: str = GAS) -> WorkOrder:
    """Triaged as an emergency, and the EmergencyDeclared event delivered to the notification consumer."""
    wo = triaged(svc, unit, text)
    notify(svc, "EmergencyDeclared", {"work_order_id": wo.id, "status": wo.status.value,
                                      "event_key": f"{wo.id}:EmergencyDeclared"})
    return svc.repo.get_work_order(wo.id)


def fire_checks(svc: Services) -> list[str]:
    """The due ack-by schedules run (EventBridge Scheduler -> the visit-timers function -> paging.check), then
    the events they published reach the notification consumer. Returns the checks' outcomes."""
    outcomes = [paging.check(svc, s.payload["work_order_id"], s.payload["level"])
                for s in svc.schedules().fire_due() if s.payload.get("action") == paging.CHECK_ACTION]
    deliver(svc, "OnCallPaged", "OnCallExhausted")
    return outcomes


def wait_out(svc: Services, wo_id: str) -> list[str]:
    """Let the current level's ack-by time pass and the check run."""
    page = svc.repo.get_work_order(wo_id).page
    assert page is not None and page.due_at is not None
    svc.clock.set(page.due_at)
    return fire_checks(svc)


def check_at_its_time(svc: Services, wo_id: str, lvl: int) -> list[str]:
    """Run level `lvl`'s check at its time (the schedule stays armed after an acknowledgement)."""
    timer = svc.schedules().get(f"{wo_id}-oncall-{lvl}")
    assert timer is not None
    svc.clock.set(timer.at)
    return fire_checks(svc)


def timeline(svc: Services, wo_id: str, *events: str) -> list[str]:
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    return [e.detail for e in wo.timeline if e.event in events]


def ack_token(svc: Services, to: str) -> str:
    found = ACK_LINK.search(svc.messenger.sent_to(to)[-1].body)
    assert found, svc.messenger.sent_to(to)[-1].body
    return found.group(1)


def text(svc: Services, phone: str, body: str, message_id: str) -> Any:
    return handle_inbound(svc, InboundSms(channel="eum", message_id=message_id, from_phone=phone,
                                          to_phone="+15550009999", body=body))


# ---------------------------------------------------------------- the page, and the next level
def test_an_emergency_pages_the_first_level_by_sms_and_email_with_an_ack_link_and_a_timer(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)

    [sms] = svc.messenger.sms_to(DANA)
    [mail] = svc.messenger.emails_to(DANA_EMAIL)
    assert sms.body.startswith("EMERGENCY (gas smell or gas leak) at 120 Maple Ave, Springfield, unit 1A")
    assert "You are on call (primary): acknowledge within 5 min - reply ACK" in sms.body
    assert ACK_LINK.search(sms.body) and ACK_LINK.search(mail.body) and mail.subject.startswith(f"EMERGENCY {wo.id}")
    assert svc.messenger.sent_to(SAM) == []
    assert wo.page is not None and (wo.page.level, wo.page.started_at) == (0, svc.clock())
    timer = svc.schedules().get(f"{wo.id}-oncall-0")
    assert timer is not None and timer.at == svc.clock() + timedelta(minutes=5)
    assert timer.payload == {"action": "oncall_check", "work_order_id": wo.id, "level": 0}
    assert timeline(svc, wo.id, "oncall_paged") == [
        "Paged Dana (primary, level 1 of 3) by SMS and email: acknowledge within 5 min"]


def test_no_acknowledgement_in_time_pages_the_next_level(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)

    svc.clock.advance(minutes=4)
    assert fire_checks(svc) == [] and svc.messenger.sent_to(SAM) == []  # not due yet
    assert wait_out(svc, wo.id) == ["next"]

    [sms] = svc.messenger.sms_to(SAM)
    [mail] = svc.messenger.emails_to(SAM_EMAIL)
    assert "You are on call (secondary): acknowledge within 10 min" in sms.body and ACK_LINK.search(mail.body)
    page = svc.repo.get_work_order(wo.id).page
    assert page is not None and page.level == 1 and page.due_at == svc.clock() + timedelta(minutes=10)
    assert svc.schedules().get(f"{wo.id}-oncall-1") is not None
    assert timeline(svc, wo.id, "oncall_paged")[-1] == (
        "No acknowledgement from Dana (primary) within 5 min: Paged Sam (secondary, level 2 of 3) by SMS and "
        "email: acknowledge within 10 min")
    assert len(svc.messenger.sms_to(DANA)) == 1  # the first level is not paged again


def test_a_duplicate_check_does_nothing(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    wait_out(svc, wo.id)
    sent = len(svc.messenger.sent)

    assert paging.check(svc, wo.id, 0) == "nothing"  # Scheduler delivered level 0's check again
    deliver(svc, "OnCallPaged")  # and the event came twice
    assert len(svc.messenger.sent) == sent
    assert svc.repo.get_work_order(wo.id).page.level == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------- acknowledgements
def test_the_link_shows_the_page_and_only_the_post_acknowledges(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    token = ack_token(svc, DANA)

    view = paging.page_view(svc, token)  # what GET /oncall/{token} shows: opening the link acknowledges nothing
    assert (view.work_order_id, view.paged, view.acknowledged, view.allowed_actions) == (
        wo.id, "Dana (primary)", False, ["acknowledge"])
    assert svc.repo.get_work_order(wo.id).page.acked_at is None  # type: ignore[union-attr]

    svc.clock.advance(seconds=90)
    acked = paging.acknowledge_by_link(svc, token)
    assert acked.page is not None
    assert (acked.page.acked_by, acked.page.acked_via, acked.page.acknowledged_after_s) == (
        "Dana (primary)", "link", 90)
    assert timeline(svc, wo.id, "oncall_acknowledged") == [
        "Dana (primary) acknowledged the page by link, 1 min 30 s after the first page"]
    assert paging.page_view(svc, token).allowed_actions == []

    assert check_at_its_time(svc, wo.id, 0) == ["nothing"]  # the pending check finds it acknowledged: nobody else paged
    assert svc.messenger.sent_to(SAM) == []
    paging.acknowledge_by_link(svc, token)  # a second ACK changes nothing
    assert len(timeline(svc, wo.id, "oncall_acknowledged")) == 1


def test_a_link_is_scoped_to_its_page(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    tenant_token = svc.link_tokens().issue(wo.id, "tenant", UNIT, 3600)
    with pytest.raises(LinkRejected):
        paging.acknowledge_by_link(svc, tenant_token)
    with pytest.raises(LinkRejected):
        paging.page_view(svc, "olk1_" + "A" * 43)
    svc.clock.advance(days=3)  # the link lives two days
    with pytest.raises(LinkRejected):
        paging.acknowledge_by_link(svc, ack_token(svc, DANA))


def test_the_secondary_acknowledges_by_sms_reply(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    wait_out(svc, wo.id)
    svc.clock.advance(minutes=3)

    outcome = text(svc, SAM, "ack", "in-1")
    assert (outcome.action, outcome.work_order_id) == ("oncall_acknowledged", wo.id)
    assert outcome.reply == f"Thanks: you acknowledged emergency {wo.id}. Nobody else will be paged for it. Ref {wo.id}"
    page = svc.repo.get_work_order(wo.id).page
    assert page is not None
    assert (page.acked_by, page.acked_level, page.acked_via, page.acknowledged_after_s) == (
        "Sam (secondary)", 1, "sms", 8 * 60)
    assert check_at_its_time(svc, wo.id, 1) == ["nothing"]
    assert svc.messenger.sent_to(MO_EMAIL) == []

    again = text(svc, SAM, "ACK", "in-2")
    assert again.action == "oncall_acknowledged" and len(timeline(svc, wo.id, "oncall_acknowledged")) == 1


def test_an_ack_after_the_chain_moved_on_still_stops_it_and_records_who(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    dana_link = ack_token(svc, DANA)
    wait_out(svc, wo.id)  # Sam paged
    svc.clock.advance(minutes=1)

    acked = paging.acknowledge_by_link(svc, dana_link)
    assert acked.page is not None and (acked.page.acked_by, acked.page.acked_level) == ("Dana (primary)", 0)
    assert "(after the page had moved on)" in timeline(svc, wo.id, "oncall_acknowledged")[0]
    assert check_at_its_time(svc, wo.id, 1) == ["nothing"]
    assert svc.messenger.sent_to(MO_EMAIL) == []

    late = text(svc, SAM, "ACK", "in-3")  # Sam answers too: told who had it
    assert late.action == "oncall_already_acknowledged"
    assert late.reply == f"Emergency {wo.id} was already acknowledged by Dana (primary). Ref {wo.id}"


def test_ack_by_sms_from_a_phone_not_paged_changes_nothing(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    outcome = text(svc, SAM, "ACK", "in-4")  # Sam is the secondary: not paged yet
    assert outcome.action == "nothing_to_acknowledge" and outcome.reply is not None
    outcome = text(svc, "+15550177777", f"ack {wo.id}", "in-5")
    assert outcome.action == "nothing_to_acknowledge"
    assert svc.repo.get_work_order(wo.id).page.acked_at is None  # type: ignore[union-attr]


def test_ack_with_a_reference_picks_one_of_two_pages_to_the_same_phone(svc: Services) -> None:
    first = emergency(svc)  # Maple Court: its old single on-call contact, Dana
    second = emergency(svc, "unit-maple-2b", "Smoke is coming out of the electrical panel")
    assert second.page is not None and second.page.levels[0].contact.phone == DANA

    outcome = text(svc, DANA, f"ACK {first.id}", "in-6")
    assert outcome.work_order_id == first.id
    assert svc.repo.get_work_order(second.id).page.acked_at is None  # type: ignore[union-attr]
    assert text(svc, DANA, "ack", "in-7").work_order_id == second.id  # plain ACK: the latest page to the phone


def test_a_work_order_never_paged_cannot_be_acknowledged(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK)
    with pytest.raises(InvalidTransition):
        paging.acknowledge(svc, wo.id, 0, "link")


# ---------------------------------------------------------------- exhausted
def test_a_chain_exhausted_alarms_and_alerts_ops(svc: Services, capsys: pytest.CaptureFixture[str]) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    assert wait_out(svc, wo.id) == ["next"]
    assert wait_out(svc, wo.id) == ["next"]
    [manager] = svc.messenger.emails_to(MO_EMAIL)
    assert "You are on call (manager): acknowledge within 15 min" in manager.body
    capsys.readouterr()
    assert wait_out(svc, wo.id) == ["exhausted"]

    assert '"OnCallExhausted": 1' in capsys.readouterr().out  # the alarm's metric (Stage dimension only)
    assert svc.events.last("OnCallExhausted")["levels"] == 3
    [ops_sms] = svc.messenger.sms_to(OPS)
    assert ops_sms.body.startswith("Nobody on call acknowledged the EMERGENCY (gas smell or gas leak) at 120 Maple")
    assert "(paged: Dana (primary), Sam (secondary), Mo (manager))" in ops_sms.body
    assert svc.messenger.emails_to(OPS_EMAIL)[0].subject.startswith("NOBODY ON CALL ACKNOWLEDGED")
    assert timeline(svc, wo.id, "oncall_exhausted") == [
        "No acknowledgement from Mo (manager) within 15 min: every level of the on-call rota was paged, nobody "
        "acknowledged; ops alerted"]
    assert fire_checks(svc) == [] and paging.check(svc, wo.id, 2) == "nothing"  # exhausted once

    svc.clock.advance(minutes=2)
    late = paging.acknowledge_by_link(svc, ack_token(svc, DANA))  # someone still answers: recorded
    assert late.page is not None and late.page.acked_by == "Dana (primary)"


def test_with_nobody_on_call_anywhere_ops_are_alerted_at_once(svc: Services) -> None:
    svc.repo.delete_listed("CONFIG", "on_call")  # no portfolio on-call; Harbor Lofts has none of its own
    wo = emergency(svc, HARBOR_UNIT)
    assert wo.page is not None and wo.page.exhausted_at == svc.clock()
    assert svc.messenger.sent_to(PORTFOLIO_ON_CALL) == [] and svc.schedules().due() == []
    deliver(svc, "OnCallExhausted")
    [ops_sms] = svc.messenger.sms_to(OPS)
    assert wo.id in ops_sms.body and "(paged: nobody is on call)" in ops_sms.body
    assert timeline(svc, wo.id, "oncall_exhausted") == [
        "Nobody is on call for this property (no rota, no on-call contact): ops alerted"]


# ---------------------------------------------------------------- what pages, when
def test_quiet_hours_never_hold_an_emergency_page(svc: Services) -> None:
    night = datetime.combine(DEFAULT_NOW.date(), datetime.min.time(), DEFAULT_NOW.tzinfo).replace(hour=23, minute=50)
    svc.clock.set(night)
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    assert len(svc.messenger.sms_to(DANA)) == 1
    wait_out(svc, wo.id)
    assert len(svc.messenger.sms_to(SAM)) == 1
    assert timeline(svc, wo.id, "sms_deferred") == [] and svc.queues.sent == []


def test_a_non_emergency_never_pages(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK)
    assert notify(svc, "EmergencyDeclared", {"work_order_id": wo.id, "event_key": f"{wo.id}:EmergencyDeclared"}) == 0
    assert paging.start_chain(svc, wo.id).page is None
    assert svc.messenger.sent_to(DANA) == [] and svc.schedules().schedules == {}


def test_the_emergency_event_twice_pages_once(svc: Services) -> None:
    wo = emergency(svc)
    notify(svc, "EmergencyDeclared", {"work_order_id": wo.id, "event_key": f"{wo.id}:EmergencyDeclared"})
    assert len(svc.messenger.sms_to(DANA)) == 1 and len(timeline(svc, wo.id, "oncall_paged")) == 1


def test_the_on_call_person_is_paged_in_their_language(svc: Services) -> None:
    set_rota(svc, "default", {"levels": [level("Lucía", "+15550100003", language="es")]})
    wo = emergency(svc, HARBOR_UNIT)  # Harbor Lofts: the portfolio's rota
    [sms] = svc.messenger.sms_to("+15550100003")
    assert sms.body.startswith("EMERGENCIA (") and "responda ACK" in sms.body
    reply = text(svc, "+15550100003", "ACK", "in-8").reply
    assert reply == f"Gracias: confirmó la emergencia {wo.id}. No se avisará a nadie más por ella. Ref {wo.id}"


# ---------------------------------------------------------------- the rota through /ops/config
def test_rotas_are_set_up_per_property_and_for_the_portfolio(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    set_rota(svc, "default", {"levels": [level("Lucía", "+15550100003"), level("Mo", email=MO_EMAIL,
                                                                                 label="manager")]})
    item = config.get(svc, "on-call-rotas", "prop-maple")
    assert item.version == 1 and item.changed_by == OPS_KEY
    assert [lv["label"] for lv in item.value["levels"]] == ["primary", "secondary", "manager"]
    assert [i.id for i in config.export(svc)["on-call-rotas"]] == ["default", "prop-maple"]

    maple, harbor = svc.repo.get_property("prop-maple"), svc.repo.get_property("prop-harbor")
    assert [lv.contact.name for lv in paging.rota_for(svc, maple).levels] == ["Dana", "Sam", "Mo"]
    assert [lv.contact.name for lv in paging.rota_for(svc, harbor).levels] == ["Lucía", "Mo"]

    config.change(svc, "on-call-rotas", "prop-maple", {"levels": [level("Sam", SAM)]}, 1, by="ops:bob")
    assert [v.changed_by for v in config.history(svc, "on-call-rotas", "prop-maple")] == [OPS_KEY, "ops:bob"]
    assert [lv.contact.name for lv in paging.rota_for(svc, maple).levels] == ["Sam"]


def test_without_a_rota_the_old_single_contacts_page_as_one_level(svc: Services) -> None:
    maple, harbor = svc.repo.get_property("prop-maple"), svc.repo.get_property("prop-harbor")
    assert paging.rota_for(svc, maple) == OnCallRota.single(maple.on_call)  # type: ignore[arg-type]
    assert [lv.contact.phone for lv in paging.rota_for(svc, harbor).levels] == [PORTFOLIO_ON_CALL]


def test_a_rota_names_a_property_that_exists_and_is_validated(svc: Services) -> None:
    with pytest.raises(NotFound):
        config.change(svc, "on-call-rotas", "prop-nowhere", MAPLE_ROTA, 0, by=OPS_KEY)
    with pytest.raises(ValueError, match="phone or an email"):
        config.change(svc, "on-call-rotas", "prop-maple", {"levels": [{"contact": {"name": "Nobody"}}]}, 0,
                      by=OPS_KEY)
    assert config.items(svc, "on-call-rotas") == []


def test_a_running_chain_keeps_the_rota_it_started_with(svc: Services) -> None:
    set_rota(svc, "prop-maple", MAPLE_ROTA)
    wo = emergency(svc)
    set_rota(svc, "prop-maple", {"levels": [level("Zoe", "+15550100004")]})
    wait_out(svc, wo.id)
    assert len(svc.messenger.sms_to(SAM)) == 1 and svc.messenger.sent_to("+15550100004") == []
