"""PMS -> Opslayer: webhooks in (verify, queue), events applied (fetch the entity, upsert idempotently),
and the full reconciliation that catches anything a lost webhook missed.

Events are thin and may arrive twice or out of order (PMS webhooks are at-least-once): the entity is always fetched
from the API, so applying any event yields the PMS's current state, and an event older than one
already applied for the same entity is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from shared.domain.compliance import VendorInsurance
from shared.domain.directory import ANY_AREA, Contact, Property, Unit, Vendor, VendorStats
from shared.domain.enums import Trade
from shared.domain.errors import MalformedRequest, Unauthorized
from shared.domain.model import Model
from shared.domain.workorder import TERMINAL, Source
from shared.observability import count, logger
from shared.pms.models import (
    EntityKind,
    Operation,
    PmsBill,
    PmsEvent,
    PmsGLAccount,
    PmsLease,
    PmsProperty,
    PmsTask,
    PmsTenant,
    PmsUnit,
    PmsVendor,
    PmsVendorCategory,
    PmsWorkOrder,
)
from shared.pms.port import PmsPort, WebhookRejected
from shared.services.container import Services
from shared.services.workorders import cancel, submit_request
from shared.services.writes import Edit, entry, mutate

MAPPING = Path(__file__).resolve().parent.parent / "rules" / "pms_mapping.json"
OUR_REFERENCE = re.compile(r"Opslayer (wo-[0-9a-f]{8,})")
OPEN_TASK_STATUSES = {"", "new", "inprogress", "open"}


# ---------------------------------------------------------------- ids and mapping rules
def property_id(pms_id: str) -> str:
    return f"prop-b{pms_id}"


def unit_id(pms_id: str) -> str:
    return f"unit-b{pms_id}"


def vendor_id(pms_id: str) -> str:
    return f"ven-b{pms_id}"


class CategoryRule(Model):
    match: str
    trade: Trade


class AreaRules(Model):
    by_postal_code_prefix: dict[str, str]
    by_city: dict[str, str]
    default: str


class Mapping(Model):
    version: str
    vendor_categories: list[CategoryRule]
    default_trade: Trade
    service_areas: AreaRules

    def trade_for(self, category: str | None) -> Trade:
        name = (category or "").lower()
        return next((r.trade for r in self.vendor_categories if r.match in name), self.default_trade)

    def area_for(self, postal_code: str, city: str) -> str:
        for prefix, area in sorted(self.service_areas.by_postal_code_prefix.items(), key=lambda kv: -len(kv[0])):
            if postal_code.startswith(prefix):
                return area
        return self.service_areas.by_city.get(city.strip().lower(), self.service_areas.default)


@cache
def mapping() -> Mapping:
    data = json.loads(MAPPING.read_text())
    data["service_areas"]["by_city"] = {k.lower(): v for k, v in data["service_areas"]["by_city"].items()}
    return Mapping.model_validate(data)


def normalize_phone(raw: str | None) -> str | None:
    from shared.schemas import normalize_phone as to_e164

    if not raw:
        return None
    try:
        return to_e164(raw)
    except ValueError:
        return None


# ---------------------------------------------------------------- webhooks in
def receive_webhook(svc: Services, headers: dict[str, str], body: bytes) -> str:
    """Verify the delivery with the configured PMS's verifier, then queue the event. Returns "queued" or
    "ignored" (a genuine event of a kind Opslayer does not follow)."""
    try:
        event = svc.webhook_verifier().verify(headers, body)
    except WebhookRejected as exc:
        count("PmsWebhookRejected")
        if exc.reason == "malformed_body":
            raise MalformedRequest("The webhook body is not valid JSON.", {"reason": exc.reason}) from exc
        raise Unauthorized("The webhook signature or timestamp is not valid.", {"reason": exc.reason}) from exc
    if event is None:
        logger.info("webhook event ignored", extra={"pms": svc.settings.pms_provider})
        count("PmsWebhookIgnored")
        return "ignored"
    svc.queues.send(svc.settings.pms_inbound_queue_url, event.model_dump_json(), {"event_name": event.name})
    count("PmsWebhookQueued")
    return "queued"


# ---------------------------------------------------------------- events applied
def apply_event(svc: Services, pms: PmsPort, event: PmsEvent) -> str:
    """Apply one event; returns what happened (for logs and tests)."""
    occurred = event.occurred_at.isoformat(timespec="microseconds")  # one format: compared as strings
    if not svc.repo.advance_pms_event(event.kind.value, event.pms_id, occurred):
        count("PmsEventStale")
        return "stale"
    entity = None if event.operation == Operation.DELETED else pms.get(event.kind, event.pms_id)
    # None: deleted, or gone by the time we asked (404) - honour it.
    outcome = _deleted(svc, event.kind, event.pms_id) if entity is None else upsert(svc, pms, entity)
    count(f"PmsApplied{event.kind.value.title().replace('_', '')}")
    return outcome


def upsert(svc: Services, pms: PmsPort, entity: object) -> str:
    handlers = {PmsProperty: _property, PmsUnit: _unit, PmsLease: _lease, PmsTenant: _tenant, PmsVendor: _vendor,
                PmsVendorCategory: _vendor_category, PmsGLAccount: _gl_account, PmsTask: _task,
                PmsWorkOrder: _work_order, PmsBill: _bill}
    handler = handlers.get(type(entity))
    if handler is None:
        return "ignored"
    return handler(svc, pms, entity)


def _property(svc: Services, pms: PmsPort, p: PmsProperty) -> str:
    existing = svc.repo.find_property(property_id(p.pms_id))
    area = mapping().area_for(p.address.postal_code, p.address.city)
    prop = Property(id=property_id(p.pms_id), pms_id=p.pms_id, name=p.name, address=p.address.one_line(),
                    service_area=area,
                    preferred_vendors=existing.preferred_vendors if existing else {},
                    on_call=existing.on_call if existing else None,
                    time_zone=existing.time_zone if existing else None)
    svc.repo.put_property(prop)
    return "upserted"


def _unit(svc: Services, pms: PmsPort, u: PmsUnit) -> str:
    existing = svc.repo.find_unit(unit_id(u.pms_id))
    unit = Unit(id=unit_id(u.pms_id), pms_id=u.pms_id, property_id=property_id(u.property_pms_id), label=u.label,
                # The PMS's unit description is where managers keep access notes.
                access_instructions=u.description or (existing.access_instructions if existing else ""),
                tenant=existing.tenant if existing else None,
                tenant_pms_id=existing.tenant_pms_id if existing else None)
    if svc.repo.find_property(unit.property_id) is None:
        prop = pms.get(EntityKind.PROPERTY, u.property_pms_id)
        if prop is not None:
            _property(svc, pms, prop)
    svc.repo.put_unit(unit)
    return "upserted"


def _contact(t: PmsTenant) -> Contact:
    return Contact(name=t.name or "Resident", phone=normalize_phone(t.phone), email=t.email)


def _lease(svc: Services, pms: PmsPort, lease: PmsLease) -> str:
    unit = svc.repo.find_unit(unit_id(lease.unit_pms_id))
    if unit is None:
        pms_unit = pms.get(EntityKind.UNIT, lease.unit_pms_id)
        if pms_unit is None:
            return "ignored"
        _unit(svc, pms, pms_unit)
        unit = svc.repo.get_unit(unit_id(lease.unit_pms_id))
    if lease.status == "active" and lease.tenant_pms_ids:
        tenant = pms.get(EntityKind.TENANT, lease.tenant_pms_ids[0])
        if tenant is not None:
            for tid in lease.tenant_pms_ids:
                svc.repo.link_pms("tenant", tid, unit.id)
            contact = _contact(tenant)
            svc.repo.put_unit(unit.model_copy(update={"tenant": contact, "tenant_pms_id": tenant.pms_id}))
            _index_phone(svc, contact, unit.id)
            return "upserted"
    elif unit.tenant_pms_id in lease.tenant_pms_ids:  # the lease ended: nobody to notify at this unit
        svc.repo.put_unit(unit.model_copy(update={"tenant": None, "tenant_pms_id": None}))
        return "tenant_removed"
    return "unchanged"


def _tenant(svc: Services, pms: PmsPort, t: PmsTenant) -> str:
    linked = svc.repo.pms_link("tenant", t.pms_id)
    unit = svc.repo.find_unit(linked) if linked else None
    if unit is None or unit.tenant_pms_id != t.pms_id:
        return "unlinked"  # not (or no longer) a unit's current tenant; a lease event links them
    contact = _contact(t)
    svc.repo.put_unit(unit.model_copy(update={"tenant": contact}))
    _index_phone(svc, contact, unit.id)
    return "upserted"


def _index_phone(svc: Services, contact: Contact, unit_id: str) -> None:
    """Inbound SMS and email find the tenant's unit by phone or address (an old entry is checked against
    the unit)."""
    if contact.phone:
        svc.repo.index_tenant_phone(contact.phone, unit_id)
    if contact.email:
        svc.repo.index_tenant_email(contact.email, unit_id)


def _vendor(svc: Services, pms: PmsPort, v: PmsVendor) -> str:
    category = v.category_name
    if category is None and v.category_pms_id:
        found = pms.get(EntityKind.VENDOR_CATEGORY, v.category_pms_id)
        category = getattr(found, "name", None)
    existing = svc.repo.find_vendor(vendor_id(v.pms_id))
    vendor = Vendor(
        id=vendor_id(v.pms_id), pms_id=v.pms_id, name=v.name, active=v.is_active,
        trades=[mapping().trade_for(category)], phone=normalize_phone(v.phone), email=v.email,
        # Service areas, availability and language are Opslayer's dispatch profile (set by ops), not PMS data.
        service_areas=existing.service_areas if existing else [ANY_AREA],
        available=existing.available if existing else True,
        language=existing.language if existing else None,
        stats=existing.stats if existing else VendorStats(),
        # Compliance is the PMS's record: a policy removed there is removed here.
        insurance=VendorInsurance.model_validate(v.insurance.model_dump()) if v.insurance else None,
    )
    svc.repo.put_vendor(vendor)
    return "upserted"


def _vendor_category(svc: Services, pms: PmsPort, category: PmsVendorCategory) -> str:
    """A renamed category may change its vendors' trade: re-map the vendors in it."""
    changed = 0
    for vendor in pms.list(EntityKind.VENDOR):
        if vendor.category_pms_id == category.pms_id:
            _vendor(svc, pms, vendor.model_copy(update={"category_name": category.name}))
            changed += 1
    return f"remapped {changed}"


