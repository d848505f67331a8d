"""The fire drill's records and sink as use cases on in-memory fakes: drill work orders' messages (and any to a
drill address) are kept in the sink, never sent; drill vendors and real work never meet; the PMS never sees
drill work (no resident request, no bill); drill events say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.enums import Trade
from shared.domain.oncall import MIN_ACK_MINUTES
from shared.domain.workorder import Status
from shared.drill_runner import drill_invoice
from shared.invoice_schemas import InvoiceIn
from shared.pms.models import EntityKind
from shared.services import config, drill, invoicing, paging
from shared.services.container import Services
from shared.services.pms_writer import sync_out
from tests.service.journeys import deliver, fake_pms, invoice_awaited, ranked, submit, triaged

UNIT_A, UNIT_B = "drill-unit-a", "drill-unit-b"
DEMO_UNIT = "unit-maple-2a"
FLOOD = "Water is pouring through the kitchen ceiling, the floor is flooding!"
DRIP = "The bathroom faucet drips all night"


def drill_ready(svc: Services) -> dict[str, Any]:
    return drill.setup(svc)


def test_setup_creates_the_drill_records_once_and_keeps_a_vendors_stats(svc: Services) -> None:
    first = drill_ready(svc)
    assert set(first["changed"]) == {"drill-property", UNIT_A, UNIT_B, "drill-vendor-1", "drill-vendor-2",
                                     "drill-technician", "on-call-rotas/drill-property"}
    assert first["property"]["drill"] and all(u["drill"] for u in first["units"])
    assert all(drill.is_drill_address(u["tenant"]["phone"]) and drill.is_drill_address(u["tenant"]["email"])
               for u in first["units"])
    assert all(v["drill"] and drill.is_drill_address(v["phone"]) for v in first["vendors"])
    svc.repo.bump_vendor_stat("drill-vendor-1", "accepted")

    again = drill_ready(svc)
    assert again["changed"] == [] and svc.repo.get_vendor("drill-vendor-1").stats.accepted == 1
    assert svc.repo.units_for_phone(first["units"][0]["tenant"]["phone"]) == [UNIT_A]


def test_a_drill_work_order_goes_to_drill_vendors_only_and_real_work_never_does(svc: Services) -> None:
    drill_ready(svc)
    job = ranked(svc, UNIT_A, DRIP)
    assert job.wo.drill
    assert job.wo.candidates == ["drill-vendor-1", "drill-vendor-2"]

    real = ranked(svc, DEMO_UNIT, DRIP)
    assert not real.wo.drill
    candidates = real.wo.candidates
    assert candidates and not [c for c in candidates if c.startswith("drill-")]
    # Events tell drill work from real work (KPIs leave drill work out).
    received = {d["work_order_id"]: d for d in svc.events.of_type("WorkOrderReceived")}
    assert received[job.id]["drill"] is True and "drill" not in received[real.id]


def test_a_drill_work_orders_messages_go_to_the_sink_and_none_is_sent(svc: Services) -> None:
    records = drill_ready(svc)
    since = records["messages_since"]
    job = triaged(svc, UNIT_A, FLOOD)
    assert job.triage["priority"] == "emergency"
    # The state machine announces the emergency itself (its PutEvents task, as in the ASL).
    svc.events.publish("EmergencyDeclared", {"work_order_id": job.id, "event_key": f"{job.id}:EmergencyDeclared"})
    assert deliver(svc) >= 2

    kept = drill.messages(svc, since)
    tenant, on_call = records["units"][0]["tenant"], records["property"]["on_call"]
    assert any(m["to"] == tenant["phone"] and m["channel"] == "sms" and job.id in m["body"] for m in kept)
    assert any(m["to"] == on_call["phone"] and "EMERGENCY" in m["body"] for m in kept)
    assert svc.messenger.sent == []
    # The sink reads on from the last message's id.
    assert drill.messages(svc, kept[-1]["id"]) == []
    timeline = [e.detail for e in job.load(svc, with_timeline=True).timeline
                if e.event == "notified"]
    assert any(d.startswith("SMS and EMAIL to tenant") for d in timeline)  # recorded as for any work order


def test_any_message_to_a_drill_address_is_kept_and_others_go_out(svc: Services) -> None:
    drill_ready(svc)
    svc.outbound().sms(f"{drill.DRILL_PHONE_PREFIX}0011", "a reply to a drill tenant's text")
    svc.outbound().email(f"tenant-a@{drill.DRILL_EMAIL_DOMAIN}", "Re: drill", "a reply to a drill email")
    svc.outbound().sms("+15550100011", "a real tenant's reply")

    kept = drill.messages(svc, "")
    assert [(m["channel"], m["subject"]) for m in kept] in ([("sms", ""), ("email", "Re: drill")],
                                                            [("email", "Re: drill"), ("sms", "")])
    assert [m.to for m in svc.messenger.sent] == ["+15550100011"]


def test_the_pms_writer_skips_drill_work(svc: Services) -> None:
    pms = fake_pms(svc)
    drill_ready(svc)
    wo = submit(svc, UNIT_A, DRIP)
    assert sync_out(svc, pms, wo.id) == "drill"
    assert pms.entities[EntityKind.TASK] == {} and pms.calls == []
    assert svc.repo.pms_state(wo.id) == {}


def test_a_drill_invoice_is_billed_as_skipped_and_nothing_reaches_the_pms(svc: Services) -> None:
    pms = fake_pms(svc)
    svc.repo.put_listed("GLACCOUNTS", "9011", {"pms_id": "9011", "number": "6010", "name": "Plumbing Repairs"})
    drill_ready(svc)
    job = invoice_awaited(svc, UNIT_B, DRIP)
    body = {**drill_invoice("DRILL-1"), "invoice_date": svc.clock().date().isoformat()}
    inv = invoicing.submit_by_link(svc, job.vendor_token, InvoiceIn.model_validate(body))
    invoicing.code_invoice(svc, job.id)
    assert job.load(svc).status == Status.APPROVED

    bill = invoicing.post_bill(svc, job.id)
    assert bill["bill_id"] == f"{drill.DRILL_BILL_PREFIX}{inv.id}"
    assert pms.calls == [] and pms.entities[EntityKind.BILL] == {}
    invoicing.close(svc, job.id)
    closed = job.load(svc, with_timeline=True)
    assert closed.status == Status.CLOSED
    assert any(e.event == "billed" and e.detail.startswith("Drill: no bill posted") for e in closed.timeline)
    assert svc.events.last("WorkOrderClosed")["drill"] is True


def test_setup_creates_an_in_house_technician_on_duty_all_week_whom_dispatch_never_offers(svc: Services) -> None:
    records = drill_ready(svc)
    [shown] = records["technicians"]
    tech = svc.repo.get_vendor(drill.TECHNICIAN_ID)
    assert tech.in_house and tech.drill and tech.active and set(tech.trades) == set(Trade)
    assert drill.is_drill_address(shown["phone"]) and drill.is_drill_address(shown["email"])
    assert drill.TECHNICIAN_ID in svc.repo.technician_ids()
    week = datetime(2026, 6, 8, tzinfo=UTC)  # a Monday, midnight
    assert all(tech.on_duty(week + timedelta(minutes=m), "UTC") for m in range(0, 7 * 24 * 60, 7))
    # Only ops assign it a job: dispatch offers drill work to the drill vendors (in-house staff rank first).
    assert ranked(svc, UNIT_A, DRIP).wo.candidates == ["drill-vendor-1", "drill-vendor-2"]

    svc.repo.bump_vendor_stat(drill.TECHNICIAN_ID, "completed")
    again = drill_ready(svc)
    assert again["changed"] == [] and svc.repo.get_vendor(drill.TECHNICIAN_ID).stats.completed == 1


def test_setup_gives_the_drill_property_a_two_level_rota_with_the_shortest_ack_by(svc: Services) -> None:
    records = drill_ready(svc)
    assert drill.ON_CALL_ROTA == paging.ROTAS
    levels = records["on_call_rota"]["levels"]
    assert [level["label"] for level in levels] == ["primary", "secondary"]
    assert all(level["ack_within_minutes"] == MIN_ACK_MINUTES == 1 for level in levels)
    assert all(drill.is_drill_address(level["contact"]["phone"]) and drill.is_drill_address(level["contact"]["email"])
               for level in levels)
    assert levels[0]["contact"] == records["property"]["on_call"]
    # The rota pages the drill property, and reads back through /ops/config like any rota.
    rota = paging.rota_for(svc, svc.repo.get_property(drill.PROPERTY_ID))
    assert rota.model_dump(mode="json") == records["on_call_rota"]
    assert config.get(svc, "on-call-rotas", drill.PROPERTY_ID).value == records["on_call_rota"]
    # Changed by hand, the next setup puts it back; unchanged, it writes nothing.
    svc.repo.put_config_entry(paging.ROTAS, drill.PROPERTY_ID, {"levels": levels[:1]})
    assert drill_ready(svc)["changed"] == ["on-call-rotas/drill-property"]
    assert drill_ready(svc)["changed"] == []
