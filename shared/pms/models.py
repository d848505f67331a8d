"""PMS-agnostic records. Adapters map their PMS's JSON to these; use cases never see PMS JSON."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.domain.model import Model


class EntityKind(StrEnum):
    PROPERTY = "property"
    UNIT = "unit"
    TENANT = "tenant"
    LEASE = "lease"
    VENDOR = "vendor"
    VENDOR_CATEGORY = "vendor_category"
    GL_ACCOUNT = "gl_account"
    TASK = "task"
    WORK_ORDER = "work_order"
    BILL = "bill"


class Operation(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class PmsEvent(Model):
    """A thin webhook event, parsed: which entity changed, how and when (the entity is fetched later)."""

    pms: str
    name: str  # the PMS's own event name, e.g. "Task.Created"
    kind: EntityKind
    operation: Operation
    pms_id: str
    occurred_at: datetime
    account_id: str
    parent_ids: dict[str, str] = Field(default_factory=dict)  # e.g. {"property": "12"} when the PMS sends it


class PmsAddress(Model):
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""

    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, " ".join(p for p in (self.state, self.postal_code) if p)]
        return ", ".join(p for p in parts if p)


class PmsProperty(Model):
    pms_id: str
    name: str
    address: PmsAddress = Field(default_factory=PmsAddress)
    is_active: bool = True


class PmsUnit(Model):
    pms_id: str
    property_pms_id: str
    label: str  # the unit number as people say it ("1A", "302")
    address: PmsAddress | None = None
    description: str = ""


class PmsTenant(Model):
    pms_id: str
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    phone: str | None = None  # as the PMS stores it; the sync normalises to E.164 where it can

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PmsLease(Model):
    pms_id: str
    property_pms_id: str
    unit_pms_id: str
    tenant_pms_ids: list[str] = Field(default_factory=list)
    status: str  # "active" | "past" | "future"
    start: date | None = None
    end: date | None = None


class PmsVendorCategory(Model):
    pms_id: str
    name: str


class PmsVendorInsurance(Model):
    """The vendor's liability insurance as the PMS records it."""

    provider: str | None = None
    policy_number: str | None = None
    expires_on: date | None = None  # None: the PMS records no expiration


class PmsVendor(Model):
    pms_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    category_pms_id: str | None = None
    category_name: str | None = None
    address: PmsAddress | None = None
    is_active: bool = True
    insurance: PmsVendorInsurance | None = None  # None: nothing on file


class PmsGLAccount(Model):
    pms_id: str
    number: str = ""
    name: str
    type: str = ""  # e.g. "Expense"
    is_active: bool = True


class PmsTask(Model):
    """A resident request (or another kind of task) in the PMS."""

    pms_id: str
    kind: str = "resident_request"  # "resident_request" | "todo" | "contact_request" | "owner_request" | ...
    title: str
    description: str = ""
    property_pms_id: str | None = None
    unit_pms_id: str | None = None
    requested_by_pms_id: str | None = None  # the tenant who asked, when known
    status: str = ""
    priority: str = ""
    updated_at: datetime | None = None


class PmsWorkOrder(Model):
    pms_id: str
    task_pms_id: str | None = None
    vendor_pms_id: str | None = None
    title: str = ""
    description: str = ""
    status: str = ""
    priority: str = ""
    due: date | None = None
    updated_at: datetime | None = None


class PmsBill(Model):
    pms_id: str
    vendor_pms_id: str | None = None
    work_order_pms_id: str | None = None
    reference: str = ""
    total: Decimal | None = None
    bill_date: date | None = None
    due: date | None = None
    memo: str = ""
    opslayer_reference: str | None = None  # set when Opslayer wrote the bill (NewBill.reference): our own write


# ------------------------------------------------------------------ writes (Opslayer -> PMS)
class NewResidentRequest(Model):
    reference: str  # the Opslayer work-order id: makes the write idempotent
    property_pms_id: str
    unit_pms_id: str
    requested_by_pms_id: str | None = None
    title: str
    description: str
    priority: str  # Opslayer priority: "emergency" | "urgent" | "routine"; the adapter maps it


class NewWorkOrder(Model):
    reference: str
    task_pms_id: str
    vendor_pms_id: str | None = None
    title: str
    description: str
    priority: str


class WorkOrderSync(Model):
    """The Opslayer state pushed to the PMS after every lifecycle change (state, not deltas)."""

    status: str  # Opslayer status; the adapter maps it to the PMS's statuses
    vendor_pms_id: str | None = None
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    notes: str = ""


class NewBillLine(Model):
    gl_account_pms_id: str  # the PMS's GL account id (string, as the other pms ids)
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    memo: str
    # The accounting entity the line is charged to: the rental property and, when known, its unit.
    property_pms_id: str | None = None
    unit_pms_id: str | None = None


ATTACHMENT_TYPES = ("application/pdf", "image/")


class BillAttachment(Model):
    """The vendor's invoice file. As JSON the bytes are base64 (round trip with model_dump_json and
    model_validate_json, e.g. through a queue)."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    filename: str = Field(min_length=1)
    content_type: str  # application/pdf or image/*
    data: bytes = Field(min_length=1, repr=False)

    @field_validator("content_type")
    @classmethod
    def _pdf_or_image(cls, value: str) -> str:
        value = value.split(";")[0].strip().lower()
        if not (value == ATTACHMENT_TYPES[0] or (value.startswith(ATTACHMENT_TYPES[1]) and len(value) > 6)):
            raise ValueError("an invoice attachment must be a PDF or an image")
        return value


class NewBill(Model):
    """A vendor invoice Opslayer approved, to be entered as a bill in the PMS (all lines in one write)."""

    reference: str = Field(min_length=1)  # Opslayer's invoice id: the idempotency key, kept in the PMS bill
    vendor_pms_id: str
    work_order_pms_id: str | None  # links the bill to the PMS work order
    invoice_number: str  # the vendor's invoice number
    bill_date: date
    due_date: date
    memo: str
    lines: list[NewBillLine] = Field(min_length=1)
    attachment: BillAttachment | None = None

    @model_validator(mode="after")
    def _due_after_billed(self) -> NewBill:
        if self.due_date < self.bill_date:
            raise ValueError("due_date is before bill_date")
        return self

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))
