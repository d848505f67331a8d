"""`InMemoryPms`: a PMS behind `shared.pms.port.PmsPort`, held in dicts. Extend it method by method as
the port grows (e.g. webhook verification)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared.pms.models import (
    EntityKind,
    NewBill,
    NewResidentRequest,
    NewWorkOrder,
    PmsBill,
    PmsTask,
    PmsWorkOrder,
    WorkOrderSync,
)
from shared.pms.port import PmsPort, PmsRejected


def _tag(reference: str) -> str:
    """Records the port creates carry their Opslayer reference, so the PMS sync knows its own writes
    when they come back (shared/services/pms_sync.py OUR_REFERENCE); written as the Buildium adapter does."""
    return f"[Opslayer {reference}]"


def _id_order(pms_id: str) -> tuple[int, int | str]:
    """The order a PMS lists in (Buildium: by Id): numeric ids by value, any others after them."""
    return (0, int(pms_id)) if pms_id.isdigit() else (1, pms_id)


@dataclass(frozen=True)
class SyncCall:
    work_order_pms_id: str | None
    task_pms_id: str
    state: WorkOrderSync


class InMemoryPms:
    """Entities by kind and PMS id (`add` to seed them). The ensure_* writes are idempotent on their
    reference, as the port promises; `fail_next(method, error)` makes the next call of a method raise
    (a PmsError to retry later, a PmsRejected for a write that can never succeed)."""

    name = "fake"

    def __init__(self) -> None:
        self.entities: dict[EntityKind, dict[str, BaseModel]] = {kind: {} for kind in EntityKind}
        self.references: dict[tuple[EntityKind, str], str] = {}  # (kind, Opslayer reference) -> PMS id
        self.syncs: list[SyncCall] = []
        self.attachments: dict[str, Any] = {}  # bill id -> the BillAttachment uploaded with it
        self.calls: list[str] = []
        self._failures: dict[str, list[Exception]] = {}
        self._ids = itertools.count(9001)

    # ------------------------------------------------------------ test controls
    @classmethod
    def copy_of(cls, pms: PmsPort) -> InMemoryPms:
        """A twin holding everything another PMS adapter lists (e.g. the Buildium client on the fake Buildium)."""
        twin = cls()
        for kind in EntityKind:
            for entity in pms.list(kind):
                twin.add(kind, entity)  # type: ignore[arg-type]
        return twin

    def add(self, kind: EntityKind, entity: BaseModel) -> BaseModel:
        """Seed an entity (its `pms_id` is its key); returns it."""
        self.entities[kind][entity.pms_id] = entity.model_copy(deep=True)  # type: ignore[attr-defined]
        return entity

    def remove(self, kind: EntityKind, pms_id: str) -> None:
        """The record was deleted in the PMS (reads give None from now on)."""
        self.entities[kind].pop(pms_id, None)

    def fail_next(self, method: str, error: Exception) -> None:
        self._failures.setdefault(method, []).append(error)

    def _call(self, method: str) -> None:
        self.calls.append(method)
        pending = self._failures.get(method)
        if pending:
            raise pending.pop(0)

    def _new_id(self) -> str:
        return str(next(self._ids))

    # ------------------------------------------------------------ the port
    def get(self, kind: EntityKind, pms_id: str) -> object | None:
        self._call("get")
        found = self.entities[kind].get(pms_id)
        return found.model_copy(deep=True) if found is not None else None

    def list(self, kind: EntityKind, start: int = 0) -> Iterator[object]:
        self._call("list")
        ordered = sorted(self.entities[kind].values(), key=lambda e: _id_order(e.pms_id))  # type: ignore[attr-defined]
        return (e.model_copy(deep=True) for e in ordered[start:])

    def ensure_resident_request(self, request: NewResidentRequest) -> str:
        self._call("ensure_resident_request")
        known = self.references.get((EntityKind.TASK, request.reference))
        if known is not None:
            return known
        tag = _tag(request.reference)
        task = PmsTask(pms_id=self._new_id(), title=f"{tag} {request.title}",
                       description=f"{request.description}\n\n{tag}",
                       property_pms_id=request.property_pms_id, unit_pms_id=request.unit_pms_id,
                       requested_by_pms_id=request.requested_by_pms_id, status="new", priority=request.priority)
        self.entities[EntityKind.TASK][task.pms_id] = task
        self.references[(EntityKind.TASK, request.reference)] = task.pms_id
        return task.pms_id

    def ensure_work_order(self, order: NewWorkOrder) -> str:
        self._call("ensure_work_order")
        known = self.references.get((EntityKind.WORK_ORDER, order.reference))
        if known is not None:
            return known
        created = PmsWorkOrder(pms_id=self._new_id(), task_pms_id=order.task_pms_id,
                               vendor_pms_id=order.vendor_pms_id, title=order.title,
                               description=f"{_tag(order.reference)} {order.title}\n\n{order.description}",
                               status="new", priority=order.priority)
        self.entities[EntityKind.WORK_ORDER][created.pms_id] = created
        self.references[(EntityKind.WORK_ORDER, order.reference)] = created.pms_id
        return created.pms_id

    def sync_work_order(self, work_order_pms_id: str | None, task_pms_id: str, state: WorkOrderSync) -> None:
        self._call("sync_work_order")
        self.syncs.append(SyncCall(work_order_pms_id, task_pms_id, state.model_copy(deep=True)))
        task = self.entities[EntityKind.TASK].get(task_pms_id)
        if isinstance(task, PmsTask):
            self.entities[EntityKind.TASK][task_pms_id] = task.model_copy(update={"status": state.status})
        order = self.entities[EntityKind.WORK_ORDER].get(work_order_pms_id or "")
        if isinstance(order, PmsWorkOrder):
            self.entities[EntityKind.WORK_ORDER][order.pms_id] = order.model_copy(
                update={"status": state.status, "vendor_pms_id": state.vendor_pms_id or order.vendor_pms_id})

    def ensure_bill(self, bill: NewBill) -> str:
        self._call("ensure_bill")
        known = self.references.get((EntityKind.BILL, bill.reference))
        if known is not None:
            return known
        for other in self.entities[EntityKind.BILL].values():  # a bill entered by hand for the same invoice
            if isinstance(other, PmsBill) and other.opslayer_reference is None \
                    and other.vendor_pms_id == bill.vendor_pms_id \
                    and other.reference.strip().lower() == bill.invoice_number.strip().lower():
                raise PmsRejected(f"bill {other.pms_id} already has invoice number {bill.invoice_number}")
        created = PmsBill(pms_id=self._new_id(), vendor_pms_id=bill.vendor_pms_id,
                          work_order_pms_id=bill.work_order_pms_id, reference=bill.invoice_number, total=bill.total,
                          bill_date=bill.bill_date, due=bill.due_date, memo=bill.memo,
                          opslayer_reference=bill.reference)
        self.entities[EntityKind.BILL][created.pms_id] = created
        self.references[(EntityKind.BILL, bill.reference)] = created.pms_id
        if bill.attachment is not None:
            self.attachments[created.pms_id] = bill.attachment.model_copy(deep=True)
        return created.pms_id
