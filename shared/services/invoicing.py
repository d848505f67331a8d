"""The money side of a work order: invoice intake and matching, checks and coding, approval, the bill in
the PMS and closure. Each step is one versioned write (work order and invoice) plus its events; the
workflow (state_machines/work_order.asl.json) drives the order and the timers."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared.domain import links
from shared.domain.errors import InvalidInput, InvalidTransition, LinkRejected, NotFound
from shared.domain.inbound_email import REFERENCE
from shared.domain.invoices import (
    Attachment,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    JobFacts,
    approval_route,
    cents,
    code,
    default_rules,
    new_invoice_id,
    run_checks,
    sniff,
)
from shared.domain.workorder import INVOICE_STATUSES, TRANSITIONS, StageWait, Status, WorkOrder
from shared.observability import count, logger
from shared.pms.port import PmsError, PmsRejected
from shared.services.container import Services
from shared.services.drill import DRILL_BILL_PREFIX
from shared.services.writes import Edit, entry, mutate, publish, vendor_scope

if TYPE_CHECKING:
    from shared.invoice_schemas import InvoiceIn
    from shared.services.views import ApprovalView

# A vendor may invoice once the work is done; only one invoice is processed at a time.
INVOICEABLE = INVOICE_STATUSES
ACTIVE = (InvoiceStatus.SUBMITTED, InvoiceStatus.PENDING_APPROVAL, InvoiceStatus.APPROVED, InvoiceStatus.BILLED)
EXCEPTIONS = "INVOICE_EXCEPTIONS"
# The job was escalated while waiting for the invoice: a late one is still taken and billed.
LATE_INVOICE_FROM = frozenset({Status.VERIFIED, Status.INVOICE_AWAITED})


def _stage_status(wo: WorkOrder) -> Status:
    """Where the job's work stands: for an escalated job, the status it stalled in (a late invoice for a
    verified job is for verified work)."""
    return wo.escalated_from if wo.status == Status.ESCALATED and wo.escalated_from else wo.status


def _invoiceable(wo: WorkOrder) -> bool:
    """Work done and not closed: while it runs, or escalated after the work (a late invoice)."""
    return _stage_status(wo) in INVOICEABLE


def _money(value: Decimal, currency: str) -> str:
    return f"{cents(value):,.2f} {currency}"


def current_invoice(svc: Services, wo: WorkOrder) -> Invoice | None:
    return svc.repo.get_invoice(wo.id, wo.invoice_id) if wo.invoice_id else None


# ---------------------------------------------------------------- intake
def submit_by_link(svc: Services, token: str, body: InvoiceIn) -> Invoice:
    """The vendor's job link matches the invoice to its work order (the link's scope)."""
    scope = vendor_scope(svc, token, "invoice")
    return submit(svc, scope.work_order_id, scope.party_id, body, source="link")


def submit(svc: Services, wo_id: str, vendor_id: str, body: InvoiceIn, source: str) -> Invoice:
    """Validate against the job, keep the attachment, store the invoice, then (if the workflow is
    waiting for it) hand it on. A retry of the same submission returns the invoice already stored."""
    wo = svc.repo.get_work_order(wo_id)
    if wo.vendor_id != vendor_id:
        raise LinkRejected("This link does not allow that. Use the latest link we sent you.",
                           {"reason": "out_of_scope"})
    existing = current_invoice(svc, wo)
    if existing and existing.invoice_number == body.invoice_number and existing.vendor_id == vendor_id:
        return existing  # the same invoice sent again (a retry)
    if wo.status == Status.CLOSED:
        raise InvalidTransition("This work order is closed; it takes no more invoices.", {"status": "closed"})
    if existing and existing.status in ACTIVE:
        raise InvalidTransition(f"Invoice {existing.invoice_number} for this job is already {existing.status.value}.",
                                {"status": wo.status.value, "invoice": existing.status.value})
    if not _invoiceable(wo):
        raise InvalidTransition(f"An invoice is not possible now: the job is {wo.status.value}.",
                                {"status": wo.status.value})
    if body.currency != wo.currency:
        raise InvalidInput(f"This job is billed in {wo.currency}.",
                           [{"field": "currency", "message": f"must be {wo.currency}"}])
    inv_id = new_invoice_id()
    attachment = _keep_attachment(svc, wo, inv_id, body)
    claim = svc.repo.claim_invoice_number(vendor_id, body.invoice_number, inv_id, wo.id)
    duplicate_of = None
    if claim and claim.get("work_order_id") != wo.id:
        duplicate_of = f"{claim.get('invoice_id')} on {claim.get('work_order_id')}"
    inv = Invoice(id=inv_id, work_order_id=wo.id, vendor_id=vendor_id, invoice_number=body.invoice_number,
                  invoice_date=body.invoice_date, currency=body.currency,
                  lines=[InvoiceLine(**line.model_dump()) for line in body.lines], total=cents(body.total),
                  source=source, attachment=attachment, work_order_status_at_submission=_stage_status(wo).value,
                  submitted_at=svc.clock(), duplicate_of=duplicate_of)
    inv = svc.repo.save_invoice(inv, None)
    def attach(current: WorkOrder) -> Edit[None] | None:
        if current.invoice_id == inv.id:
            return None
        # An invoice in progress keeps its id on the work order (a rejection clears it): no second read.
        if current.invoice_id is not None or not _invoiceable(current):
            raise InvalidTransition("Another invoice or a closure got here first.", {"status": current.status.value})
        return Edit(current.model_copy(update={"invoice_id": inv.id}), [entry(
            svc, "invoice_received", f"Invoice {inv.invoice_number} for {_money(inv.total, inv.currency)} received "
                                     f"({source})", actor=f"vendor:{vendor_id}")])

    change = mutate(svc, wo.id, attach)
    saved = change.after
    if saved is None:
        return inv
    count("InvoiceReceived")
    publish(svc, "InvoiceReceived", saved, f"invoice:{inv.id}", vendor_id=vendor_id, invoice_id=inv.id)
    wait = change.before.stage_wait
    if wait and wait.stage == "invoice":
        svc.workflow.resume(wait.task_token, {"outcome": "submitted", "invoice_id": inv.id})
    elif saved.status == Status.ESCALATED and saved.escalated_from in LATE_INVOICE_FROM:
        _late_invoice(svc, saved.id, inv, vendor_id)
    return inv


def _late_invoice(svc: Services, wo_id: str, inv: Invoice, vendor_id: str) -> None:
    """The invoice came after the job was escalated for want of it: the lifecycle starts again at the
    invoice step, which finds it in and codes it (then approval and the bill, as for any invoice)."""
    def decide(wo: WorkOrder) -> Edit[str]:
        if wo.status != Status.ESCALATED or wo.invoice_id != inv.id:
            raise InvalidTransition("The job is no longer waiting for this invoice.", {"status": wo.status.value})
        return Edit(wo.model_copy(update={"status": Status.INVOICE_AWAITED, "reminders": {}}), [entry(
            svc, "late_invoice", f"Invoice {inv.invoice_number} came after the escalation: invoicing goes on",
            actor=f"vendor:{vendor_id}")], result="invoice")

    from shared.services import steering  # cold start: only an invoice after an escalation restarts the lifecycle

    steering.restart(svc, wo_id, decide)


def _keep_attachment(svc: Services, wo: WorkOrder, inv_id: str, body: InvoiceIn) -> Attachment | None:
    if body.attachment is None:
        return None
    try:
        data = body.attachment.data()
    except ValueError as exc:
        raise InvalidInput("The attachment is not valid base64.",
                           [{"field": "attachment.data_base64", "message": str(exc)}]) from exc
    from shared.invoice_schemas import MAX_ATTACHMENT_BYTES  # cold start: the API's schemas only on this path

    if len(data) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput("The attachment is too large.", [{"field": "attachment", "message":
                                                            f"at most {MAX_ATTACHMENT_BYTES // 1048576} MB"}])
    actual = sniff(data)
    if actual != body.attachment.content_type:
        raise InvalidInput("The attachment is not what it says it is.", [{
            "field": "attachment.content_type",
            "message": f"the file is {actual or 'not a PDF, JPEG or PNG'}, not {body.attachment.content_type}"}])
    key = f"invoices/{wo.id}/{inv_id}/{body.attachment.filename}"
    svc.documents().put(key, data, actual)
    return Attachment(key=key, filename=body.attachment.filename, content_type=actual, size=len(data))


def record_exception(svc: Services, source: str, reason: str, summary: dict[str, Any]) -> str:
    """An invoice that matches no work order: kept for ops (never dropped), listed by the ops API."""
    exc_id = f"invx-{svc.clock():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    svc.repo.put_listed(EXCEPTIONS, exc_id, {"id": exc_id, "source": source, "reason": reason,
                                             "received_at": svc.clock().isoformat(), **summary})
    count("InvoiceUnmatched")
    logger.warning("invoice matched no work order", extra={"exception_id": exc_id, "source": source})
    return exc_id


def exceptions(svc: Services) -> list[dict[str, Any]]:
    return sorted(svc.repo.listed(EXCEPTIONS), key=lambda e: e.get("received_at", ""))


# ---------------------------------------------------------------- workflow steps
def await_invoice(svc: Services, wo_id: str, task_token: str) -> None:
    """Park until the vendor invoices. An invoice that came early (before verification) goes on at once;
    a work order ops already closed ends the wait."""
    def apply(wo: WorkOrder) -> Edit[bool] | None:
        """Result: whether the wait is parked (no invoice came early)."""
        if wo.status not in (Status.VERIFIED, Status.INVOICE_AWAITED):
            return None
        pending = current_invoice(svc, wo)
        early = pending is not None and pending.status == InvoiceStatus.SUBMITTED
        update: dict[str, Any] = {}
        entries = []
        if wo.status == Status.VERIFIED:
            update["status"] = Status.INVOICE_AWAITED
            entries.append(entry(svc, "invoice_awaited", "Invoice already received" if early
                                 else "Waiting for the vendor's invoice"))
        if not early:
            update["stage_wait"] = StageWait(stage="invoice", task_token=task_token)
        return Edit(wo.model_copy(update=update), entries, result=not early) if update else None

    change = mutate(svc, wo_id, apply)
    parked = bool(change.result)
    if change.after is not None and parked and change.before.status == Status.VERIFIED:  # asked for it now
        publish(svc, "InvoiceRequested", change.after, "invoice_requested", vendor_id=change.after.vendor_id)
    if parked:
        return
    current = svc.repo.get_work_order(wo_id)
    outcome = "closed" if current.status in (Status.CLOSED, Status.ESCALATED, Status.CANCELLED) else "submitted"
    svc.workflow.resume(task_token, {"outcome": outcome, "invoice_id": current.invoice_id})


def remind(svc: Services, wo_id: str, stage: str) -> dict[str, bool]:
    """A wait timed out: remind (up to the configured count), then escalate. An owner who does not
    answer hands the approval to ops first."""
    limit = int(svc.settings.invoice_reminders)
    waiting_in = Status.INVOICE_AWAITED if stage == "invoice" else Status.CODED

    def apply(wo: WorkOrder) -> Edit[bool] | None:
        """Result: whether the approval is rerouted to ops (else a reminder). None: moved on, or out of
        reminders (the caller tells which from the state it was decided on)."""
        if wo.status != waiting_in:
            return None
        sent = wo.reminders.get(stage, 0)
        if sent < limit:
            return Edit(wo.model_copy(update={"reminders": {**wo.reminders, stage: sent + 1}}), [
                entry(svc, f"{stage}_reminder", f"Reminder {sent + 1} of {limit}: "
                      + ("the invoice is still due" if stage == "invoice" else "the invoice still needs approval"))],
                result=False)
        if stage == "approval":
            inv = current_invoice(svc, wo)
            if inv and inv.approval and inv.approval.route == "owner":
                return Edit(wo.model_copy(update={"reminders": {**wo.reminders, stage: 0}}), [
                    entry(svc, "approval_rerouted", "The owner did not answer; ops now approve this invoice")],
                    result=True)
        return None

    change = mutate(svc, wo_id, apply)
    wo = change.after
    if wo is None and change.before.status == waiting_in:  # out of reminders
        from shared.services.workorders import escalate  # cold start: only an escalation needs the use cases

        escalate(svc, wo_id, f"{stage}_overdue", "No invoice from the vendor after reminders; ops alerted"
                 if stage == "invoice" else "The invoice was not approved in time; ops alerted")
        return {"again": False}
    if wo is None:
        return {"again": True}  # the work order moved on meanwhile: the wait returns at once
    if change.result:
        inv = current_invoice(svc, wo)
        assert inv is not None and inv.approval is not None
        svc.repo.save_invoice(inv.model_copy(update={"approval": inv.approval.model_copy(
            update={"route": "ops", "reason": inv.approval.reason + "; the owner did not answer"})}), inv.version)
        publish(svc, "InvoiceApprovalRequested", wo, f"approval:{inv.id}:ops", invoice_id=inv.id, route="ops")
    else:
        event = "InvoiceReminder" if stage == "invoice" else "ApprovalReminder"
        detail: dict[str, Any] = {"vendor_id": wo.vendor_id}
        if stage == "approval" and wo.invoice_id:
            inv = current_invoice(svc, wo)
            detail.update(invoice_id=wo.invoice_id, route=inv.approval.route if inv and inv.approval else "ops")
        publish(svc, event, wo, f"{stage}_reminder:{wo.reminders.get(stage)}:{wo.invoice_id}", **detail)
    return {"again": True}


def job_facts(svc: Services, wo: WorkOrder, inv: Invoice) -> JobFacts:
    on_site = next((e.at for e in reversed(wo.timeline) if e.event == "checkin" and "on site" in e.detail), None)
    started = on_site or (wo.window.start if wo.window else None)
    if started and wo.completed_at and started > wo.completed_at:
        started = None  # finished before the planned window: when the work began is not known
    return JobFacts(work_order_id=wo.id, status_at_submission=inv.work_order_status_at_submission,
                    vendor_id=inv.vendor_id, trade=wo.trade.value if wo.trade else None, source=wo.source.value,
                    property_id=wo.property_id, unit_id=wo.unit_id, currency=wo.currency,
                    nte=Decimal(wo.nte_cents) / 100 if wo.nte_cents is not None else None,
                    recall=bool(wo.recall_of), work_started=started, on_site_from=started,
                    completed_at=wo.completed_at, duplicate_of=inv.duplicate_of)


def code_invoice(svc: Services, wo_id: str) -> dict[str, str]:
    """Run the named checks, code the invoice to the GL and choose its approval route (stored with the
    rules that decided). Clean and small: approved here and now."""
    wo = svc.repo.get_work_order(wo_id, with_timeline=True)
    inv = current_invoice(svc, wo)
    if inv is None:
        raise InvalidTransition("No invoice to code.", {"status": wo.status.value})
    if inv.approval is not None:  # a replayed step: keep the first decision
        return {"route": inv.approval.route, "invoice_id": inv.id}
    limits = (svc.repo.get_config("approval_limits") or {}).get(wo.property_id)  # ops' setup, if any
    rules = default_rules().with_limits(wo.property_id, limits)
    facts = job_facts(svc, wo, inv)
    checks = run_checks(inv, facts, rules, svc.clock().date())
    accounts = {a.get("number", ""): a for a in svc.repo.listed("GLACCOUNTS")}
    owner = _owner(svc, wo.property_id)
    coding = code(facts, rules, accounts, owner["name"] if owner else "(no owner on file)")
    checked = inv.model_copy(update={"checks": checks, "coding": coding})
    approval = approval_route(checked, rules, wo.property_id, has_owner=owner is not None)
    auto = approval.route == "auto"
    if auto:
        approval = approval.model_copy(update={"approver": "auto", "decision": "approved",
                                               "decided_at": svc.clock()})
    saved_inv = svc.repo.save_invoice(checked.model_copy(update={
        "approval": approval, "status": InvoiceStatus.APPROVED if auto else InvoiceStatus.PENDING_APPROVAL}),
        inv.version)
    failed = saved_inv.failed_checks()
    summary = f"{len(checks) - len(failed)} of {len(checks)} checks passed" + (
        "; failed: " + "; ".join(f"{c.rule} ({c.reason})" for c in failed) if failed else "")

    def apply(current: WorkOrder) -> Edit[None] | None:
        if current.status != Status.INVOICE_AWAITED:
            return None
        entries = [entry(svc, "invoice_checked", summary),
                   entry(svc, "invoice_coded", f"Coded to GL {coding.gl_account_number} {coding.gl_account_name}, "
                                                f"cost center {coding.cost_center} (rule {coding.rule})")]
        update: dict[str, Any] = {"status": Status.CODED, "stage_wait": None, "reminders": {}}
        if auto:
            update["status"] = Status.APPROVED
            entries.append(entry(svc, "invoice_approved", f"Approved automatically: {approval.reason}",
                                  actor="auto"))
        else:
            entries.append(entry(svc, "approval_requested", f"Approval by {approval.route}: {approval.reason}"))
        return Edit(current.model_copy(update=update), entries)

    if current := mutate(svc, wo_id, apply).after:
        count("InvoiceAutoApproved" if auto else "InvoiceNeedsApproval")
        publish(svc, "InvoiceCoded", current, f"coded:{inv.id}", invoice_id=inv.id, route=approval.route,
                 failed_checks=[c.rule for c in failed])
    return {"route": approval.route, "invoice_id": inv.id}


def code_step(svc: Services, wo_id: str, task_token: str) -> dict[str, Any]:
    """The workflow's coding step, a wait that answers itself in the routine case (Step Functions bills every
    state entered): code the invoice; one approved here and now is billed and the work order closed in the same
    step; one that needs a person parks for their decision (`await_approval`). A PMS that cannot take the bill
    now sends the job on to the bill step ("approved"), which retries with backoff. Idempotent: a retried step
    keeps the first coding, posts no second bill and closes once."""
    coded = code_invoice(svc, wo_id)
    if coded["route"] != "auto":
        await_approval(svc, wo_id, task_token)
        return {**coded, "parked": True}
    try:
        billed = bill_or_escalate(svc, wo_id)
    except PmsError as exc:  # PmsRejected is handled in bill_or_escalate: this is "not now"
        logger.warning("the PMS cannot take the bill now: on to the bill step's retries",
                       extra={"error": type(exc).__name__})
        svc.workflow.resume(task_token, {"outcome": "approved"})
        return {**coded, "billed": False}
    svc.workflow.resume(task_token, {"outcome": "billed", **billed})
    return {**coded, **billed}


def _owner(svc: Services, property_id: str) -> dict[str, Any] | None:
    owners = svc.repo.get_config("owners") or {}
    return owners.get(property_id)


def await_approval(svc: Services, wo_id: str, task_token: str) -> None:
    """Park until the approver decides. A decision writes the invoice, then the work order: a coded job whose
    invoice is already decided has a decision half-written, so the wait parks and that decision resumes it."""
    def apply(wo: WorkOrder) -> Edit[Invoice] | None:
        """Result: the invoice whose approval is requested now (None when the wait was parked before, or its
        decision is being written)."""
        if wo.status != Status.CODED:
            return None
        inv = current_invoice(svc, wo)
        if inv is None:
            return None
        first = not (wo.stage_wait and wo.stage_wait.stage == "approval")
        ask = first and inv.status == InvoiceStatus.PENDING_APPROVAL
        return Edit(wo.model_copy(update={"stage_wait": StageWait(stage="approval", task_token=task_token)}), [],
                    result=inv if ask else None)

    change = mutate(svc, wo_id, apply)
    wo = change.after
    if wo is not None:
        if inv := change.result:
            route = inv.approval.route if inv.approval else "ops"
            publish(svc, "InvoiceApprovalRequested", wo, f"approval:{inv.id}:{route}", invoice_id=inv.id,
                     route=route)
        return
    current = svc.repo.get_work_order(wo_id)
    outcome = {Status.APPROVED: "approved", Status.INVOICE_AWAITED: "rejected"}.get(current.status, "closed")
    svc.workflow.resume(task_token, {"outcome": outcome})


# ---------------------------------------------------------------- approval links
def approval_link(svc: Services, wo: WorkOrder, invoice_id: str, route: str, base_url: str) -> str:
    token = svc.link_tokens().issue(wo.id, "approver", f"{route}:{invoice_id}", svc.settings.link_ttl_seconds)
    return f"{base_url.rstrip('/')}/approvals/{token}"


def approver_scope(svc: Services, token: str, action: str) -> links.LinkScope:
    scope = svc.link_tokens().verify(token)
    links.require(scope, None, "approver", action)
    return scope


def approval_view(svc: Services, token: str) -> ApprovalView:
    from shared.services.views import ApprovalView  # cold start: the approval page's model, not the workflow's

    scope = approver_scope(svc, token, "view")
    route, _, invoice_id = scope.party_id.partition(":")
    wo = svc.repo.get_work_order(scope.work_order_id)
    try:
        inv = svc.repo.get_invoice(wo.id, invoice_id)
    except NotFound as exc:
        raise LinkRejected("This link is not valid.", {"reason": "invalid"}) from exc
    prop = svc.repo.get_property(wo.property_id)
    unit = svc.repo.get_unit(wo.unit_id)
    vendor = svc.repo.get_vendor(inv.vendor_id)
    pending = inv.status == InvoiceStatus.PENDING_APPROVAL and wo.invoice_id == inv.id and \
        inv.approval is not None and inv.approval.route == route
    return ApprovalView.model_validate({
        "work_order_id": wo.id, "invoice_id": inv.id, "approver": route, "pending": pending,
        "status": inv.status.value, "property": prop.name, "unit": unit.label, "trade": wo.trade,
        "description": wo.description, "vendor": vendor.name, "invoice_number": inv.invoice_number,
        "invoice_date": inv.invoice_date.isoformat(), "currency": inv.currency, "total": str(cents(inv.total)),
        "nte": f"{wo.nte_cents / 100:.2f}" if wo.nte_cents is not None else None,
        "lines": [{"kind": line.kind.value, "description": line.description, "quantity": str(line.quantity),
                   "unit_price": str(cents(line.unit_price)), "amount": str(line.amount)} for line in inv.lines],
        "checks": inv.checks, "coding": inv.coding,
        "reason": inv.approval.reason if inv.approval else None,
        "decision": inv.approval.decision if inv.approval else None,
        "completion_notes": wo.completion_notes,
        "allowed_actions": ["approve", "reject"] if pending else [],
    })


def decide(svc: Services, token: str, approve: bool, reason: str | None) -> Invoice:
    """The owner or ops approve or reject through their link (one decision per invoice: replays are 409s)."""
    scope = approver_scope(svc, token, "approve" if approve else "reject")
    route, _, invoice_id = scope.party_id.partition(":")
    wo = svc.repo.get_work_order(scope.work_order_id)
    inv = svc.repo.get_invoice(wo.id, invoice_id)
    if inv.status != InvoiceStatus.PENDING_APPROVAL or wo.invoice_id != inv.id or wo.status != Status.CODED:
        raise InvalidTransition(f"This invoice is {inv.status.value}; it is not waiting for a decision.",
                                {"invoice": inv.status.value})
    if inv.approval is None or inv.approval.route != route:
        raise LinkRejected("This approval link was replaced: the invoice now goes to someone else.",
                           {"reason": "out_of_scope"})
    decision = "approved" if approve else "rejected"
    decided = inv.model_copy(update={
        "status": InvoiceStatus.APPROVED if approve else InvoiceStatus.REJECTED,
        "rejection_reason": None if approve else reason,
        "approval": inv.approval.model_copy(update={"approver": route if route == "ops" else f"owner:{wo.property_id}",
                                                    "decision": decision, "decided_at": svc.clock(),
                                                    "comment": reason})})
    decided = svc.repo.save_invoice(decided, inv.version)
    def apply(current: WorkOrder) -> Edit[None]:
        if current.status != Status.CODED or current.invoice_id != inv.id:
            raise InvalidTransition("The invoice is no longer waiting for a decision.",
                                    {"status": current.status.value})
        who = "ops" if route == "ops" else "owner"
        if approve:
            return Edit(current.model_copy(update={"status": Status.APPROVED, "stage_wait": None, "reminders": {}}), [
                entry(svc, "invoice_approved", f"Invoice {inv.invoice_number} approved by {who}"
                      + (f": {reason}" if reason else ""), actor=who)])
        return Edit(current.model_copy(update={"status": Status.INVOICE_AWAITED, "stage_wait": None,
                                               "invoice_id": None, "reminders": {}}), [
            entry(svc, "invoice_rejected", f"Invoice {inv.invoice_number} rejected by {who}: {reason}", actor=who)])

    change = mutate(svc, wo.id, apply)
    saved = change.saved
    if approve:
        publish(svc, "InvoiceApproved", saved, f"approved:{inv.id}", invoice_id=inv.id)
    else:
        publish(svc, "InvoiceRejected", saved, f"rejected:{inv.id}", invoice_id=inv.id, vendor_id=inv.vendor_id,
                 reason=reason)
    wait = change.before.stage_wait
    if wait and wait.stage == "approval":
        svc.workflow.resume(wait.task_token, {"outcome": decision})
    count(f"Invoice{decision.capitalize()}")
    return decided


def invoice_variables(svc: Services, wo: WorkOrder, detail: dict[str, Any], with_link: bool) -> dict[str, str]:
    """Message variables for an invoice event (the approval link is signed only when a message carries it)."""
    inv = svc.repo.get_invoice(wo.id, detail["invoice_id"])
    values = {"invoice_number": inv.invoice_number, "invoice_total": _money(inv.total, inv.currency)}
    if inv.approval and not detail.get("reason"):
        values["reason"] = inv.approval.reason
    if with_link:
        route = detail.get("route") or (inv.approval.route if inv.approval else "ops")
        values["approval_url"] = approval_link(svc, wo, inv.id, route, svc.settings.public_base_url)
    return values


# ---------------------------------------------------------------- the bill and closure
class BillNotPossible(Exception):
    """The bill cannot be posted (missing PMS records): the workflow escalates to ops, nothing is posted."""


def post_bill(svc: Services, wo_id: str, close_too: bool = False) -> dict[str, str]:
    """The approved invoice becomes a bill in the PMS (idempotent on the invoice id), linked to the PMS
    work order and with the attachment; then the work order is billed - and with `close_too`, closed in the
    same write (`bill_and_close`: one write of the work order and its index entry, not two)."""
    from shared.pms.models import BillAttachment, NewBill, NewBillLine  # cold start: the PMS models only to bill

    wo = svc.repo.get_work_order(wo_id)
    inv = current_invoice(svc, wo)
    if inv is None or inv.status not in (InvoiceStatus.APPROVED, InvoiceStatus.BILLED):
        raise InvalidTransition("No approved invoice to bill.", {"status": wo.status.value})
    if inv.bill_pms_id is None and wo.drill:  # a drill's bill is recorded as skipped, never posted to the PMS
        inv = svc.repo.save_invoice(inv.model_copy(update={"bill_pms_id": f"{DRILL_BILL_PREFIX}{inv.id}",
                                                           "status": InvoiceStatus.BILLED}), inv.version)
    if inv.bill_pms_id is None:
        vendor = svc.repo.get_vendor(inv.vendor_id)
        prop = svc.repo.get_property(wo.property_id)
        unit = svc.repo.get_unit(wo.unit_id)
        assert inv.coding is not None
        missing = [name for name, value in (("vendor", vendor.pms_id), ("GL account", inv.coding.gl_account_pms_id),
                                            ("property", prop.pms_id)) if not value]
        if missing:
            raise BillNotPossible("No PMS id for the " + ", ".join(missing))
        attachment = None
        if inv.attachment:
            attachment = BillAttachment(filename=inv.attachment.filename, content_type=inv.attachment.content_type,
                                        data=svc.documents().read(inv.attachment.key))
        lines = [NewBillLine(gl_account_pms_id=inv.coding.gl_account_pms_id or "", amount=line.amount,
                             memo=f"{line.kind.value}: {line.description}"[:100], property_pms_id=prop.pms_id,
                             unit_pms_id=unit.pms_id) for line in inv.lines if line.amount > 0]
        bill = NewBill(reference=inv.id, vendor_pms_id=vendor.pms_id or "", work_order_pms_id=_pms_work_order(svc, wo),
                       invoice_number=inv.invoice_number,
                       bill_date=inv.invoice_date, due_date=inv.invoice_date + timedelta(days=30),
                       memo=f"{wo.id}: {wo.trade or 'maintenance'} at {unit.label}"[:200], lines=lines,
                       attachment=attachment)
        bill_id = svc.pms().ensure_bill(bill)
        inv = svc.repo.save_invoice(inv.model_copy(update={"bill_pms_id": bill_id, "status": InvoiceStatus.BILLED}),
                                    inv.version)

    def apply(current: WorkOrder) -> Edit[bool] | None:
        """Result: whether the job is billed by this write (else it was billed before, and is closed now)."""
        if close_too and current.status == Status.BILLED:  # billed by an earlier try or ops' bill step
            return _closing(svc, current)
        if current.status != Status.APPROVED:
            return None
        note = (f"Drill: no bill posted to the PMS ({_money(inv.total, inv.currency)})" if current.drill
                else f"Bill {inv.bill_pms_id} entered in the PMS for {_money(inv.total, inv.currency)}")
        entries = [entry(svc, "billed", note)]
        billed = current.model_copy(update={"status": Status.BILLED, "bill_pms_id": inv.bill_pms_id})
        if close_too:
            closed = _closing(svc, billed)
            return Edit(closed.after, entries + closed.entries, result=True)
        return Edit(billed, entries, result=True)

    change = mutate(svc, wo_id, apply)
    if saved := change.after:
        if change.result:
            if not saved.drill:
                count("InvoiceBilled")
            publish(svc, "InvoiceBilled", saved, f"billed:{inv.id}", invoice_id=inv.id, bill_id=inv.bill_pms_id)
        if saved.status == Status.CLOSED:
            publish(svc, "WorkOrderClosed", saved, "closed", bill_id=saved.bill_pms_id)
    return {"bill_id": inv.bill_pms_id or "", "escalated": False}


def bill_and_close(svc: Services, wo_id: str) -> dict[str, str]:
    """The workflow's bill step: post the bill and close the work order, in one step (Step Functions bills every
    state entered) and one write of the work order (`post_bill`). Idempotent, so a retried step posts nothing
    twice and closes once."""
    return post_bill(svc, wo_id, close_too=True)


def bill_or_escalate(svc: Services, wo_id: str) -> dict[str, Any]:
    """`bill_and_close`; a bill the PMS refuses (or cannot be made: no PMS ids) goes to a person, not to retries.
    A `PmsError` that is not a refusal (unreachable, failing now) is the caller's to retry."""
    try:
        return bill_and_close(svc, wo_id)
    except (BillNotPossible, PmsRejected) as exc:
        from shared.services.workorders import escalate  # cold start: only an escalation needs the use cases

        escalate(svc, wo_id, "bill_not_possible", f"The bill could not be entered in the PMS: {exc}; ops alerted")
        return {"bill_id": "", "escalated": True}


