"""PMS -> Opslayer as use cases on in-memory fakes: signed webhooks received and queued, events applied in
order and idempotently (duplicates, out-of-order delivery, entities gone by the time they are fetched), each
entity kind mapped, the reconciliation, requests created in the PMS becoming work orders, and cancellations."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest

from shared.domain.errors import MalformedRequest, Unauthorized
from shared.domain.workorder import Source, Status
from shared.pms.buildium_webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, compact, sign
from shared.pms.models import (
    EntityKind,
    Operation,
    PmsAddress,
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
)
from shared.services import pms_sync
from shared.services.container import Services
from shared.services.workorders import start_lifecycle
from tests.fakes import InMemoryPms
from tests.fakes.services import BUILDIUM_WEBHOOK_SECRET
from tests.service.journeys import fake_pms, workflow

ACCOUNT = "1001"  # fake_settings' buildium_account_id


def portfolio(pms: InMemoryPms) -> None:
    """A small portfolio as the PMS holds it: one property in the south area, a unit with a leased tenant,
    a plumbing vendor (by its category), a GL account."""
    pms.add(EntityKind.PROPERTY, PmsProperty(pms_id="1", name="Elm Row", address=PmsAddress(
        line1="5 Elm Row", city="Springfield", state="IL", postal_code="62704-1234")))
    pms.add(EntityKind.UNIT, PmsUnit(pms_id="11", property_pms_id="1", label="4C", description="Gate code 1234"))
    pms.add(EntityKind.TENANT, PmsTenant(pms_id="21", first_name="Mia", last_name="Ross", email="mia@tenant.test",
                                         phone="(555) 010-4444"))
    pms.add(EntityKind.LEASE, PmsLease(pms_id="31", property_pms_id="1", unit_pms_id="11", tenant_pms_ids=["21"],
                                       status="active"))
    pms.add(EntityKind.VENDOR_CATEGORY, PmsVendorCategory(pms_id="41", name="Plumbing contractors"))
    pms.add(EntityKind.VENDOR, PmsVendor(pms_id="51", name="Elm Plumbing", email="jobs@elmplumbing.test",
                                         phone="555-020-9999", category_pms_id="41"))
    pms.add(EntityKind.GL_ACCOUNT, PmsGLAccount(pms_id="61", number="6010", name="Plumbing Repairs"))


def event(kind: EntityKind, pms_id: str, at: datetime, operation: Operation = Operation.UPDATED) -> PmsEvent:
    return PmsEvent(pms="fake", name=f"{kind.value}.{operation.value}", kind=kind, operation=operation,
                    pms_id=pms_id, occurred_at=at, account_id=ACCOUNT)


@pytest.fixture
def pms(svc: Services) -> InMemoryPms:
    found = fake_pms(svc)
    portfolio(found)
    return found


@pytest.fixture
def imported(svc: Services, pms: InMemoryPms) -> InMemoryPms:
    """The portfolio imported by a first reconciliation."""
    pms_sync.reconcile(svc, pms)
    return pms


# ---------------------------------------------------------------- webhooks in
def signed(body: str, secret: str = BUILDIUM_WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)  # the verifier checks against the real clock
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body)}


def webhook(name: str, **ids: object) -> str:
    return compact({"EventName": name, "EventDateTime": "2026-06-10T14:00:00.1234567Z", "AccountId": 1001, **ids})


def test_a_signed_webhook_is_queued_as_a_thin_event(svc: Services) -> None:
    body = webhook("Vendor.Updated", VendorId=51)
    assert pms_sync.receive_webhook(svc, signed(body), body.encode()) == "queued"
    [queued] = svc.queues.on(svc.settings.pms_inbound_queue_url)
    assert queued.attributes == {"event_name": "Vendor.Updated"}
    parsed = PmsEvent.model_validate_json(queued.body)
    assert (parsed.kind, parsed.operation, parsed.pms_id, parsed.account_id) == (EntityKind.VENDOR,
                                                                                  Operation.UPDATED, "51", ACCOUNT)
    # Pretty-printed, the same event still verifies against the compact form Buildium signs.
    pretty = json.dumps(json.loads(body), indent=2)
    assert pms_sync.receive_webhook(svc, signed(body), pretty.encode()) == "queued"


def test_an_event_we_do_not_handle_is_acknowledged_and_ignored(svc: Services) -> None:
    body = webhook("Applicant.Created", ApplicantId=7)
    assert pms_sync.receive_webhook(svc, signed(body), body.encode()) == "ignored"
    assert svc.queues.sent == []


@pytest.mark.parametrize(("headers", "reason"), [
    (lambda body: signed(body, secret="not-the-secret"), "bad_signature"),
    (lambda body: signed(body, at=int(time.time()) - 600), "stale_timestamp"),
    (lambda body: signed(body, at=int(time.time()) + 600), "future_timestamp"),
    (lambda body: {"Content-Type": "application/json"}, "missing_signature"),
    (lambda body: signed(body.replace("Updated", "Deleted")), "bad_signature"),  # signed another body
])
def test_a_webhook_that_does_not_verify_is_unauthorized_and_nothing_is_queued(svc: Services, headers,
                                                                              reason: str) -> None:
    body = webhook("Vendor.Updated", VendorId=51)
    with pytest.raises(Unauthorized) as refused:
        pms_sync.receive_webhook(svc, headers(body), body.encode())
    assert refused.value.details == {"reason": reason}
    assert svc.queues.sent == []


def test_a_signed_body_that_is_not_json_is_malformed(svc: Services) -> None:
    with pytest.raises(MalformedRequest):
        pms_sync.receive_webhook(svc, signed("{not json"), b"{not json")
    assert svc.queues.sent == []


# ---------------------------------------------------------------- the reconciliation (initial import)
def test_the_reconciliation_imports_the_portfolio_through_the_mapping_rules(svc: Services, pms: InMemoryPms) -> None:
    pms.add(EntityKind.LEASE, PmsLease(pms_id="32", property_pms_id="1", unit_pms_id="11", tenant_pms_ids=["22"],
                                       status="past"))
    counts = pms_sync.reconcile(svc, pms)
    assert counts == {"property": 1, "unit": 1, "vendor": 1, "lease": 1, "gl_account": 1, "task": 0}

    prop = svc.repo.get_property("prop-b1")
    assert (prop.name, prop.pms_id, prop.service_area, prop.address) == (
        "Elm Row", "1", "south", "5 Elm Row, Springfield, IL 62704-1234")
    unit = svc.repo.get_unit("unit-b11")
    assert (unit.property_id, unit.label, unit.access_instructions, unit.tenant_pms_id) == (
        "prop-b1", "4C", "Gate code 1234", "21")
    assert unit.tenant is not None
    assert (unit.tenant.name, unit.tenant.phone, unit.tenant.email) == ("Mia Ross", "+15550104444",
                                                                       "mia@tenant.test")
    assert svc.repo.units_for_phone("+15550104444") == ["unit-b11"]
    assert svc.repo.units_for_email("MIA@tenant.test") == ["unit-b11"]
    vendor = svc.repo.get_vendor("ven-b51")
    assert (vendor.trades, vendor.phone, vendor.service_areas, vendor.active) == (["plumbing"], "+15550209999",
                                                                                  ["*"], True)
    assert [a["number"] for a in svc.repo.listed("GLACCOUNTS")] == ["6010"]


def test_the_reconciliation_leaves_alone_what_a_newer_webhook_already_applied(svc: Services,
                                                                             imported: InMemoryPms) -> None:
    imported.add(EntityKind.VENDOR, PmsVendor(pms_id="51", name="Elm Plumbing", email="new@elmplumbing.test",
                                              category_pms_id="41"))
    later = svc.clock() + timedelta(minutes=5)
    assert pms_sync.apply_event(svc, imported, event(EntityKind.VENDOR, "51", later)) == "upserted"
    # The next run reads a snapshot in which the vendor's email is another one (read before the change).
    imported.add(EntityKind.VENDOR, PmsVendor(pms_id="51", name="Elm Plumbing", email="old@elmplumbing.test",
                                              category_pms_id="41"))
    counts = pms_sync.reconcile(svc, imported)
    assert counts["vendor"] == 0 and counts["property"] == 1
    assert svc.repo.get_vendor("ven-b51").email == "new@elmplumbing.test"


def test_a_lost_webhook_is_caught_by_the_next_reconciliation(svc: Services, imported: InMemoryPms) -> None:
    imported.add(EntityKind.UNIT, PmsUnit(pms_id="11", property_pms_id="1", label="4C",
                                          description="Gate code 4411; dog in unit"))
    svc.clock.advance(hours=6)
    pms_sync.reconcile(svc, imported)
    unit = svc.repo.get_unit("unit-b11")
    assert unit.access_instructions == "Gate code 4411; dog in unit"
    assert unit.tenant is not None and unit.tenant.name == "Mia Ross"  # what only the lease knows is kept


# ---------------------------------------------------------------- events: order and idempotency
def test_an_event_older_than_the_one_applied_is_skipped(svc: Services, imported: InMemoryPms) -> None:
    t0 = svc.clock() + timedelta(minutes=1)
    imported.add(EntityKind.VENDOR, PmsVendor(pms_id="51", name="Elm Plumbing", email="new@elmplumbing.test",
                                              category_pms_id="41"))
    assert pms_sync.apply_event(svc, imported, event(EntityKind.VENDOR, "51", t0)) == "upserted"
    assert pms_sync.apply_event(svc, imported, event(EntityKind.VENDOR, "51", t0)) == "upserted"  # a duplicate
    imported.add(EntityKind.VENDOR, PmsVendor(pms_id="51", name="Elm Plumbing", email="later@elmplumbing.test",
                                              category_pms_id="41"))
    calls = len(imported.calls)
    assert pms_sync.apply_event(svc, imported, event(EntityKind.VENDOR, "51", t0 - timedelta(days=30))) == "stale"
    assert len(imported.calls) == calls  # not even fetched
    assert svc.repo.get_vendor("ven-b51").email == "new@elmplumbing.test"


def test_a_vendor_update_keeps_the_dispatch_profile_ops_set(svc: Services, imported: InMemoryPms) -> None:
    vendor = svc.repo.get_vendor("ven-b51")
    svc.repo.put_vendor(vendor.model_copy(update={"service_areas": ["south"], "language": "es",
                                                  "available": False}))
    imported.add(EntityKind.VENDOR, PmsVendor(pms_id="51", name="Elm Plumbing & Drains", phone="not a phone",
                                              category_name="Heating and cooling"))
    assert pms_sync.apply_event(svc, imported, event(EntityKind.VENDOR, "51", svc.clock())) == "upserted"
    updated = svc.repo.get_vendor("ven-b51")
    assert (updated.name, updated.trades, updated.phone) == ("Elm Plumbing & Drains", ["hvac"], None)
    assert (updated.service_areas, updated.language, updated.available) == (["south"], "es", False)


def test_a_deleted_vendor_is_deactivated_and_one_gone_on_fetch_counts_as_deleted(svc: Services,
                                                                                 imported: InMemoryPms) -> None:
    deleted = event(EntityKind.VENDOR, "51", svc.clock(), Operation.DELETED)
    assert pms_sync.apply_event(svc, imported, deleted) == "deactivated"
    assert svc.repo.get_vendor("ven-b51").active is False

    imported.add(EntityKind.VENDOR, PmsVendor(pms_id="52", name="Gone Soon", category_name="Electric"))
    assert pms_sync.apply_event(svc, imported, event(EntityKind.VENDOR, "52", svc.clock())) == "upserted"
    assert svc.repo.get_vendor("ven-b52").trades == ["electrical"]
    imported.remove(EntityKind.VENDOR, "52")  # the update event arrives after the record was deleted (404)
    later = svc.clock() + timedelta(seconds=1)
    assert pms_sync.apply_event(svc, imported, event(EntityKind.VENDOR, "52", later)) == "deactivated"
    assert svc.repo.get_vendor("ven-b52").active is False


def test_deletions_of_each_kind(svc: Services, imported: InMemoryPms) -> None:
    def deleted(kind: EntityKind, pms_id: str) -> str:
        return pms_sync.apply_event(svc, imported, event(kind, pms_id, svc.clock(), Operation.DELETED))

    assert deleted(EntityKind.UNIT, "11") == "deactivated"
    assert svc.repo.get_unit("unit-b11").tenant is None
    assert deleted(EntityKind.GL_ACCOUNT, "61") == "deleted"
    assert svc.repo.listed("GLACCOUNTS") == []
    assert deleted(EntityKind.PROPERTY, "1") == "gone"  # properties are kept (their work orders refer to them)
    assert deleted(EntityKind.VENDOR, "99") == "gone"
    assert deleted(EntityKind.UNIT, "99") == "gone"
    assert deleted(EntityKind.TASK, "99") == "gone"


# ---------------------------------------------------------------- tenants and leases
def test_a_tenant_phone_change_reaches_the_unit(svc: Services, imported: InMemoryPms) -> None:
    imported.add(EntityKind.TENANT, PmsTenant(pms_id="21", first_name="Mia", last_name="Ross",
                                              phone="(555) 010-9999"))
    assert pms_sync.apply_event(svc, imported, event(EntityKind.TENANT, "21", svc.clock())) == "upserted"
    tenant = svc.repo.get_unit("unit-b11").tenant
    assert tenant is not None and (tenant.phone, tenant.email) == ("+15550109999", None)
    assert svc.repo.units_for_phone("+15550109999") == ["unit-b11"]


def test_a_tenant_who_is_no_unit_s_current_tenant_is_not_linked(svc: Services, imported: InMemoryPms) -> None:
    imported.add(EntityKind.TENANT, PmsTenant(pms_id="29", first_name="Ned"))
    assert pms_sync.apply_event(svc, imported, event(EntityKind.TENANT, "29", svc.clock())) == "unlinked"


def test_a_lease_that_ended_removes_the_tenant_and_a_new_one_brings_the_next(svc: Services,
                                                                             imported: InMemoryPms) -> None:
    imported.add(EntityKind.LEASE, PmsLease(pms_id="31", property_pms_id="1", unit_pms_id="11",
                                            tenant_pms_ids=["21"], status="past"))
    t1 = svc.clock() + timedelta(minutes=1)
    assert pms_sync.apply_event(svc, imported, event(EntityKind.LEASE, "31", t1)) == "tenant_removed"
    assert svc.repo.get_unit("unit-b11").tenant is None
    assert pms_sync.apply_event(svc, imported, event(EntityKind.LEASE, "31", t1)) == "unchanged"

    imported.add(EntityKind.TENANT, PmsTenant(pms_id="22", first_name="Omar", last_name="Diaz"))
    imported.add(EntityKind.LEASE, PmsLease(pms_id="33", property_pms_id="1", unit_pms_id="11",
                                            tenant_pms_ids=["22"], status="active"))
    assert pms_sync.apply_event(svc, imported, event(EntityKind.LEASE, "33", t1)) == "upserted"
    unit = svc.repo.get_unit("unit-b11")
    assert unit.tenant is not None and (unit.tenant.name, unit.tenant_pms_id) == ("Omar Diaz", "22")
    assert svc.repo.pms_link("tenant", "22") == "unit-b11"


def test_a_lease_for_a_unit_not_imported_yet_fetches_the_unit_and_its_property(svc: Services,
                                                                               pms: InMemoryPms) -> None:
    assert pms_sync.apply_event(svc, pms, event(EntityKind.LEASE, "31", svc.clock())) == "upserted"
    assert svc.repo.get_property("prop-b1").name == "Elm Row"
    assert svc.repo.get_unit("unit-b11").tenant_pms_id == "21"

    pms.add(EntityKind.LEASE, PmsLease(pms_id="34", property_pms_id="1", unit_pms_id="404", status="active"))
    assert pms_sync.apply_event(svc, pms, event(EntityKind.LEASE, "34", svc.clock())) == "ignored"


def test_a_renamed_vendor_category_remaps_its_vendors(svc: Services, imported: InMemoryPms) -> None:
    imported.add(EntityKind.VENDOR_CATEGORY, PmsVendorCategory(pms_id="41", name="Locksmiths"))
    assert pms_sync.apply_event(svc, imported, event(EntityKind.VENDOR_CATEGORY, "41", svc.clock())) == "remapped 1"
    assert svc.repo.get_vendor("ven-b51").trades == ["locksmith"]


# ---------------------------------------------------------------- requests created in the PMS
def resident_request(pms: InMemoryPms, pms_id: str = "71", status: str = "New", **fields: object) -> PmsTask:
    values: dict[str, object] = {"title": "Kitchen sink leaking", "description": "Water drips from the trap",
                                 "property_pms_id": "1", "unit_pms_id": "11", "requested_by_pms_id": "21",
                                 "status": status, **fields}
    task = PmsTask.model_validate({"pms_id": pms_id, **values})
    pms.add(EntityKind.TASK, task)
    return task


def test_a_resident_request_created_in_the_pms_becomes_one_work_order(svc: Services, imported: InMemoryPms) -> None:
    resident_request(imported)
    created = event(EntityKind.TASK, "71", svc.clock(), Operation.CREATED)
    assert pms_sync.apply_event(svc, imported, created) == "created"
    assert pms_sync.apply_event(svc, imported, created) == "unchanged"  # delivered twice: still one

    [wo] = svc.repo.list_work_orders(source="pms")
    assert (wo.unit_id, wo.source, wo.pms_task_id, wo.status) == ("unit-b11", Source.PMS, "71", Status.RECEIVED)
    assert wo.description == "Kitchen sink leaking - Water drips from the trap"
    assert (wo.tenant.name, wo.tenant.phone) == ("Mia Ross", "+15550104444")
    assert svc.repo.pms_link("task", "71") == wo.id
    assert [d["work_order_id"] for d in svc.events.of_type("WorkOrderReceived")] == [wo.id]


def test_a_request_raised_for_another_tenant_carries_their_contact(svc: Services, imported: InMemoryPms) -> None:
    imported.add(EntityKind.TENANT, PmsTenant(pms_id="25", first_name="Zoe", last_name="Park",
                                              phone="5550107777"))
    resident_request(imported, requested_by_pms_id="25", title="", description="")
    assert pms_sync.apply_event(svc, imported, event(EntityKind.TASK, "71", svc.clock())) == "created"
    [wo] = svc.repo.list_work_orders(source="pms")
    assert (wo.tenant.name, wo.tenant.phone, wo.description) == ("Zoe Park", "+15550107777", "Resident request")


def test_requests_that_are_not_for_dispatch_are_ignored(svc: Services, imported: InMemoryPms) -> None:
    resident_request(imported, "72", status="Completed")  # an old request found by the initial import
    resident_request(imported, "73", kind="todo")
    imported.add(EntityKind.TASK, PmsTask(pms_id="74", title="No unit", status="New"))
    resident_request(imported, "75", unit_pms_id="404")  # a unit the PMS does not have either
    for pms_id in ("72", "73", "74", "75"):
        assert pms_sync.apply_event(svc, imported, event(EntityKind.TASK, pms_id, svc.clock())) == "ignored"
    assert svc.repo.list_work_orders(source="pms") == []


def test_a_reconciliation_picks_up_an_open_request_once(svc: Services, pms: InMemoryPms) -> None:
    resident_request(pms, "71")
    resident_request(pms, "72", status="Completed")
    assert pms_sync.reconcile(svc, pms)["task"] == 2
    svc.clock.advance(hours=6)
    pms_sync.reconcile(svc, pms)  # the scheduled catch-up reads the same request again
    [wo] = svc.repo.list_work_orders(source="pms")
    assert (wo.pms_task_id, wo.unit_id) == ("71", "unit-b11")


def test_our_own_request_coming_back_is_only_linked(svc: Services, imported: InMemoryPms) -> None:
    resident_request(imported, "76", description="Logged by Opslayer wo-0123456789abcdef")
    assert pms_sync.apply_event(svc, imported, event(EntityKind.TASK, "76", svc.clock())) == "own"
    assert svc.repo.pms_link("task", "76") == "wo-0123456789abcdef"
    assert svc.repo.list_work_orders(source="pms") == []


def test_a_request_cancelled_in_the_pms_cancels_the_open_work_order(svc: Services, imported: InMemoryPms) -> None:
    resident_request(imported)
    pms_sync.apply_event(svc, imported, event(EntityKind.TASK, "71", svc.clock()))
    [wo] = svc.repo.list_work_orders(source="pms")
    arn = start_lifecycle(svc, wo.id)

    resident_request(imported, status="Cancelled")
    later = svc.clock() + timedelta(minutes=1)
    assert pms_sync.apply_event(svc, imported, event(EntityKind.TASK, "71", later)) == "cancelled"
    cancelled = svc.repo.get_work_order(wo.id, with_timeline=True)
    assert cancelled.status == Status.CANCELLED
    assert (cancelled.timeline[-1].detail, cancelled.timeline[-1].actor) == ("Cancelled in the PMS", "pms")
    assert workflow(svc).executions[wo.id].stopped == "cancelled: Cancelled in the PMS"
    assert workflow(svc).executions[wo.id].arn == arn
    # Told again (a duplicate, or the request deleted later): nothing more to cancel.
    assert pms_sync.apply_event(svc, imported, event(EntityKind.TASK, "71", later)) == "unchanged"
    deleted = event(EntityKind.TASK, "71", later + timedelta(minutes=1), Operation.DELETED)
    assert pms_sync.apply_event(svc, imported, deleted) == "unchanged"
    assert len(svc.events.of_type("WorkOrderCancelled")) == 1


def test_a_request_deleted_in_the_pms_cancels_its_work_order(svc: Services, imported: InMemoryPms) -> None:
    resident_request(imported)
    pms_sync.apply_event(svc, imported, event(EntityKind.TASK, "71", svc.clock()))
    [wo] = svc.repo.list_work_orders(source="pms")
    deleted = event(EntityKind.TASK, "71", svc.clock() + timedelta(seconds=1), Operation.DELETED)
    assert pms_sync.apply_event(svc, imported, deleted) == "cancelled"
    assert svc.repo.get_work_order(wo.id).status == Status.CANCELLED


# ---------------------------------------------------------------- work orders and bills entered in the PMS
def test_a_work_order_created_in_the_pms_becomes_a_work_order_linked_to_its_request(svc: Services,
                                                                                    imported: InMemoryPms) -> None:
    resident_request(imported, "77", status="Closed")  # the request itself is not for dispatch
    imported.add(EntityKind.WORK_ORDER, PmsWorkOrder(pms_id="81", task_pms_id="77", title="Fix the trap"))
    assert pms_sync.apply_event(svc, imported, event(EntityKind.WORK_ORDER, "81", svc.clock())) == "created"
    [wo] = svc.repo.list_work_orders(source="pms")
    assert (wo.pms_task_id, wo.pms_work_order_id, wo.unit_id) == ("77", "81", "unit-b11")
    assert wo.description == "Fix the trap"
    assert (svc.repo.pms_link("work_order", "81"), svc.repo.pms_link("task", "77")) == (wo.id, wo.id)
    assert pms_sync.apply_event(svc, imported, event(EntityKind.WORK_ORDER, "81", svc.clock())) == "unchanged"


def test_work_orders_in_the_pms_that_are_ours_known_or_unplaceable(svc: Services, imported: InMemoryPms) -> None:
    resident_request(imported)
    pms_sync.apply_event(svc, imported, event(EntityKind.TASK, "71", svc.clock()))
    [wo] = svc.repo.list_work_orders(source="pms")
    imported.add(EntityKind.WORK_ORDER, PmsWorkOrder(pms_id="82", task_pms_id="71", title="Plumber visit"))
    imported.add(EntityKind.WORK_ORDER, PmsWorkOrder(pms_id="83", title="Plumbing: leak",
                                                     description="Opslayer wo-00000000000000aa"))
    imported.add(EntityKind.WORK_ORDER, PmsWorkOrder(pms_id="84", title="Paint the hallway"))

    def applied(pms_id: str) -> str:
        return pms_sync.apply_event(svc, imported, event(EntityKind.WORK_ORDER, pms_id, svc.clock()))

    assert applied("82") == "linked"
    assert svc.repo.pms_link("work_order", "82") == wo.id
    assert applied("83") == "own"
    assert svc.repo.pms_link("work_order", "83") == "wo-00000000000000aa"
    assert applied("84") == "ignored"
    assert len(svc.repo.list_work_orders(source="pms")) == 1


def test_a_bill_entered_by_hand_is_recorded_once_and_our_own_bill_is_not(svc: Services,
                                                                         imported: InMemoryPms) -> None:
    resident_request(imported)
    pms_sync.apply_event(svc, imported, event(EntityKind.TASK, "71", svc.clock()))
    [wo] = svc.repo.list_work_orders(source="pms")
    svc.repo.link_pms("work_order", "85", wo.id)
    imported.add(EntityKind.BILL, PmsBill(pms_id="91", work_order_pms_id="85", reference="HH-502", total="20.0"))
    imported.add(EntityKind.BILL, PmsBill(pms_id="92", work_order_pms_id="85", reference="HH-501",
                                          opslayer_reference="inv-1"))
    imported.add(EntityKind.BILL, PmsBill(pms_id="93", work_order_pms_id="404", reference="X"))

    def applied(pms_id: str, at: datetime) -> str:
        return pms_sync.apply_event(svc, imported, event(EntityKind.BILL, pms_id, at))

    assert applied("91", svc.clock()) == "recorded"
    assert applied("91", svc.clock() + timedelta(seconds=1)) == "unchanged"
    assert applied("92", svc.clock()) == "own"
    assert applied("93", svc.clock()) == "unlinked"
    entries = [e.detail for e in svc.repo.get_work_order(wo.id, with_timeline=True).timeline if e.event == "pms_bill"]
    assert entries == ["PMS bill 91 recorded (20.0)"]


def test_an_entity_the_sync_does_not_know_is_ignored(svc: Services, pms: InMemoryPms) -> None:
    assert pms_sync.upsert(svc, pms, object()) == "ignored"
    assert pms_sync.normalize_phone(None) is None and pms_sync.normalize_phone("12") is None
