"""Personal data with an end (pure: no I/O). What a work order keeps once its personal fields are redacted:
ids, timestamps, trade, priority, statuses, amounts and the timeline's events (so KPIs and rollups do not
change); what it loses: the tenant's name, phone and email, access instructions (pets, availability text),
phone numbers and email addresses inside free text, the tenant's rating comment and their words on the
timeline, and its photos' keys (the objects are deleted too).

A person is named in keys and logs only by `person_hash` of their normalized phone or email."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from shared.domain.directory import Contact
from shared.domain.workorder import Status, WorkOrder

REDACTED = "[redacted]"
# Closed work orders whose personal fields the retention sweep redacts (the numbers stay).
ENDED_STATUSES: tuple[Status, ...] = (Status.CLOSED, Status.CANCELLED)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# A phone number: 7+ digits, optionally with +, spaces, dots, dashes and parentheses between them.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")


def normalize_contact(value: str) -> tuple[str, str]:
    """("phone" | "email", normalized value): emails lower-cased, phones reduced to +digits (E.164-ish)."""
    text = value.strip()
    if "@" in text:
        return "email", text.lower()
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        raise ValueError("not a phone number or an email address")
    if len(digits) == 10 and not text.startswith("+"):  # a North American number without its country code
        digits = "1" + digits
    return "phone", f"+{digits}"


def person_hash(normalized: str) -> str:
    """How a person is named in audit records and logs: a hash of their normalized phone or email."""
    return hashlib.sha256(normalized.encode()).hexdigest()[:24]


def person_hashes(contact: Contact) -> list[str]:
    """The person-index keys of a contact: a hash of each of its phone and email (none for what is unusable)."""
    hashes = []
    for value in (contact.phone, contact.email):
        if not value:
            continue
        try:
            hashes.append(person_hash(normalize_contact(value)[1]))
        except ValueError:
            continue
    return hashes


def redact_text(text: str | None) -> str | None:
    """Free text with its email addresses and phone numbers replaced (the rest kept: it says what broke)."""
    if not text:
        return text
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text))


def redact_detail(actor: str, detail: str) -> str:
    """A timeline entry's text once redacted: the tenant's own words go (a comment can say anything); other
    entries keep their text without phone numbers and email addresses. The event and its time stay."""
    if actor == "tenant" and detail:
        return REDACTED
    return redact_text(detail) or ""


def is_redacted(wo: WorkOrder) -> bool:
    return wo.tenant.name == REDACTED and wo.tenant.phone is None and wo.tenant.email is None and not wo.photos


def redacted(wo: WorkOrder) -> WorkOrder:
    """The work order without its personal fields; everything the KPIs read is left as it was."""
    availability = wo.availability if not isinstance(wo.availability, str) else redact_text(wo.availability)
    return wo.model_copy(update={
        "tenant": Contact(name=REDACTED, language=wo.tenant.language),
        "description": redact_text(wo.description) or "",
        "availability": availability,
        "pets": REDACTED if wo.pets else None,
        "completion_notes": redact_text(wo.completion_notes),
        "satisfaction": wo.satisfaction.model_copy(update={"comment": None}) if wo.satisfaction else None,
        "photos": [],
    })


def photo_keys(wo: WorkOrder) -> list[str]:
    """Every S3 key of the work order's photos (the kept copy and the upload it came from)."""
    return [k for p in wo.photos for k in (p.key, p.upload_key)]


def contact_is(contact: Contact, kind: str, normalized: str) -> bool:
    """True if the contact is this person (their phone in any format, their email in any case)."""
    value = contact.phone if kind == "phone" else contact.email
    try:
        return value is not None and normalize_contact(value) == (kind, normalized)
    except ValueError:
        return False


def contact_matches(wo: WorkOrder, kind: str, normalized: str) -> bool:
    """True if the work order's tenant contact is this person."""
    return contact_is(wo.tenant, kind, normalized)


def due_for_redaction(wo: WorkOrder, now: datetime, retention_days: int) -> bool:
    """Ended, not redacted yet, and last changed more than `retention_days` ago."""
    return (wo.status in ENDED_STATUSES and not is_redacted(wo)
            and now - wo.updated_at > timedelta(days=retention_days))
