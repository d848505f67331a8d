"""Buildium webhooks: signature and timestamp checks, then the thin event parsed into a PmsEvent.

Buildium signs ``timestamp + "." + body`` with HMAC-SHA256 (base64), where the body is the compact JSON
form (no newlines, no space after colons). Deliveries may arrive re-formatted, so a body verifies if
either the raw bytes as received or their compact re-serialisation match the signature. Both are
computed and compared in constant time; a compact form only matches if it carries exactly the signed
fields and values, so accepting it does not widen what an attacker can forge.

No heavy imports here: the webhook Lambda loads this module on every cold start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from shared.pms.models import EntityKind, Operation, PmsEvent
from shared.pms.port import WebhookRejected

log = logging.getLogger(__name__)

PMS_NAME = "buildium"
TIMESTAMP_HEADER = "buildium-webhook-timestamp"
SIGNATURE_HEADER = "buildium-webhook-signature"

# Entity name (EventName before ".Created/.Updated/.Deleted") -> our kind and the id field that names it.
# Only exact two-part names are handled: "Task.History.Created", "Bill.Payment.Created",
# "Vendor.Transaction.Created", "Rental.MeterReading.Created" are other entities and must not be
# mistaken for a task, bill, vendor or property (their ids are not ours).
ENTITY_EVENTS: dict[str, tuple[EntityKind, str]] = {
    "Rental": (EntityKind.PROPERTY, "PropertyId"),
    "RentalUnit": (EntityKind.UNIT, "UnitId"),
    "Lease": (EntityKind.LEASE, "LeaseId"),
    "LeaseTenant": (EntityKind.TENANT, "TenantId"),
    "Vendor": (EntityKind.VENDOR, "VendorId"),
    "VendorCategory": (EntityKind.VENDOR_CATEGORY, "VendorCategoryId"),
    "GLAccount": (EntityKind.GL_ACCOUNT, "GLAccountId"),
    "Task": (EntityKind.TASK, "TaskId"),
    "WorkOrder": (EntityKind.WORK_ORDER, "WorkOrderId"),
    "Bill": (EntityKind.BILL, "BillId"),
}

# Sub-entity events that still mean "this entity of ours changed": re-fetch the parent.
PARENT_UPDATE_EVENTS: dict[str, tuple[EntityKind, str]] = {
    "Task.History.Created": (EntityKind.TASK, "TaskId"),
    "Task.History.Updated": (EntityKind.TASK, "TaskId"),
    "Task.History.Deleted": (EntityKind.TASK, "TaskId"),
    "Lease.MoveOut.Created": (EntityKind.LEASE, "LeaseId"),
}

OPERATIONS = {"Created": Operation.CREATED, "Updated": Operation.UPDATED, "Deleted": Operation.DELETED}

# Other id fields an event may carry, reported as parent_ids (our kind names where there is one).
EXTRA_IDS: dict[str, str] = {
    "PropertyId": EntityKind.PROPERTY.value,
    "UnitId": EntityKind.UNIT.value,
    "LeaseId": EntityKind.LEASE.value,
    "TenantId": EntityKind.TENANT.value,
    "VendorId": EntityKind.VENDOR.value,
    "TaskId": EntityKind.TASK.value,
    "WorkOrderId": EntityKind.WORK_ORDER.value,
    "BillId": EntityKind.BILL.value,
    "TaskHistoryId": "task_history",
}


def sign(secret: str, timestamp: str | int, body: str | bytes) -> str:
    """The signature Buildium sends for this timestamp and body (used by the fake PMS and tests)."""
    payload = body if isinstance(body, bytes) else body.encode("utf-8")
    message = str(timestamp).encode("ascii") + b"." + payload
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()).decode("ascii")


def compact(payload: object) -> str:
    """The compact JSON form Buildium signs: no whitespace between tokens, key order and unicode kept."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


