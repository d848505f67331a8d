"""Contract: every request the Buildium adapter sends, and every response it is fed, validated against
Buildium's own OpenAPI document (../shared/specs/buildium-openapi.json).

A requests transport adapter stands in for Buildium: it validates each prepared request with openapi-core
(path, method, parameters, body against the request schema), checks that every query parameter is one
the operation declares (openapi-core ignores unknown ones) and that the API key headers are present,
then serves a response that is itself validated against the operation's response schema before the
client sees it. A bill file's second upload step goes to the upload ticket's bucket URL, which is not
Buildium's API: those requests are checked against the spec's description of that step instead. No sockets.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from requests.adapters import BaseAdapter

from infra.fake_buildium.spec import SpecUnavailable, spec_path
from shared.pms.buildium import BuildiumClient, BuildiumRejected
from shared.pms.models import (
    BillAttachment,
    EntityKind,
    NewBill,
    NewBillLine,
    NewResidentRequest,
    NewWorkOrder,
    PmsBill,
    PmsGLAccount,
    PmsLease,
    PmsProperty,
    PmsTask,
    PmsTenant,
    PmsUnit,
    PmsVendor,
    PmsVendorCategory,
    PmsWorkOrder,
    WorkOrderSync,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE = "https://api.buildium.com"
BUCKET = "https://buildium-files.s3.amazonaws.com/"  # what an upload ticket's BucketUrl points to

try:  # found the way the fake Buildium finds it (next to the repo, in a folder above, or BUILDIUM_OPENAPI_SPEC)
    SPEC_PATH = spec_path()
except SpecUnavailable as missing:
    pytest.skip(str(missing), allow_module_level=True)

openapi_core = pytest.importorskip("openapi_core", reason="openapi-core is a dev dependency")
from openapi_core import Config, OpenAPI  # noqa: E402
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse  # noqa: E402

Handler = Callable[[requests.PreparedRequest, dict[str, list[str]]], tuple[int, Any, dict[str, str]]]


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def openapi(spec: dict[str, Any]) -> OpenAPI:
    # The document keeps Swagger-2 leftovers (collectionFormat): skip the strict spec check only.
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def _operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec path template and operation for a concrete path; literal segments win over templates."""
    matches = []
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", r"[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            matches.append((template.count("{"), template, item[method.lower()]))
    assert matches, f"{method} {path} is not in the Buildium spec"
    _, template, operation = min(matches, key=lambda m: m[0])
    return template, operation


class FakeBuildium(BaseAdapter):
    """Routes (method, spec path template) to handlers; validates both directions against the spec."""

    def __init__(self, openapi: OpenAPI, spec: dict[str, Any]) -> None:
        super().__init__()
        self.openapi = openapi
        self.spec = spec
        self.routes: dict[tuple[str, str], Handler] = {}
        self.calls: list[tuple[str, str, dict[str, list[str]], Any]] = []  # method, template, query, body
        self.uploads: list[list[tuple[str, bytes]]] = []  # the multipart fields of each bucket POST, in order

    def route(self, method: str, template: str, handler: Handler) -> None:
        self.routes[(method, template)] = handler

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.method and request.url
        if request.url.startswith(BUCKET):
            return self._bucket(request)
        url = urlparse(request.url)
        template, operation = _operation(self.spec, request.method, url.path)
        query = parse_qs(url.query)
        declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        assert set(query) <= declared, f"{template}: undeclared query parameters {set(query) - declared}"
        assert request.headers.get("x-buildium-client-id") == "client-id"
        assert request.headers.get("x-buildium-client-secret") == "client-secret"
        self.openapi.validate_request(RequestsOpenAPIRequest(request))  # raises with the schema errors
        body = json.loads(request.body) if request.body else None
        self.calls.append((request.method, template, query, body))

        status, payload, headers = self.routes[(request.method, template)](request, query)
        response = requests.Response()
        response.status_code = status
        response.url = request.url
        response.request = request
        response._content = b"" if payload is None else json.dumps(payload).encode()
        response.headers.update({"Content-Type": "application/json", **headers})
        if status < 400:
            self.openapi.validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))
        return response

    def _bucket(self, request: requests.PreparedRequest) -> requests.Response:
        """Step 2 of the spec's file upload: multipart/form-data POST to BucketUrl, the ticket's FormData fields
        in the order received, then `file` last; answered 204. Buildium's API key must not be sent there."""
        assert request.method == "POST"
        assert "x-buildium-client-id" not in request.headers and "x-buildium-client-secret" not in request.headers
        content_type = request.headers["Content-Type"]
        assert content_type.startswith("multipart/form-data; boundary=")
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields = [(p.get_param("name", header="content-disposition"), p.get_payload(decode=True))
                  for p in message.iter_parts()]
        self.uploads.append(fields)
        self.calls.append(("POST", "<bucket>", {}, None))
        response = requests.Response()
        response.status_code = 204
        response.url = request.url
        response.request = request
        response._content = b""
        return response

    def close(self) -> None:
        pass

    def operations(self) -> list[tuple[str, str]]:
        return [(method, template) for method, template, _, _ in self.calls]


