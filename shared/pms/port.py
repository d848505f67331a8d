"""The port every PMS adapter implements (Buildium first; AppFolio or Yardi later), so use cases never
depend on one PMS. Reads return None for an entity the PMS no longer has (HTTP 404 = deleted)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from shared.pms.models import (
    EntityKind,
    NewBill,
    NewResidentRequest,
    NewWorkOrder,
    PmsEvent,
    WorkOrderSync,
)


class PmsError(Exception):
    """The PMS could not be reached or refused the call after retries (the caller retries later)."""


class PmsRejected(PmsError):
    """The PMS (or the adapter, before sending anything) refused the write for what it is: retrying the same
    write cannot succeed; a person has to look (e.g. the vendor's invoice number is already on a bill)."""


class PmsPort(Protocol):
    name: str

    def get(self, kind: EntityKind, pms_id: str) -> object | None:
        """The entity as one of the Pms* models, or None if the PMS no longer has it."""

    def list(self, kind: EntityKind) -> Iterator[object]:
        """Every entity of a kind, all pages."""

    def ensure_resident_request(self, request: NewResidentRequest) -> str:
        """Create the resident request unless one with this reference exists; return its PMS id."""

    def ensure_work_order(self, order: NewWorkOrder) -> str:
        """Create the PMS work order unless one with this reference exists; return its PMS id."""

    def sync_work_order(self, work_order_pms_id: str | None, task_pms_id: str, state: WorkOrderSync) -> None:
        """Bring the PMS work order (if there is one yet) and its task up to date (idempotent)."""

    def ensure_bill(self, bill: NewBill) -> str:
        """Create the bill unless one with this reference exists (retries are safe); upload the attachment once;
        return the PMS bill id. Raises PmsError; a `PmsRejected` one will fail the same way on every retry."""


class WebhookVerifier(Protocol):
    def verify(self, headers: dict[str, str], body: bytes, now: float | None = None) -> PmsEvent | None:
        """Raise WebhookRejected for a bad signature or timestamp; None for an event we do not handle."""


class WebhookRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
