"""Sensors, preventive schedules and building incidents on the local cloud (real template: IoT topic
rule, Scheduler schedules, the correlation rules)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.integration.conftest import U, eventually
from tests.integration.test_lifecycle import offers, record, submit, wait_offer, wait_status, window

pytestmark = pytest.mark.integration


def publish(stack, sensor: str, payload: dict, site: str = "maple") -> None:
    stack.cloud.client("iot-data").publish(topic=f"opslayer/{site}/sensors/{sensor}/alerts", qos=1,
                                           payload=json.dumps(payload).encode())


def iot_orders(api, ops_headers) -> list[dict]:
    return api.get("/ops/work-orders?source=iot", headers=ops_headers).json()["work_orders"]


def alert(sensor_id: str, kind: str, severity: str = "high", **extra) -> dict:
    return {"sensor_id": sensor_id, "type": kind, "severity": severity, "ts": datetime.now(UTC).isoformat(), **extra}


def test_leak_sensor_opens_an_emergency_and_repeats_update_it(stack, api, ops_headers):
    before = {w["id"] for w in iot_orders(api, ops_headers)}  # (the drill may have opened and closed one)
    publish(stack, "leak-maple-1a", alert("leak-maple-1a", "leak", value=1))
    orders = eventually(lambda: [w for w in iot_orders(api, ops_headers)
                                 if w["unit_id"] == U("unit-maple-1a") and w["id"] not in before])
    wo_id = orders[0]["id"]
    full = eventually(lambda: (r := record(api, ops_headers, wo_id))["priority"] and r)
    assert full["source"] == "iot" and full["priority"] == "emergency" and full["trade"] == "plumbing"
    assert full["sensor_id"] == "leak-maple-1a"
    wait_offer(stack, wo_id)
    eventually(lambda: [m for m in stack.cloud.outbox() if "EMERGENCY" in m["body"] and wo_id in m["body"]])
    publish(stack, "leak-maple-1a", alert("leak-maple-1a", "leak", value=2))
    eventually(lambda: [e for e in record(api, ops_headers, wo_id)["timeline"] if e["event"] == "sensor_alert"])
    assert len([w for w in iot_orders(api, ops_headers)
                if w["unit_id"] == U("unit-maple-1a") and w["id"] not in before]) == 1
    # The sensor is free again for whoever uses it next (the drill's IoT scenario): a cancelled order takes
    # no repeats, the next alert opens a new one.
    assert api.post(f"/ops/work-orders/{wo_id}/cancel", {"reason": "Test over"}, headers=ops_headers).status == 200


def test_bad_sensor_payload_goes_to_the_dlq_with_the_reason(stack):
    publish(stack, "leak-maple-1a", {"sensor_id": "leak-maple-1a", "type": "earthquake"})
    sqs = stack.cloud.client("sqs")
    dlq = stack.cloud.physical("SensorDLQ")
    msgs = eventually(lambda: sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"],
                                                  MaxNumberOfMessages=10).get("Messages"))
    reasons = [m["MessageAttributes"]["reason"]["StringValue"] for m in msgs]
    assert any("type" in r and "severity" in r for r in reasons), reasons
    unknown = {"sensor_id": "not-registered", "type": "leak", "severity": "high", "ts": "2026-11-23T10:00:00Z"}
    publish(stack, "not-registered", unknown)
    msgs = eventually(lambda: [m for m in sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"],
                                                              MaxNumberOfMessages=10).get("Messages", [])
                               if "UnknownLocation" in m["MessageAttributes"]["reason"]["StringValue"]])
    assert msgs


def test_preventive_schedule_creates_due_work_orders_once(stack, api, ops_headers):
    stack.cloud.fire_schedule("PreventiveSchedule")
    stack.cloud.fire_schedule("PreventiveSchedule")  # the schedule firing twice must not duplicate
    stack.cloud.wait_idle()
    orders = eventually(lambda: len(api.get("/ops/work-orders?source=preventive", headers=ops_headers)
                                    .json()["work_orders"]) >= 2 and
                        api.get("/ops/work-orders?source=preventive", headers=ops_headers).json()["work_orders"])
    assets = {record(api, ops_headers, w["id"])["asset_id"] for w in orders}
    # The demo's due assets; the boiler is not due within 14 days (other tests may add assets of their own).
    assert {"fire-alarm-harbor", "hvac-filter-maple-2a"} <= assets and "boiler-maple" not in assets
    assert all(w["priority"] in (None, "routine") for w in orders)


def preventive_order(stack, api, ops_headers, asset_id: str) -> dict:
    stack.cloud.fire_schedule("PreventiveSchedule")  # idempotent: the order exists once per asset and due date
    return eventually(lambda: next((r for w in api.get("/ops/work-orders?source=preventive", headers=ops_headers)
                                    .json()["work_orders"]
                                    if (r := record(api, ops_headers, w["id"]))["asset_id"] == asset_id), None))


def _verify_preventive_job(stack, api, ops_headers, mint, asset_id: str) -> None:
    wo = preventive_order(stack, api, ops_headers, asset_id)
    _, token = wait_offer(stack, wo["id"])
    assert api.post(f"/vendor/jobs/{token}/accept").status == 200
    assert api.post(f"/vendor/jobs/{token}/schedule", window()).status == 200
    assert api.post(f"/vendor/jobs/{token}/complete", {"notes": "New filter fitted"}).status == 200
    wait_status(api, ops_headers, wo["id"], "completed")
    tenant_token = mint(wo["id"], "tenant", wo["unit_id"], 3600)
    resp = api.post(f"/requests/{wo['id']}/feedback?token={tenant_token}", {"resolved": True})
    assert resp.status == 200 and resp.json()["status"] == "verified"

    today = datetime.now(UTC).date().isoformat()
    serviced = eventually(lambda: [e for e in record(api, ops_headers, wo["id"])["timeline"]
                                   if e["event"] == "asset_serviced"])
    asset = next(a for a in stack.repo.listed("ASSETS") if a["id"] == asset_id)
    assert asset["last_service"] == today and asset_id in serviced[0]["detail"]

    # The same event delivered again (EventBridge delivers at least once) changes nothing.
    again = stack.invoke("PreventiveFunction", {
        "source": "opslayer.workorders", "detail-type": "WorkOrderVerified",
        "detail": {"work_order_id": wo["id"], "status": "verified", "event_key": f"{wo['id']}:verified",
                   "answered": True, "asset_id": asset_id, "serviced_on": today}})
    assert again == {"asset": "duplicate"}
    assert len([e for e in record(api, ops_headers, wo["id"])["timeline"] if e["event"] == "asset_serviced"]) == 1


def test_boiler_sensor_and_tenants_share_one_incident(stack, api, ops_headers):
    before = {w["id"] for w in iot_orders(api, ops_headers)}
    publish(stack, "boiler-maple", alert("boiler-maple", "hvac_fault", severity="critical", value="E04 ignition"))
    sensor_wo = eventually(lambda: [w["id"] for w in iot_orders(api, ops_headers) if w["id"] not in before])[0]
    full = eventually(lambda: (r := record(api, ops_headers, sensor_wo))["incident_id"] and r)
    assert full["incident_id"] == sensor_wo and full["priority"] == "emergency"
    tenant_wo = submit(api, U("unit-maple-3b"), "There is no heat in our apartment, all the radiators are cold")["id"]
    joined = eventually(lambda: (r := record(api, ops_headers, tenant_wo))["incident_id"] and r)
    assert joined["incident_id"] == sensor_wo and offers(stack, tenant_wo) == []
