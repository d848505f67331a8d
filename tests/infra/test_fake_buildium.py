"""The fake Buildium over real HTTP: its answers must validate against the real spec, or adapter tests prove nothing."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from infra.fake_buildium import FakeBuildium
from infra.fake_buildium.spec import spec_path

TODAY_FROM = "2026-11-01"  # after the seed's timestamps (2026-01-05)


@pytest.fixture
def fake() -> Iterator[FakeBuildium]:
    with FakeBuildium.from_demo() as running:
        yield running


@pytest.fixture(scope="module")
def raw_spec() -> dict[str, Any]:
    return json.loads(spec_path().read_text())


def validator(raw_spec: dict[str, Any], url: str) -> OpenAPI:
    spec = copy.deepcopy(raw_spec)
    spec["servers"] = [{"url": url}]
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def call(fake: FakeBuildium, method: str, path: str, headers: dict[str, str] | None = None,
         **kwargs: Any) -> requests.Response:
    return requests.request(method, fake.url + path, headers={**fake.headers, **(headers or {})}, timeout=5, **kwargs)


def resident_request_body(fake: FakeBuildium, title: str = "Kitchen sink leaking") -> dict[str, Any]:
    return {"Title": title, "Description": "Water under the sink since this morning",
            "UnitAgreementId": fake.ids["lease"]["lease-maple-1a"],
            "RequestedByEntityId": fake.ids["tenant"]["tenant-maple-1a"], "TaskStatus": "New", "Priority": "High"}


def test_every_served_endpoint_answers_spec_valid_json(fake: FakeBuildium, raw_spec: dict[str, Any]) -> None:
    api = validator(raw_spec, fake.url)
    ids = fake.ids
    seen: set[tuple[str, str]] = set()

    def check(method: str, template: str, path: str, status: int, **kwargs: Any) -> Any:
        response = call(fake, method, path, **kwargs)
        assert response.status_code == status, (path, response.text)
        api.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
        seen.add((method, template))
        return response.json()

    task = check("POST", "/v1/tasks/residentrequests", "/v1/tasks/residentrequests", 201,
                 json=resident_request_body(fake))
    order = check("POST", "/v1/workorders", "/v1/workorders", 201, json={
        "TaskId": task["Id"], "VendorId": ids["vendor"]["ven-aqua"], "EntryAllowed": "Yes",
        "WorkDetails": "Replace trap", "LineItems": [{"GlAccountId": ids["gl_account"]["6010"], "Quantity": 1,
                                                      "UnitPrice": 180.0, "Memo": "Labour"}]})
    todo_order = check("POST", "/v1/workorders", "/v1/workorders", 201, json={
        "VendorId": ids["vendor"]["ven-volt"], "EntryAllowed": "Unknown",
        "Task": {"Title": "Hallway light out", "Priority": "Normal", "Status": "New",
                 "PropertyId": ids["property"]["prop-harbor"], "AssignedToUserId": 7001}})
    bill = check("POST", "/v1/bills", "/v1/bills", 201, json={
        "Date": "2026-11-20", "DueDate": "2026-12-20", "VendorId": ids["vendor"]["ven-aqua"],
        "WorkOrderId": order["Id"], "ReferenceNumber": "INV-1001", "Lines": [{
            "AccountingEntity": {"Id": ids["property"]["prop-maple"], "AccountingEntityType": "Rental",
                                 "UnitId": ids["unit"]["unit-maple-1a"]},
            "GlAccountId": ids["gl_account"]["6010"], "Amount": 180.0, "Memo": "Trap replaced",
            "Markup": {"Amount": 10, "Type": "Percent"}}]})
    check("PUT", "/v1/tasks/residentrequests/{id}", f"/v1/tasks/residentrequests/{task['Id']}", 200,
          json={"Title": task["Title"], "TaskStatus": "InProgress", "Priority": "High", "Message": "Vendor booked"})
    check("PUT", "/v1/workorders/{id}", f"/v1/workorders/{order['Id']}", 200,
          json={"VendorId": ids["vendor"]["ven-southflow"], "EntryAllowed": "Yes", "VendorNotes": "Bring a trap"})

    singles = {"/v1/rentals": ids["property"]["prop-maple"], "/v1/rentals/units": ids["unit"]["unit-maple-1a"],
               "/v1/leases": ids["lease"]["lease-maple-1a"], "/v1/leases/tenants": ids["tenant"]["tenant-maple-1a"],
               "/v1/vendors": ids["vendor"]["ven-aqua"], "/v1/vendors/categories": ids["vendor_category"]["Plumbing"],
               "/v1/glaccounts": ids["gl_account"]["6000"], "/v1/tasks": task["Id"],
               "/v1/tasks/residentrequests": task["Id"], "/v1/workorders": todo_order["Id"], "/v1/bills": bill["Id"]}
    for collection, entity_id in singles.items():
        listed = check("GET", collection, collection, 200)
        assert listed, collection
        one = check("GET", collection + "/{id}", f"{collection}/{entity_id}", 200)
        assert one["Id"] == entity_id

    expected = {("GET", c) for c in singles} | {("GET", c + "/{id}") for c in singles} | {
        ("POST", "/v1/tasks/residentrequests"), ("PUT", "/v1/tasks/residentrequests/{id}"), ("POST", "/v1/workorders"),
        ("PUT", "/v1/workorders/{id}"), ("POST", "/v1/bills")}
    assert seen == expected


def test_seed_matches_the_demo_portfolio(fake: FakeBuildium) -> None:
    from infra import demo

    tenants = call(fake, "GET", "/v1/leases/tenants", params={"limit": 100}).json()
    by_email = {t["Email"]: t for t in tenants}
    for unit in demo.UNITS:
        assert unit.tenant is not None
        tenant = by_email[unit.tenant.email]
        assert tenant["PhoneNumbers"] == [{"Number": unit.tenant.phone, "Type": "Cell"}]
        assert f"{tenant['FirstName']} {tenant['LastName']}" == unit.tenant.name
        assert [lease["UnitId"] for lease in tenant["Leases"]] == [fake.ids["unit"][unit.id]]
    rentals = {r["Id"]: r for r in call(fake, "GET", "/v1/rentals").json()}
    maple, harbor = rentals[fake.ids["property"]["prop-maple"]], rentals[fake.ids["property"]["prop-harbor"]]
    assert maple["Address"]["PostalCode"] != harbor["Address"]["PostalCode"]
    assert (maple["NumberUnits"], harbor["NumberUnits"]) == (6, 6)
    vendors = {v["CompanyName"]: v for v in call(fake, "GET", "/v1/vendors").json()}
    assert {v.name for v in demo.VENDORS} == set(vendors)
    assert vendors["Pipeline Pros"]["Category"]["Name"] == "Plumbing"
    assert vendors["Breeze HVAC"]["Category"]["Name"] == "Heating & Cooling (HVAC)"
    assert vendors["Breeze HVAC"]["PhoneNumbers"] == [{"Number": "+15550200004", "Type": "Office"}]
    assert FakeBuildium.from_demo().ids == fake.ids  # stable across instances


def test_pagination_reports_the_total_and_slices(fake: FakeBuildium) -> None:
    page = call(fake, "GET", "/v1/rentals/units", params={"offset": 10, "limit": 5})
    assert page.headers["X-Total-Count"] == "12"
    assert [u["Id"] for u in page.json()] == [1011, 1012]
    first = call(fake, "GET", "/v1/rentals/units", params={"limit": 3, "orderby": "UnitNumber desc"}).json()
    assert [u["UnitNumber"] for u in first] == ["3B", "3A", "302"]
    assert len(call(fake, "GET", "/v1/glaccounts").json()) == 21  # default limit 50 covers the chart
    assert call(fake, "GET", "/v1/rentals/units", params={"limit": 0}).status_code == 400


def test_list_filters_narrow_lookups(fake: FakeBuildium) -> None:
    ids = fake.ids
    by_unit = call(fake, "GET", "/v1/leases/tenants", params={"unitids": [ids["unit"]["unit-harbor-302"]]})
    assert [t["FirstName"] for t in by_unit.json()] == ["Lena"]
    assert by_unit.headers["X-Total-Count"] == "1"
    by_phone = call(fake, "GET", "/v1/leases/tenants", params={"phone": "5550100013"}).json()
    assert [t["FirstName"] for t in by_phone] == ["Dev"]
    harbor_units = call(fake, "GET", "/v1/rentals/units", params={"propertyids": ids["property"]["prop-harbor"]})
    assert {u["UnitNumber"] for u in harbor_units.json()} == {"101", "102", "201", "202", "301", "302"}

    first, _ = fake.create_resident_request("unit-maple-1a", "Leak", "Drip under sink")
    second, _ = fake.create_resident_request("unit-harbor-101", "No heat", "Radiator cold")
    fake.update_resident_request(second, TaskStatus="Completed")
    new_only = call(fake, "GET", "/v1/tasks/residentrequests", params={"statuses": ["New", "InProgress"]}).json()
    assert [t["Id"] for t in new_only] == [first]
    in_unit = call(fake, "GET", "/v1/tasks/residentrequests", params={"unitid": ids["unit"]["unit-harbor-101"]})
    assert [t["Id"] for t in in_unit.json()] == [second]
    recent = call(fake, "GET", "/v1/tasks/residentrequests", params={"lastupdatedfrom": TODAY_FROM}).json()
    assert {t["Id"] for t in recent} == {first, second}
    assert call(fake, "GET", "/v1/tasks/residentrequests", params={"lastupdatedfrom": "2099-01-01"}).json() == []
    assert call(fake, "GET", "/v1/leases/tenants", params={"lastupdatedfrom": "2026-06-01T00:00:00Z"}).json() == []

    order, _ = fake.create_work_order(first, "ven-aqua")
    fake.create_work_order(second, "ven-breeze")
    by_vendor = call(fake, "GET", "/v1/workorders", params={"vendorids": [ids["vendor"]["ven-aqua"]]}).json()
    assert [w["Id"] for w in by_vendor] == [order]
    open_orders = call(fake, "GET", "/v1/workorders", params={"statuses": "New"}).json()
    assert [w["Id"] for w in open_orders] == [order]
    bad = call(fake, "GET", "/v1/workorders", params={"statuses": "Open"})
    assert bad.status_code == 400
    assert bad.json()["Errors"][0]["Key"] == "statuses"


def test_requests_without_valid_credentials_get_401(fake: FakeBuildium) -> None:
    assert requests.get(fake.url + "/v1/rentals", timeout=5).status_code == 401
    wrong = {**fake.headers, "x-buildium-client-secret": "nope"}
    response = requests.get(fake.url + "/v1/rentals", headers=wrong, timeout=5)
    assert response.status_code == 401
    assert response.json()["UserMessage"]


def test_posted_resident_request_is_listed_and_emits_task_created(fake: FakeBuildium) -> None:
    created = call(fake, "POST", "/v1/tasks/residentrequests", json=resident_request_body(fake, "Broken blind"))
    assert created.status_code == 201
    task = created.json()
    assert created.headers["Location"].endswith(f"/v1/tasks/residentrequests/{task['Id']}")
    assert task["UnitId"] == fake.ids["unit"]["unit-maple-1a"]
    assert task["RequestedByUserEntity"]["Id"] == fake.ids["tenant"]["tenant-maple-1a"]
    listed = call(fake, "GET", "/v1/tasks/residentrequests", params={"tasktitle": "blind"}).json()
    assert [t["Id"] for t in listed] == [task["Id"]]
    assert fake.events[-1]["EventName"] == "Task.Created"
    assert (fake.events[-1]["TaskId"], fake.events[-1]["TaskType"]) == (task["Id"], "ResidentRequest")


def test_put_work_order_replaces_its_fields_and_status_follows_the_task(fake: FakeBuildium) -> None:
    task_id, _ = fake.create_resident_request("unit-harbor-201", "Dishwasher dead", "No power")
    order_id, events = fake.create_work_order(task_id, "ven-appliance", work_details="Diagnose")
    assert [e["EventName"] for e in events] == ["WorkOrder.Created"]
    updated = call(fake, "PUT", f"/v1/workorders/{order_id}", json={
        "VendorId": fake.ids["vendor"]["ven-handy"], "EntryAllowed": "No", "WorkDetails": "Replace pump"})
    assert updated.status_code == 200
    fake.update_resident_request(task_id, TaskStatus="InProgress")
    order = call(fake, "GET", f"/v1/workorders/{order_id}").json()
    assert (order["VendorId"], order["WorkDetails"], order["EntryAllowed"]) == (4007, "Replace pump", "No")
    assert order["Status"] == order["Task"]["Status"] == "InProgress"
    assert call(fake, "PUT", "/v1/workorders/999999", json={"VendorId": 4001, "EntryAllowed": "No"}).status_code == 404


def test_invalid_post_body_gets_400_with_buildium_errors_and_creates_nothing(fake: FakeBuildium) -> None:
    body = resident_request_body(fake)
    del body["UnitAgreementId"]
    body["Priority"] = "Urgent"
    response = call(fake, "POST", "/v1/tasks/residentrequests", json=body)
    assert response.status_code == 400
    error = response.json()
    assert {e["Key"] for e in error["Errors"]} == {"UnitAgreementId", "Priority"}
    assert error["UserMessage"] and error["ErrorCode"]
    unknown_field = call(fake, "POST", "/v1/workorders", json={"VendorId": 4001, "EntryAllowed": "Yes", "Foo": 1})
    assert unknown_field.status_code == 400
    not_json = call(fake, "POST", "/v1/bills", data="{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert call(fake, "GET", "/v1/tasks/residentrequests").json() == []
    assert fake.events == []


def test_fail_next_then_success(fake: FakeBuildium) -> None:
    fake.fail_next(status=429, retry_after=2)
    fake.fail_next(status=503)
    throttled = call(fake, "GET", "/v1/vendors")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"
    unavailable = call(fake, "GET", "/v1/vendors")
    assert unavailable.status_code == 503
    assert "Retry-After" not in unavailable.headers
    assert call(fake, "GET", "/v1/vendors").status_code == 200
    assert [r["status"] for r in fake.requests] == [429, 503, 200]


def test_delay_next_trips_a_client_timeout(fake: FakeBuildium) -> None:
    fake.delay_next(0.5)
    with pytest.raises(requests.Timeout):
        requests.get(fake.url + "/v1/rentals", headers=fake.headers, timeout=0.1)
    assert call(fake, "GET", "/v1/rentals").status_code == 200


def test_deleted_records_are_404_and_emit_deleted_events(fake: FakeBuildium) -> None:
    vendor_id = fake.ids["vendor"]["ven-keys"]
    assert call(fake, "GET", f"/v1/vendors/{vendor_id}").status_code == 200
    events = fake.delete("vendor", "ven-keys")
    assert [(e["EventName"], e["VendorId"]) for e in events] == [("Vendor.Deleted", vendor_id)]
    gone = call(fake, "GET", f"/v1/vendors/{vendor_id}")
    assert gone.status_code == 404
    assert gone.json()["ErrorCode"]
    assert call(fake, "GET", "/v1/vendors").headers["X-Total-Count"] == "11"
    assert fake.delete("unit", "unit-maple-1a")[0]["EventName"] == "RentalUnit.Deleted"
    assert call(fake, "GET", f"/v1/rentals/units/{fake.ids['unit']['unit-maple-1a']}").status_code == 404


def test_mutations_change_reads_and_emit_the_spec_event_names(fake: FakeBuildium) -> None:
    events = fake.update_vendor("ven-aqua", PrimaryEmail="new@aquafix.example.com", CategoryId=12)
    assert [(e["EventName"], e["VendorId"]) for e in events] == [("Vendor.Updated", 4001)]
    vendor = call(fake, "GET", "/v1/vendors/4001").json()
    assert (vendor["PrimaryEmail"], vendor["Category"]["Name"]) == ("new@aquafix.example.com", "Electrical")
    tenant_events = fake.update_tenant("tenant-maple-1b", PhoneNumbers=[{"Number": "+15550109999", "Type": "Cell"}])
    assert tenant_events[0]["EventName"] == "LeaseTenant.Updated"
    assert call(fake, "GET", "/v1/leases/tenants", params={"phone": "0109999"}).json()[0]["FirstName"] == "Ben"
    assert fake.update_unit("unit-maple-1b", Description="Gate code 4455")[0] == fake.events[-1]
    assert fake.events[-1]["UnitId"] == 1002
    with pytest.raises(KeyError):
        fake.update_vendor(999999, IsActive=False)


def test_requests_are_recorded_in_order(fake: FakeBuildium) -> None:
    call(fake, "GET", "/v1/leases/tenants", params={"unitids": [1001, 1002], "limit": 10})
    call(fake, "POST", "/v1/tasks/residentrequests", json=resident_request_body(fake))
    call(fake, "GET", "/v1/nowhere")
    assert fake.requests == [
        {"method": "GET", "path": "/v1/leases/tenants", "query": {"unitids": ["1001", "1002"], "limit": ["10"]},
         "body": None, "status": 200},
        {"method": "POST", "path": "/v1/tasks/residentrequests", "query": {}, "body": resident_request_body(fake),
         "status": 201},
        {"method": "GET", "path": "/v1/nowhere", "query": {}, "body": None, "status": 404},
    ]
    fake.clear_requests()
    assert fake.requests == []


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_webhook_delivery_is_compact_and_verifiably_signed() -> None:
    fake = FakeBuildium.from_demo(webhook_secret="s3cr3t-key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        task_id, events = fake.create_resident_request("unit-harbor-102", "Lock stuck", "Front door")
        response = fake.deliver(events[0], f"http://127.0.0.1:{server.server_address[1]}/webhooks/buildium",
                                timestamp=1764000000)
        assert response.status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    headers, body = _Receiver.received[-1]
    text = body.decode()
    assert headers["content-type"] == "application/json"
    assert headers["buildium-webhook-timestamp"] == "1764000000"
    expected = base64.b64encode(hmac.new(b"s3cr3t-key", b"1764000000." + body, hashlib.sha256).digest()).decode()
    assert headers["buildium-webhook-signature"] == expected
    assert fake.sign(1764000000, text) == expected
    assert "\n" not in text and ": " not in text and ", " not in text
    event = json.loads(text)
    assert list(event)[:3] == ["EventName", "EventDateTime", "AccountId"]
    assert event == {**events[0], "TaskId": task_id, "TaskType": "ResidentRequest", "AccountId": 123456}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", event["EventDateTime"])
    assert fake.event("Vendor.Updated", VendorId=4001)["VendorId"] == 4001
