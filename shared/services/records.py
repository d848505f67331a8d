"""The closed work order's documentation: one record with every step, message, actor, invoice, check,
coding, approval and bill (ops API JSON, and the printable report built from it)."""

from __future__ import annotations

from typing import Any

from shared.services.container import Services
from shared.services.photos import view_links
from shared.services.views import ops_view


def full_record(svc: Services, wo_id: str) -> dict[str, Any]:
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    record = ops_view(svc, wo)
    timeline = record.pop("timeline", [])
    prop = svc.repo.get_property(record["property_id"])
    unit = svc.repo.get_unit(record["unit_id"])
    vendor = svc.repo.find_vendor(record["vendor_id"]) if record.get("vendor_id") else None
    invoices = []
    for inv in svc.repo.invoices_for(wo_id):
        data = inv.model_dump(mode="json")
        if data.get("approval"):
            data["approval"].pop("task_token", None)  # a capability, never shown
        if inv.attachment:
            data["attachment"]["download_url"] = svc.documents().view_url(inv.attachment.key, 900)
        data["lines"] = [{**line, "amount": str(original.amount)} for line, original in zip(data["lines"], inv.lines,
                                                                                         strict=True)]
        invoices.append(data)
    current = next((i for i in invoices if i["id"] == record.get("invoice_id")), None)
    return {
        "work_order": record,
        "property": {"id": prop.id, "name": prop.name, "address": prop.address, "pms_id": prop.pms_id},
        "unit": {"id": unit.id, "label": unit.label, "pms_id": unit.pms_id},
        "vendor": {"id": vendor.id, "name": vendor.name, "pms_id": vendor.pms_id} if vendor else None,
        "timeline": timeline,
        "messages": [e for e in timeline if e["event"] in ("notified", "sms_deferred", "sms_suppressed")],
        "actions": [e for e in timeline if e["event"] not in ("notified", "sms_deferred", "sms_suppressed")],
        "photos": view_links(svc, wo),  # with short-lived links (the bucket is private)
        "invoices": invoices,
        "invoice": current,
        "bill": {"provider": svc.settings.pms_provider, "bill_id": record["bill_pms_id"]} if record.get("bill_pms_id")
        else None,
        "generated_at": svc.clock().isoformat(),
    }