def _pms_work_order(svc: Services, wo: WorkOrder) -> str | None:
    """The job's work order in the PMS, for the bill to link to. When the PMS writer has not logged the job yet (its
    queue runs behind the workflow), it is logged now - the writer's own idempotent, state-based sync - so the bill
    is never posted unlinked for want of waiting. None only where the PMS holds no work order for it."""
    order_id = wo.pms_work_order_id or svc.repo.pms_state(wo.id).get("pms_work_order_id")
    if order_id is None:
        from shared.services import pms_writer  # cold start: only a bill that outran the writer needs it

        pms_writer.sync_out(svc, svc.pms(), wo.id)
        order_id = svc.repo.pms_state(wo.id).get("pms_work_order_id")
    return order_id


def close(svc: Services, wo_id: str) -> None:
    def apply(wo: WorkOrder) -> Edit[bool] | None:
        return _closing(svc, wo) if wo.status == Status.BILLED else None

    if wo := mutate(svc, wo_id, apply).after:
        publish(svc, "WorkOrderClosed", wo, "closed", bill_id=wo.bill_pms_id)


def _closing(svc: Services, billed: WorkOrder) -> Edit[bool]:
    """A billed work order closed (result False: nothing billed by this change)."""
    return Edit(billed.model_copy(update={"status": Status.CLOSED, "stage_wait": None}),
                [entry(svc, "closed", f"Closed: billed as PMS bill {billed.bill_pms_id}")], result=False)


