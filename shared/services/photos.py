"""Photos: upload slots for the tenant and the assigned vendor, the check after every upload, and
short-lived view links.

A slot is a presigned POST for one exact key under ``uploads/<work order>/<party>/``; S3 enforces its
size and type policy. S3 then announces the new object (EventBridge) and :func:`check_upload` looks at
the real bytes: an image within the limits is copied to ``photos/`` and recorded on the work order,
anything else is deleted and the rejection recorded. Unchecked uploads expire (bucket lifecycle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain import photos as rules
from shared.domain.errors import InvalidTransition, NotFound, ObjectGone
from shared.domain.photos import Photo, count_for, judge, kept_key, parse_upload_key, upload_key
from shared.domain.workorder import TERMINAL, Status, TimelineEntry, WorkOrder
from shared.observability import count, logger
from shared.services.container import Services
from shared.services.writes import Edit, entry, mutate, publish, tenant_scope, vendor_scope

if TYPE_CHECKING:  # the type only: the store comes from the container (Services.photo_store)
    from shared.adapters.storage import ObjectStore

VENDOR_PHOTO_STATUSES = (Status.ACCEPTED, Status.SCHEDULED, Status.COMPLETED)


class _LimitReached(Exception):
    pass


# ---------------------------------------------------------------- who may add photos now
def tenant_may_add(wo: WorkOrder) -> bool:
    return wo.status not in TERMINAL and count_for(wo.photos, "tenant") < rules.rules().max_per_party


def vendor_may_add(wo: WorkOrder, vendor_id: str) -> bool:
    return wo.vendor_id == vendor_id and wo.status in VENDOR_PHOTO_STATUSES \
        and count_for(wo.photos, "vendor") < rules.rules().max_per_party


def _slot(svc: Services, wo: WorkOrder, party: str, content_type: str | None, redirect: str | None) -> dict[str, Any]:
    limits = rules.rules()
    if count_for(wo.photos, party) >= limits.max_per_party:
        raise InvalidTransition(f"This work order already has {limits.max_per_party} photos from you.",
                                {"limit": limits.max_per_party, "party": party})
    key = upload_key(wo.id, party)
    post = svc.photo_store().upload_slot(key, limits.max_bytes, limits.slot_seconds, content_type, redirect)
    count("PhotoSlotIssued")
    return {"url": post["url"], "fields": post["fields"], "key": key, "max_bytes": limits.max_bytes,
            "content_types": limits.content_types, "expires_in": limits.slot_seconds,
            "photos": count_for(wo.photos, party), "limit": limits.max_per_party}


def tenant_slot(svc: Services, wo_id: str, token: str | None, content_type: str | None = None,
                redirect: str | None = None) -> dict[str, Any]:
    """An upload slot for the tenant's own request, while it is open."""
    tenant_scope(svc, wo_id, token, "view")
    wo = svc.repo.get_work_order(wo_id)
    if wo.status in TERMINAL:
        raise InvalidTransition(f"Photos cannot be added now: the request is {wo.status.value}.",
                                {"status": wo.status.value})
    return _slot(svc, wo, "tenant", content_type, redirect)


def vendor_slot(svc: Services, token: str, content_type: str | None = None,
                redirect: str | None = None) -> dict[str, Any]:
    """An upload slot for the vendor the job is assigned to (e.g. completion photos)."""
    scope = vendor_scope(svc, token, "view")
    wo = svc.repo.get_work_order(scope.work_order_id)
    if wo.vendor_id != scope.party_id or wo.status not in VENDOR_PHOTO_STATUSES:
        raise InvalidTransition(f"Photos cannot be added now: the job is {wo.status.value}.",
                                {"status": wo.status.value})
    return _slot(svc, wo, "vendor", content_type, redirect)


def view_links(svc: Services, wo: WorkOrder) -> list[dict[str, Any]]:
    """Every checked photo with a short-lived link (the bucket is private)."""
    if not wo.photos:
        return []
    store, seconds = svc.photo_store(), rules.rules().view_seconds
    return [{"url": store.view_url(p.key, seconds), "party": p.party, "content_type": p.content_type,
             "size": p.size, "uploaded_at": p.uploaded_at.isoformat()} for p in wo.photos]


# ---------------------------------------------------------------- the check after upload
def check_upload(svc: Services, store: ObjectStore, key: str) -> str:
    """Judge one uploaded object by its real size and first bytes; keep and record it, or delete it and
    record why. Idempotent: a repeated event for the same key changes nothing."""
    parsed = parse_upload_key(key)
    if parsed is None:
        store.delete(key)
        count("PhotoRejected")
        logger.warning("upload with a key we never issued deleted")
        return "unknown_key"
    wo_id, party, _ = parsed
    try:
        wo = svc.repo.get_work_order(wo_id)
    except NotFound:
        store.delete(key)
        return "unknown_work_order"
    if any(p.upload_key == key for p in wo.photos):
        store.delete(key)
        return "duplicate"
    try:
        size = store.size(key)
        if size is None:
            raise ObjectGone(key)
        kind, reason = judge(size, store.head(key, rules.HEAD_BYTES) if size > 0 else b"")
        if kind is None:
            return _reject(svc, store, wo_id, party, key, reason)
        target = kept_key(key)
        store.copy(key, target, kind)
    except ObjectGone:
        return "gone"  # already judged by another delivery of the same event (moved or deleted)
    photo = Photo(key=target, upload_key=key, party=party, content_type=kind, size=size, uploaded_at=svc.clock())

    def apply(current: WorkOrder) -> Edit[None] | None:
        if any(p.upload_key == key for p in current.photos):
            return None
        if count_for(current.photos, party) >= rules.rules().max_per_party:
            raise _LimitReached
        kb = max(1, size // 1024)
        return Edit(current.model_copy(update={"photos": [*current.photos, photo]}),
                    [entry(svc, "photo_added", f"Photo added by the {party} ({kind}, {kb} KB)", actor=party)])

    try:
        saved = mutate(svc, wo_id, apply).after
    except _LimitReached:
        store.delete(target)
        return _reject(svc, store, wo_id, party, key,
                       f"the work order already has {rules.rules().max_per_party} photos from the {party}")
    store.delete(key)
    if saved is None:
        return "duplicate"
    count("PhotoAccepted")
    publish(svc, "PhotoAdded", saved, f"photo:{key.rsplit('/', 1)[-1]}", party=party)
    return "accepted"


def _reject(svc: Services, store: ObjectStore, wo_id: str, party: str, key: str, reason: str) -> str:
    store.delete(key)
    svc.repo.add_timeline(wo_id, TimelineEntry(at=svc.clock(), event="photo_rejected",
                                               detail=f"Photo from the {party} not kept: {reason}", actor=party))
    count("PhotoRejected")
    logger.info("photo rejected", extra={"work_order_id": wo_id, "reason": reason})
    return "rejected"
