"""One contract for the PMS port: the Buildium client on the fake Buildium (real HTTP on 127.0.0.1, the demo
account) and the in-memory twin (tests/fakes), seeded with what the client lists from that same account."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from infra.fake_buildium import FakeBuildium
from shared.pms.buildium import BuildiumClient
from shared.pms.models import (
    EntityKind,
    NewBill,
    NewBillLine,
    NewResidentRequest,
    NewWorkOrder,
    PmsTask,
    PmsWorkOrder,
    WorkOrderSync,
)
from shared.pms.port import PmsPort
from tests.fakes import InMemoryPms

_refs = itertools.count(1)


@pytest.fixture(scope="module")
def buildium() -> Iterator[tuple[FakeBuildium, BuildiumClient]]:
    """The demo account, shared by the module's tests: each writes under its own new references."""
    with FakeBuildium.from_demo() as fake:
        yield fake, BuildiumClient(fake.url, fake.client_id, fake.client_secret, sleep=lambda seconds: None)


@pytest.fixture(params=["buildium", "memory"])
def pms(request: pytest.FixtureRequest, buildium: tuple[FakeBuildium, BuildiumClient]) -> PmsPort:
    client = buildium[1]
    return client if request.param == "buildium" else InMemoryPms.copy_of(client)


@pytest.fixture
def ids(buildium: tuple[FakeBuildium, BuildiumClient]) -> dict[str, dict[str, Any]]:
    """Demo key -> Buildium id, per kind ("unit" -> {"unit-maple-1a": 1001, ...})."""
    return buildium[0].ids


def reference() -> str:
    return f"wo-c0ffee{next(_refs):06x}"  # shaped like a work-order id (the sync recognises those)


def resident_request(ids: dict[str, dict[str, Any]], ref: str) -> NewResidentRequest:
    return NewResidentRequest(reference=ref, property_pms_id=str(ids["property"]["prop-maple"]),
                              unit_pms_id=str(ids["unit"]["unit-maple-1a"]), title="Kitchen sink leaking",
                              description="Under the sink, since this morning", priority="urgent")


def test_buildium_resumes_a_list_across_page_boundaries(buildium: tuple[FakeBuildium, BuildiumClient]) -> None:
    fake = buildium[0]
    client = BuildiumClient(fake.url, fake.client_id, fake.client_secret, sleep=lambda seconds: None)
    client.page_size = 2  # several pages for the demo's units
    whole = [u.pms_id for u in client.list(EntityKind.UNIT)]  # type: ignore[attr-defined]
    assert len(whole) > 4
    boundaries = sorted({0, 1, 2, 3, 4, 5, len(whole) - 2, len(whole) - 1, len(whole)})  # either side of pages
    for start in boundaries:
        assert [u.pms_id for u in client.list(EntityKind.UNIT, start=start)] == whole[start:]  # type: ignore[attr-defined]


def test_a_list_resumes_at_a_position_in_a_stable_order(pms: PmsPort) -> None:
    """A reconciliation that goes on in a later invocation lists from where it stopped (`start`)."""
    for kind in (EntityKind.UNIT, EntityKind.VENDOR):
        whole = [e.pms_id for e in pms.list(kind)]  # type: ignore[attr-defined]
        assert len(whole) >= 3 and whole == [e.pms_id for e in pms.list(kind)]  # type: ignore[attr-defined]
        for start in (0, 1, len(whole) - 1, len(whole)):
            assert [e.pms_id for e in pms.list(kind, start=start)] == whole[start:]  # type: ignore[attr-defined]


