"""Opslayer -> PMS as a use case on in-memory fakes: each work order logged in the PMS (resident request,
then a PMS work order once a vendor accepted) and kept in sync, state-based, so duplicated or reordered
messages are harmless; an outage fails the message (retried by SQS) without recording anything."""

from __future__ import annotations

import pytest

from shared.domain.workorder import Status
from shared.pms.models import EntityKind, PmsTask, PmsWorkOrder
from shared.pms.port import PmsError, PmsRejected, UnitCannotHoldRequests
from shared.services.container import Services
from shared.services.pms_writer import sync_out
from shared.services.views import ops_work_order
from shared.services.workorders import vendor_accept
from shared.services.writes import Edit, mutate
from tests.fakes import InMemoryPms
from tests.service.journeys import fake_pms, link_demo_to_pms, offer_to, pms_ids_in_view, submit, vendor_token

UNIT = "unit-harbor-302"  # the 12th demo unit: PMS id 2012 once linked, its tenant 3012
LEAK = "The bathroom faucet drips constantly"


@pytest.fixture
def pms(svc: Services) -> InMemoryPms:
    link_demo_to_pms(svc)
    return fake_pms(svc)


def accepted_by(svc: Services, wo_id: str, vendor_id: str) -> None:
    """The vendor accepted the job (the offer step itself is tested with intake and dispatch)."""
    mutate(svc, wo_id, lambda w: Edit(w.model_copy(update={"status": Status.ACCEPTED, "vendor_id": vendor_id}), []))


def test_a_new_request_is_logged_as_a_resident_request_without_a_pms_work_order(svc: Services,
                                                                                  pms: InMemoryPms) -> None:
    wo = submit(svc, UNIT, LEAK)
    assert sync_out(svc, pms, wo.id) == "synced"

    [task] = pms.entities[EntityKind.TASK].values()
    assert isinstance(task, PmsTask)
    assert (task.unit_pms_id, task.property_pms_id, task.requested_by_pms_id, task.priority) == (
        "2012", "102", "3012", "routine")
    assert task.title == f"[Opslayer {wo.id}] Maintenance: {LEAK}" and task.status == "received"
    assert pms.entities[EntityKind.WORK_ORDER] == {}  # a PMS work order needs its vendor
    [call] = pms.syncs
    assert (call.work_order_pms_id, call.task_pms_id, call.state.status) == (None, task.pms_id, "received")
    state = svc.repo.pms_state(wo.id)
    assert (state["pms_task_id"], state.get("pms_work_order_id"), state["synced_version"]) == (
        task.pms_id, None, wo.version)
    assert pms_ids_in_view(ops_work_order(svc, wo.id)) == {"task_id": task.pms_id, "work_order_id": None}


def test_a_message_for_a_state_already_written_writes_nothing(svc: Services, pms: InMemoryPms) -> None:
    wo = submit(svc, UNIT, LEAK)
    sync_out(svc, pms, wo.id)
    calls = list(pms.calls)
    assert sync_out(svc, pms, wo.id) == "up_to_date"  # a duplicated or late message
    assert pms.calls == calls


def test_the_pms_work_order_is_created_at_acceptance_and_follows_the_lifecycle(svc: Services,
                                                                               pms: InMemoryPms) -> None:
    wo = submit(svc, UNIT, LEAK)
    sync_out(svc, pms, wo.id)
    accepted_by(svc, wo.id, "ven-southflow")
    assert sync_out(svc, pms, wo.id) == "synced"

    [order] = pms.entities[EntityKind.WORK_ORDER].values()
    assert isinstance(order, PmsWorkOrder)
    task_id = svc.repo.pms_state(wo.id)["pms_task_id"]
    assert (order.task_pms_id, order.vendor_pms_id, order.status) == (task_id, "4108", "accepted")
    assert (pms.syncs[-1].work_order_pms_id, pms.syncs[-1].state.vendor_pms_id) == (order.pms_id, "4108")
    assert pms.calls.count("ensure_resident_request") == 1  # the task is not asked for again

    mutate(svc, wo.id, lambda w: Edit(w.model_copy(update={"status": Status.COMPLETED,
                                                       "completion_notes": "New cartridge"}), []))
    assert sync_out(svc, pms, wo.id) == "synced"
    assert pms.calls.count("ensure_work_order") == 1
    assert (pms.syncs[-1].state.status, pms.syncs[-1].state.notes) == ("completed", "New cartridge")
    assert pms_ids_in_view(ops_work_order(svc, wo.id)) == {"task_id": task_id, "work_order_id": order.pms_id}


def test_a_request_that_came_from_the_pms_is_not_logged_twice(svc: Services, pms: InMemoryPms) -> None:
    from shared.schemas import NewRequest
    from shared.services.workorders import submit_request

    from_pms = submit_request(svc, NewRequest(unit_id=UNIT, name="Lena Fischer", description=LEAK),
                              pms_task_id="71")
    accepted_by(svc, from_pms.id, "ven-southflow")
    assert sync_out(svc, pms, from_pms.id) == "synced"
    assert "ensure_resident_request" not in pms.calls
    [order] = pms.entities[EntityKind.WORK_ORDER].values()
    assert isinstance(order, PmsWorkOrder) and order.task_pms_id == "71"


def test_a_unit_the_pms_does_not_know_is_not_written(svc: Services) -> None:
    wo = submit(svc, UNIT, LEAK)  # the demo seeded without PMS ids
    assert sync_out(svc, fake_pms(svc), wo.id) == "not_in_pms"
    assert fake_pms(svc).calls == [] and svc.repo.pms_state(wo.id) == {}