def close_without_invoice(svc: Services, wo_id: str, reason: str, actor: str = "ops") -> WorkOrder:
    """Ops close a job that will not be invoiced (in-house work, warranty) with a reason."""
    def apply(wo: WorkOrder) -> Edit[None]:
        if Status.CLOSED not in _closable(wo):
            raise InvalidTransition(f"A work order that is {wo.status.value} cannot be closed without an invoice.",
                                    {"status": wo.status.value})
        return Edit(wo.model_copy(update={"status": Status.CLOSED, "stage_wait": None}),
                    [entry(svc, "closed", f"Closed without an invoice: {reason}", actor=actor)])

    change = mutate(svc, wo_id, apply)
    before, wo = change.before, change.saved
    inv = current_invoice(svc, before)
    if inv and inv.status in (InvoiceStatus.SUBMITTED, InvoiceStatus.PENDING_APPROVAL, InvoiceStatus.APPROVED):
        svc.repo.save_invoice(inv.model_copy(update={"status": InvoiceStatus.SUPERSEDED}), inv.version)
    publish(svc, "WorkOrderClosed", wo, "closed", reason=reason)
    wait = before.stage_wait
    if wait and wait.stage in ("invoice", "approval"):
        svc.workflow.resume(wait.task_token, {"outcome": "closed"})
    return wo


