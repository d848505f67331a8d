"""The PMS port's contract (shared/pms/port.py), proven on the Buildium adapter.

The tests speak only the port: `PmsPort`, `WebhookVerifier`, the Pms* models and the port's errors. What is
Buildium here is the harness: a stateful stand-in for Buildium's API under `responses` (records shaped like the
spec-validated fixtures in tests/contract/fixtures), and deliveries signed the way Buildium signs them. Another
adapter - or the in-memory PMS - proves itself by passing the same tests with a harness of its own.
"""

from __future__ import annotations

import hmac
import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from shared.config import Settings, timeouts
from shared.pms.models import (
    BillAttachment,
    EntityKind,
    NewBill,
    NewBillLine,
    NewResidentRequest,
    NewWorkOrder,
    Operation,
    PmsBill,
    PmsEvent,
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
from shared.pms.port import (
    REJECTION_REASONS,
    PmsError,
    PmsPort,
    PmsRejected,
    UnitCannotHoldRequests,
    WebhookRejected,
    WebhookVerifier,
)
from shared.pms.providers import PROVIDERS, PmsConnection, UnknownPmsProvider, provider

FIXTURES = Path(__file__).resolve().parents[1] / "contract" / "fixtures"
MODELS: dict[EntityKind, type] = {
    EntityKind.PROPERTY: PmsProperty, EntityKind.UNIT: PmsUnit, EntityKind.TENANT: PmsTenant,
    EntityKind.LEASE: PmsLease, EntityKind.VENDOR: PmsVendor, EntityKind.VENDOR_CATEGORY: PmsVendorCategory,
    EntityKind.GL_ACCOUNT: PmsGLAccount, EntityKind.TASK: PmsTask, EntityKind.WORK_ORDER: PmsWorkOrder,
    EntityKind.BILL: PmsBill,
}
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"
NOW = 1_700_000_000.0


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


# ====================================================================== the Buildium harness
BASE = "https://buildium.example.test"
BUCKET = "https://files.example.test/upload"
API_KEY = json.dumps({"client_id": "client-id", "client_secret": "client-secret"})
SIGNING_KEY = "whsec_contract"
ACCOUNT = "123456"

# Collection path -> (store, fixture); tasks are one store served under two paths, as in Buildium.
COLLECTIONS: dict[str, tuple[str, str]] = {
    "rentals": ("property", "rental"), "rentals/units": ("unit", "rental_unit"),
    "leases/tenants": ("tenant", "tenant"), "leases": ("lease", "lease"), "vendors": ("vendor", "vendor"),
    "vendors/categories": ("vendor_category", "vendor_category"), "glaccounts": ("gl_account", "gl_account"),
    "tasks": ("task", "task"), "tasks/residentrequests": ("task", "resident_request"),
    "workorders": ("work_order", "work_order"), "bills": ("bill", "bill"),
}
# The Buildium entity name of each kind in webhook event names (tenants are lease tenants).
EVENT_ENTITIES: dict[EntityKind, tuple[str, str]] = {
    EntityKind.PROPERTY: ("Rental", "PropertyId"), EntityKind.UNIT: ("RentalUnit", "UnitId"),
    EntityKind.TENANT: ("LeaseTenant", "TenantId"), EntityKind.LEASE: ("Lease", "LeaseId"),
    EntityKind.VENDOR: ("Vendor", "VendorId"), EntityKind.VENDOR_CATEGORY: ("VendorCategory", "VendorCategoryId"),
    EntityKind.GL_ACCOUNT: ("GLAccount", "GLAccountId"), EntityKind.TASK: ("Task", "TaskId"),
    EntityKind.WORK_ORDER: ("WorkOrder", "WorkOrderId"), EntityKind.BILL: ("Bill", "BillId"),
}


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class BuildiumHarness:
    """Buildium's API in memory behind `responses`: GET by id, filtered and paged lists, POST and PUT that store
    what they are sent, bill files by upload ticket. `writes` counts the calls that change something."""

    mocked: responses.RequestsMock
    name: str = "buildium"
    store: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    writes: int = 0
    down: bool = False
    _next_id: int = 70_000

    def __post_init__(self) -> None:
        for collection, (kind, name) in COLLECTIONS.items():
            if collection != "tasks/residentrequests":
                record = fixture(name)
                self.store.setdefault(kind, {})[record["Id"]] = record
        self.store["bill_file"] = {}
        everything = re.compile(re.escape(BASE) + r"/v1/.*")
        for method in ("GET", "POST", "PUT"):
            self.mocked.add_callback(method, everything, callback=self._answer)
        self.mocked.add_callback("POST", BUCKET, callback=self._upload)

    # -------------------------------------------------------------- what the tests use
    def port(self) -> PmsPort:
        """The adapter as the registry builds it, with retries that do not sleep."""
        port = provider(self.name).client(PmsConnection(BASE, API_KEY))
        port._sleep = lambda _seconds: None  # type: ignore[attr-defined]
        return port

    def verifier(self, account_id: str = "") -> WebhookVerifier:
        return provider(self.name).webhook_verifier(SIGNING_KEY, account_id)

    def existing(self, kind: EntityKind) -> str:
        return str(next(iter(self.store[kind.value])))

    def missing(self, kind: EntityKind) -> str:
        return "424242"

    def add_vendors(self, count: int) -> set[str]:
        added = {self._add("vendor", {**fixture("vendor")}) for _ in range(count)}
        return {str(i) for i in added} | {self.existing(EntityKind.VENDOR)}

    def vacant_unit(self) -> tuple[str, str]:
        """(property id, unit id) of a unit with no lease."""
        unit = self._add("unit", {**fixture("rental_unit"), "UnitNumber": "9Z"})
        return "101", str(unit)

    def occupied_unit(self) -> tuple[str, str, str]:
        """(property id, unit id, tenant id) of a leased unit."""
        return "101", "201", "301"

    def vendor(self) -> str:
        return "501"

    def gl_account(self) -> str:
        return "701"

    def files_of(self, bill_id: str) -> list[str]:
        return [f["Title"] for f in self.store["bill_file"].values() if f["BillId"] == int(bill_id)]

    def delivery(self, kind: EntityKind, operation: Operation, pms_id: str, *, account: str = ACCOUNT,
                 at: float = NOW, key: str = SIGNING_KEY, extra: dict[str, Any] | None = None) -> Delivery:
        entity, id_field = EVENT_ENTITIES[kind]
        event = {"EventName": f"{entity}.{operation.value.title()}", "EventDateTime": "2023-11-14T22:13:20.1234567Z",
                 "AccountId": int(account), id_field: int(pms_id), **(extra or {})}
        return self._signed(json.dumps(event, separators=(",", ":")).encode(), at, key)

    def unfollowed_delivery(self) -> Delivery:
        """A genuine event of a kind Opslayer does not follow."""
        event = {"EventName": "Bill.Payment.Created", "EventDateTime": "2023-11-14T22:13:20Z",
                 "AccountId": int(ACCOUNT), "BillId": 1001, "PaymentId": 5}
        return self._signed(json.dumps(event, separators=(",", ":")).encode(), NOW, SIGNING_KEY)

    def rejected_delivery(self, reason: str) -> tuple[Delivery, str]:
        """A delivery the verifier must refuse for `reason`, and the account the verifier is configured with."""
        event = (EntityKind.TASK, Operation.CREATED, "801")
        if reason == "missing_signature":
            return Delivery({}, self.delivery(*event).body), ""
        if reason == "bad_signature":
            return self.delivery(*event, key="not-the-signing-key"), ""
        if reason == "stale_timestamp":
            return self.delivery(*event, at=NOW - 3600), ""
        if reason == "future_timestamp":
            return self.delivery(*event, at=NOW + 3600), ""
        if reason == "wrong_account":
            return self.delivery(*event, account="999999"), ACCOUNT
        if reason == "malformed_body":
            return self._signed(b"EventName=Task.Created", NOW, SIGNING_KEY), ""
        raise AssertionError(f"no delivery for {reason}")

    # -------------------------------------------------------------- Buildium's side
    @staticmethod
    def _signed(body: bytes, at: float, key: str) -> Delivery:
        from shared.pms.buildium_webhooks import sign

        stamp = str(int(at))
        return Delivery({"buildium-webhook-timestamp": stamp, "buildium-webhook-signature": sign(key, stamp, body)},
                        body)

    def _add(self, kind: str, record: dict[str, Any]) -> int:
        self._next_id += 1
        record["Id"] = self._next_id
        self.store.setdefault(kind, {})[self._next_id] = record
        return self._next_id

    def _answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if self.down:
            raise requests.ConnectionError("connection refused")
        url = urlsplit(request.url or "")
        path, query = url.path.removeprefix("/v1/"), parse_qs(url.query)
        body = json.loads(request.body) if request.body else {}
        if request.method != "GET":
            self.writes += 1
        if files := re.fullmatch(r"bills/(\d+)/files(/uploadrequests)?", path):
            return self._files(int(files[1]), bool(files[2]), body)
        if path in COLLECTIONS:
            kind = COLLECTIONS[path][0]
            return self._list(kind, query) if request.method == "GET" else self._create(kind, body)
        collection, _, pms_id = path.rpartition("/")
        record = self.store.get(COLLECTIONS.get(collection, ("", ""))[0], {}).get(int(pms_id))
        if record is None:
            return 404, {}, json.dumps({"UserMessage": "Not found"})
        if request.method == "PUT":
            record.update(body)
        return 200, {}, json.dumps(record)

    def _list(self, kind: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], str]:
        def wanted(r: dict[str, Any]) -> bool:
            checks = {
                "unitid": lambda v: str(r.get("UnitId")) == v,
                "tasktitle": lambda v: v in (r.get("Title") or ""),
                "taskids": lambda v: str((r.get("Task") or {}).get("Id")) == v,
                "vendorid": lambda v: str(r.get("VendorId")) == v,
                "referencenumber": lambda v: v.lower() in (r.get("ReferenceNumber") or "").lower(),
                "propertyids": lambda v: str(r.get("PropertyId")) == v,
                "leasestatuses": lambda v: r.get("LeaseStatus") in query["leasestatuses"],
            }
            return all(checks[name](values[0]) for name, values in query.items() if name in checks)

        hits = [r for r in self.store[kind].values() if wanted(r)]
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        return 200, {"X-Total-Count": str(len(hits))}, json.dumps(hits[offset:offset + limit])

    def _create(self, kind: str, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        if kind == "task":
            lease = self.store["lease"][body["UnitAgreementId"]]
            record = {**fixture("resident_request"), **body, "UnitId": lease["UnitId"]}
        elif kind == "work_order":
            record = {**fixture("work_order"), **body, "Task": {**fixture("work_order")["Task"], "Id": body["TaskId"]}}
        else:
            record = {**fixture("bill"), **body}
        self._add(kind, record)
        return 201, {}, json.dumps(record)

    def _files(self, bill_id: int, upload: bool, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        if bill_id not in self.store["bill"]:
            return 404, {}, ""
        if not upload:
            files = [f for f in self.store["bill_file"].values() if f["BillId"] == bill_id]
            return 200, {"X-Total-Count": str(len(files))}, json.dumps(files)
        form = {"key": f"bills/{bill_id}/{body['FileName']}", "policy": "cG9saWN5"}
        return 201, {}, json.dumps({"BucketUrl": BUCKET, "FormData": form, "PhysicalFileName": "p1"})

    def _upload(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        raw = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        key = raw.split(b'name="key"\r\n\r\n')[1].split(b"\r\n")[0].decode()
        _, bill_id, title = key.split("/", 2)
        self._add("bill_file", {"BillId": int(bill_id), "Title": title})
        return 204, {}, ""


HARNESSES: dict[str, Callable[[responses.RequestsMock], BuildiumHarness]] = {"buildium": BuildiumHarness}


@pytest.fixture(params=sorted(HARNESSES))
def pms(request: pytest.FixtureRequest) -> Iterator[BuildiumHarness]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield HARNESSES[request.param](mocked)


# ====================================================================== the contract
def _methods(protocol: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(protocol).items()
            if callable(member) and not name.startswith("_")}


def test_every_provider_has_a_harness_here() -> None:
    assert set(HARNESSES) == set(PROVIDERS)


@pytest.mark.parametrize("protocol", [PmsPort, WebhookVerifier], ids=lambda p: p.__name__)
def test_the_adapter_implements_every_method_of_the_port(pms: BuildiumHarness, protocol: type) -> None:
    adapter = pms.port() if protocol is PmsPort else pms.verifier()
    for name, wanted in _methods(protocol).items():
        got = inspect.signature(getattr(adapter, name))
        assert list(got.parameters) == [p for p in wanted.parameters if p != "self"], name
        assert protocol.__dict__[name].__doc__, f"{protocol.__name__}.{name} must document its contract"
    if protocol is PmsPort:
        assert pms.port().name == pms.name  # the provider name the PmsProvider setting uses


# ---------------------------------------------------------------------- reads
@pytest.mark.parametrize("kind", list(EntityKind))
def test_get_returns_the_model_of_its_kind(pms: BuildiumHarness, kind: EntityKind) -> None:
    pms_id = pms.existing(kind)
    entity = pms.port().get(kind, pms_id)
    assert isinstance(entity, MODELS[kind]) and entity.pms_id == pms_id


@pytest.mark.parametrize("kind", list(EntityKind))
def test_get_of_an_entity_the_pms_no_longer_has_is_none(pms: BuildiumHarness, kind: EntityKind) -> None:
    assert pms.port().get(kind, pms.missing(kind)) is None


def test_list_yields_every_entity_of_the_kind_across_pages(pms: BuildiumHarness) -> None:
    ids = pms.add_vendors(4)
    port = pms.port()
    port.page_size = 2  # type: ignore[attr-defined]  # several pages, as a large portfolio has
    listed = list(port.list(EntityKind.VENDOR))
    assert all(isinstance(v, PmsVendor) for v in listed)
    assert sorted(v.pms_id for v in listed) == sorted(ids)


# ---------------------------------------------------------------------- writes are idempotent
def resident_request(reference: str, property_id: str, unit_id: str, tenant_id: str | None) -> NewResidentRequest:
    return NewResidentRequest(reference=reference, property_pms_id=property_id, unit_pms_id=unit_id,
                              requested_by_pms_id=tenant_id, title="Kitchen sink leaking",
                              description="Water under the sink.", priority="urgent")


def test_ensure_resident_request_creates_once_per_reference(pms: BuildiumHarness) -> None:
    port, (prop, unit, tenant) = pms.port(), pms.occupied_unit()
    first = port.ensure_resident_request(resident_request("wo-01JPORT1", prop, unit, tenant))
    writes = pms.writes
    assert port.ensure_resident_request(resident_request("wo-01JPORT1", prop, unit, tenant)) == first
    assert pms.writes == writes == 1  # the retry found the request
    other = port.ensure_resident_request(resident_request("wo-01JPORT2", prop, unit, tenant))
    assert other != first
    task = port.get(EntityKind.TASK, first)
    assert isinstance(task, PmsTask) and task.unit_pms_id == unit and "wo-01JPORT1" in task.title


def test_a_unit_that_cannot_hold_requests_is_a_rejection_not_an_outage(pms: BuildiumHarness) -> None:
    prop, unit = pms.vacant_unit()
    with pytest.raises(UnitCannotHoldRequests) as caught:
        pms.port().ensure_resident_request(resident_request("wo-01JVACANT", prop, unit, None))
    assert isinstance(caught.value, PmsRejected) and pms.writes == 0


def test_ensure_work_order_creates_once_per_reference(pms: BuildiumHarness) -> None:
    port, (prop, unit, tenant) = pms.port(), pms.occupied_unit()
    task = port.ensure_resident_request(resident_request("wo-01JPORT3", prop, unit, tenant))
    order = NewWorkOrder(reference="wo-01JPORT3", task_pms_id=task, vendor_pms_id=pms.vendor(),
                         title="Plumbing: sink", description="Water under the sink.", priority="urgent")
    first = port.ensure_work_order(order)
    writes = pms.writes
    assert port.ensure_work_order(order) == first and pms.writes == writes
    read = port.get(EntityKind.WORK_ORDER, first)
    assert isinstance(read, PmsWorkOrder) and read.task_pms_id == task


def test_sync_brings_the_state_once_and_then_writes_nothing(pms: BuildiumHarness) -> None:
    port, (prop, unit, tenant) = pms.port(), pms.occupied_unit()
    task = port.ensure_resident_request(resident_request("wo-01JPORT4", prop, unit, tenant))
    order = port.ensure_work_order(NewWorkOrder(reference="wo-01JPORT4", task_pms_id=task, vendor_pms_id=pms.vendor(),
                                                title="t", description="d", priority="routine"))
    scheduled = WorkOrderSync(status="scheduled", vendor_pms_id=pms.vendor(),
                              scheduled_start=datetime(2026, 12, 4, 14, tzinfo=UTC),
                              scheduled_end=datetime(2026, 12, 4, 16, tzinfo=UTC))
    before = pms.writes
    port.sync_work_order(order, task, scheduled)
    assert pms.writes > before
    after_first = pms.writes
    port.sync_work_order(order, task, scheduled)
    assert pms.writes == after_first  # the same state again changes nothing
    before_task = port.get(EntityKind.TASK, task)
    port.sync_work_order(order, task, scheduled.model_copy(update={"status": "completed"}))
    assert port.get(EntityKind.TASK, task).status != before_task.status  # a new state reaches the request


def test_sync_before_a_work_order_exists_updates_the_request(pms: BuildiumHarness) -> None:
    port, (prop, unit, tenant) = pms.port(), pms.occupied_unit()
    task = port.ensure_resident_request(resident_request("wo-01JPORT5", prop, unit, tenant))
    before = port.get(EntityKind.TASK, task)
    port.sync_work_order(None, task, WorkOrderSync(status="cancelled"))
    assert port.get(EntityKind.TASK, task).status != before.status


def test_sync_of_records_deleted_in_the_pms_is_skipped(pms: BuildiumHarness) -> None:
    pms.port().sync_work_order(pms.missing(EntityKind.WORK_ORDER), pms.missing(EntityKind.TASK),
                               WorkOrderSync(status="completed"))
    assert pms.writes == 0


def bill(pms: BuildiumHarness, reference: str, attachment: BillAttachment | None = None) -> NewBill:
    prop, unit, _ = pms.occupied_unit()
    return NewBill(reference=reference, vendor_pms_id=pms.vendor(), work_order_pms_id=None, invoice_number="INV-9",
                   bill_date=date(2026, 11, 20), due_date=date(2026, 12, 20), memo="Kitchen sink",
                   lines=[NewBillLine(gl_account_pms_id=pms.gl_account(), amount=Decimal("188.50"), memo="Labour",
                                      property_pms_id=prop, unit_pms_id=unit)],
                   attachment=attachment)


def test_ensure_bill_enters_the_bill_and_its_file_once(pms: BuildiumHarness) -> None:
    port = pms.port()
    invoice = bill(pms, "inv-01JPORT", BillAttachment(filename="INV-9.pdf", content_type="application/pdf", data=PDF))
    first = port.ensure_bill(invoice)
    writes = pms.writes
    assert port.ensure_bill(invoice) == first and pms.writes == writes
    assert pms.files_of(first) == ["INV-9.pdf"]
    read = port.get(EntityKind.BILL, first)
    assert isinstance(read, PmsBill) and read.opslayer_reference == "inv-01JPORT"  # recognised as our own write


def test_a_bill_that_can_never_be_entered_is_rejected_before_anything_is_written(pms: BuildiumHarness) -> None:
    not_a_pdf = BillAttachment(filename="INV-9.pdf", content_type="application/pdf", data=b"MZ\x90\x00 not a pdf")
    with pytest.raises(PmsRejected):
        pms.port().ensure_bill(bill(pms, "inv-01JBAD", not_a_pdf))
    assert pms.writes == 0


# ---------------------------------------------------------------------- failures are the port's errors
CALLS: dict[str, Callable[[PmsPort, BuildiumHarness], object]] = {
    "get": lambda port, pms: port.get(EntityKind.VENDOR, pms.vendor()),
    "list": lambda port, pms: list(port.list(EntityKind.VENDOR)),
    "ensure_resident_request": lambda port, pms: port.ensure_resident_request(
        resident_request("wo-01JDOWN", *pms.occupied_unit())),
    "ensure_work_order": lambda port, pms: port.ensure_work_order(NewWorkOrder(
        reference="wo-01JDOWN", task_pms_id=pms.existing(EntityKind.TASK), vendor_pms_id=pms.vendor(), title="t",
        description="d", priority="routine")),
    "sync_work_order": lambda port, pms: port.sync_work_order(
        pms.existing(EntityKind.WORK_ORDER), pms.existing(EntityKind.TASK), WorkOrderSync(status="accepted")),
    "ensure_bill": lambda port, pms: port.ensure_bill(bill(pms, "inv-01JDOWN")),
}


def test_every_port_method_is_exercised_by_the_outage_test() -> None:
    assert set(CALLS) == set(_methods(PmsPort))


@pytest.mark.parametrize("call", sorted(CALLS))
def test_an_unreachable_pms_surfaces_only_as_pms_error(pms: BuildiumHarness, call: str) -> None:
    pms.down = True
    with pytest.raises(PmsError) as caught:
        CALLS[call](pms.port(), pms)
    assert not isinstance(caught.value, PmsRejected)  # an outage is retried later, not sent to a person


def test_unusable_credentials_are_a_pms_error_that_does_not_echo_them() -> None:
    with pytest.raises(PmsError) as caught:
        provider("buildium").client(PmsConnection(BASE, '{"client_id": "id-only", "secret": "hunter2"}'))
    assert "hunter2" not in str(caught.value)


# ---------------------------------------------------------------------- webhooks
@pytest.mark.parametrize("kind", list(EntityKind))
@pytest.mark.parametrize("operation", list(Operation))
def test_a_genuine_delivery_parses_into_a_pms_event(pms: BuildiumHarness, kind: EntityKind,
                                                    operation: Operation) -> None:
    delivery = pms.delivery(kind, operation, "4242")
    event = pms.verifier(ACCOUNT).verify(delivery.headers, delivery.body, now=NOW)
    assert isinstance(event, PmsEvent)
    assert (event.pms, event.kind, event.operation, event.pms_id, event.account_id) == (
        pms.name, kind, operation, "4242", ACCOUNT)
    assert event.occurred_at.tzinfo is not None


def test_a_delivery_names_the_parents_it_carries(pms: BuildiumHarness) -> None:
    delivery = pms.delivery(EntityKind.UNIT, Operation.UPDATED, "201", extra={"PropertyId": 101})
    event = pms.verifier().verify(delivery.headers, delivery.body, now=NOW)
    assert event is not None and event.parent_ids == {"property": "101"}


def test_a_genuine_event_opslayer_does_not_follow_is_none(pms: BuildiumHarness) -> None:
    delivery = pms.unfollowed_delivery()
    assert pms.verifier().verify(delivery.headers, delivery.body, now=NOW) is None


@pytest.mark.parametrize("reason", REJECTION_REASONS)
def test_every_rejection_reason(pms: BuildiumHarness, reason: str) -> None:
    delivery, account = pms.rejected_delivery(reason)
    with pytest.raises(WebhookRejected) as caught:
        pms.verifier(account).verify(delivery.headers, delivery.body, now=NOW)
    assert caught.value.reason == reason


def test_the_signature_is_compared_in_constant_time(pms: BuildiumHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    forged, _ = pms.rejected_delivery("bad_signature")
    with pytest.raises(WebhookRejected):
        pms.verifier().verify(forged.headers, forged.body, now=NOW)
    assert compared  # the forged signature was refused by hmac.compare_digest, not by ==
    genuine = pms.delivery(EntityKind.TASK, Operation.CREATED, "801")
    compared.clear()
    assert pms.verifier().verify(genuine.headers, genuine.body, now=NOW) is not None and compared


def test_rejection_reasons_are_the_ports_vocabulary() -> None:
    with pytest.raises(ValueError, match="unknown webhook rejection reason"):
        WebhookRejected("nope")


# ====================================================================== choosing the adapter
def test_the_registry_builds_the_adapter_with_its_production_default_url() -> None:
    port = provider("Buildium").client(PmsConnection("", API_KEY))
    assert port.name == "buildium" and "api.buildium.com" in repr(port)


def test_an_unknown_provider_fails_naming_the_known_ones() -> None:
    with pytest.raises(UnknownPmsProvider, match="buildium"):
        provider("appfolio")


def test_services_refuse_an_unknown_provider_at_init() -> None:
    from shared.services import container

    with pytest.raises(UnknownPmsProvider, match="'yardi'"):
        container._build(Settings(pms_provider="yardi", timeouts=timeouts(None)))


def test_settings_read_the_pms_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.config import settings

    for name, value in {"PMS_PROVIDER": "buildium", "PMS_BASE_URL": "https://sandbox.example.test",
                        "PMS_API_SECRET_ARN": "arn:api", "PMS_WEBHOOK_SECRET_ARN": "arn:hook",
                        "PMS_ACCOUNT_ID": "123456"}.items():
        monkeypatch.setenv(name, value)
    cfg = settings()
    assert (cfg.pms_provider, cfg.pms_base_url, cfg.pms_api_secret_arn, cfg.pms_webhook_secret_arn,
            cfg.pms_account_id) == ("buildium", "https://sandbox.example.test", "arn:api", "arn:hook", "123456")


class Secrets:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, arn: str) -> str:
        return self.values[arn]


class Queue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def send(self, url: str, body: str, attributes: dict[str, str]) -> None:
        self.sent.append((url, body, attributes))


def webhook_services(account: str = ACCOUNT) -> Any:
    from shared.services.container import Services

    cfg = Settings(pms_webhook_secret_arn="arn:hook", pms_account_id=account, pms_inbound_queue_url="queue",
                   timeouts=timeouts(None))
    return Services(settings=cfg, repo=None, events=None, workflow=None, messenger=None,  # type: ignore[arg-type]
                    secrets=Secrets({"arn:hook": SIGNING_KEY}), queues=Queue())  # type: ignore[arg-type]


def test_the_webhook_use_case_verifies_with_the_configured_provider_and_queues_the_event(
        pms: BuildiumHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.services.pms_sync import receive_webhook

    monkeypatch.setattr("time.time", lambda: NOW)
    svc = webhook_services()
    delivery = pms.delivery(EntityKind.TASK, Operation.CREATED, "801")
    assert receive_webhook(svc, delivery.headers, delivery.body) == "queued"
    (url, body, attributes), = svc.queues.sent
    event = PmsEvent.model_validate_json(body)
    assert (url, event.pms, event.kind, event.pms_id, attributes) == (
        "queue", pms.name, EntityKind.TASK, "801", {"event_name": event.name})
    unfollowed = pms.unfollowed_delivery()
    assert receive_webhook(svc, unfollowed.headers, unfollowed.body) == "ignored" and len(svc.queues.sent) == 1


@pytest.mark.parametrize("reason", REJECTION_REASONS)
def test_the_webhook_use_case_answers_a_rejection_with_4xx_and_queues_nothing(
        pms: BuildiumHarness, monkeypatch: pytest.MonkeyPatch, reason: str) -> None:
    from shared.domain.errors import MalformedRequest, Unauthorized
    from shared.services.pms_sync import receive_webhook

    monkeypatch.setattr("time.time", lambda: NOW)
    delivery, account = pms.rejected_delivery(reason)
    svc = webhook_services(account)
    with pytest.raises(MalformedRequest if reason == "malformed_body" else Unauthorized):  # 400, else 401
        receive_webhook(svc, delivery.headers, delivery.body)
    assert svc.queues.sent == []


def test_the_template_offers_exactly_the_registered_providers_to_every_function_that_talks_to_the_pms() -> None:
    from infra.localcloud.template import load_template

    template = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
    parameter = template["Parameters"]["PmsProvider"]
    assert parameter["AllowedValues"] == sorted(PROVIDERS) and parameter["Default"] == "buildium"
    talking = 0
    for name, resource in template["Resources"].items():
        env = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        if {"PMS_API_SECRET_ARN", "PMS_WEBHOOK_SECRET_ARN"} & set(env):
            assert env.get("PMS_PROVIDER") == {"Ref": "PmsProvider"}, name
            talking += 1
        assert not [key for key in env if key.startswith("BUILDIUM_")], name  # one way: the neutral PMS_* names
    assert talking == 4  # the API (webhooks), the PMS sync, the PMS writer and invoicing (bills)


# ====================================================================== the use cases see only the port
class WriterRepo:
    """What `sync_out` reads and records, in memory: one work order on one unit."""

    def __init__(self, unit_pms_id: str, tenant_pms_id: str | None) -> None:
        from shared.domain.directory import Contact, Property, Unit
        from shared.domain.workorder import WorkOrder

        now = datetime(2026, 12, 3, 12, tzinfo=UTC)
        self.work_order = WorkOrder(id="wo-01JWRITER", property_id="prop-b101", unit_id="unit-b9", priority="urgent",
                                    tenant=Contact(name="Ana"), description="Kitchen sink leaking", created_at=now,
                                    updated_at=now)
        self.unit = Unit(id="unit-b9", pms_id=unit_pms_id, tenant_pms_id=tenant_pms_id, property_id="prop-b101",
                         label="9")
        self.property = Property(id="prop-b101", pms_id="101", name="Harbor Lofts", address="1 Harbor St",
                                 service_area="north")
        self.recorded: list[tuple[str, str | None, str | None, int]] = []

    def get_work_order(self, wo_id: str) -> Any:
        return self.work_order

    def pms_state(self, wo_id: str) -> dict[str, Any]:
        return {}

    def get_unit(self, unit_id: str) -> Any:
        return self.unit

    def get_property(self, property_id: str) -> Any:
        return self.property

    def put_pms_state(self, wo_id: str, task_id: str | None, order_id: str | None, version: int) -> None:
        self.recorded.append((wo_id, task_id, order_id, version))


def writer_services(repo: WriterRepo) -> Any:
    from shared.services.container import Services

    return Services(settings=Settings(timeouts=timeouts(None)), repo=repo, events=None,  # type: ignore[arg-type]
                    workflow=None, messenger=None, secrets=None)  # type: ignore[arg-type]


def test_the_writer_logs_a_work_order_in_the_pms_through_the_port(pms: BuildiumHarness) -> None:
    from shared.services.pms_writer import sync_out

    _, unit, tenant = pms.occupied_unit()
    repo = WriterRepo(unit, tenant)
    assert sync_out(writer_services(repo), pms.port(), repo.work_order.id) == "synced"
    (wo_id, task_id, order_id, _), = repo.recorded
    assert wo_id == repo.work_order.id and task_id and order_id is None  # no vendor yet: no PMS work order
    assert isinstance(pms.port().get(EntityKind.TASK, task_id), PmsTask)


def test_the_writer_keeps_a_work_order_the_pms_cannot_hold_in_opslayer(pms: BuildiumHarness) -> None:
    from shared.services.pms_writer import sync_out

    _, unit = pms.vacant_unit()
    repo = WriterRepo(unit, None)
    assert sync_out(writer_services(repo), pms.port(), repo.work_order.id) == "no_lease"
    assert repo.recorded == [] and pms.writes == 0


def test_the_writer_lets_an_outage_fail_the_message_for_a_retry(pms: BuildiumHarness) -> None:
    from shared.services.pms_writer import sync_out

    _, unit, tenant = pms.occupied_unit()
    repo = WriterRepo(unit, tenant)
    pms.down = True
    with pytest.raises(PmsError):
        sync_out(writer_services(repo), pms.port(), repo.work_order.id)
    assert repo.recorded == []
