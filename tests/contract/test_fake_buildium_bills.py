"""ensure_bill against the fake Buildium over real HTTP (127.0.0.1): bills and their files end up in the account
once whatever fails on the way, the fake's answers validate against the spec, and the fake refuses bills the
spec's rules do not allow, as Buildium would (400 with {UserMessage, ErrorCode, Errors: [{Key, Value}]})."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from infra.fake_buildium import FakeBuildium
from infra.fake_buildium.spec import openapi, spec_dict
from shared.pms.buildium import BuildiumClient, BuildiumRejected
from shared.pms.models import BillAttachment, NewBill, NewBillLine

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\r\n--not-a-boundary\r\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeBuildium]:
    openapi()  # build the spec validator before any client timeout is running
    with FakeBuildium.from_demo(clock=clock) as running:
        yield running


def client_for(fake: FakeBuildium, **kwargs: Any) -> BuildiumClient:
    kwargs.setdefault("sleep", lambda seconds: None)
    return BuildiumClient(fake.url, fake.client_id, fake.client_secret, **kwargs)


def work_order(fake: FakeBuildium) -> int:
    task_id, _ = fake.create_resident_request("unit-maple-1a", "Kitchen sink leaking", "Under the sink")
    order_id, _ = fake.create_work_order(task_id, "ven-aqua", "Replace trap")
    return order_id


def new_bill(fake: FakeBuildium, order_id: int | None, **changes: Any) -> NewBill:
    ids = fake.ids
    fields: dict[str, Any] = dict(
        reference="inv-01J9B",
        vendor_pms_id=str(ids["vendor"]["ven-aqua"]),
        work_order_pms_id=None if order_id is None else str(order_id),
        invoice_number="AQ-2291",
        bill_date=date(2026, 11, 20),
        due_date=date(2026, 12, 20),
        memo="Kitchen sink: trap replaced",
        lines=[
            NewBillLine(gl_account_pms_id=str(ids["gl_account"]["6010"]), amount=Decimal("180.00"), memo="Labour",
                        property_pms_id=str(ids["property"]["prop-maple"]),
                        unit_pms_id=str(ids["unit"]["unit-maple-1a"])),
            NewBillLine(gl_account_pms_id=str(ids["gl_account"]["6010"]), amount=Decimal("42.35"), memo="P-trap",
                        unit_pms_id=str(ids["unit"]["unit-maple-1a"])),
        ],
        attachment=BillAttachment(filename="AQ-2291.pdf", content_type="application/pdf", data=PDF),
    )
    return NewBill(**{**fields, **changes})


def writes(fake: FakeBuildium) -> list[tuple[str, str, int]]:
    return [(r["method"], r["path"], r["status"]) for r in fake.requests if r["method"] != "GET"]


def validator(url: str) -> OpenAPI:
    spec = copy.deepcopy(spec_dict())
    spec["servers"] = [{"url": url}]
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def test_bill_and_file_land_once_and_read_back_spec_valid(fake: FakeBuildium) -> None:
    order_id = work_order(fake)
    client = client_for(fake)
    bill_id = client.ensure_bill(new_bill(fake, order_id))
    assert client.ensure_bill(new_bill(fake, order_id)) == bill_id  # a retry changes nothing

    assert writes(fake) == [("POST", "/v1/bills", 201), ("POST", f"/v1/bills/{bill_id}/files/uploadrequests", 201),
                            ("POST", "/_bucket", 204)]
    bill = fake.get("bill", int(bill_id))
    assert (bill["VendorId"], bill["WorkOrderId"], bill["ReferenceNumber"]) == (
        fake.ids["vendor"]["ven-aqua"], order_id, "AQ-2291")
    assert bill["Memo"] == "Kitchen sink: trap replaced [Opslayer inv-01J9B]"
    unit = fake.ids["unit"]["unit-maple-1a"]
    lines = [(li["Amount"], li["AccountingEntity"]["Id"], li["AccountingEntity"]["Unit"]["Id"]) for li in bill["Lines"]]
    assert lines == [(180.0, 101, unit), (42.35, 101, unit)]
    (stored,) = fake.bill_files(int(bill_id))
    assert (stored["Title"], stored["ContentType"], stored["data"]) == ("AQ-2291.pdf", "application/pdf", PDF)
    assert [e["EventName"] for e in fake.events][-1:] == ["Bill.Created"]
    order = fake.get("work_order", order_id)
    assert order["BillTransactionIds"] == [int(bill_id)]  # linked to the work order in Buildium

    # what the fake answers for the bill and its file is what the spec describes
    api, headers = validator(fake.url), fake.headers

    def check(method: str, path: str, status: int) -> Any:
        response = requests.request(method, fake.url + path, headers=headers, timeout=5)
        assert response.status_code == status, response.text
        api.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
        return response.json()

    check("GET", f"/v1/bills/{bill_id}", 200)
    (listed,) = check("GET", f"/v1/bills/{bill_id}/files", 200)
    one = check("GET", f"/v1/bills/{bill_id}/files/{listed['Id']}", 200)
    assert one == listed and listed["Size"] == 11  # kilobytes, rounded up
    link = check("POST", f"/v1/bills/{bill_id}/files/{listed['Id']}/downloadrequest", 201)
    downloaded = requests.get(link["DownloadUrl"], timeout=5)
    assert downloaded.content == PDF and downloaded.headers["Content-Type"] == "application/pdf"
    assert requests.request("GET", fake.url + f"/v1/bills/{bill_id}/files/999", headers=headers,
                            timeout=5).status_code == 404


def test_503s_on_every_step_then_success(fake: FakeBuildium) -> None:
    """Each step fails once with 503 (the file provider too): one bill, one file."""
    client = client_for(fake)
    for method, path in (("GET", "/v1/rentals/units/"), ("GET", "/v1/bills"), ("POST", "/v1/bills"),
                         ("GET", "/v1/bills/70001/files"), ("POST", "/v1/bills/70001/files/uploadrequests"),
                         ("POST", "/_bucket")):
        fake.fail_next(503, path=path, method=method)
    bill_id = client.ensure_bill(new_bill(fake, None))
    assert bill_id == "70001"
    statuses = [(r["method"], r["path"], r["status"]) for r in fake.requests]
    assert [s for m, p, s in statuses if (m, p) == ("POST", "/v1/bills")] == [503, 201]
    tickets = [s for m, p, s in statuses if m == "POST" and p.endswith("/uploadrequests")]
    assert tickets == [503, 201, 201]  # a fresh ticket after the failed upload
    assert [s for _, p, s in statuses if p == "/_bucket"] == [503, 204]
    assert all(s != 503 for s in [s for _, _, s in statuses][-3:])
    assert len(fake.bill_files(70001)) == 1
    assert len(json.loads(requests.get(fake.url + "/v1/bills", headers=fake.headers, timeout=5).content)) == 1


def test_answer_lost_after_the_bill_post_reached_buildium(fake: FakeBuildium) -> None:
    """The client times out while the fake is still creating the bill: the next lookup finds it."""

    def back_off_until_the_post_is_processed(seconds: float) -> None:  # a condition, not a fixed wait
        deadline = time.monotonic() + 30
        while not any(r["method"] == "POST" and r["status"] is not None for r in fake.requests):
            assert time.monotonic() < deadline, "the fake never finished the POST"
            time.sleep(0.02)

    client = client_for(fake, timeout=1.0, sleep=back_off_until_the_post_is_processed)
    fake.delay_next(0.0)  # the lookup answers at once
    fake.delay_next(1.2)  # the POST is processed, but only after the client gave up
    line = NewBillLine(gl_account_pms_id=str(fake.ids["gl_account"]["6010"]), amount=Decimal("99.00"), memo="Callout",
                       property_pms_id=str(fake.ids["property"]["prop-maple"]))
    bill_id = client.ensure_bill(new_bill(fake, None, attachment=None, lines=[line]))
    posts = [r for r in fake.requests if r["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["status"] == 201
    assert [r["method"] for r in fake.requests] == ["GET", "POST", "GET"]
    assert fake.get("bill", int(bill_id))["Memo"].endswith("[Opslayer inv-01J9B]")


def test_an_unknown_gl_account_is_a_rejection_naming_the_field(fake: FakeBuildium) -> None:
    line = NewBillLine(gl_account_pms_id="123", amount=Decimal("10.00"), memo="x", property_pms_id="101")
    with pytest.raises(BuildiumRejected) as caught:
        client_for(fake).ensure_bill(new_bill(fake, None, lines=[line]))
    assert caught.value.status == 400
    assert caught.value.details == [{"Key": "Lines[0].GlAccountId", "Value": "Not found"}]
    assert fake.events == []


def post_bill(fake: FakeBuildium, **changes: Any) -> requests.Response:
    ids = fake.ids
    body: dict[str, Any] = {
        "Date": "2026-11-20", "DueDate": "2026-12-20", "VendorId": ids["vendor"]["ven-aqua"], "ReferenceNumber": "X-1",
        "Lines": [{"AccountingEntity": {"Id": ids["property"]["prop-maple"], "AccountingEntityType": "Rental",
                                        "UnitId": ids["unit"]["unit-maple-1a"]},
                   "GlAccountId": ids["gl_account"]["6010"], "Amount": 10.0, "Memo": "Line"}]}
    line_changes = changes.pop("line", {})
    body.update(changes)
    if line_changes:
        body["Lines"][0].update(line_changes)
        body["Lines"][0] = {k: v for k, v in body["Lines"][0].items() if v is not None}
    return requests.post(fake.url + "/v1/bills", json=body, headers=fake.headers, timeout=5)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"VendorId": 999}, "VendorId"),
        ({"WorkOrderId": 999}, "WorkOrderId"),
        ({"DueDate": "2026-11-19"}, "DueDate"),
        ({"ReferenceNumber": "R" * 41}, "ReferenceNumber"),
        ({"Memo": "m" * 246}, "Memo"),
        ({"Lines": []}, "Lines"),
        ({"line": {"GlAccountId": None}}, "Lines.0.GlAccountId"),
        ({"line": {"GlAccountId": 4242}}, "Lines[0].GlAccountId"),
        ({"line": {"GlAccountId": 9001}}, "Lines[0].GlAccountId"),  # a bank account
        ({"line": {"GlAccountId": 9003}}, "Lines[0].GlAccountId"),  # accounts payable
        ({"line": {"Memo": "m" * 241}}, "Lines[0].Memo"),
        ({"line": {"AccountingEntity": {"Id": 999, "AccountingEntityType": "Rental"}}}, "Lines[0].AccountingEntity.Id"),
        ({"line": {"AccountingEntity": {"Id": 102, "AccountingEntityType": "Rental", "UnitId": 1001}}},
         "Lines[0].AccountingEntity.UnitId"),  # a unit of another property
        ({"line": {"Amount": "10"}}, "Lines.0.Amount"),
    ],
    ids=lambda v: json.dumps(v)[:40] if isinstance(v, dict) else v,
)
def test_the_fake_refuses_bills_buildium_would_not_take(fake: FakeBuildium, changes: dict[str, Any], key: str) -> None:
    response = post_bill(fake, **copy.deepcopy(changes))
    assert response.status_code == 400, response.text
    error = response.json()
    assert key in {e["Key"] for e in error["Errors"]}
    assert error["UserMessage"] and error["ErrorCode"] == "InvalidRequest"
    assert fake.events == [] and requests.get(fake.url + "/v1/bills", headers=fake.headers, timeout=5).json() == []


def test_the_valid_reference_body_is_accepted(fake: FakeBuildium) -> None:
    """Guards the guard above: the same body without the change is a bill."""
    assert post_bill(fake).status_code == 201


def ticket(fake: FakeBuildium, bill_id: int, name: str = "scan.pdf") -> dict[str, Any]:
    response = requests.post(f"{fake.url}/v1/bills/{bill_id}/files/uploadrequests", json={"FileName": name},
                             headers=fake.headers, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def upload(ticket: dict[str, Any], fields: list[tuple[str, str]] | None = None) -> requests.Response:
    fields = list(ticket["FormData"].items()) if fields is None else fields
    return requests.post(ticket["BucketUrl"], data=fields, files=[("file", ("scan.pdf", PDF, "application/pdf"))],
                         timeout=5)


def test_the_file_provider_holds_tickets_to_their_terms(fake: FakeBuildium, clock: Clock) -> None:
    bill_id = post_bill(fake).json()["Id"]
    assert requests.post(f"{fake.url}/v1/bills/999/files/uploadrequests", json={"FileName": "a.pdf"},
                         headers=fake.headers, timeout=5).status_code == 404
    shuffled = ticket(fake, bill_id)
    refused = upload(shuffled, list(reversed(shuffled["FormData"].items())))  # fields out of the ticket's order
    assert refused.status_code == 403 and b"<Code>AccessDenied</Code>" in refused.content
    expired = ticket(fake, bill_id)
    clock.now += timedelta(minutes=5, seconds=1)
    assert upload(expired).status_code == 403
    good = ticket(fake, bill_id)
    assert upload(good).status_code == 204
    assert upload(good).status_code == 403  # one upload per ticket
    assert requests.post(good["BucketUrl"], data={"key": "x"}, timeout=5).status_code == 400  # multipart required
    assert [f["Title"] for f in fake.bill_files(bill_id)] == ["scan.pdf"]
