"""The API's JSON answers as pydantic models, for the OpenAPI document (``documented(..., response="answers.Model")``).

The read models of shared/services/views.py (TenantStatus, VendorJob, ApprovalView) and the on-call page's
(shared/services/paging.py PageView) are answers as they are.
The answers of a few fields are built with the models below, so the document cannot drift from them. Records a
use case assembles (a work order, its full record, KPIs, setup records) are described by their stable
top-level fields: `Record` answers may carry more (additionalProperties), nested parts are objects.
tests/integration/test_api_fuzz.py checks the answers it gets against the document (schemathesis)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, RootModel

from shared.services.config import SetupItem
from shared.services.views import View, VisitWindow


class Record(View):
    """An answer whose fields beyond the ones named here come from a stored record or a use case."""

    model_config = ConfigDict(frozen=True, extra="allow")


class Health(View):
    status: str
    service: str


class RequestAccepted(View):
    id: str
    status: str
    status_url: str


class WorkOrderState(View):
    """A work order after an action: its id and status."""

    id: str
    status: str


class SafetyAnswered(WorkOrderState):
    priority: str | None


class Rated(View):
    id: str
    rating: int


class VisitAnswered(WorkOrderState):
    window: VisitWindow | None
    proposal: VisitWindow | None


class VendorActed(WorkOrderState):
    allowed_actions: list[str]


class TriageCorrected(WorkOrderState):
    trade: str | None
    priority: str | None
    redispatched: bool
    tenant_told: bool


class Restarted(WorkOrderState):
    resume_at: str | None
    execution_arn: str | None


class Steered(Restarted):
    action: str
    vendor_id: str | None


class InvoiceSubmitted(View):
    invoice_id: str
    work_order_id: str
    status: str
    total: str
    currency: str


class InvoiceDecided(View):
    invoice_id: str
    status: str


class Outcome(View):
    """What became of a webhook call: `ignored`, or queued."""

    status: str


class Accepted(View):
    status: str
    message: str


class PhotoUpload(View):
    """A presigned POST: send `fields` and the file (last) as multipart/form-data to `url`."""

    url: str
    fields: dict[str, str]
    key: str
    max_bytes: int
    content_types: list[str]
    expires_in: int
    photos: int
    limit: int


class PageLink(View):
    """A link a browser opens (`url`; `path`: below the API's base) until `expires_at`."""

    url: str
    path: str
    expires_at: str


class OwnerReportLink(PageLink):
    property_id: str
    month: str


class Acknowledged(View):
    work_order_id: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    acknowledged_after_s: int | None


class OpsWorkOrder(Record):
    """A work order as ops see it (its stored fields, the PMS's ids under `pms`)."""

    id: str
    status: str
    pms: dict[str, Any]


class WorkOrderSummary(Record):
    id: str
    status: str


class WorkOrderPage(View):
    work_orders: list[WorkOrderSummary]
    count: int
    next_cursor: str | None


class FullRecord(Record):
    """Every step, message, actor, photo, invoice, check, coding, approval and bill of one work order."""

    work_order: dict[str, Any]
    property: dict[str, Any]
    unit: dict[str, Any]
    vendor: dict[str, Any] | None
    timeline: list[dict[str, Any]]
    generated_at: str


class Corrections(View):
    corrections: list[dict[str, Any]]


class InvoiceExceptions(View):
    exceptions: list[dict[str, Any]]
    count: int


class DeadLetters(View):
    queues: list[dict[str, Any]]


class RedriveStarted(Record):
    queue: str
    depth: int


class AuditLog(View):
    actions: list[dict[str, Any]]


class PersonRecords(Record):
    """What is held about a person, or what was erased of it (counts)."""


class SetupExport(RootModel[dict[str, list[SetupItem]]]):
    """The whole setup: kind -> its records in id order."""


class SetupItems(View):
    kind: str
    items: list[SetupItem]
    count: int


class SetupHistory(View):
    kind: str
    id: str
    versions: list[SetupItem]


class DrillSetup(Record):
    """The drill's property, units and vendors."""


class DrillMessages(View):
    messages: list[dict[str, Any]]
    next: str | None


class Kpis(Record):
    """KPI values (`kpis`), over a period or for the listed work orders, with the rules' version."""

    rules_version: Any
    kpis: Any


class Baseline(Record):
    """The KPI baseline as set: a period and/or figures, and the day the checkpoints start from."""

    deployed_on: str


class Backfilled(Record):
    work_orders: int
    changed: int


class OpenApiDocument(Record):
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class NpsQuestion(View):
    quarter: str
    answered: bool
    language: str


class NpsAnswered(View):
    quarter: str
    score: int
