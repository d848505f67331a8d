"""Personal data with an end: the retention sweep (closed and cancelled work orders' personal fields redacted
after PERSONAL_DATA_RETENTION_DAYS, their numbers kept for the KPIs) and a person's export and erasure by
phone or email (POST /ops/people/export|erase, `opslayer ops tenant export|erase`).

Where a person's data is, found without a Scan: the person index (PK=PERSON#<hash of the normalized phone or
email>, one item per work order, written with it) names the work orders created with that contact; for orders
older than that index, the tenant phone/email index names their units and each unit's property partition
(GSI2) holds its work orders, kept when their tenant contact is this person; the survey records sit under the
tenant key (unit + hash of the contact); the SMS opt-out under the number.
Not erased here, on purpose: the unit's tenant contact and its phone/email index (copies of the PMS's
records, refreshed by PMS sync: the PMS keeps its own rules), the SMS opt-out (a suppression list: erasing it
would let us text them again), raw inbound emails (not indexed by sender: S3 lifecycle expires them after
RawEmailRetentionDays) and the drill sink (drill messages only, TTL). The phone or email is never logged
nor stored in the audit: only its hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain import privacy as rules
from shared.domain.errors import NotFound
from shared.domain.satisfaction import tenant_key
from shared.domain.workorder import WorkOrder
from shared.observability import logger
from shared.services import steering
from shared.services.container import Services
from shared.services.writes import Edit, entry, mutate

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def redact_work_order(svc: Services, wo_id: str, reason: str) -> bool:
    """Redact one work order's personal fields (noted `redacted` on its timeline), its timeline's words and its
    photos. Idempotent: False when it was redacted already. The timeline and the photos go first, the work
    order last, so a run that stops half way is finished by the next one. The timeline entry's actor is the
    system even for an ops erasure (the ops audit names who asked): an ops actor would count as an admin
    touch in the KPIs."""
    current = svc.repo.get_work_order(wo_id)
    if rules.is_redacted(current):
        return False
    svc.repo.rewrite_timeline(wo_id, rules.redact_detail)
    keys = rules.photo_keys(current)
    if keys:
        store = svc.photo_store()
        for key in keys:
            store.delete(key)

    def change(wo: WorkOrder) -> Edit[None] | None:
        if rules.is_redacted(wo):
            return None
        return Edit(rules.redacted(wo), [entry(svc, "redacted", reason)])

    return mutate(svc, wo_id, change).after is not None


def sweep_personal_data(svc: Services, page: int = 100) -> list[str]:
    """Redact closed and cancelled work orders ended more than the retention ago. Reads each status
    partition of the status index only below the cutoff (created then at the latest: a key condition, never a
    Scan), page by page; the index lags, so each is confirmed on the work order itself. Returns the ids."""
    now = svc.clock()
    days = svc.settings.personal_data_retention_days
    cutoff = (now - timedelta(days=days)).isoformat()
    redacted: list[str] = []
    for status in rules.ENDED_STATUSES:
        after: str | None = None
        while True:
            listed, after = svc.repo.page_work_orders(
                f"STATUS#{status.value}", page, after=after, created_before=cutoff,
                keep=lambda wo: rules.due_for_redaction(wo, now, days))
            for found in listed:
                wo = svc.repo.get_work_order(found.id)
                if rules.due_for_redaction(wo, now, days) and redact_work_order(
                        svc, wo.id, f"retention: ended more than {days} days ago"):
                    redacted.append(wo.id)
            if after is None:
                break
    if redacted:
        logger.info("personal data redacted", extra={"work_order_ids": redacted})
    return redacted


def _person(svc: Services, value: str) -> tuple[str, str, list[str], list[WorkOrder]]:
    """(kind, normalized value, unit ids, work orders) of a phone or email: the work orders created with it
    (the person index, written at creation) and those of the units it is the tenant contact of (older orders)."""
    kind, normalized = rules.normalize_contact(value)
    units = svc.repo.units_for_phone(normalized) if kind == "phone" else svc.repo.units_for_email(normalized)
    found: dict[str, WorkOrder] = {}
    for wo_id in svc.repo.person_work_orders(rules.person_hash(normalized)):
        try:
            found[wo_id] = svc.repo.get_work_order(wo_id)
        except NotFound:  # an index entry left by a work order that is gone
            continue
    for unit_id in units:
        unit = svc.repo.find_unit(unit_id)
        if unit is None:
            continue
        for wo in svc.repo.recent_work_orders(unit.property_id, EPOCH):
            if wo.unit_id == unit_id and rules.contact_matches(wo, kind, normalized):
                found[wo.id] = wo
    return kind, normalized, units, sorted(found.values(), key=lambda w: w.created_at)


def _tenant_keys(svc: Services, kind: str, normalized: str, units: list[str],
                 work_orders: list[WorkOrder]) -> list[str]:
    """The survey keys the person may be under: a tenant key hashes the phone when there is one, else the email,
    so each work order's and each unit's full contact is hashed as it was, besides this value alone."""
    phone, email = (normalized, None) if kind == "phone" else (None, normalized)
    keys = {tenant_key(u, phone, email) for u in units}
    keys |= {tenant_key(w.unit_id, w.tenant.phone, w.tenant.email) for w in work_orders
             if w.tenant.phone or w.tenant.email}
    for unit_id in units:
        unit = svc.repo.find_unit(unit_id)
        if unit is not None and unit.tenant is not None and rules.contact_is(unit.tenant, kind, normalized):
            keys.add(tenant_key(unit.id, unit.tenant.phone, unit.tenant.email))
    return sorted(keys)


def export_person(svc: Services, value: str, actor: str) -> dict[str, Any]:
    """Everything held about a person, as JSON. Recorded in the ops audit (by hash)."""
    kind, normalized, units, work_orders = _person(svc, value)
    person = rules.person_hash(normalized)
    full = [svc.repo.get_work_order(w.id, with_timeline=True) for w in work_orders]
    surveys = {key: svc.repo.tenant_surveys(key) for key in _tenant_keys(svc, kind, normalized, units, work_orders)}
    steering.record(svc, "person_exported", person, actor, work_orders=len(full))
    return {
        "person": person, "kind": kind, "units": units,
        "work_orders": [w.model_dump(mode="json") for w in full],
        "photos": [k for w in full for k in rules.photo_keys(w)],
        "surveys": [s for found in surveys.values() for s in found],
        "sms_opted_out": svc.repo.sms_opted_out(normalized) if kind == "phone" else None,
        "not_covered": ["the PMS's own records (its retention rules apply)",
                        f"raw inbound emails (deleted by S3 lifecycle after {svc.settings.raw_email_retention_days}"
                        " days)"],
    }


def erase_person(svc: Services, value: str, actor: str) -> dict[str, Any]:
    """Redact the person's work orders now, delete their photos and survey records; recorded (by hash)."""
    kind, normalized, units, work_orders = _person(svc, value)
    person = rules.person_hash(normalized)
    keys = _tenant_keys(svc, kind, normalized, units, work_orders)  # before the contacts are redacted
    redacted = [w.id for w in work_orders if redact_work_order(svc, w.id, "erasure request")]
    surveys = sum(svc.repo.forget_tenant(key) for key in keys)
    svc.repo.forget_person(person)
    result = {"person": person, "work_orders": [w.id for w in work_orders], "redacted": redacted,
              "survey_records_deleted": surveys}
    steering.record(svc, "person_erased", person, actor, work_orders=len(work_orders), redacted=len(redacted),
                    survey_records_deleted=surveys)
    return result