def _bill(svc: Services, pms: PmsPort, bill: PmsBill) -> str:
    """A bill entered in the PMS for one of our work orders is recorded in its timeline (once)."""
    if bill.opslayer_reference:  # our own bill coming back: the invoice flow records it, not "the PMS"
        return "own"
    wo_id = svc.repo.pms_link("work_order", bill.work_order_pms_id) if bill.work_order_pms_id else None
    if not wo_id:
        return "unlinked"
    marker = f"PMS bill {bill.pms_id}"

    def record(wo: Any) -> Edit[None] | None:
        if any(marker in e.detail for e in svc.repo.get_work_order(wo.id, with_timeline=True).timeline):
            return None
        total = f" ({bill.total})" if bill.total is not None else ""
        return Edit(wo, [entry(svc, "pms_bill", f"{marker} recorded{total}", actor="pms")])

    return "recorded" if mutate(svc, wo_id, record).after else "unchanged"


def _gl_account(svc: Services, pms: PmsPort, a: PmsGLAccount) -> str:
    svc.repo.put_listed("GLACCOUNTS", a.pms_id, a.model_dump(mode="json"))
    return "upserted"


def _task(svc: Services, pms: PmsPort, task: PmsTask) -> str:
    """A resident request created in the PMS becomes an Opslayer work order (once)."""
    if task.kind != "resident_request":
        return "ignored"
    ours = OUR_REFERENCE.search(f"{task.title} {task.description}")
    if ours:  # our own write coming back: just remember the link
        svc.repo.link_pms("task", task.pms_id, ours.group(1))
        return "own"
    known = svc.repo.pms_link("task", task.pms_id)
    if known:
        return _mirror_task(svc, known, task)
    if re.sub(r"[\s_\-]", "", task.status.lower()) not in OPEN_TASK_STATUSES:
        return "ignored"  # an old or finished request (initial import): nothing to dispatch
    if not task.unit_pms_id:
        logger.warning("resident request without a unit ignored", extra={"pms_task_id": task.pms_id})
        return "ignored"
    wo = _create_from_pms(svc, pms, task.unit_pms_id, task.requested_by_pms_id, task.title, task.description,
                          key=f"pms-task-{task.pms_id}", pms_task_id=task.pms_id)
    if wo is None:
        return "ignored"
    svc.repo.link_pms("task", task.pms_id, wo)
    return "created"


