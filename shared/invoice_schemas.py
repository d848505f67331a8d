"""Request bodies of the money side (invoices, approvals, closing), validated with pydantic (4xx on failure).
Kept apart from shared.schemas so the routes that never see an invoice do not build these models."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from shared.schemas import Strict

MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024  # under the 6 MB Lambda payload once base64-encoded
Money = Annotated[Decimal, Field(ge=0, le=Decimal("100000"), max_digits=9, decimal_places=2)]


class InvoiceLineIn(Strict):
    kind: Literal["labour", "material", "trip", "tax"]
    description: str = Field(min_length=1, max_length=200)
    quantity: Annotated[Decimal, Field(gt=0, le=Decimal("1000"), max_digits=7, decimal_places=2)]
    unit_price: Money


class AttachmentIn(Strict):
    filename: str = Field(min_length=1, max_length=120, pattern=r"^[\w .()\-]+$")
    content_type: Literal["application/pdf", "image/jpeg", "image/png"]
    data_base64: str = Field(min_length=4, max_length=(MAX_ATTACHMENT_BYTES * 4) // 3 + 8)

    def data(self) -> bytes:
        try:
            raw = base64.b64decode(self.data_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("attachment.data_base64 is not valid base64") from exc
        return raw


class InvoiceIn(Strict):
    invoice_number: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/#\-]*$")
    invoice_date: date
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=50)
    total: Annotated[Decimal, Field(gt=0, le=Decimal("250000"), max_digits=10, decimal_places=2)]
    attachment: AttachmentIn | None = None

    @field_validator("total")
    @classmethod
    def _adds_up(cls, total: Decimal, info: ValidationInfo) -> Decimal:
        lines = info.data.get("lines")
        if lines:
            summed = sum(((line.quantity * line.unit_price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                          for line in lines), Decimal(0))
            if summed != total:
                raise ValueError(f"does not equal the sum of the lines ({summed})")
        return total


class Reject(Strict):
    reason: str = Field(min_length=3, max_length=1000)


class CloseWithoutInvoice(Strict):
    reason: str = Field(min_length=3, max_length=500)


class InvoiceForm(BaseModel):
    """The job page's invoice form as the OpenAPI document shows it (urlencoded, or multipart with a PDF or
    photo as `attachment`): `invoice_from_form` makes it the InvoiceIn body, whose rules then apply. Every
    field is text, as a form sends it; amounts are decimals. Other fields are ignored."""

    invoice_number: str
    invoice_date: str = Field(json_schema_extra={"format": "date"})
    currency: str
    total: str
    labour_description: str = ""
    labour_hours: str = ""
    labour_rate: str = ""
    materials_description: str = ""
    materials_amount: str = ""
    trip_charge: str = ""
    tax: str = ""
    attachment: bytes | None = Field(default=None, json_schema_extra={"contentMediaType": "application/pdf"})


def invoice_from_form(fields: dict[str, str], file: tuple[str, str, bytes] | None) -> dict[str, object]:
    """The job page's invoice form (labour hours x rate, materials, trip charge, tax) as an InvoiceIn body.
    Empty amounts are left out; the stated total must still equal the lines."""
    lines: list[dict[str, object]] = []
    if fields.get("labour_hours") or fields.get("labour_rate"):
        lines.append({"kind": "labour", "description": fields.get("labour_description") or "Labour",
                      "quantity": fields.get("labour_hours") or "0", "unit_price": fields.get("labour_rate") or "0"})
    if fields.get("materials_amount"):
        lines.append({"kind": "material", "description": fields.get("materials_description") or "Materials",
                      "quantity": "1", "unit_price": fields["materials_amount"]})
    if fields.get("trip_charge"):
        lines.append({"kind": "trip", "description": "Trip charge", "quantity": "1",
                      "unit_price": fields["trip_charge"]})
    if fields.get("tax"):
        lines.append({"kind": "tax", "description": "Tax", "quantity": "1", "unit_price": fields["tax"]})
    body: dict[str, object] = {k: fields[k] for k in ("invoice_number", "invoice_date", "currency", "total")
                               if fields.get(k)}
    body["lines"] = lines
    if file:
        filename, content_type, data = file
        body["attachment"] = {"filename": re.sub(r"[^\w .()\-]", "_", filename)[-120:] or "invoice",
                              "content_type": content_type, "data_base64": base64.b64encode(data).decode()}
    return body


