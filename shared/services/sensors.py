"""IoT sensor alerts -> work orders (source "iot"). The rules are data (shared/domain/sensors.py,
shared/rules/sensor_rules.json): a leak or smoke alert is an emergency. Repeated alerts from one sensor
within the window update the open work order instead of opening new ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from string import Template

from shared.domain.directory import Contact
from shared.domain.sensors import SensorAlert, already_recorded, rules
from shared.domain.workorder import TERMINAL, Source, WorkOrder
from shared.observability import count
from shared.services.container import Services
from shared.services.workorders import submit_request
from shared.services.writes import Edit, entry, mutate


class UnknownLocation(ValueError):
    """Neither the alert nor the sensor registry says where the sensor is."""


def register_sensor(svc: Services, sensor_id: str, unit_id: str, location: str) -> None:
    svc.repo.put_record(f"SENSOR#{sensor_id}", "META", {"unit_id": unit_id, "location": location})


def handle_alert(svc: Services, alert: SensorAlert) -> tuple[str, str]:
    """Returns (outcome, work order id): "created", "updated", or "redelivered" (recorded already)."""
    from shared.schemas import NewRequest  # cold start: the schemas (email validation) load on first use, not at import

    registered = svc.repo.get_record(f"SENSOR#{alert.sensor_id}", "META") or {}
    unit_id = alert.unit_id or registered.get("unit_id")
    if not unit_id or svc.repo.find_unit(unit_id) is None:
        raise UnknownLocation(f"sensor {alert.sensor_id} has no known unit")
    rule = rules().types[alert.type]
    priority, reason = rule.decide(alert)
    location = registered.get("location") or alert.site or "unknown location"
    text = Template(rule.text).safe_substitute(sensor_id=alert.sensor_id, location=location,
                                               value="" if alert.value is None else alert.value)
    now = svc.clock()
    window = timedelta(seconds=svc.settings.sensor_repeat_window_seconds)
    open_record = svc.repo.get_record(f"SENSOR#{alert.sensor_id}", "OPEN")
    if open_record and datetime.fromisoformat(open_record["until"]) > now:
        wo_id = open_record["work_order_id"]
        last = open_record.get("alert_ts")
        if already_recorded(alert, datetime.fromisoformat(last) if last else None):
            count("SensorAlertRedelivered")
            return "redelivered", wo_id
        value = "" if alert.value is None else alert.value
        detail = f"Sensor alert repeated: {alert.type} {alert.severity} {value}"

        def repeat(wo: WorkOrder) -> Edit[None] | None:
            if wo.status in TERMINAL:
                return None
            return Edit(wo, [entry(svc, "sensor_alert", detail.strip(), actor=f"sensor:{alert.sensor_id}")])

        if mutate(svc, wo_id, repeat).after:
            _open(svc, alert, wo_id, now + window)
            count("SensorAlertRepeated")
            return "updated", wo_id
    unit = svc.repo.get_unit(unit_id)
    contact = unit.tenant or Contact(name="Building sensor")
    req = NewRequest.model_construct(unit_id=unit_id, name=contact.name, phone=contact.phone, email=contact.email,
                                     description=text, availability=None)
    wo = submit_request(svc, req, source=Source.IOT, idempotency_key=f"sensor-{alert.sensor_id}-{alert.ts.isoformat()}",
                        trade=rule.trade, priority=priority, emergency_reason=reason, sensor_id=alert.sensor_id,
                        asset_id=alert.asset_id)
    _open(svc, alert, wo.id, now + window)
    count("SensorAlertWorkOrder")
    return "created", wo.id


def _open(svc: Services, alert: SensorAlert, wo_id: str, until: datetime) -> None:
    """The sensor's open job until the window ends, with the last alert it recorded (to spot redeliveries)."""
    svc.repo.put_record(f"SENSOR#{alert.sensor_id}", "OPEN", {"work_order_id": wo_id, "until": until.isoformat(),
                                                               "alert_ts": alert.ts.isoformat()})
