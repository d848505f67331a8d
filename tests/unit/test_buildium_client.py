"""BuildiumClient behaviour: retries and backoff, 404s, paging, idempotent writes, mapping. No sockets:
`responses` intercepts requests; an injected sleep records the waits instead of sleeping."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from pydantic import ValidationError
from responses import matchers

from shared.pms.buildium import (
    PRIORITY_TO_BUILDIUM,
    STATUS_TO_BUILDIUM,
    BuildiumClient,
    BuildiumError,
    BuildiumRejected,
)
from shared.pms.models import (
    BillAttachment,
    EntityKind,
    NewBill,
    NewBillLine,
    NewResidentRequest,
    NewWorkOrder,
    WorkOrderSync,
)
from shared.pms.port import PmsError, PmsRejected

BASE = "https://api.example.test"
FIXTURES = Path(__file__).resolve().parents[1] / "contract" / "fixtures"  # spec-validated by the contract tests
SECRET = "s3cr3t-value"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> BuildiumClient:
    return BuildiumClient(BASE, "client-id", SECRET, max_retries=3, backoff=0.5, sleep=sleeps)


@pytest.fixture
def mocked() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


WO_URL = f"{BASE}/v1/workorders/901"


# ---------------------------------------------------------------------- retries
def test_sends_the_api_key_headers(client: BuildiumClient, mocked: Any) -> None:
    mocked.get(
        WO_URL,
        json=fixture("work_order"),
        match=[matchers.header_matcher({"x-buildium-client-id": "client-id", "x-buildium-client-secret": SECRET})],
    )
    assert client.get(EntityKind.WORK_ORDER, "901") is not None


def test_429_honours_retry_after_seconds(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    mocked.get(WO_URL, status=429, headers={"Retry-After": "3"})
    mocked.get(WO_URL, status=429, headers={"Retry-After": "1"})
    mocked.get(WO_URL, json=fixture("work_order"))
    assert client.get(EntityKind.WORK_ORDER, "901").pms_id == "901"
    assert sleeps == [3.0, 1.0]
    assert len(mocked.calls) == 3


def test_429_honours_retry_after_http_date(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    mocked.get(WO_URL, status=429, headers={"Retry-After": when})
    mocked.get(WO_URL, json=fixture("work_order"))
    assert client.get(EntityKind.WORK_ORDER, "901") is not None
    assert len(sleeps) == 1 and 8.0 < sleeps[0] <= 10.0


def test_429_without_retry_after_backs_off_exponentially(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    for _ in range(4):
        mocked.get(WO_URL, status=429)
    with pytest.raises(PmsError) as caught:
        client.get(EntityKind.WORK_ORDER, "901")
    assert isinstance(caught.value, BuildiumError)
    assert (caught.value.status, caught.value.reason) == (429, "rate_limited")
    assert len(mocked.calls) == 4  # 1 + max_retries
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps):  # base 0.5 * 2^n plus up to 50 % jitter
        assert 0.5 * 2**attempt <= wait <= 0.75 * 2**attempt


def test_5xx_then_success(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    mocked.get(WO_URL, status=503)
    mocked.get(WO_URL, status=500)
    mocked.get(WO_URL, json=fixture("work_order"))
    assert client.get(EntityKind.WORK_ORDER, "901").vendor_pms_id == "501"
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("error", "reason"),
    [(requests.ReadTimeout("slow"), "timeout"), (requests.ConnectionError("reset"), "connection_error")],
)
def test_network_errors_are_retried_then_raise(
    client: BuildiumClient, mocked: Any, sleeps: Sleeps, error: Exception, reason: str
) -> None:
    for _ in range(4):
        mocked.get(WO_URL, body=error)
    with pytest.raises(BuildiumError) as caught:
        client.get(EntityKind.WORK_ORDER, "901")
    assert (caught.value.reason, caught.value.status) == (reason, None)
    assert len(mocked.calls) == 4 and len(sleeps) == 3


def test_network_error_then_success(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    mocked.get(WO_URL, body=requests.ConnectTimeout("no route"))
    mocked.get(WO_URL, json=fixture("work_order"))
    assert client.get(EntityKind.WORK_ORDER, "901") is not None
    assert len(sleeps) == 1


def test_404_on_get_by_id_is_none(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    mocked.get(WO_URL, status=404)
    assert client.get(EntityKind.WORK_ORDER, "901") is None
    assert sleeps == [] and len(mocked.calls) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_other_4xx_raise_at_once(client: BuildiumClient, mocked: Any, sleeps: Sleeps, status: int) -> None:
    mocked.get(WO_URL, status=status, json={"UserMessage": "nope"})
    with pytest.raises(BuildiumError) as caught:
        client.get(EntityKind.WORK_ORDER, "901")
    assert caught.value.status == status
    assert sleeps == [] and len(mocked.calls) == 1


def test_secrets_stay_out_of_errors_and_logs(
    client: BuildiumClient, mocked: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(4):
        mocked.get(WO_URL, status=500)
    with pytest.raises(BuildiumError) as caught:
        client.get(EntityKind.WORK_ORDER, "901")
    assert SECRET not in str(caught.value) and SECRET not in repr(client)
    assert caplog.records and SECRET not in caplog.text


def test_from_secret() -> None:
    client = BuildiumClient.from_secret(BASE, json.dumps({"client_id": "id", "client_secret": SECRET}))
    assert isinstance(client, BuildiumClient)
    with pytest.raises(PmsError) as caught:
        BuildiumClient.from_secret(BASE, '{"client_id": "id", "secret": "' + SECRET + '"}')
    assert SECRET not in str(caught.value)


# ---------------------------------------------------------------------- paging
def test_list_reads_three_pages(client: BuildiumClient, mocked: Any) -> None:
    client.page_size = 2
    base = fixture("vendor")
    vendors = [{**base, "Id": 500 + i} for i in range(5)]
    for offset in (0, 2, 4):
        mocked.get(
            f"{BASE}/v1/vendors",
            json=vendors[offset : offset + 2],
            headers={"X-Total-Count": "5"},
            match=[matchers.query_param_matcher({"offset": str(offset), "limit": "2", "orderby": "Id"})],
        )
    assert [v.pms_id for v in client.list(EntityKind.VENDOR)] == ["500", "501", "502", "503", "504"]
    assert len(mocked.calls) == 3


def test_list_stops_on_a_short_page_without_total(client: BuildiumClient, mocked: Any) -> None:
    client.page_size = 2
    mocked.get(f"{BASE}/v1/glaccounts", json=[fixture("gl_account")] * 2)
    mocked.get(f"{BASE}/v1/glaccounts", json=[fixture("gl_account")])
    assert len(list(client.list(EntityKind.GL_ACCOUNT))) == 3
    assert len(mocked.calls) == 2


# ---------------------------------------------------------------------- idempotent writes
class FakeResidentRequests:
    """Just enough Buildium for ensure_resident_request: a list filtered like the server would, and POST."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.posts = 0

    def list(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = request.params  # type: ignore[attr-defined]
        hits = [r for r in self.records if query["tasktitle"] in r["Title"] and str(r["UnitId"]) == query["unitid"]]
        return 200, {"X-Total-Count": str(len(hits))}, json.dumps(hits)

    def post(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.posts += 1
        body = json.loads(request.body or b"{}")
        record = {**fixture("resident_request"), "Id": 7000 + self.posts, "Title": body["Title"], "UnitId": 201}
        self.records.append(record)
        return 201, {}, json.dumps(record)


def new_request(reference: str = "wo-01J9A") -> NewResidentRequest:
    return NewResidentRequest(
        reference=reference,
        property_pms_id="101",
        unit_pms_id="201",
        requested_by_pms_id="301",
        title="Bathroom fan broken",
        description="Grinding noise.",
        priority="emergency",
    )


def test_ensure_resident_request_is_idempotent(client: BuildiumClient, mocked: Any) -> None:
    fake = FakeResidentRequests()
    mocked.add_callback("GET", f"{BASE}/v1/tasks/residentrequests", callback=fake.list)
    mocked.add_callback("POST", f"{BASE}/v1/tasks/residentrequests", callback=fake.post)
    mocked.get(f"{BASE}/v1/leases/tenants/301", json=fixture("tenant"))

    first = client.ensure_resident_request(new_request())
    second = client.ensure_resident_request(new_request())
    assert first == second == "7001"
    assert fake.posts == 1
    assert client.ensure_resident_request(new_request("wo-OTHER")) == "7002"  # another reference is another record


def test_ambiguous_post_failure_looks_up_before_posting_again(
    client: BuildiumClient, mocked: Any, sleeps: Sleeps
) -> None:
    """The POST reached Buildium but the answer was lost (502): the next lookup finds the record."""
    fake = FakeResidentRequests()
    mocked.add_callback("GET", f"{BASE}/v1/tasks/residentrequests", callback=fake.list)

    def lost_answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        fake.post(request)
        return 502, {}, ""

    mocked.add_callback("POST", f"{BASE}/v1/tasks/residentrequests", callback=lost_answer)
    mocked.get(f"{BASE}/v1/leases/tenants/301", json=fixture("tenant"))
    assert client.ensure_resident_request(new_request()) == "7001"
    assert fake.posts == 1
    assert len(sleeps) == 1


def test_post_timeout_is_not_blindly_retried(client: BuildiumClient, mocked: Any) -> None:
    mocked.get(f"{BASE}/v1/workorders", json=[], headers={"X-Total-Count": "0"})
    for _ in range(4):
        mocked.post(f"{BASE}/v1/workorders", body=requests.ReadTimeout("slow"))
    order = NewWorkOrder(
        reference="wo-1", task_pms_id="801", vendor_pms_id="501", title="t", description="d", priority="routine"
    )
    with pytest.raises(BuildiumError) as caught:
        client.ensure_work_order(order)
    assert caught.value.reason == "timeout"
    methods = [c.request.method for c in mocked.calls]
    assert methods == ["GET", "POST"] * 4  # every POST preceded by a lookup


def test_work_order_needs_a_vendor(client: BuildiumClient) -> None:
    order = NewWorkOrder(reference="wo-1", task_pms_id="801", title="t", description="d", priority="routine")
    with pytest.raises(BuildiumError, match="vendor_required"):
        client.ensure_work_order(order)


# ---------------------------------------------------------------------- status and priority mapping
def test_every_opslayer_status_and_priority_maps_to_a_buildium_enum() -> None:
    from shared.domain.workorder import Status

    assert set(STATUS_TO_BUILDIUM) == {s.value for s in Status}
    assert set(STATUS_TO_BUILDIUM.values()) <= {"New", "InProgress", "Completed", "Deferred", "Closed"}
    assert PRIORITY_TO_BUILDIUM == {"emergency": "High", "urgent": "High", "routine": "Normal"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [("received", "New"), ("scheduled", "InProgress"), ("completed", "Completed"), ("cancelled", "Closed")],
)
def test_sync_sends_the_mapped_status(client: BuildiumClient, mocked: Any, status: str, expected: str) -> None:
    task = {**fixture("resident_request"), "TaskStatus": "Deferred"}
    mocked.get(WO_URL, json=fixture("work_order"))
    mocked.put(WO_URL, json=fixture("work_order"))
    rr_url = f"{BASE}/v1/tasks/residentrequests/801"
    mocked.get(rr_url, json=task)
    put = mocked.put(rr_url, json=task)
    client.sync_work_order("901", "801", WorkOrderSync(status=status))
    assert json.loads(put.calls[0].request.body)["TaskStatus"] == expected


def test_sync_of_an_unchanged_state_writes_nothing(client: BuildiumClient, mocked: Any) -> None:
    work_order = {**fixture("work_order"), "VendorNotes": "Call first.\n\n--- Opslayer ---\nStatus: scheduled"}
    mocked.get(WO_URL, json=work_order)
    mocked.get(f"{BASE}/v1/tasks/residentrequests/801", json=fixture("resident_request"))  # InProgress
    client.sync_work_order("901", "801", WorkOrderSync(status="scheduled"))
    assert [c.request.method for c in mocked.calls] == ["GET", "GET"]


def test_sync_skips_records_deleted_in_buildium(client: BuildiumClient, mocked: Any) -> None:
    mocked.get(WO_URL, status=404)
    mocked.get(f"{BASE}/v1/tasks/residentrequests/801", status=404)
    client.sync_work_order("901", "801", WorkOrderSync(status="completed"))
    assert [c.request.method for c in mocked.calls] == ["GET", "GET"]


# ---------------------------------------------------------------------- reading Buildium JSON
def test_mapping_of_spec_shaped_fixtures(client: BuildiumClient, mocked: Any) -> None:
    for path, name in [
        ("/v1/leases/tenants/301", "tenant"),
        ("/v1/leases/401", "lease"),
        ("/v1/vendors/501", "vendor"),
        ("/v1/tasks/801", "task"),
        ("/v1/bills/1001", "bill"),
        ("/v1/rentals/units/201", "rental_unit"),
    ]:
        mocked.get(BASE + path, json=fixture(name))
    tenant = client.get(EntityKind.TENANT, "301")
    assert (tenant.name, tenant.email, tenant.phone) == ("Ana Silva", "ana@example.com", "(617) 555-0199")  # Cell
    lease = client.get(EntityKind.LEASE, "401")
    assert (lease.status, lease.tenant_pms_ids, lease.unit_pms_id) == ("active", ["301"], "201")
    assert (lease.start, lease.end) == (date(2025, 1, 1), date(2025, 12, 31))
    vendor = client.get(EntityKind.VENDOR, "501")
    assert (vendor.name, vendor.phone, vendor.category_pms_id) == ("QuickFix Plumbing", "617-555-0301", "601")
    task = client.get(EntityKind.TASK, "801")
    assert (task.kind, task.status, task.priority) == ("resident_request", "in_progress", "high")
    assert (task.property_pms_id, task.unit_pms_id, task.requested_by_pms_id) == ("101", "201", "301")
    assert task.updated_at == datetime(2025, 3, 4, 6, 0, tzinfo=UTC)
    bill = client.get(EntityKind.BILL, "1001")
    assert (bill.total, bill.work_order_pms_id, bill.reference) == (Decimal("235.5"), "901", "INV-778")
    unit = client.get(EntityKind.UNIT, "201")
    assert (unit.label, unit.property_pms_id, unit.address.line2) == ("3B", "101", "Unit 3B")


def test_ids_must_be_buildium_integers(client: BuildiumClient) -> None:
    with pytest.raises(BuildiumError, match="invalid_id"):
        client.get(EntityKind.BILL, "../rentals/1")


def test_404_on_a_list_is_an_error_not_an_empty_result(client: BuildiumClient, mocked: Any) -> None:
    """Buildium answers 404 for misspelt paging parameters: that must not look like "no records"."""
    mocked.get(f"{BASE}/v1/vendors", status=404)
    with pytest.raises(BuildiumError) as caught:
        list(client.list(EntityKind.VENDOR))
    assert (caught.value.status, caught.value.reason) == (404, "not_found")


# ---------------------------------------------------------------------- bills
BUCKET = "https://bucket.example.test/upload"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"


class FakeBills:
    """Buildium's bill endpoints and its file provider in memory; `lose_next_*` lets a write land but its answer
    get lost, the way a timeout after the request reached the server does."""

    def __init__(self, mocked: Any) -> None:
        self.bills: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.bill_posts = self.ticket_posts = self.uploads = 0
        self.lose_next_bill_answer = self.lose_next_upload_answer = False
        self.fail_next_uploads = self.fail_next_bill_posts = 0
        mocked.add_callback("GET", f"{BASE}/v1/bills", callback=self.list_bills)
        mocked.add_callback("POST", f"{BASE}/v1/bills", callback=self.post_bill)
        mocked.add_callback("GET", f"{BASE}/v1/bills/70001/files", callback=self.list_files)
        mocked.add_callback("POST", f"{BASE}/v1/bills/70001/files/uploadrequests", callback=self.ticket)
        mocked.add_callback("POST", BUCKET, callback=self.upload)

    @staticmethod
    def _query(request: requests.PreparedRequest) -> dict[str, list[str]]:
        from urllib.parse import parse_qs, urlsplit

        return parse_qs(urlsplit(request.url or "").query)

    def list_bills(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        q = self._query(request)
        hits = [b for b in self.bills if str(b["VendorId"]) == q["vendorid"][0]
                and q.get("referencenumber", [""])[0].lower() in (b["ReferenceNumber"] or "").lower()]
        return 200, {"X-Total-Count": str(len(hits))}, json.dumps(hits)

    def post_bill(self, request: requests.PreparedRequest) -> Any:
        if self.fail_next_bill_posts:
            self.fail_next_bill_posts -= 1
            return 503, {}, json.dumps({"UserMessage": "Service unavailable", "ErrorCode": "ServiceUnavailable"})
        self.bill_posts += 1
        body = json.loads(request.body or b"{}")
        bill = {**fixture("bill"), "Id": 70000 + self.bill_posts, "Memo": body["Memo"], "VendorId": body["VendorId"],
                "ReferenceNumber": body["ReferenceNumber"], "WorkOrderId": body.get("WorkOrderId")}
        self.bills.append(bill)
        if self.lose_next_bill_answer:
            self.lose_next_bill_answer = False
            raise requests.ReadTimeout("answer lost")
        return 201, {}, json.dumps(bill)

    def list_files(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        return 200, {"X-Total-Count": str(len(self.files))}, json.dumps(self.files)

    def ticket(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.ticket_posts += 1
        name = json.loads(request.body or b"{}")["FileName"]
        form = {"key": f"bills/70001/{self.ticket_posts}_{name}", "policy": "cG9saWN5", "x-amz-signature": "abc"}
        return 201, {}, json.dumps({"BucketUrl": BUCKET, "FormData": form, "PhysicalFileName": f"p{self.ticket_posts}"})

    def upload(self, request: requests.PreparedRequest) -> Any:
        assert "x-buildium-client-secret" not in request.headers  # the API key never goes to the file provider
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        assert body.index(b'name="key"') < body.index(b'name="policy"') < body.index(b'name="file"')  # file last
        if self.fail_next_uploads:
            self.fail_next_uploads -= 1
            return 503, {}, "<Error><Code>SlowDown</Code></Error>"
        self.uploads += 1
        self.files.append({"Id": 90000 + self.uploads, "Title": body.split(b'filename="')[1].split(b'"')[0].decode(),
                           "PhysicalFileName": f"p{self.uploads}", "Size": 1, "ContentType": "application/pdf",
                           "UploadedDateTime": "2026-11-20T10:00:00Z"})
        if self.lose_next_upload_answer:
            self.lose_next_upload_answer = False
            raise requests.ConnectionError("connection reset after the upload")
        return 204, {}, ""


def new_bill(reference: str = "inv-01J9B", attachment: BillAttachment | None = None, **changes: Any) -> NewBill:
    fields: dict[str, Any] = dict(
        reference=reference,
        vendor_pms_id="501",
        work_order_pms_id="901",
        invoice_number="INV-778",
        bill_date=date(2026, 11, 20),
        due_date=date(2026, 12, 20),
        memo="Kitchen sink: trap replaced",
        lines=[
            NewBillLine(gl_account_pms_id="701", amount=Decimal("150.00"), memo="Labour",
                        property_pms_id="101", unit_pms_id="201"),
            NewBillLine(gl_account_pms_id="702", amount=Decimal("35.50"), memo="Parts",
                        property_pms_id="101", unit_pms_id="201"),
        ],
        attachment=attachment,
    )
    return NewBill(**{**fields, **changes})


def pdf(name: str = "INV-778.pdf", data: bytes = PDF) -> BillAttachment:
    return BillAttachment(filename=name, content_type="application/pdf", data=data)


def test_ensure_bill_is_idempotent(client: BuildiumClient, mocked: Any) -> None:
    bills = FakeBills(mocked)
    first = client.ensure_bill(new_bill(attachment=pdf()))
    second = client.ensure_bill(new_bill(attachment=pdf()))
    assert first == second == "70001"
    assert (bills.bill_posts, bills.ticket_posts, bills.uploads) == (1, 1, 1)
    assert bills.bills[0]["Memo"] == "Kitchen sink: trap replaced [Opslayer inv-01J9B]"
    assert [f["Title"] for f in bills.files] == ["INV-778.pdf"]


def test_ambiguous_bill_post_failure_finds_the_bill_instead_of_posting_again(
    client: BuildiumClient, mocked: Any, sleeps: Sleeps
) -> None:
    """The POST reached Buildium, then the connection timed out: the lookup after it finds the bill."""
    bills = FakeBills(mocked)
    bills.lose_next_bill_answer = True
    assert client.ensure_bill(new_bill()) == "70001"
    assert bills.bill_posts == 1
    assert [c.request.method for c in mocked.calls] == ["GET", "POST", "GET"]
    assert len(sleeps) == 1  # a pause before looking again, so the write is visible


def test_attachment_is_not_uploaded_twice(client: BuildiumClient, mocked: Any) -> None:
    bills = FakeBills(mocked)
    bills.files.append({"Id": 90077, "Title": "INV-778.pdf", "Size": 1, "UploadedDateTime": "2026-11-20T10:00:00Z"})
    client.ensure_bill(new_bill(attachment=pdf()))
    assert (bills.ticket_posts, bills.uploads) == (0, 0)
    client.ensure_bill(new_bill(attachment=pdf("photo of invoice.pdf")))  # another name is another file
    assert bills.uploads == 1


def test_upload_lost_answer_is_not_repeated(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    """The file reached the provider but the answer did not: the files list shows it, no second upload."""
    bills = FakeBills(mocked)
    bills.lose_next_upload_answer = True
    client.ensure_bill(new_bill(attachment=pdf()))
    assert (bills.ticket_posts, bills.uploads) == (1, 1)


def test_failed_upload_retries_with_a_fresh_ticket(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    bills = FakeBills(mocked)
    bills.fail_next_uploads = 2
    assert client.ensure_bill(new_bill(attachment=pdf())) == "70001"
    assert (bills.bill_posts, bills.ticket_posts, bills.uploads) == (1, 3, 1)
    assert len(sleeps) == 2


def test_upload_that_keeps_failing_raises_and_a_later_retry_completes(client: BuildiumClient, mocked: Any) -> None:
    """The bill exists without its file: the error goes back to the caller, whose retry adds only the file."""
    bills = FakeBills(mocked)
    bills.fail_next_uploads = 4
    with pytest.raises(BuildiumError, match="upload_failed"):
        client.ensure_bill(new_bill(attachment=pdf()))
    assert (bills.bill_posts, bills.uploads) == (1, 0)
    assert client.ensure_bill(new_bill(attachment=pdf())) == "70001"
    assert (bills.bill_posts, bills.uploads) == (1, 1)


@pytest.mark.parametrize(
    ("attachment", "reason"),
    [
        (pdf(data=PDF + b"0" * (10 * 1024 * 1024)), "attachment_too_large"),
        (pdf(data=b"MZ\x90\x00 not a pdf"), "attachment_content_mismatch"),
        (BillAttachment(filename="a.png", content_type="image/png", data=PDF), "attachment_content_mismatch"),
        (BillAttachment(filename="a.heic", content_type="image/heic", data=b"\x00\x00\x00\x18ftypheic"),
         "attachment_type_not_supported"),
        (BillAttachment(filename="a.webp", content_type="image/webp", data=b"RIFF\x10\x00\x00\x00WAVEfmt "),
         "attachment_content_mismatch"),
    ],
    ids=["oversized", "not-a-pdf", "pdf-called-png", "unsupported-image", "wav-called-webp"],
)
def test_bad_attachment_is_refused_before_anything_is_sent(
    client: BuildiumClient, mocked: Any, attachment: BillAttachment, reason: str
) -> None:
    with pytest.raises(BuildiumRejected) as caught:
        client.ensure_bill(new_bill(attachment=attachment))
    assert caught.value.reason == reason
    assert isinstance(caught.value, PmsRejected)
    assert len(mocked.calls) == 0


def test_bill_models_refuse_what_is_not_a_bill() -> None:
    with pytest.raises(ValidationError, match="PDF or an image"):
        BillAttachment(filename="notes.txt", content_type="text/plain", data=b"hello")
    with pytest.raises(ValidationError, match="greater than 0"):
        NewBillLine(gl_account_pms_id="701", amount=Decimal("0"), memo="x")
    with pytest.raises(ValidationError, match="decimal places"):
        NewBillLine(gl_account_pms_id="701", amount=Decimal("1.005"), memo="x")
    with pytest.raises(ValidationError, match="due_date is before bill_date"):
        new_bill(due_date=date(2026, 11, 19))
    with pytest.raises(ValidationError, match="at least 1 item"):
        new_bill(lines=[])
    assert new_bill().total == Decimal("185.50")


def test_long_invoice_number_is_refused_and_long_memos_keep_the_tag(client: BuildiumClient, mocked: Any) -> None:
    with pytest.raises(BuildiumRejected, match="invoice_number_too_long"):
        client.ensure_bill(new_bill(invoice_number="N" * 41))
    assert len(mocked.calls) == 0
    bills = FakeBills(mocked)
    client.ensure_bill(new_bill(memo="word " * 100))
    memo = bills.bills[0]["Memo"]
    assert len(memo) == 245 and memo.endswith("… [Opslayer inv-01J9B]")


def test_hand_entered_bill_with_the_same_invoice_number_is_not_duplicated(
    client: BuildiumClient, mocked: Any
) -> None:
    bills = FakeBills(mocked)
    by_hand = {**fixture("bill"), "Id": 1001, "Memo": "entered by the bookkeeper", "ReferenceNumber": "inv-778"}
    bills.bills.append(by_hand)
    bills.bills.append({**fixture("bill"), "Id": 1002, "Memo": "another job", "ReferenceNumber": "INV-7781"})
    with pytest.raises(BuildiumRejected, match="vendor_invoice_exists:1001"):
        client.ensure_bill(new_bill())
    assert bills.bill_posts == 0


def test_buildium_validation_errors_are_a_rejection_with_the_fields(client: BuildiumClient, mocked: Any) -> None:
    mocked.get(f"{BASE}/v1/bills", json=[], headers={"X-Total-Count": "0"})
    mocked.post(f"{BASE}/v1/bills", status=400, json={
        "UserMessage": "The request is invalid.", "ErrorCode": "InvalidRequest",
        "Errors": [{"Key": "Lines[0].GlAccountId", "Value": "Not found"}]})
    with pytest.raises(BuildiumRejected) as caught:
        client.ensure_bill(new_bill())
    assert caught.value.status == 400
    assert caught.value.details == [{"Key": "Lines[0].GlAccountId", "Value": "Not found"}]
    assert len([c for c in mocked.calls if c.request.method == "POST"]) == 1


def test_bill_post_503_then_success(client: BuildiumClient, mocked: Any, sleeps: Sleeps) -> None:
    """A 503 on the POST may have been processed: the client looks up, finds nothing, posts again."""
    bills = FakeBills(mocked)
    bills.fail_next_bill_posts = 1
    assert client.ensure_bill(new_bill()) == "70001"
    assert [c.request.method for c in mocked.calls] == ["GET", "POST", "GET", "POST"]


def test_line_with_only_a_unit_is_charged_to_the_units_property(client: BuildiumClient, mocked: Any) -> None:
    FakeBills(mocked)
    mocked.get(f"{BASE}/v1/rentals/units/201", json=fixture("rental_unit"))
    line = NewBillLine(gl_account_pms_id="701", amount=Decimal("99.99"), memo="Callout", unit_pms_id="201")
    client.ensure_bill(new_bill(lines=[line]))
    post = next(c for c in mocked.calls if c.request.method == "POST")
    sent = json.loads(post.request.body)["Lines"][0]
    assert sent["AccountingEntity"] == {"Id": fixture("rental_unit")["PropertyId"], "AccountingEntityType": "Rental",
                                        "UnitId": 201}
    assert sent["Amount"] == 99.99
    with pytest.raises(BuildiumRejected, match="bill_line_without_property"):
        client.ensure_bill(new_bill(lines=[NewBillLine(gl_account_pms_id="701", amount=Decimal("1"), memo="x")]))


def test_a_bill_opslayer_wrote_is_recognised_when_read_back(client: BuildiumClient, mocked: Any) -> None:
    mocked.get(f"{BASE}/v1/bills/1001", json={**fixture("bill"), "Memo": "Sink repair [Opslayer inv-01J9B]"})
    mocked.get(f"{BASE}/v1/bills/1002", json=fixture("bill"))
    ours, theirs = client.get(EntityKind.BILL, "1001"), client.get(EntityKind.BILL, "1002")
    assert (ours.opslayer_reference, ours.memo) == ("inv-01J9B", "Sink repair [Opslayer inv-01J9B]")
    assert theirs.opslayer_reference is None and theirs.total == Decimal("235.5")


def test_a_bill_with_its_file_survives_a_json_round_trip() -> None:
    bill = new_bill(attachment=pdf())
    assert NewBill.model_validate_json(bill.model_dump_json()) == bill


def test_images_of_each_supported_type_are_uploaded(client: BuildiumClient, mocked: Any) -> None:
    bills = FakeBills(mocked)
    images = {"image/png": b"\x89PNG\r\n\x1a\n....", "image/jpeg": b"\xff\xd8\xff\xe0JFIF",
              "image/gif": b"GIF89a....", "image/webp": b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/tiff": b"II*\x00...."}
    for n, (content_type, data) in enumerate(images.items()):
        name = f"dir/../scan-{n}.{content_type.split('/')[1]}"
        client.ensure_bill(new_bill(attachment=BillAttachment(filename=name, content_type=content_type, data=data)))
    assert [f["Title"] for f in bills.files] == [f"scan-{n}.{t.split('/')[1]}" for n, t in enumerate(images)]