def _mirror_task(svc: Services, wo_id: str, task: PmsTask) -> str:
    """A PMS user closed or cancelled the request: an open Opslayer work order is cancelled too."""
    wo = svc.repo.get_work_order(wo_id)
    if task.status.lower() in ("closed", "cancelled", "canceled", "deferred") and wo.status not in TERMINAL \
            and wo.status.value not in ("completed",):
        cancel(svc, wo_id, f"{task.status} in the PMS", actor="pms")
        return "cancelled"
    return "unchanged"


def _work_order(svc: Services, pms: PmsPort, order: PmsWorkOrder) -> str:
    ours = OUR_REFERENCE.search(f"{order.title} {order.description}")
    if ours:
        svc.repo.link_pms("work_order", order.pms_id, ours.group(1))
        return "own"
    if svc.repo.pms_link("work_order", order.pms_id):
        return "unchanged"
    request = svc.repo.pms_link("task", order.task_pms_id) if order.task_pms_id else None
    if request:
        svc.repo.link_pms("work_order", order.pms_id, request)
        _adopt_work_order(svc, request, order.pms_id)
        return "linked"
    task = pms.get(EntityKind.TASK, order.task_pms_id) if order.task_pms_id else None
    unit_pms = getattr(task, "unit_pms_id", None)
    if not unit_pms:
        return "ignored"
    wo = _create_from_pms(svc, pms, unit_pms, getattr(task, "requested_by_pms_id", None),
                          order.title or getattr(task, "title", ""), order.description,
                          key=f"pms-wo-{order.pms_id}", pms_task_id=order.task_pms_id, pms_work_order_id=order.pms_id)
    if wo is None:
        return "ignored"
    svc.repo.link_pms("work_order", order.pms_id, wo)
    if order.task_pms_id:
        svc.repo.link_pms("task", order.task_pms_id, wo)
    return "created"


