"""The port every PMS adapter implements (Buildium first; AppFolio or Yardi later), so use cases never
depend on one PMS. An adapter is two objects: a `PmsPort` (the PMS's API, both ways) and a
`WebhookVerifier` (its signed callbacks). `shared.pms.providers` names the adapters; services only ever
see these protocols, the Pms* models and the errors below.

Errors: an adapter translates every failure of its own (HTTP, network, its PMS's refusals) into
`PmsError` or one of its subclasses, and a webhook it will not accept into `WebhookRejected`; nothing
else escapes an adapter for a failure of the PMS.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: catching a PmsError does not load the PMS models (the invoicing cold start)
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


class UnitCannotHoldRequests(PmsRejected):
    """The PMS cannot record a maintenance request for this unit as it stands (Buildium: the unit has no
    lease). Not an outage and not for a person to fix now: the work order stays in Opslayer only."""


class PmsPort(Protocol):
    """A PMS's API. Ids are the PMS's own, as strings. Reads return None for an entity the PMS no longer
    has (deleted); writes are idempotent on the Opslayer reference they carry, so a retried message never
    creates a second record. Every method raises only `PmsError` (or a subclass) for a PMS failure."""

    name: str  # the provider name, as in the PmsProvider setting (e.g. "buildium")

    def get(self, kind: EntityKind, pms_id: str) -> object | None:
        """The entity as the Pms* model of its kind (PmsProperty for EntityKind.PROPERTY, ...), or None if the
        PMS no longer has it."""

    def list(self, kind: EntityKind, start: int = 0) -> Iterator[object]:
        """Every entity of a kind, as Pms* models, all pages (for tasks: the maintenance requests), in a stable
        order (the PMS's ids); `start` skips the first that many without reading them (a reconciliation resumes
        there in a later invocation)."""

    def ensure_resident_request(self, request: NewResidentRequest) -> str:
        """Create the resident's maintenance request unless one with this reference exists; return its PMS
        id. Raises `UnitCannotHoldRequests` when the PMS cannot hold a request for the unit."""

    def ensure_work_order(self, order: NewWorkOrder) -> str:
        """Create the PMS work order under the request (order.task_pms_id) unless one with this reference
        exists; return its PMS id. A PMS that needs a vendor on work orders raises `PmsError` without one."""

    def sync_work_order(self, work_order_pms_id: str | None, task_pms_id: str, state: WorkOrderSync) -> None:
        """Bring the PMS work order (if there is one yet) and its request up to `state`. Idempotent: the same
        state twice writes nothing the second time. A record deleted in the PMS is skipped, not an error."""

    def ensure_bill(self, bill: NewBill) -> str:
        """Create the bill unless one with this reference exists (retries are safe); upload the attachment once;
        return the PMS bill id. Raises PmsError; a `PmsRejected` one will fail the same way on every retry."""


class WebhookVerifier(Protocol):
    """A PMS's signed webhook callbacks: authenticate, then parse into the neutral `PmsEvent`."""

    def verify(self, headers: Mapping[str, str], body: bytes, now: float | None = None) -> PmsEvent | None:
        """Authenticate the delivery, then parse it (`now`: UNIX seconds, for tests; default the clock).

        Authenticating means: the signature over the body checked in constant time (`hmac.compare_digest`),
        its timestamp within the replay window (neither stale nor in the future), and the account the PMS
        names the configured one (when one is configured). Any failure raises `WebhookRejected` with one of
        `REJECTION_REASONS` and nothing is parsed. A genuine event returns its `PmsEvent`; a genuine event
        of a kind Opslayer does not follow returns None (acknowledged and ignored by the caller)."""


REJECTION_REASONS = ("missing_signature", "bad_signature", "stale_timestamp", "future_timestamp", "wrong_account",
                     "malformed_body")


class WebhookRejected(Exception):
    """A webhook that is not accepted. `reason` is one of REJECTION_REASONS: "malformed_body" is the sender's
    error (HTTP 400), every other reason means the delivery is not authentic (HTTP 401)."""

    def __init__(self, reason: str) -> None:
        if reason not in REJECTION_REASONS:
            raise ValueError(f"unknown webhook rejection reason: {reason!r}")
        super().__init__(reason)
        self.reason = reason