def _closable(wo: WorkOrder) -> frozenset[Status]:
    # Billed work closes through the workflow; everything else on the money side (and escalations) may close.
    return TRANSITIONS[wo.status] if wo.status != Status.BILLED else frozenset()


# ---------------------------------------------------------------- invoices by email
FIELD = re.compile(r"^\s*(invoice\s*(?:number|no\.?|#)|invoice\s*date|date|labou?r|materials?|trip(?:\s*charge)?|tax|"
                   r"total|currency)\s*[:=]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
HOURS = re.compile(r"^([\d.]+)\s*(?:h|hours?)?\s*[x\u00d7@*]\s*([\d.]+)", re.IGNORECASE)


def read_email_invoice(text: str) -> dict[str, Any] | None:
    """The invoice fields a vendor types in an email ("Invoice number: 123", "Labour: 2 h x 95",
    "Materials: 40.00", "Trip: 85", "Tax: 3.20", "Total: 318.20", "Date: 2026-11-23"); None if too little."""
    found: dict[str, str] = {}
    for name, value in FIELD.findall(text):
        key = re.sub(r"[^a-z]", "", name.lower())
        key = {"invoiceno": "invoicenumber", "invoice": "invoicenumber", "date": "invoicedate",
               "labor": "labour", "material": "materials", "tripcharge": "trip"}.get(key, key)
        found.setdefault(key, value.strip())
    if not {"invoicenumber", "total"} <= set(found):
        return None
    lines: list[dict[str, Any]] = []
    if "labour" in found:
        m = HOURS.match(found["labour"].replace(",", ""))
        qty, price = (m.group(1), m.group(2)) if m else ("1", _amount(found["labour"]))
        lines.append({"kind": "labour", "description": "Labour", "quantity": qty, "unit_price": price})
    for key, kind, label in (("materials", "material", "Materials"), ("trip", "trip", "Trip charge"),
                             ("tax", "tax", "Tax")):
        if key in found:
            lines.append({"kind": kind, "description": label, "quantity": "1", "unit_price": _amount(found[key])})
    return {"invoice_number": found["invoicenumber"], "invoice_date": found.get("invoicedate"),
            "currency": (found.get("currency") or "USD").upper()[:3], "lines": lines, "total": _amount(found["total"])}


def _amount(text: str) -> str:
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", text)
    return m.group(0).replace(",", "") if m else text


def submit_by_email(svc: Services, sender: str, subject: str, text: str,
                    attachment: tuple[str, str, bytes] | None, message_id: str) -> dict[str, Any]:
    """An emailed invoice: matched by the work-order reference in the subject and the vendor's address;
    anything that does not match or cannot be read goes to the ops exception queue (never dropped)."""
    from pydantic import ValidationError

    from shared.invoice_schemas import InvoiceIn, invoice_from_form  # cold start: the API's schemas only here

    summary = {"message_id": message_id, "subject": subject[:200], "has_attachment": attachment is not None}
    ref = REFERENCE.search(subject) or REFERENCE.search(text)
    if not ref:
        return {"exception": record_exception(svc, "email", "no work-order reference in the email", summary)}
    try:
        wo = svc.repo.get_work_order(ref.group(1))
    except NotFound:
        return {"exception": record_exception(svc, "email", f"unknown work order {ref.group(1)}", summary)}
    vendor = svc.repo.find_vendor(wo.vendor_id) if wo.vendor_id else None
    if vendor is None or not vendor.email or vendor.email.lower() != sender.strip().lower():
        return {"exception": record_exception(svc, "email", "the sender is not the job's vendor",
                                              {**summary, "work_order_id": wo.id})}
    fields = read_email_invoice(text)
    if fields is None:
        return {"exception": record_exception(svc, "email", "could not read invoice number and total from the email",
                                              {**summary, "work_order_id": wo.id})}
    if not fields.get("invoice_date"):
        fields["invoice_date"] = svc.clock().date().isoformat()
    if attachment:
        fields["attachment"] = invoice_from_form({}, attachment)["attachment"]
    try:
        inv = submit(svc, wo.id, vendor.id, InvoiceIn.model_validate(fields), source="email")
    except (ValidationError, InvalidInput, InvalidTransition) as exc:
        reason = str(exc).splitlines()[0][:300]
        return {"exception": record_exception(svc, "email", f"invoice not accepted: {reason}",
                                              {**summary, "work_order_id": wo.id})}
    return {"invoice_id": inv.id, "work_order_id": wo.id}