def test_reads_give_what_the_account_holds_and_none_when_gone(pms: PmsPort, ids: dict[str, dict[str, Any]]) -> None:
    unit_id = str(ids["unit"]["unit-maple-1a"])
    unit = pms.get(EntityKind.UNIT, unit_id)
    assert unit is not None and unit.pms_id == unit_id and unit.label == "1A"  # type: ignore[attr-defined]
    vendors = {v.pms_id: v for v in pms.list(EntityKind.VENDOR)}  # type: ignore[attr-defined]
    aqua = vendors[str(ids["vendor"]["ven-aqua"])]
    assert aqua.insurance is not None and aqua.insurance.expires_on is not None  # the demo vendors are insured
    assert aqua.insurance.policy_number == f"GL-{aqua.pms_id}"
    assert pms.get(EntityKind.UNIT, "987654") is None
    assert pms.get(EntityKind.TASK, "987654") is None


def test_a_resident_request_is_created_once_per_reference(pms: PmsPort, ids: dict[str, dict[str, Any]]) -> None:
    ref = reference()
    first = pms.ensure_resident_request(resident_request(ids, ref))
    assert pms.ensure_resident_request(resident_request(ids, ref)) == first
    assert pms.ensure_resident_request(resident_request(ids, reference())) != first
    task = pms.get(EntityKind.TASK, first)
    assert isinstance(task, PmsTask)
    assert (task.unit_pms_id, task.property_pms_id) == (str(ids["unit"]["unit-maple-1a"]),
                                                         str(ids["property"]["prop-maple"]))
    assert task.title.endswith("Kitchen sink leaking")
    assert f"Opslayer {ref}" in task.title + task.description  # the sync knows its own write when it comes back


def test_a_work_order_is_created_once_per_reference_and_synced(pms: PmsPort, ids: dict[str, dict[str, Any]]) -> None:
    ref = reference()
    task_id = pms.ensure_resident_request(resident_request(ids, ref))
    vendor = str(ids["vendor"]["ven-aqua"])
    order = NewWorkOrder(reference=ref, task_pms_id=task_id, vendor_pms_id=vendor, title="Kitchen sink leaking",
                         description="Replace the trap", priority="urgent")
    order_id = pms.ensure_work_order(order)
    assert pms.ensure_work_order(order) == order_id
    created = pms.get(EntityKind.WORK_ORDER, order_id)
    assert isinstance(created, PmsWorkOrder)
    assert (created.task_pms_id, created.vendor_pms_id) == (task_id, vendor)
    assert f"Opslayer {ref}" in created.title + created.description

    pms.sync_work_order(order_id, task_id, WorkOrderSync(status="scheduled", vendor_pms_id=vendor))
    pms.sync_work_order(order_id, task_id, WorkOrderSync(status="scheduled", vendor_pms_id=vendor))  # idempotent
    pms.sync_work_order(None, task_id, WorkOrderSync(status="triaged"))  # before there is a PMS work order
    synced = pms.get(EntityKind.WORK_ORDER, order_id)
    assert isinstance(synced, PmsWorkOrder) and synced.vendor_pms_id == vendor


def test_a_bill_is_created_once_per_reference(pms: PmsPort, ids: dict[str, dict[str, Any]]) -> None:
    ref = reference()
    number = f"AQ-{ref[-6:]}"
    bill = NewBill(reference=f"inv-{ref}", vendor_pms_id=str(ids["vendor"]["ven-aqua"]), work_order_pms_id=None,
                   invoice_number=number, bill_date=date(2026, 6, 10), due_date=date(2026, 7, 10),
                   memo="Kitchen sink: trap replaced",
                   lines=[NewBillLine(gl_account_pms_id=str(ids["gl_account"]["6010"]), amount=Decimal("180.00"),
                                      memo="Labour", property_pms_id=str(ids["property"]["prop-maple"]),
                                      unit_pms_id=str(ids["unit"]["unit-maple-1a"]))])
    bill_id = pms.ensure_bill(bill)
    assert pms.ensure_bill(bill) == bill_id
    stored = pms.get(EntityKind.BILL, bill_id)
    assert stored is not None
    assert (stored.reference, stored.opslayer_reference, stored.total) == (  # type: ignore[attr-defined]
        number, f"inv-{ref}", Decimal("180.00"))
