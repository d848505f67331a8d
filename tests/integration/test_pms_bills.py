"""A bill Opslayer posts to Buildium comes back as a Bill.Created webhook: the sync knows it as its own and does
not record it as a bill "entered in the PMS"; a bill a person enters in Buildium on the same work order still is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import requests

from shared.pms.buildium import BuildiumClient
from shared.pms.models import NewBill, NewBillLine
from tests.integration.conftest import IDS, U, eventually
from tests.integration.test_lifecycle import record, submit, wait_offer

pytestmark = pytest.mark.integration


def test_own_bill_is_not_recorded_as_a_pms_bill_but_a_hand_entered_one_is(stack, api, ops_headers):
    fake = stack.fake
    wo_id = submit(api, U("unit-harbor-302"), "Closet door came off its track again")["id"]
    _, token = wait_offer(stack, wo_id)
    assert api.post(f"/vendor/jobs/{token}/accept").status == 200
    order_id = int(eventually(lambda: record(api, ops_headers, wo_id)["pms"]["work_order_id"]))
    for event in [e for e in fake.events if e.get("WorkOrderId") == order_id]:
        assert stack.deliver_webhook(event) == 202  # Buildium tells us about the work order Opslayer created
    order = fake.get("work_order", order_id)
    unit_id = order["Task"]["UnitId"]
    line = NewBillLine(gl_account_pms_id=str(IDS.buildium["gl_account"]["6060"]), amount=Decimal("75.00"),
                       memo="Labour", property_pms_id=str(fake.get("unit", unit_id)["PropertyId"]),
                       unit_pms_id=str(unit_id))
    ours = BuildiumClient(fake.url, fake.client_id, fake.client_secret).ensure_bill(NewBill(
        reference=f"inv-{wo_id}", vendor_pms_id=str(order["VendorId"]), work_order_pms_id=str(order_id),
        invoice_number="HH-501", bill_date=date(2026, 11, 20), due_date=date(2026, 12, 20), memo="Closet door",
        lines=[line]))
    by_hand = requests.post(f"{fake.url}/v1/bills", headers=fake.headers, timeout=5, json={
        "Date": "2026-11-21", "DueDate": "2026-12-21", "VendorId": order["VendorId"], "WorkOrderId": order_id,
        "ReferenceNumber": "HH-502", "Lines": [{"AccountingEntity": {"Id": int(line.property_pms_id or 0),
                                                                     "AccountingEntityType": "Rental"},
                                               "GlAccountId": int(line.gl_account_pms_id), "Amount": 20.0}]}).json()
    for event in [e for e in fake.events if e["EventName"] == "Bill.Created"
                  and e["BillId"] in (int(ours), by_hand["Id"])]:
        assert stack.deliver_webhook(event) == 202

    def synced():
        fetched = {r["path"] for r in fake.requests if r["method"] == "GET"}
        entries = [e["detail"] for e in record(api, ops_headers, wo_id)["timeline"] if e["event"] == "pms_bill"]
        return f"/v1/bills/{ours}" in fetched and entries

    entries = eventually(synced)
    assert entries == [f"PMS bill {by_hand['Id']} recorded (20.0)"]