def test_a_vacant_unit_s_work_order_stays_in_opslayer_only(svc: Services, pms: InMemoryPms) -> None:
    wo = submit(svc, UNIT, LEAK)
    pms.fail_next("ensure_resident_request", UnitCannotHoldRequests("the unit has no lease"))
    assert sync_out(svc, pms, wo.id) == "no_lease"
    assert pms.syncs == [] and svc.repo.pms_state(wo.id) == {}


def test_a_pms_outage_fails_the_message_and_its_retry_writes_once(svc: Services, pms: InMemoryPms) -> None:
    wo = submit(svc, UNIT, LEAK)
    pms.fail_next("ensure_resident_request", PmsError("unavailable"))
    with pytest.raises(PmsError):
        sync_out(svc, pms, wo.id)
    assert svc.repo.pms_state(wo.id) == {}

    assert sync_out(svc, pms, wo.id) == "synced"  # SQS delivers it again
    assert len(pms.entities[EntityKind.TASK]) == 1


def test_a_write_the_pms_refuses_fails_the_message_and_records_nothing(svc: Services, pms: InMemoryPms) -> None:
    wo = submit(svc, UNIT, LEAK)
    sync_out(svc, pms, wo.id)
    before = svc.repo.pms_state(wo.id)
    accepted_by(svc, wo.id, "ven-southflow")
    pms.fail_next("ensure_work_order", PmsRejected("the vendor is inactive in the PMS"))
    with pytest.raises(PmsRejected):  # left to the queue's retries and then its DLQ, for a person
        sync_out(svc, pms, wo.id)
    assert svc.repo.pms_state(wo.id) == before
    assert pms.entities[EntityKind.WORK_ORDER] == {}


def test_a_vendor_the_pms_does_not_know_gets_no_pms_work_order_yet(svc: Services, pms: InMemoryPms) -> None:
    wo = submit(svc, UNIT, LEAK)
    accepted_by(svc, wo.id, "ven-handy")  # no PMS id for this vendor
    assert sync_out(svc, pms, wo.id) == "synced"
    assert pms.entities[EntityKind.WORK_ORDER] == {}
    assert pms.syncs[-1].state.vendor_pms_id is None and pms.syncs[-1].state.status == "accepted"


def test_an_accepted_offer_is_written_with_its_vendor(svc: Services, pms: InMemoryPms) -> None:
    """The whole path through the use cases: offered, accepted by the vendor's link, then written."""
    from shared.services.workorders import rank, start_lifecycle, triage

    wo = submit(svc, "unit-maple-1a", LEAK)
    start_lifecycle(svc, wo.id)
    decided = triage(svc, wo.id)
    rank(svc, wo.id, reopen=False)
    offer_to(svc, wo.id, 0, decided)
    vendor_accept(svc, vendor_token(svc, wo.id, "ven-aqua"))
    assert sync_out(svc, pms, wo.id) == "synced"
    [order] = pms.entities[EntityKind.WORK_ORDER].values()
    assert isinstance(order, PmsWorkOrder) and (order.vendor_pms_id, order.status) == ("4101", "accepted")


def test_a_pms_work_order_made_by_hand_for_our_request_is_the_one_kept_in_sync(svc: Services,
                                                                               pms: InMemoryPms) -> None:
    from datetime import timedelta

    from shared.pms.models import Operation, PmsEvent
    from shared.schemas import NewRequest
    from shared.services.pms_sync import apply_event
    from shared.services.workorders import submit_request

    from_pms = submit_request(svc, NewRequest(unit_id=UNIT, name="Lena Fischer", description=LEAK),
                              pms_task_id="71")
    svc.repo.link_pms("task", "71", from_pms.id)
    pms.add(EntityKind.WORK_ORDER, PmsWorkOrder(pms_id="82", task_pms_id="71", title="Plumber visit"))
    made_by_hand = PmsEvent(pms="fake", name="WorkOrder.Created", kind=EntityKind.WORK_ORDER,
                            operation=Operation.CREATED, pms_id="82", occurred_at=svc.clock() + timedelta(seconds=1),
                            account_id="1001")
    assert apply_event(svc, pms, made_by_hand) == "linked"

    accepted_by(svc, from_pms.id, "ven-southflow")
    sync_out(svc, pms, from_pms.id)
    assert list(pms.entities[EntityKind.WORK_ORDER]) == ["82"]
    assert pms.syncs[-1].work_order_pms_id == "82"
    assert pms_ids_in_view(ops_work_order(svc, from_pms.id))["work_order_id"] == "82"


def test_a_pms_work_order_made_by_hand_after_ours_is_only_linked(svc: Services, pms: InMemoryPms) -> None:
    from datetime import timedelta

    from shared.pms.models import Operation, PmsEvent
    from shared.services.pms_sync import apply_event

    wo = submit(svc, UNIT, LEAK)
    accepted_by(svc, wo.id, "ven-southflow")
    sync_out(svc, pms, wo.id)  # the writer made the PMS work order at acceptance
    [ours] = list(pms.entities[EntityKind.WORK_ORDER])
    task_id = svc.repo.pms_state(wo.id)["pms_task_id"]
    pms.add(EntityKind.WORK_ORDER, PmsWorkOrder(pms_id="82", task_pms_id=task_id, title="Plumber visit"))
    svc.repo.link_pms("task", task_id, wo.id)
    made_by_hand = PmsEvent(pms="fake", name="WorkOrder.Created", kind=EntityKind.WORK_ORDER,
                            operation=Operation.CREATED, pms_id="82", occurred_at=svc.clock() + timedelta(seconds=1),
                            account_id="1001")
    assert apply_event(svc, pms, made_by_hand) == "linked"
    assert svc.repo.get_work_order(wo.id).pms_work_order_id is None
    assert svc.repo.pms_state(wo.id)["pms_work_order_id"] == ours
