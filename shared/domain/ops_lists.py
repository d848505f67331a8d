"""The ops work-order list, the pure part: its filters, what "overdue" means, and the opaque cursor.

A cursor carries where the last page stopped (the index partition and the sort key of its last item) and
the query it belongs to (the filters, and the absolute age bound computed for the first page, so paging
does not drift while the clock moves). It is HMAC-signed with a key derived from the link key: a client
cannot edit it into another query or a key it was not given, and a tampered one is refused (400)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.errors import InvalidInput, MalformedRequest
from shared.domain.stuck import STAGE_OF_STATUS, StageTimers, stuck_after
from shared.domain.workorder import Source, Status, WorkOrder

DEFAULT_PAGE = 50
MAX_PAGE = 200
LIMIT_PATTERN = r"^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$"  # 1 to MAX_PAGE, as the API documents `limit`
CURSOR_VERSION = 1
_AGE = re.compile(r"(\d+)([smhdw]?)")
AGE_PATTERN = r"^[0-9]{1,6}[smhdw]?$"  # what the API documents for older_than (a longer age means nothing here)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
STATUS_OF_STAGE: dict[str, Status] = {stage: status for status, stage in STAGE_OF_STATUS.items()}
# Statuses where "overdue" can hold: a person's step with a stage timer (the automatic ones have none).
TIMED_STATUSES: tuple[Status, ...] = tuple(STAGE_OF_STATUS)


@dataclass(frozen=True)
class ListFilters:
    """What the caller asked for (the query string, validated)."""

    status: Status | None = None
    property_id: str | None = None
    source: Source | None = None
    older_than: timedelta | None = None  # created at least this long ago
    overdue: bool = False  # past its stage's timer (no grace: the stuck sweep adds one)

    def fingerprint(self) -> str:
        """What a cursor is bound to (not the age bound: that is fixed in the cursor itself)."""
        age = int(self.older_than.total_seconds()) if self.older_than else None
        return json.dumps([self.status and self.status.value, self.property_id, self.source and self.source.value,
                           age, self.overdue], separators=(",", ":"))

    def statuses(self) -> list[Status]:
        """The status partitions to read when no property narrows the list, in a fixed order."""
        if self.status is not None:
            return [self.status] if not self.overdue or self.status in TIMED_STATUSES else []
        return list(TIMED_STATUSES if self.overdue else Status)


def parse_age(text: str) -> timedelta:
    """``90`` (seconds), ``45m``, ``36h``, ``7d``, ``2w``."""
    found = _AGE.fullmatch(text.strip().lower())
    if not found:
        raise InvalidInput(f"older_than must be a number with an optional unit (s, m, h, d, w), not {text!r}.",
                           {"parameter": "older_than"})
    try:
        return timedelta(seconds=int(found.group(1)) * _UNIT_SECONDS[found.group(2)])
    except OverflowError:  # more days than a timedelta holds
        raise InvalidInput(f"older_than is too long: {text!r}.", {"parameter": "older_than"}) from None


def parse_filters(status: str | None = None, stage: str | None = None, property_id: str | None = None,
                  source: str | None = None, older_than: str | None = None, overdue: str | None = None) -> ListFilters:
    """The list's query parameters; every bad value is a 400 naming the parameter."""
    if status and status not in {s.value for s in Status}:
        raise InvalidInput(f"Unknown status {status!r}.", {"parameter": "status", "allowed": [s.value for s in Status]})
    if stage and stage not in STATUS_OF_STAGE:
        raise InvalidInput(f"Unknown stage {stage!r}.", {"parameter": "stage", "allowed": sorted(STATUS_OF_STAGE)})
    if status and stage and Status(status) != STATUS_OF_STAGE[stage]:
        raise InvalidInput(f"Stage {stage!r} is status {STATUS_OF_STAGE[stage].value!r}, not {status!r}.",
                           {"parameter": "stage"})
    if source and source not in {s.value for s in Source}:
        raise InvalidInput(f"Unknown source {source!r}.", {"parameter": "source", "allowed": [s.value for s in Source]})
    if overdue not in (None, "", "true", "false", "1", "0"):
        raise InvalidInput("overdue must be true or false.", {"parameter": "overdue"})
    chosen = Status(status) if status else (STATUS_OF_STAGE[stage] if stage else None)
    return ListFilters(status=chosen, property_id=property_id or None, source=Source(source) if source else None,
                       older_than=parse_age(older_than) if older_than else None, overdue=overdue in ("true", "1"))


def parse_limit(text: str | None) -> int:
    if not text:
        return DEFAULT_PAGE
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:  # "²".isdigit() too
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_PAGE}.", {"parameter": "limit"})
    return int(text)


def is_overdue(wo: WorkOrder, now: datetime, timers: StageTimers, reminders: int) -> bool:
    """Past the timer of the stage it waits in (the stuck rule without its grace)."""
    if wo.status not in STAGE_OF_STATUS:
        return False
    deadline = stuck_after(wo, timers, reminders, timedelta(0))
    return deadline is not None and now >= deadline


@dataclass(frozen=True)
class Cursor:
    partition: str  # "STATUS#<status>" or "PROPERTY#<id>"
    after: str  # the index sort key (<created_at>#<id>) of the last item given; "" = the partition's start
    created_before: str | None  # the absolute age bound of the first page (ISO), if any
    query: str  # ListFilters.fingerprint()


def _cursor_key(key: bytes) -> bytes:
    return hmac.new(key, b"opslayer ops-list cursor v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(cursor: Cursor, key: bytes) -> str:
    body = json.dumps({"v": CURSOR_VERSION, "p": cursor.partition, "a": cursor.after, "b": cursor.created_before,
                       "q": cursor.query}, separators=(",", ":")).encode()
    mac = hmac.new(_cursor_key(key), body, hashlib.sha256).digest()[:16]
    return f"{_b64(body)}.{_b64(mac)}"


def bad_cursor(why: str) -> MalformedRequest:
    """A 400 (not 422: the cursor is ours, the client only hands it back) naming the parameter."""
    return MalformedRequest(f"The cursor is not valid ({why}); start again without it.", {"parameter": "cursor"})


def decode_cursor(text: str, key: bytes, filters: ListFilters) -> Cursor:
    """The cursor's position, if it is one this API signed for these same filters (else a 400)."""
    try:
        body_text, mac_text = text.split(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise bad_cursor("malformed") from exc
    expected = hmac.new(_cursor_key(key), body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        raise bad_cursor("signature")
    data: dict[str, Any] = json.loads(body)
    if data.get("v") != CURSOR_VERSION:
        raise bad_cursor("version")
    if data.get("q") != filters.fingerprint():
        raise bad_cursor("it belongs to other filters")
    return Cursor(data["p"], data["a"], data.get("b"), data["q"])