_DT = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<frac>\d+))?(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_datetime(value: str) -> datetime:
    """Parse Buildium date-times: up to 7 fractional digits, 'Z' or an offset; naive values are UTC."""
    match = _DT.match(value.strip())
    if not match:
        raise ValueError(f"not a date-time: {value!r}")
    frac = (match["frac"] or "")[:6].ljust(6, "0")
    tz = match["tz"] or "+00:00"
    if tz in ("Z", "z"):
        tz = "+00:00"
    elif ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:]}"
    parsed = datetime.fromisoformat(f"{match['base'].replace(' ', 'T')}.{frac}{tz}")
    return parsed.astimezone(UTC)


class BuildiumWebhookVerifier:
    """Implements WebhookVerifier for Buildium callbacks: the HMAC above, a timestamp no older than
    `tolerance_seconds` and no more than `future_skew_seconds` ahead, and (when given) the AccountId."""

    def __init__(
        self,
        secret: str,
        account_id: str | None = None,
        tolerance_seconds: int = 300,
        future_skew_seconds: int = 30,
    ) -> None:
        self._secret = secret
        self._account_id = account_id
        self._tolerance = tolerance_seconds
        self._skew = future_skew_seconds

    def verify(self, headers: Mapping[str, str], body: bytes, now: float | None = None) -> PmsEvent | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        timestamp = (lowered.get(TIMESTAMP_HEADER) or "").strip()
        signature = (lowered.get(SIGNATURE_HEADER) or "").strip()
        if not timestamp or not signature:
            raise WebhookRejected("missing_signature")
        # Whole ASCII UNIX seconds only: rejects "-1", "1e9", "12.5" and non-ASCII digits.
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise WebhookRejected("stale_timestamp")
        current = time.time() if now is None else now
        age = current - int(timestamp)
        if age > self._tolerance:
            raise WebhookRejected("stale_timestamp")
        if -age > self._skew:
            raise WebhookRejected("future_timestamp")

        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            payload = None
        candidates = [body]
        if payload is not None:
            compact_body = compact(payload).encode("utf-8")
            if compact_body != body:
                candidates.append(compact_body)
        # Evaluate every candidate (no short-circuit) so timing does not reveal which form matched.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(
                sign(self._secret, timestamp, candidate).encode("ascii"), signature.encode("ascii", "replace")
            )
        if not matched:
            # A body that is not JSON cannot be the compact form Buildium signs.
            raise WebhookRejected("malformed_body" if payload is None else "bad_signature")
        if not isinstance(payload, dict):
            raise WebhookRejected("malformed_body")
        return self._parse(payload)

    def _parse(self, payload: dict[str, object]) -> PmsEvent | None:
        name = payload.get("EventName")
        if not isinstance(name, str):
            raise WebhookRejected("malformed_body")
        account = payload.get("AccountId")
        if self._account_id is not None and str(account) != self._account_id:
            raise WebhookRejected("wrong_account")

        entity, _, op_name = name.rpartition(".")
        if name in PARENT_UPDATE_EVENTS:
            kind, id_field = PARENT_UPDATE_EVENTS[name]
            operation = Operation.UPDATED
        elif entity in ENTITY_EVENTS and op_name in OPERATIONS:
            kind, id_field = ENTITY_EVENTS[entity]
            operation = OPERATIONS[op_name]
        else:
            log.info("buildium webhook event not followed: %s", name[:100])
            return None  # a valid event we do not handle: the caller acknowledges and ignores it

        pms_id = payload.get(id_field)
        occurred = payload.get("EventDateTime")
        if not _is_id(pms_id) or not _is_id(account) or not isinstance(occurred, str):
            raise WebhookRejected("malformed_body")
        try:
            occurred_at = parse_datetime(occurred)
        except ValueError:
            raise WebhookRejected("malformed_body") from None
        parents = {
            EXTRA_IDS[field]: str(value)
            for field, value in payload.items()
            if field in EXTRA_IDS and field != id_field and _is_id(value)
        }
        return PmsEvent(
            pms=PMS_NAME,
            name=name,
            kind=kind,
            operation=operation,
            pms_id=str(pms_id),
            occurred_at=occurred_at,
            account_id=str(account),
            parent_ids=parents,
        )


def _is_id(value: object) -> bool:
    """Buildium ids are integers; tolerate digit strings, never bools or floats."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())