@pytest.fixture
def fake(openapi: OpenAPI, spec: dict[str, Any]) -> FakeBuildium:
    return FakeBuildium(openapi, spec)


@pytest.fixture
def client(fake: FakeBuildium) -> BuildiumClient:
    session = requests.Session()
    session.mount("https://", fake)
    return BuildiumClient(BASE, "client-id", "client-secret", session=session, sleep=lambda s: None)


def ok(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    return lambda request, query: (status, payload, headers or {})


# (kind, fixture, get template, list template, the model the adapter returns)
KINDS = [
    (EntityKind.PROPERTY, "rental", "/v1/rentals/{propertyId}", "/v1/rentals", PmsProperty),
    (EntityKind.UNIT, "rental_unit", "/v1/rentals/units/{unitId}", "/v1/rentals/units", PmsUnit),
    (EntityKind.TENANT, "tenant", "/v1/leases/tenants/{tenantId}", "/v1/leases/tenants", PmsTenant),
    (EntityKind.LEASE, "lease", "/v1/leases/{leaseId}", "/v1/leases", PmsLease),
    (EntityKind.VENDOR, "vendor", "/v1/vendors/{vendorId}", "/v1/vendors", PmsVendor),
    (
        EntityKind.VENDOR_CATEGORY,
        "vendor_category",
        "/v1/vendors/categories/{vendorCategoryId}",
        "/v1/vendors/categories",
        PmsVendorCategory,
    ),
    (EntityKind.GL_ACCOUNT, "gl_account", "/v1/glaccounts/{glAccountId}", "/v1/glaccounts", PmsGLAccount),
    (EntityKind.TASK, "task", "/v1/tasks/{taskId}", None, PmsTask),
    (EntityKind.WORK_ORDER, "work_order", "/v1/workorders/{workOrderId}", "/v1/workorders", PmsWorkOrder),
    (EntityKind.BILL, "bill", "/v1/bills/{billId}", "/v1/bills", PmsBill),
]
LIST_TEMPLATES = {
    EntityKind.TASK: ("resident_request", "/v1/tasks/residentrequests"),
}


# ---------------------------------------------------------------------- fixtures are spec-shaped
FIXTURE_OPERATIONS = {
    "rental": "/v1/rentals/1",
    "rental_unit": "/v1/rentals/units/1",
    "tenant": "/v1/leases/tenants/1",
    "lease": "/v1/leases/1",
    "vendor": "/v1/vendors/1",
    "vendor_category": "/v1/vendors/categories/1",
    "gl_account": "/v1/glaccounts/1",
    "task": "/v1/tasks/1",
    "resident_request": "/v1/tasks/residentrequests/1",
    "work_order": "/v1/workorders/1",
    "bill": "/v1/bills/1",
    "bill_file": "/v1/bills/1/files/1",
}


def test_every_fixture_file_is_covered() -> None:
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(FIXTURE_OPERATIONS)


@pytest.mark.parametrize("name", sorted(FIXTURE_OPERATIONS))
def test_fixture_matches_the_response_schema(openapi: OpenAPI, name: str) -> None:
    request = requests.Request("GET", BASE + FIXTURE_OPERATIONS[name]).prepare()
    response = requests.Response()
    response.status_code = 200
    response._content = (FIXTURES / f"{name}.json").read_bytes()
    response.headers["Content-Type"] = "application/json"
    openapi.validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))


