"""Invoices (versioned like work orders) and vendors' invoice numbers (the duplicate check).

  invoices of a work order    PK=WO#<id>                SK=INV#<invoice id>
  a vendor's invoice numbers  PK=VINV#<vendor id>       SK=<number, lower case>
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.adapters.aws import error_code
from shared.adapters.repository.table import Table
from shared.domain.errors import ConcurrentUpdate, NotFound

if TYPE_CHECKING:  # the invoice model is built on first use: most functions never touch invoices
    from shared.domain.invoices import Invoice


class Invoices(Table):
    def save_invoice(self, inv: Invoice, expected_version: int | None) -> Invoice:
        """Create (expected_version None) or update an invoice with a version check."""
        new = inv.model_copy(update={"version": (expected_version or 0) + 1 if expected_version is not None else 1})
        item = self._item({"PK": f"WO#{inv.work_order_id}", "SK": f"INV#{inv.id}", "type": "invoice",
                           **new.model_dump(mode="json")})
        condition = {"ConditionExpression": "attribute_not_exists(PK)"} if expected_version is None else {
            "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}
        try:
            self.db.put_item(TableName=self.table, Item=item, **condition)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(f"invoice {inv.id} changed meanwhile") from exc
            raise
        return new

    def get_invoice(self, wo_id: str, invoice_id: str) -> Invoice:
        from shared.domain.invoices import Invoice

        data = self._get(f"WO#{wo_id}", f"INV#{invoice_id}")
        if data is None:
            raise NotFound(f"No invoice {invoice_id}.")
        return Invoice.model_validate(data)

    def invoices_for(self, wo_id: str) -> list[Invoice]:
        from shared.domain.invoices import Invoice

        resp = self.db.query(TableName=self.table, KeyConditionExpression="PK = :pk AND begins_with(SK, :inv)",
                             ExpressionAttributeValues={":pk": {"S": f"WO#{wo_id}"}, ":inv": {"S": "INV#"}},
                             ConsistentRead=True)
        return sorted((Invoice.model_validate(self._data(i)) for i in resp["Items"]), key=lambda i: i.submitted_at)

    def claim_invoice_number(self, vendor_id: str, number: str, invoice_id: str, wo_id: str) -> dict[str, Any] | None:
        """Record a vendor's invoice number; returns the earlier claim if the number was already used."""
        key = number.strip().lower()
        if self._put_first({"PK": f"VINV#{vendor_id}", "SK": key, "invoice_id": invoice_id, "work_order_id": wo_id}):
            return None
        return self._get(f"VINV#{vendor_id}", key)
