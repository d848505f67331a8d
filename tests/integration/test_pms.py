"""Buildium both ways on the local cloud: signed webhooks in, entities fetched and upserted, work orders
and their status written back - against the fake Buildium, through the real template."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest

from infra.fake_buildium.server import compact_json
from tests.integration.conftest import IDS, U, V, eventually
from tests.integration.test_lifecycle import record, submit, wait_offer, window

pytestmark = pytest.mark.integration


def calls(stack, method: str, prefix: str) -> list[dict]:
    return [r for r in stack.fake.requests if r["method"] == method and r["path"].startswith(prefix)]


def post_webhook(stack, body: bytes | str, timestamp: str | None = None, signature: str | None = None):
    stamp = timestamp or str(int(time.time()))
    body_text = body.decode() if isinstance(body, bytes) else body
    headers = {"Content-Type": "application/json", "buildium-webhook-timestamp": stamp,
               "buildium-webhook-signature": signature or stack.fake.sign(stamp, body_text)}
    return stack.cloud.invoke_api("POST", "/webhooks/buildium", headers=headers, body=body_text)


@pytest.fixture
def restore(stack) -> Iterator[Callable[[str, str], int]]:
    """``restore(kind, demo key)`` before a test changes or deletes a demo record in (fake) Buildium: afterwards
    the record is put back as it was and synced in again, so other tests find the portfolio whole (the only
    locksmith, a second plumber, a tenant's phone), whatever the order. Returns the record's Buildium id."""
    saved: list[tuple[str, dict]] = []

    def remember(kind: str, key: str) -> int:
        buildium_id = IDS.buildium[kind][key]
        with stack.fake._lock:  # the fake has no public "put back"; a test helper may reach in
            saved.append((kind, copy.deepcopy(stack.fake._store[kind][buildium_id])))
        return buildium_id

    yield remember
    stack.cloud.wait_idle(timeout=30)
    for kind, original in reversed(saved):
        with stack.fake._lock:
            stack.fake._store[kind][original["Id"]] = copy.deepcopy(original)
        for event in stack.fake.update(kind, original["Id"]):
            assert stack.deliver_webhook(event) == 202
    stack.cloud.wait_idle(timeout=30)


def test_demo_portfolio_came_through_the_sync_path(stack):
    unit = stack.repo.get_unit(U("unit-maple-1a"))
    assert unit.pms_id == str(IDS.buildium["unit"]["unit-maple-1a"]) and unit.tenant.phone == "+15550100010"
    assert "lockbox" in unit.access_instructions
    prop = stack.repo.get_property(unit.property_id)
    assert prop.service_area == "north" and prop.pms_id
    assert stack.repo.get_vendor(V("ven-aqua")).trades == ["plumbing"]
    paths = {r["path"] for r in stack.fake.requests if r["method"] == "GET"}
    assert {"/v1/rentals", "/v1/rentals/units", "/v1/vendors", "/v1/leases", "/v1/glaccounts"} <= paths
    assert any(a["name"] for a in stack.repo.listed("GLACCOUNTS"))


def test_bad_webhooks_are_rejected_and_nothing_is_queued(stack):
    event = stack.fake.event("Vendor.Updated", VendorId=IDS.buildium["vendor"]["ven-volt"])
    body = compact_json(event)
    assert post_webhook(stack, body, signature="bm90LXRoZS1zaWduYXR1cmU=").status == 401
    stale = str(int(time.time()) - 600)
    resp = post_webhook(stack, body, timestamp=stale)
    assert resp.status == 401 and resp.json()["details"]["reason"] == "stale_timestamp"
    future = str(int(time.time()) + 600)
    assert post_webhook(stack, body, timestamp=future).status == 401
    missing = stack.cloud.invoke_api("POST", "/webhooks/buildium", headers={"Content-Type": "application/json"},
                                     body=body)
    assert missing.status == 401 and missing.json()["error"] == "unauthorized"
    assert post_webhook(stack, "{not json").status == 400
    tampered = body.replace("Vendor.Updated", "Vendor.Deleted")
    assert post_webhook(stack, tampered, signature=stack.fake.sign(str(int(time.time())), body)).status == 401
    sqs = stack.cloud.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=stack.cloud.physical("PmsInboundQueue"),
                                     AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"


def test_resident_request_created_in_buildium_runs_the_lifecycle_and_syncs_back(stack, api, ops_headers):
    unit_key = "unit-harbor-301"
    task_id, events = stack.fake.create_resident_request(IDS.buildium["unit"][unit_key], "Kitchen sink leaking",
                                                         "Water drips from the trap under the kitchen sink")
    for event in events:
        assert stack.deliver_webhook(event) == 202
        assert stack.deliver_webhook(event) == 202  # Buildium may deliver twice: still one work order
    found = eventually(lambda: [w for w in api.get("/ops/work-orders?source=pms", headers=ops_headers).json()
                                ["work_orders"] if w["pms"]["task_id"] == str(task_id)])
    assert len(found) == 1
    wo_id = found[0]["id"]
    assert found[0]["unit_id"] == U(unit_key)
    vendor, token = wait_offer(stack, wo_id)
    assert api.post(f"/vendor/jobs/{token}/accept").status == 200
    assert api.post(f"/vendor/jobs/{token}/schedule", window()).status == 200
    # Written back: no second resident request for a task that came from Buildium, one work order for it,
    # and its status follows the lifecycle.
    eventually(lambda: any(str(task_id) in json.dumps(r["body"]) for r in calls(stack, "POST", "/v1/workorders")))
    assert not [r for r in calls(stack, "POST", "/v1/tasks/residentrequests") if wo_id in json.dumps(r["body"])]
    full = eventually(lambda: (r := record(api, ops_headers, wo_id))["pms"]["work_order_id"] and r)
    assert (full["pms"]["provider"], full["pms"]["task_id"]) == ("buildium", str(task_id))
    eventually(lambda: stack.fake.get("work_order", int(full["pms"]["work_order_id"])).get("VendorId")
               == IDS.buildium["vendor"][_demo_key(vendor)])
    assert len([w for w in api.get("/ops/work-orders?source=pms", headers=ops_headers).json()["work_orders"]
                if w["pms"]["task_id"] == str(task_id)]) == 1


def _demo_key(vendor_id: str) -> str:
    return next(k for k, v in IDS.buildium["vendor"].items() if f"ven-b{v}" == vendor_id)


def test_web_request_is_logged_in_buildium_once_and_kept_in_sync(stack, api, ops_headers):
    wo_id = submit(api, U("unit-harbor-302"), "Closet door came off its track")["id"]
    full = eventually(lambda: (r := record(api, ops_headers, wo_id))["pms"]["task_id"] and r)
    task = stack.fake.get("task", int(full["pms"]["task_id"]))
    assert wo_id in json.dumps(task)
    assert full["pms"]["work_order_id"] is None  # a Buildium work order needs its vendor
    _, token = wait_offer(stack, wo_id)
    api.post(f"/vendor/jobs/{token}/accept")
    eventually(lambda: record(api, ops_headers, wo_id)["pms"]["work_order_id"])
    eventually(lambda: stack.fake.get("task", int(full["pms"]["task_id"]))["TaskStatus"] == "InProgress")
    creates = [r for r in calls(stack, "POST", "/v1/tasks/residentrequests") if wo_id in json.dumps(r["body"])]
    assert len(creates) == 1


def test_scheduled_reconciliation_catches_a_lost_webhook(stack, restore):
    unit_id = restore("unit", "unit-harbor-102")
    stack.fake.update_unit(unit_id, Description="Gate code 4411; dog in unit")  # its webhook is "lost"
    stack.cloud.fire_schedule("ReconcileSchedule")
    eventually(lambda: stack.repo.get_unit(U("unit-harbor-102")).access_instructions == "Gate code 4411; dog in unit")
    stack.cloud.wait_idle(timeout=30)  # the run goes on through vendors and leases: let it finish


def test_vendor_insurance_syncs_and_the_daily_check_warns_vendor_and_ops_once(stack):
    """The insurance-check schedule (wired to the pms-sync function) and the notification rule."""
    vendor_id = IDS.buildium["vendor"]["ven-keystone"]  # still insured: dispatch is not affected
    expires = (date.today() + timedelta(days=10)).isoformat()
    for event in stack.fake.update_vendor(vendor_id, VendorInsurance={
            "Provider": "Bay State Casualty", "PolicyNumber": "GL-7731", "ExpirationDate": f"{expires}T00:00:00Z"}):
        assert stack.deliver_webhook(event) == 202
    keystone = eventually(lambda: (v := stack.repo.get_vendor(V("ven-keystone"))).insurance
                          and v.insurance.expires_on.isoformat() == expires and v)

    def warnings() -> list[dict]:
        return [m for m in stack.cloud.outbox() if expires in f"{m.get('subject') or ''} {m['body']}"
                and m["to"] in (keystone.phone, keystone.email, "+15550100009", "ops@opslayer.example.com")]

    stack.cloud.fire_schedule("InsuranceCheckSchedule")
    sent = eventually(lambda: len(warnings()) == 4 and warnings())
    assert {m["to"] for m in sent} == {keystone.phone, keystone.email, "+15550100009", "ops@opslayer.example.com"}
    stack.cloud.fire_schedule("InsuranceCheckSchedule")  # the next day's run: warned once per expiry date
    stack.cloud.wait_idle(timeout=30)
    assert len(warnings()) == 4