def test_the_validator_rejects_a_wrong_fixture(openapi: OpenAPI) -> None:
    """Guards the guard: a fixture with a string id must fail validation."""
    broken = {**fixture("work_order"), "VendorId": "501"}
    request = requests.Request("GET", BASE + "/v1/workorders/1").prepare()
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(broken).encode()
    response.headers["Content-Type"] = "application/json"
    with pytest.raises(Exception, match=r"VendorId|not of type|InvalidData"):
        openapi.validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))


# ---------------------------------------------------------------------- reads
@pytest.mark.parametrize(("kind", "name", "get_template", "_list", "model"), KINDS, ids=[k[0].value for k in KINDS])
def test_get_by_id(
    client: BuildiumClient, fake: FakeBuildium, kind: EntityKind, name: str, get_template: str, _list: Any, model: type
) -> None:
    payload = fixture(name)
    fake.route("GET", get_template, ok(payload))
    entity = client.get(kind, str(payload["Id"]))
    assert isinstance(entity, model)
    assert entity.pms_id == str(payload["Id"])
    assert fake.operations() == [("GET", get_template)]


def test_vendor_insurance_is_read_from_the_spec_shaped_record(client: BuildiumClient, fake: FakeBuildium) -> None:
    """VendorInsuranceMessage: provider, policy number and the expiration (a date-time in the spec) as a
    date; a record whose fields are all null (Buildium's default) is no insurance on file."""
    fake.route("GET", "/v1/vendors/{vendorId}", ok(fixture("vendor")))
    vendor = client.get(EntityKind.VENDOR, "501")
    assert isinstance(vendor, PmsVendor) and vendor.insurance is not None
    assert vendor.insurance.model_dump() == {"provider": "Bay State Casualty", "policy_number": "GL-88213",
                                             "expires_on": date(2026, 11, 30)}
    blank = {**fixture("vendor"), "Id": 502,
             "VendorInsurance": {"Provider": None, "PolicyNumber": " ", "ExpirationDate": None}}
    fake.route("GET", "/v1/vendors/{vendorId}", ok(blank))
    assert client.get(EntityKind.VENDOR, "502").insurance is None  # type: ignore[union-attr]
    fake.route("GET", "/v1/vendors/{vendorId}", ok({k: v for k, v in blank.items() if k != "VendorInsurance"}))
    assert client.get(EntityKind.VENDOR, "502").insurance is None  # type: ignore[union-attr]


def test_get_returns_none_when_gone(client: BuildiumClient, fake: FakeBuildium) -> None:
    fake.route("GET", "/v1/workorders/{workOrderId}", ok(None, status=404))
    assert client.get(EntityKind.WORK_ORDER, "404") is None


