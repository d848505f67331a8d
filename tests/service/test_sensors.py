"""IoT sensor alerts (shared/services/sensors.py): an alert opens a pre-classified work order by the
sensor rules; repeats from the same sensor within the window update it instead of opening another."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shared.domain.enums import Priority, Trade
from shared.domain.workorder import Source, Status
from shared.services.container import Services
from shared.services.sensors import SensorAlert, UnknownLocation, handle_alert, register_sensor
from shared.services.workorders import cancel, start_lifecycle, triage
from tests.service.journeys import submit

LEAK_SENSOR = "leak-maple-1a"  # registered at unit-maple-1a, "Maple Court 1A, under the kitchen sink"


def alert(svc: Services, sensor_id: str = LEAK_SENSOR, kind: str = "leak", severity: str = "high",
          **extra: Any) -> SensorAlert:
    return SensorAlert(sensor_id=sensor_id, type=kind, severity=severity, ts=svc.clock(), **extra)


def test_a_leak_alert_opens_an_emergency_plumbing_job_at_the_sensors_unit(svc: Services) -> None:
    outcome, wo_id = handle_alert(svc, alert(svc, value=1))
    assert outcome == "created"
    wo = svc.repo.get_work_order(wo_id)
    assert (wo.source, wo.unit_id, wo.trade, wo.priority, wo.emergency_reason, wo.sensor_id) == (
        Source.IOT, "unit-maple-1a", Trade.PLUMBING, Priority.EMERGENCY, "active water leak", LEAK_SENSOR)
    assert wo.description == "Water leak detected by sensor leak-maple-1a (Maple Court 1A, under the kitchen sink)."
    assert wo.tenant.name == "Ana Lopez"  # the unit's tenant is told and let the technician in
    assert svc.events.last("WorkOrderReceived")["source"] == "iot"
    start_lifecycle(svc, wo_id)
    assert triage(svc, wo_id)["emergency"] is True  # the rule's decision stands


def test_repeats_within_the_window_update_the_open_job(svc: Services) -> None:
    _, wo_id = handle_alert(svc, alert(svc, value=1))
    svc.clock.advance(minutes=10)
    outcome, again = handle_alert(svc, alert(svc, value=2))
    assert (outcome, again) == ("updated", wo_id)
    entry = svc.repo.get_work_order(wo_id, with_timeline=True).timeline[-1]
    assert (entry.event, entry.detail, entry.actor) == (
        "sensor_alert", "Sensor alert repeated: leak high 2.0", f"sensor:{LEAK_SENSOR}")
    assert len(svc.repo.list_work_orders(source="iot")) == 1
    window = timedelta(seconds=svc.settings.sensor_repeat_window_seconds)
    record = svc.repo.get_record(f"SENSOR#{LEAK_SENSOR}", "OPEN")
    assert datetime.fromisoformat(record["until"]) == svc.clock() + window  # the window runs from the repeat


def test_an_alert_after_the_window_opens_a_new_job(svc: Services) -> None:
    _, first = handle_alert(svc, alert(svc))
    svc.clock.advance(seconds=svc.settings.sensor_repeat_window_seconds)
    outcome, second = handle_alert(svc, alert(svc))
    assert outcome == "created" and second != first


def test_an_alert_for_a_job_that_is_over_opens_a_new_one(svc: Services) -> None:
    _, first = handle_alert(svc, alert(svc))
    cancel(svc, first, "False alarm: the sensor was wet from cleaning")
    svc.clock.advance(minutes=5)
    outcome, second = handle_alert(svc, alert(svc))
    assert outcome == "created" and second != first
    assert [e.event for e in svc.repo.get_work_order(first, with_timeline=True).timeline].count("sensor_alert") == 0


def test_the_same_alert_delivered_twice_opens_one_job(svc: Services) -> None:
    same = alert(svc)
    _, first = handle_alert(svc, same)
    svc.clock.advance(seconds=svc.settings.sensor_repeat_window_seconds + 1)  # a late redelivery
    _, second = handle_alert(svc, same)
    assert second == first  # the alert's own timestamp is its idempotency key
    assert len(svc.repo.list_work_orders(source="iot")) == 1


@pytest.mark.parametrize(("kind", "severity", "value", "priority", "reason"), [
    ("hvac_fault", "critical", "E04 ignition", Priority.EMERGENCY, "no heat"),
    ("hvac_fault", "warning", "E11", Priority.URGENT, None),
    ("temperature", "low", 9.5, Priority.EMERGENCY, "no heat"),
    ("temperature", "high", 35, Priority.URGENT, None),
    ("temperature", "info", 21, Priority.ROUTINE, None),
    ("power", "CRITICAL", None, Priority.EMERGENCY, "no power in unit"),
    ("smoke", "low", None, Priority.EMERGENCY, "fire or smoke"),
])
def test_the_sensor_rules_decide_the_priority_by_severity_and_value(svc: Services, kind: str, severity: str,
                                                                    value: Any, priority: Priority,
                                                                    reason: str | None) -> None:
    _, wo_id = handle_alert(svc, alert(svc, "sensor-x", kind, severity, value=value, unit_id="unit-harbor-101"))
    wo = svc.repo.get_work_order(wo_id)
    assert (wo.priority, wo.emergency_reason) == (priority, reason)


def test_an_alert_names_its_unit_and_site_when_the_sensor_is_not_registered(svc: Services) -> None:
    _, wo_id = handle_alert(svc, alert(svc, "temp-new", "temperature", "low", value=8, unit_id="unit-harbor-301",
                                       site="harbor"))
    wo = svc.repo.get_work_order(wo_id)
    assert wo.unit_id == "unit-harbor-301"
    assert wo.description == "Temperature alert from temp-new (harbor): 8.0 degrees C."


def test_a_registered_sensor_gives_its_location(svc: Services) -> None:
    register_sensor(svc, "smoke-harbor-302", "unit-harbor-302", "Harbor Lofts 302, hallway")
    _, wo_id = handle_alert(svc, alert(svc, "smoke-harbor-302", "smoke"))
    wo = svc.repo.get_work_order(wo_id)
    assert wo.unit_id == "unit-harbor-302" and "(Harbor Lofts 302, hallway)" in wo.description


@pytest.mark.parametrize("extra", [{}, {"unit_id": "unit-nowhere"}])
def test_an_alert_from_nowhere_known_is_refused_and_opens_nothing(svc: Services, extra: dict[str, Any]) -> None:
    with pytest.raises(UnknownLocation):
        handle_alert(svc, alert(svc, "not-registered", **extra))
    assert svc.repo.list_work_orders(source="iot") == [] and svc.events.published == []


def test_a_payload_outside_the_schema_is_invalid(svc: Services) -> None:
    with pytest.raises(ValidationError) as refused:
        SensorAlert.model_validate({"sensor_id": LEAK_SENSOR, "type": "earthquake"})
    assert {e["loc"][0] for e in refused.value.errors()} == {"type", "severity", "ts"}


def test_a_boiler_fault_and_tenants_reports_share_one_building_incident(svc: Services) -> None:
    _, sensor_wo = handle_alert(svc, alert(svc, "boiler-maple", "hvac_fault", "critical", value="E04 ignition"))
    start_lifecycle(svc, sensor_wo)
    assert triage(svc, sensor_wo)["linked"] is False
    assert svc.repo.get_work_order(sensor_wo).incident_id == sensor_wo

    tenant = submit(svc, "unit-maple-3b", "There is no heat in our apartment, all the radiators are cold")
    start_lifecycle(svc, tenant.id)
    assert triage(svc, tenant.id)["linked"] is True
    joined = svc.repo.get_work_order(tenant.id)
    assert joined.incident_id == sensor_wo and joined.status == Status.TRIAGED


def test_the_same_alert_redelivered_within_the_window_is_recorded_once(svc: Services) -> None:
    same = alert(svc, value=1)
    _, wo_id = handle_alert(svc, same)
    handle_alert(svc, same)  # SQS delivers at least once
    events = [e.event for e in svc.repo.get_work_order(wo_id, with_timeline=True).timeline]
    assert events.count("sensor_alert") == 0


def test_a_redelivered_repeat_is_recorded_once_and_a_newer_alert_still_counts(svc: Services) -> None:
    _, wo_id = handle_alert(svc, alert(svc, value=1))
    svc.clock.advance(minutes=5)
    repeat = alert(svc, value=2)
    assert handle_alert(svc, repeat) == ("updated", wo_id)
    assert handle_alert(svc, repeat) == ("redelivered", wo_id)
    svc.clock.advance(minutes=5)
    assert handle_alert(svc, alert(svc, value=3)) == ("updated", wo_id)
    events = [e.event for e in svc.repo.get_work_order(wo_id, with_timeline=True).timeline]
    assert events.count("sensor_alert") == 2