def _adopt_work_order(svc: Services, wo_id: str, order_pms_id: str) -> None:
    """A PMS user made the PMS work order for one of our requests: the writer keeps that one in sync rather
    than creating a second at acceptance (unless it has written its own already)."""
    if svc.repo.pms_state(wo_id).get("pms_work_order_id"):
        return

    def adopt(wo: Any) -> Edit[None] | None:
        if wo.pms_work_order_id:
            return None
        return Edit(wo.model_copy(update={"pms_work_order_id": order_pms_id}), [
            entry(svc, "pms_linked", f"PMS work order {order_pms_id}, made in the PMS, linked", actor="pms")])

    mutate(svc, wo_id, adopt)


def _create_from_pms(svc: Services, pms: PmsPort, unit_pms_id: str, tenant_pms_id: str | None, title: str,
                     description: str, key: str, pms_task_id: str | None = None,
                     pms_work_order_id: str | None = None) -> str | None:
    from shared.schemas import NewRequest

    unit = svc.repo.find_unit(unit_id(unit_pms_id))
    if unit is None:
        pms_unit = pms.get(EntityKind.UNIT, unit_pms_id)
        if pms_unit is None:
            return None
        _unit(svc, pms, pms_unit)
        unit = svc.repo.get_unit(unit_id(unit_pms_id))
    contact = unit.tenant
    if tenant_pms_id and tenant_pms_id != unit.tenant_pms_id:
        tenant = pms.get(EntityKind.TENANT, tenant_pms_id)
        contact = _contact(tenant) if tenant else contact
    text = " - ".join(p.strip() for p in (title, description) if p and p.strip())[:5000] or "Resident request"
    req = NewRequest.model_construct(unit_id=unit.id, name=contact.name if contact else "Resident",
                                     phone=contact.phone if contact else None,
                                     email=contact.email if contact else None,
                                     description=text if len(text) >= 3 else "Resident request", availability=None)
    wo = submit_request(svc, req, source=Source.PMS, idempotency_key=key, pms_task_id=pms_task_id,
                        pms_work_order_id=pms_work_order_id)
    return wo.id


def _deleted(svc: Services, kind: EntityKind, pms_id: str) -> str:
    if kind == EntityKind.VENDOR:
        vendor = svc.repo.find_vendor(vendor_id(pms_id))
        if vendor:
            svc.repo.put_vendor(vendor.model_copy(update={"active": False}))  # never dispatched again
            return "deactivated"
    elif kind == EntityKind.UNIT:
        unit = svc.repo.find_unit(unit_id(pms_id))
        if unit:
            svc.repo.put_unit(unit.model_copy(update={"tenant": None, "tenant_pms_id": None}))
            return "deactivated"
    elif kind == EntityKind.GL_ACCOUNT:
        svc.repo.delete_listed("GLACCOUNTS", pms_id)
        return "deleted"
    elif kind == EntityKind.TASK:
        wo_id = svc.repo.pms_link("task", pms_id)
        if wo_id:
            return _mirror_task(svc, wo_id, PmsTask(pms_id=pms_id, title="", status="cancelled"))
    return "gone"