def _paged(items: list[dict[str, Any]]) -> Handler:
    def handler(request: requests.PreparedRequest, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        return 200, items[offset : offset + limit], {"X-Total-Count": str(len(items))}

    return handler


@pytest.mark.parametrize(("kind", "name", "_get", "list_template", "model"), KINDS, ids=[k[0].value for k in KINDS])
def test_list_pages_through_everything(
    client: BuildiumClient,
    fake: FakeBuildium,
    kind: EntityKind,
    name: str,
    _get: str,
    list_template: str | None,
    model: type,
) -> None:
    if list_template is None:
        name, list_template = LIST_TEMPLATES[kind]
    base = fixture(name)
    items = [{**copy.deepcopy(base), "Id": base["Id"] + i} for i in range(5)]
    fake.route("GET", list_template, _paged(items))
    client.page_size = 2
    listed = list(client.list(kind))
    assert [e.pms_id for e in listed] == [str(i["Id"]) for i in items]
    assert all(isinstance(e, model) for e in listed)
    assert [(q["offset"], q["limit"], q["orderby"]) for _, _, q, _ in fake.calls] == [
        (["0"], ["2"], ["Id"]),
        (["2"], ["2"], ["Id"]),
        (["4"], ["2"], ["Id"]),
    ]


# ---------------------------------------------------------------------- writes
def new_request(requested_by: str | None = "301") -> NewResidentRequest:
    return NewResidentRequest(
        reference="wo-01J9A",
        property_pms_id="101",
        unit_pms_id="201",
        requested_by_pms_id=requested_by,
        title="Bathroom fan broken",
        description="The fan makes a grinding noise.",
        priority="urgent",
    )


def test_ensure_resident_request_creates_with_the_tenants_lease(client: BuildiumClient, fake: FakeBuildium) -> None:
    fake.route("GET", "/v1/tasks/residentrequests", _paged([]))
    fake.route("GET", "/v1/leases/tenants/{tenantId}", ok(fixture("tenant")))
    fake.route(
        "POST",
        "/v1/tasks/residentrequests",
        lambda r, q: (201, {**fixture("resident_request"), "Id": 9999, "Title": json.loads(r.body)["Title"]}, {}),
    )
    assert client.ensure_resident_request(new_request()) == "9999"
    assert fake.operations() == [
        ("GET", "/v1/tasks/residentrequests"),
        ("GET", "/v1/leases/tenants/{tenantId}"),
        ("POST", "/v1/tasks/residentrequests"),
    ]
    lookup_query = fake.calls[0][2]
    assert lookup_query["unitid"] == ["201"] and lookup_query["tasktitle"] == ["wo-01J9A"]
    body = fake.calls[2][3]
    assert body["Title"] == "[Opslayer wo-01J9A] Bathroom fan broken"
    assert body["UnitAgreementId"] == 401  # the tenant's active lease on unit 201, not the past one
    assert body["RequestedByEntityId"] == 301
    assert (body["TaskStatus"], body["Priority"]) == ("New", "High")


def test_ensure_resident_request_without_tenant_uses_the_units_lease(
    client: BuildiumClient, fake: FakeBuildium
) -> None:
    other_unit = {**fixture("lease"), "Id": 402, "UnitId": 202}
    fake.route("GET", "/v1/tasks/residentrequests", _paged([]))
    fake.route("GET", "/v1/leases", _paged([other_unit, fixture("lease")]))
    fake.route("POST", "/v1/tasks/residentrequests", ok({**fixture("resident_request"), "Id": 9998}, status=201))
    assert client.ensure_resident_request(new_request(requested_by=None)) == "9998"
    query = fake.calls[1][2]
    assert query["propertyids"] == ["101"] and sorted(query["leasestatuses"]) == ["Active", "Future"]
    body = fake.calls[2][3]
    assert (body["UnitAgreementId"], body["RequestedByEntityId"]) == (401, 301)  # the current tenant, not moved out


def test_ensure_resident_request_finds_the_existing_record(client: BuildiumClient, fake: FakeBuildium) -> None:
    existing = {**fixture("resident_request"), "Id": 777, "Title": "[Opslayer wo-01J9A] Bathroom fan broken"}
    decoy = {**fixture("resident_request"), "Id": 776, "Title": "[Opslayer wo-01J9AB] Another"}
    fake.route("GET", "/v1/tasks/residentrequests", _paged([decoy, existing]))
    assert client.ensure_resident_request(new_request()) == "777"
    assert fake.operations() == [("GET", "/v1/tasks/residentrequests")]


def test_ensure_work_order(client: BuildiumClient, fake: FakeBuildium) -> None:
    fake.route("GET", "/v1/workorders", _paged([]))
    fake.route("POST", "/v1/workorders", ok({**fixture("work_order"), "Id": 9901}, status=201))
    order = NewWorkOrder(
        reference="wo-01J9A",
        task_pms_id="801",
        vendor_pms_id="501",
        title="Bathroom fan broken",
        description="Replace the fan motor.",
        priority="urgent",
    )
    assert client.ensure_work_order(order) == "9901"
    assert fake.calls[0][2]["taskids"] == ["801"]
    body = fake.calls[1][3]
    assert body["TaskId"] == 801 and body["VendorId"] == 501 and body["EntryAllowed"] == "Unknown"
    assert body["WorkDetails"].startswith("[Opslayer wo-01J9A] Bathroom fan broken")

    # a retried ensure finds the order it created and sends no second POST
    fake.calls.clear()
    fake.route(
        "GET", "/v1/workorders", _paged([{**fixture("work_order"), "Id": 9901, "WorkDetails": body["WorkDetails"]}])
    )
    assert client.ensure_work_order(order) == "9901"
    assert fake.operations() == [("GET", "/v1/workorders")]


def test_sync_work_order_puts_full_bodies(client: BuildiumClient, fake: FakeBuildium) -> None:
    work_order, task = fixture("work_order"), fixture("resident_request")
    fake.route("GET", "/v1/workorders/{workOrderId}", ok(work_order))
    fake.route("PUT", "/v1/workorders/{workOrderId}", ok(work_order))
    fake.route("GET", "/v1/tasks/residentrequests/{residentRequestTaskId}", ok(task))
    fake.route("PUT", "/v1/tasks/residentrequests/{residentRequestTaskId}", ok(task))
    state = WorkOrderSync(
        status="completed",
        vendor_pms_id="502",
        scheduled_start=datetime(2025, 3, 7, 9, 0, tzinfo=UTC),
        scheduled_end=datetime(2025, 3, 7, 11, 0, tzinfo=UTC),
        notes="Fan motor replaced.",
    )
    client.sync_work_order("901", "801", state)
    assert fake.operations() == [
        ("GET", "/v1/workorders/{workOrderId}"),
        ("PUT", "/v1/workorders/{workOrderId}"),
        ("GET", "/v1/tasks/residentrequests/{residentRequestTaskId}"),
        ("PUT", "/v1/tasks/residentrequests/{residentRequestTaskId}"),
    ]
    wo_body, rr_body = fake.calls[1][3], fake.calls[3][3]
    # carried over from the GET, so the PUT blanks nothing
    assert wo_body["WorkDetails"] == work_order["WorkDetails"]
    assert wo_body["EntryAllowed"] == "Yes" and wo_body["EntryNotes"] == "Key with concierge"
    assert wo_body["EntryContactIds"] == [301]
    assert wo_body["LineItems"] == [{"GlAccountId": 701, "Quantity": 1.0, "Memo": "Trip charge", "UnitPrice": 150.0}]
    assert wo_body["VendorId"] == 502
    assert wo_body["VendorNotes"].startswith("Call before coming.\n\n--- Opslayer ---\n")
    assert "Scheduled: 2025-03-07 09:00-11:00 UTC" in wo_body["VendorNotes"]
    assert rr_body["TaskStatus"] == "Completed" and rr_body["Priority"] == "High"
    assert (rr_body["CategoryId"], rr_body["SubCategoryId"], rr_body["AssignedToUserId"]) == (11, 12, 21)
    assert rr_body["DueDate"] == "2025-03-07"
    assert rr_body["Message"] == "Opslayer: completed. Fan motor replaced."


def test_operations_exercised_cover_the_adapter(spec: dict[str, Any]) -> None:
    """Every operation the adapter can call exists in the spec with that method."""
    used = [
        *[("GET", k[2]) for k in KINDS],
        *[("GET", k[3]) for k in KINDS if k[3]],
        ("GET", "/v1/tasks/residentrequests"),
        ("POST", "/v1/tasks/residentrequests"),
        ("GET", "/v1/tasks/residentrequests/{residentRequestTaskId}"),
        ("PUT", "/v1/tasks/residentrequests/{residentRequestTaskId}"),
        ("POST", "/v1/workorders"),
        ("PUT", "/v1/workorders/{workOrderId}"),
        ("GET", "/v1/bills"),
        ("POST", "/v1/bills"),
        ("GET", "/v1/bills/{billId}/files"),
        ("POST", "/v1/bills/{billId}/files/uploadrequests"),
    ]
    missing = [(m, p) for m, p in used if m.lower() not in spec["paths"].get(p, {})]
    assert missing == []


def test_the_fake_rejects_requests_the_spec_does_not_allow(client: BuildiumClient, fake: FakeBuildium) -> None:
    """Guards the guard: a body missing a required field, or an undeclared query parameter, fails."""
    session = requests.Session()
    session.mount("https://", fake)
    with pytest.raises(Exception, match="UnitAgreementId"):
        session.post(
            BASE + "/v1/tasks/residentrequests",
            json={"Title": "x", "RequestedByEntityId": 1, "TaskStatus": "New", "Priority": "High"},
            headers={"x-buildium-client-id": "client-id", "x-buildium-client-secret": "client-secret"},
        )
    with pytest.raises(AssertionError, match="undeclared query parameters"):
        session.get(
            BASE + "/v1/workorders",
            params={"taskid": 1},
            headers={"x-buildium-client-id": "client-id", "x-buildium-client-secret": "client-secret"},
        )
    assert fake.calls == []


# ---------------------------------------------------------------------- bills
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\r\n%%EOF\n"
TICKET = {
    "BucketUrl": BUCKET,
    "FormData": {  # S3 POST-policy fields; their order matters
        "key": "123456/bills/1001/c0ffee12_INV-778.pdf",
        "acl": "private",
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "AKIAEXAMPLE/20261120/us-east-1/s3/aws4_request",
        "x-amz-date": "20261120T150405Z",
        "policy": "eyJleHBpcmF0aW9uIjoiMjAyNi0xMS0yMFQxNTowOTowNVoifQ==",
        "x-amz-signature": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    },
    "PhysicalFileName": "c0ffee12_INV-778.pdf",
}


def new_bill(**changes: Any) -> NewBill:
    fields: dict[str, Any] = dict(
        reference="inv-01J9B",
        vendor_pms_id="501",
        work_order_pms_id="901",
        invoice_number="INV-778",
        bill_date=date(2026, 11, 20),
        due_date=date(2026, 12, 20),
        memo="Sink repair",
        lines=[
            NewBillLine(gl_account_pms_id="701", amount=Decimal("150.00"), memo="Trip", property_pms_id="101",
                        unit_pms_id="201"),
            NewBillLine(gl_account_pms_id="702", amount=Decimal("85.50"), memo="Parts", property_pms_id="101"),
        ],
        attachment=BillAttachment(filename="INV-778.pdf", content_type="application/pdf", data=PDF),
    )
    return NewBill(**{**fields, **changes})


def created_bill(request: requests.PreparedRequest, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    body = json.loads(request.body or b"{}")
    return 201, {**fixture("bill"), "Memo": body["Memo"], "ReferenceNumber": body["ReferenceNumber"]}, {}


def test_ensure_bill_posts_a_spec_valid_bill_then_uploads_the_file(client: BuildiumClient, fake: FakeBuildium) -> None:
    fake.route("GET", "/v1/bills", _paged([]))
    fake.route("POST", "/v1/bills", created_bill)
    fake.route("GET", "/v1/bills/{billId}/files", _paged([]))
    fake.route("POST", "/v1/bills/{billId}/files/uploadrequests", ok(TICKET, status=201))

    assert client.ensure_bill(new_bill()) == "1001"

    assert fake.operations() == [
        ("GET", "/v1/bills"),
        ("POST", "/v1/bills"),
        ("GET", "/v1/bills/{billId}/files"),
        ("POST", "/v1/bills/{billId}/files/uploadrequests"),
        ("POST", "<bucket>"),
    ]
    lookup = fake.calls[0][2]
    assert (lookup["vendorid"], lookup["referencenumber"]) == (["501"], ["INV-778"])
    assert (lookup["entityid"], lookup["entitytype"]) == (["101"], ["Rental"])
    body = fake.calls[1][3]  # validated against BillPostMessage by the adapter above
    assert body == {
        "Date": "2026-11-20",
        "DueDate": "2026-12-20",
        "VendorId": 501,
        "WorkOrderId": 901,
        "ReferenceNumber": "INV-778",
        "Memo": "Sink repair [Opslayer inv-01J9B]",
        "Lines": [
            {"AccountingEntity": {"Id": 101, "AccountingEntityType": "Rental", "UnitId": 201}, "GlAccountId": 701,
             "Amount": 150.0, "Memo": "Trip"},
            {"AccountingEntity": {"Id": 101, "AccountingEntityType": "Rental"}, "GlAccountId": 702, "Amount": 85.5,
             "Memo": "Parts"},
        ],
    }
    assert fake.calls[3][3] == {"FileName": "INV-778.pdf"}
    (upload,) = fake.uploads
    assert [name for name, _ in upload] == [*TICKET["FormData"], "file"]  # ticket order, file last
    assert [value.decode() for _, value in upload[:-1]] == list(TICKET["FormData"].values())
    assert upload[-1][1] == PDF


def test_ensure_bill_retry_finds_the_bill_and_its_file(client: BuildiumClient, fake: FakeBuildium) -> None:
    decoy = {**fixture("bill"), "Id": 1000, "Memo": "Sink repair [Opslayer inv-01J9BX]", "ReferenceNumber": "INV-7780"}
    ours = {**fixture("bill"), "Memo": "Sink repair [Opslayer inv-01J9B]"}
    fake.route("GET", "/v1/bills", _paged([decoy, ours]))
    fake.route("GET", "/v1/bills/{billId}/files", _paged([fixture("bill_file")]))
    assert client.ensure_bill(new_bill()) == "1001"
    assert fake.operations() == [("GET", "/v1/bills"), ("GET", "/v1/bills/{billId}/files")]
    assert fake.uploads == []


def test_ensure_bill_without_attachment_or_work_order(client: BuildiumClient, fake: FakeBuildium) -> None:
    fake.route("GET", "/v1/bills", _paged([]))
    fake.route("POST", "/v1/bills", created_bill)
    assert client.ensure_bill(new_bill(attachment=None, work_order_pms_id=None, invoice_number="")) == "1001"
    assert fake.operations() == [("GET", "/v1/bills"), ("POST", "/v1/bills")]
    assert "referencenumber" not in fake.calls[0][2]
    body = fake.calls[1][3]
    assert "WorkOrderId" not in body and body["ReferenceNumber"] is None


def test_bill_line_with_only_a_unit_takes_the_units_property(client: BuildiumClient, fake: FakeBuildium) -> None:
    fake.route("GET", "/v1/rentals/units/{unitId}", ok(fixture("rental_unit")))
    fake.route("GET", "/v1/bills", _paged([]))
    fake.route("POST", "/v1/bills", created_bill)
    line = NewBillLine(gl_account_pms_id="701", amount=Decimal("42.00"), memo="Callout", unit_pms_id="201")
    client.ensure_bill(new_bill(lines=[line], attachment=None))
    assert fake.calls[2][3]["Lines"][0]["AccountingEntity"] == {
        "Id": fixture("rental_unit")["PropertyId"], "AccountingEntityType": "Rental", "UnitId": 201}


def test_hand_entered_bill_for_the_same_invoice_is_refused(client: BuildiumClient, fake: FakeBuildium) -> None:
    fake.route("GET", "/v1/bills", _paged([{**fixture("bill"), "Memo": "Entered by hand"}]))
    with pytest.raises(BuildiumRejected, match="vendor_invoice_exists:1001"):
        client.ensure_bill(new_bill())
    assert fake.operations() == [("GET", "/v1/bills")]


def test_the_upload_ticket_and_bill_file_match_the_spec(openapi: OpenAPI) -> None:
    """The ticket this module serves is a valid FileUploadTicketMessage (the fixture test covers BillFileMessage)."""
    request = requests.Request("POST", BASE + "/v1/bills/1/files/uploadrequests", json={"FileName": "a.pdf"}).prepare()
    response = requests.Response()
    response.status_code = 201
    response._content = json.dumps(TICKET).encode()
    response.headers["Content-Type"] = "application/json"
    openapi.validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))
