"""Arrange helpers for the money-side and PMS service tests: a job brought to "the invoice is due" through
the use cases themselves, invoice bodies, the demo portfolio linked to the in-memory PMS, and the one place
that knows how views name PMS ids (so a rename touches one function)."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from infra import demo
from shared.domain.workorder import Status, WorkOrder
from shared.invoice_schemas import InvoiceIn
from shared.schemas import VisitTime
from shared.services.container import Services
from shared.services.invoicing import await_invoice
from shared.services.visits import vendor_schedule
from shared.services.workorders import (
    answer_follow_up,
    rank,
    start_lifecycle,
    triage,
    vendor_accept,
    vendor_checkin,
    vendor_complete,
)
from tests.fakes import FakeWorkflow, InMemoryPms
from tests.service.steps import offer_to, submit

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LEAK = "The kitchen faucet drips constantly"  # plumbing, routine
# Demo records as the PMS knows them (the demo is seeded without PMS ids: `link_demo_to_pms` adds these).
PMS_IDS = {"prop-maple": "101", "prop-harbor": "102", "ven-aqua": "4101", "ven-pipeline": "4102",
           "ven-southflow": "4108", "ven-volt": "4103"}
GL_ACCOUNTS = {"6000": ("9010", "General Repairs"), "6010": ("9011", "Plumbing Repairs"),
               "6020": ("9012", "Electrical Repairs"), "6060": ("9016", "Preventive Maintenance")}


def workflow(svc: Services) -> FakeWorkflow:
    assert isinstance(svc.workflow, FakeWorkflow)
    return svc.workflow


def fake_pms(svc: Services) -> InMemoryPms:
    pms = svc.pms()
    assert isinstance(pms, InMemoryPms)
    return pms


def vendor_token(svc: Services, wo_id: str, vendor_id: str) -> str:
    """The vendor's job link token (what the offer SMS carries)."""
    return svc.link_tokens().issue(wo_id, "vendor", vendor_id, svc.settings.link_ttl_seconds)


def completed_job(svc: Services, unit_id: str, description: str = LEAK, hours_on_site: float = 1,
                  ) -> tuple[WorkOrder, str]:
    """Submitted, triaged, offered to the first-ranked vendor, accepted, scheduled tomorrow, checked in on
    site and completed `hours_on_site` later: (the work order, the vendor's link token)."""
    wo = submit(svc, unit_id, description)
    start_lifecycle(svc, wo.id)
    decided = triage(svc, wo.id)
    rank(svc, wo.id, reopen=False)
    offer_to(svc, wo.id, 0, decided)
    vendor_id = svc.repo.get_work_order(wo.id).candidates[0]
    token = vendor_token(svc, wo.id, vendor_id)
    vendor_accept(svc, token)
    start = svc.clock() + timedelta(days=1)
    vendor_schedule(svc, token, VisitTime(start=start, end=start + timedelta(hours=2)))
    svc.clock.set(start)
    vendor_checkin(svc, token, None)
    svc.clock.advance(hours=hours_on_site)
    done = vendor_complete(svc, token, "Replaced the supply line")
    assert done.status == Status.COMPLETED
    return done, token


def verified_job(svc: Services, unit_id: str, description: str = LEAK, hours_on_site: float = 1,
                 ) -> tuple[WorkOrder, str, str]:
    """A completed job the tenant confirmed, the workflow parked waiting for the invoice:
    (the work order, the vendor's link token, the invoice wait's task token)."""
    wo, token = completed_job(svc, unit_id, description, hours_on_site)
    answer_follow_up(svc, wo.id, resolved=True, comment=None)
    wait = workflow(svc).wait_token("invoice", execution=wo.id)
    await_invoice(svc, wo.id, wait)
    awaited = svc.repo.get_work_order(wo.id)
    assert awaited.status == Status.INVOICE_AWAITED
    return awaited, token, wait


def invoice_lines(hours: str = "1", labour_rate: str = "95.00", materials: str = "42.50", trip: str = "75.00",
                  tax: str = "3.40") -> list[dict[str, str]]:
    lines = [{"kind": "labour", "description": "Plumber", "quantity": hours, "unit_price": labour_rate},
             {"kind": "material", "description": "Supply line and fittings", "quantity": "1", "unit_price": materials},
             {"kind": "trip", "description": "Trip charge", "quantity": "1", "unit_price": trip},
             {"kind": "tax", "description": "Sales tax on materials", "quantity": "1", "unit_price": tax}]
    return [line for line in lines if Decimal(line["unit_price"]) > 0]


def invoice(number: str, *, on: date, attachment: bytes | None = PDF, content_type: str = "application/pdf",
            **amounts: str) -> InvoiceIn:
    """A valid invoice body (the total is the sum of the lines); `amounts` as in `invoice_lines`."""
    extra = amounts.pop("currency", None)
    lines = invoice_lines(**amounts)
    total = sum((Decimal(x["quantity"]) * Decimal(x["unit_price"])).quantize(Decimal("0.01")) for x in lines)
    body: dict[str, Any] = {"invoice_number": number, "invoice_date": on.isoformat(), "currency": extra or "USD",
                            "lines": lines, "total": str(total)}
    if attachment is not None:
        extension = {"image/jpeg": "jpg", "image/png": "png"}.get(content_type, "pdf")
        body["attachment"] = {"filename": f"{number}.{extension}", "content_type": content_type,
                              "data_base64": base64.b64encode(attachment).decode()}
    return InvoiceIn.model_validate(body)


def link_demo_to_pms(svc: Services) -> None:
    """Give the demo's properties, units and some vendors PMS ids, and list the PMS's GL accounts (what
    the initial import does on a deployed stack)."""
    for prop_id in ("prop-maple", "prop-harbor"):
        prop = svc.repo.get_property(prop_id)
        svc.repo.put_property(prop.model_copy(update={"pms_id": PMS_IDS[prop_id]}))
    for n, demo_unit in enumerate(demo.UNITS):
        unit = svc.repo.get_unit(demo_unit.id)
        svc.repo.put_unit(unit.model_copy(update={"pms_id": str(2001 + n), "tenant_pms_id": str(3001 + n)}))
    for vendor_id, pms_id in PMS_IDS.items():
        if vendor_id.startswith("ven-"):
            vendor = svc.repo.get_vendor(vendor_id)
            svc.repo.put_vendor(vendor.model_copy(update={"pms_id": pms_id}))
    for number, (pms_id, name) in GL_ACCOUNTS.items():
        svc.repo.put_listed("GLACCOUNTS", pms_id, {"pms_id": pms_id, "number": number, "name": name})


def pms_ids_in_view(view: dict[str, Any]) -> dict[str, Any]:
    """The PMS task and work-order ids an ops view shows (the one place that knows their field names)."""
    if "pms" in view and isinstance(view["pms"], dict):
        return {"task_id": view["pms"].get("task_id"), "work_order_id": view["pms"].get("work_order_id")}
    return {"task_id": view.get("buildium_task_id"), "work_order_id": view.get("buildium_work_order_id")}