# ---------------------------------------------------------------- reconciliation
ORDER = (EntityKind.PROPERTY, EntityKind.UNIT, EntityKind.VENDOR, EntityKind.LEASE, EntityKind.GL_ACCOUNT,
         EntityKind.TASK)
RECONCILE = "reconcile"  # the action of a reconciliation's event (functions/pms_sync.py routes it)
MAX_CONTINUATIONS = 1_000  # a runaway chain stops (and fails loudly) rather than invoke itself forever


class ReconcileCursor(Model):
    """Where a reconciliation stopped, to go on in a later invocation: the kind being read and how many of its
    entities (in the PMS's stable order) were read, the run's snapshot time and its counts so far."""

    started: str  # the whole run's snapshot time (the ordering guard against newer webhooks)
    kind: EntityKind
    position: int = 0
    counts: dict[str, int] = {}
    continuation: int = 0  # invocations before this one


class ReconcileProgress(Model):
    counts: dict[str, int]
    cursor: ReconcileCursor | None  # None: the reconciliation is complete


def reconcile(svc: Services, pms: PmsPort) -> dict[str, int]:
    """Pull the whole portfolio through the API (all pages) and upsert it, in one go: the initial import, and the
    scheduled catch-up for anything a lost webhook missed. The Lambda handler runs it in time-boxed steps."""
    progress = reconcile_step(svc, pms)
    while progress.cursor is not None:
        progress = reconcile_step(svc, pms, progress.cursor)
    return progress.counts


def reconcile_step(svc: Services, pms: PmsPort, cursor: ReconcileCursor | None = None,
                   keep_going: Callable[[], bool] = lambda: True) -> ReconcileProgress:
    """Read and upsert from `cursor` (None: a new run) while `keep_going()` says there is time, at least one entity
    per step so every step moves on. Returns the counts and, unless the run is complete, the cursor to go on from.
    A step repeated from the same cursor (a retried invocation) upserts the same entities again: upserts are
    idempotent, so nothing is lost or made twice."""
    # A reconciliation is a snapshot taken from its start: an entity a webhook changed after that is
    # newer than what this run read, so it is left alone (the same ordering guard as for events).
    cursor = cursor or ReconcileCursor(started=svc.clock().isoformat(timespec="microseconds"), kind=ORDER[0])
    counts = dict(cursor.counts)
    read_this_step = 0
    for kind in ORDER[ORDER.index(cursor.kind):]:
        position = cursor.position if kind == cursor.kind else 0
        counts.setdefault(kind.value, 0)
        for entity in pms.list(kind, start=position):
            if read_this_step and not keep_going():
                return ReconcileProgress(counts=counts, cursor=ReconcileCursor(
                    started=cursor.started, kind=kind, position=position, counts=counts,
                    continuation=cursor.continuation + 1))
            position += 1
            read_this_step += 1
            if kind == EntityKind.LEASE and getattr(entity, "status", "") != "active":
                continue
            if not svc.repo.advance_pms_event(kind.value, getattr(entity, "pms_id", ""), cursor.started):
                continue
            upsert(svc, pms, entity)
            counts[kind.value] += 1
    count("PmsReconciled")
    logger.info("reconciled", extra={"counts": counts, "invocations": cursor.continuation + 1})
    return ReconcileProgress(counts=counts, cursor=None)


def reconcile_invocation(svc: Services, pms: PmsPort, event: dict[str, Any], function_arn: str,
                         keep_going: Callable[[], bool]) -> dict[str, Any]:
    """One invocation's share of a reconciliation: a step from the event's cursor (none: a new run) while
    `keep_going()`; unless that completes the run, the rest goes on in a new asynchronous invocation of
    `function_arn` (this function) with the step's cursor (`svc.continuations()`), so a portfolio of any size
    syncs within the invocations' timeout. Returns the counts and, if it continues, where."""
    cursor = ReconcileCursor.model_validate(event["cursor"]) if event.get("cursor") else None
    if cursor is not None and cursor.continuation > MAX_CONTINUATIONS:
        raise RuntimeError(f"reconciliation stopped after {MAX_CONTINUATIONS} continuations")
    progress = reconcile_step(svc, pms, cursor, keep_going)
    if progress.cursor is None:
        return {"reconciled": progress.counts}
    at = progress.cursor
    svc.continuations().continue_later(function_arn, {"action": RECONCILE, "cursor": at.model_dump(mode="json")})
    logger.info("reconciliation continues", extra={"kind": at.kind.value, "position": at.position,
                                                   "continuation": at.continuation})
    return {"reconciling": progress.counts, "continues_at": {"kind": at.kind.value, "position": at.position}}
