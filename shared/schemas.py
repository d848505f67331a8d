"""Request bodies accepted from people and systems, validated with pydantic (4xx on failure)."""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from shared.domain.enums import Priority, Trade
from shared.domain.model import Model
from shared.domain.workorder import Window

MAX_DESCRIPTION = 5000


def normalize_phone(value: str) -> str:
    """E.164 (+ and 8-15 digits). A 10-digit North American number gets +1."""
    digits = re.sub(r"[\s\-().]", "", value)
    if re.fullmatch(r"\d{10}", digits):
        digits = "+1" + digits
    elif re.fullmatch(r"1\d{10}", digits):
        digits = "+" + digits
    if not re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        raise ValueError("not a valid phone number (use international format, e.g. +15551234567)")
    return digits


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be ISO 8601 with a UTC offset, e.g. 2026-11-24T09:00:00-05:00")
    return value


Phone = Annotated[str, AfterValidator(normalize_phone)]


def _email(value: str) -> str:
    """pydantic's EmailStr check, imported on first use: `pydantic.networks` imports importlib.metadata,
    a sixth of the API's cold start."""
    from pydantic.networks import validate_email

    return validate_email(value)[1]


EmailStr = Annotated[str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Strict(Model):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


NOT_NULL: dict = {"not": {"type": "null"}}


def one_way(given: tuple[str, ...], absent: tuple[str, ...] = (), **named: dict) -> dict:
    """A JSON Schema branch for the OpenAPI document (a model's `oneOf`): the `given` fields are sent and not null,
    the `absent` ones are null or left out, `named` fields have that schema. The model's validator is the rule;
    this states it so a client (and schemathesis) can see it."""
    properties = {**{name: NOT_NULL for name in given}, **{name: {"type": "null"} for name in absent}, **named}
    return {"required": list(given), "properties": properties}


class TimeWindow(Strict):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def to_domain(self) -> Window:
        return Window(start=self.start, end=self.end)


class NewRequest(Strict):
    unit_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    phone: Phone | None = None
    email: EmailStr | None = None
    description: str = Field(min_length=3, max_length=MAX_DESCRIPTION)
    availability: list[TimeWindow] | Annotated[str, Field(max_length=500)] | None = None
    entry_permission: bool = False  # the technician may enter when nobody is home
    pets: str | None = Field(default=None, max_length=200)
    language: Literal["en", "es"] | None = None  # for messages and pages; default: what we know, else English


class Feedback(Strict):
    resolved: bool
    comment: str | None = Field(default=None, max_length=2000)


class Rating(Strict):
    """The tenant's 1-5 rating of a confirmed repair, with an optional comment (shared/services/satisfaction.py)."""

    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class NpsAnswer(Strict):
    """The tenant's answer to the quarterly NPS question: 0 (not at all likely to recommend) to 10."""

    score: int = Field(ge=0, le=10)
    comment: str | None = Field(default=None, max_length=2000)


class SafetyAnswer(Strict):
    """The tenant's answer to triage's safety question: is anyone in danger, is it spreading?"""

    answer: Literal["yes", "no"]


class TriageCorrectionRequest(Strict):
    """Ops correct a triage: the new trade and priority, and why (kept as a labelled example)."""

    trade: Trade
    priority: Priority
    reason: str = Field(min_length=3, max_length=500)


class Decline(Strict):
    reason: str = Field(min_length=1, max_length=500)


class VisitTime(Strict):
    """A visit time, one of three ways: `window` (the number of one of the tenant's windows, from 0),
    `start` and `end` (ISO 8601 with offset), or `date`, `start_time`, `end_time` (the property's local
    time, as the job page's date and time inputs send them)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [
        one_way(("window",), ("start", "end", "date", "start_time", "end_time")),
        one_way(("start", "end"), ("window", "date", "start_time", "end_time")),
        one_way(("date", "start_time", "end_time"), ("window", "start", "end"))]})

    window: int | None = Field(default=None, ge=0, le=50)
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    date: dt.date | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None

    @model_validator(mode="after")
    def _one_way(self) -> VisitTime:
        ways = [self.window is not None, self.start is not None or self.end is not None,
                any(v is not None for v in (self.date, self.start_time, self.end_time))]
        if sum(ways) != 1:
            raise ValueError("give one of: window (the number of a tenant window), start and end (ISO 8601 with "
                             "offset), or date, start_time and end_time (the property's local time)")
        if ways[1] and (self.start is None or self.end is None):
            raise ValueError("start and end are both required")
        if ways[2] and (self.date is None or self.start_time is None or self.end_time is None):
            raise ValueError("date, start_time and end_time are all required")
        if (ways[1] and self.end <= self.start) or (ways[2] and self.end_time <= self.start_time):  # type: ignore
            raise ValueError("end must be after start")
        return self

    def resolve(self, tenant_windows: list[Window], zone: ZoneInfo) -> Window:
        """The window this names (raises ValueError for a tenant window that does not exist)."""
        if self.window is not None:
            if self.window >= len(tenant_windows):
                raise ValueError(f"there is no tenant window {self.window} (the tenant gave {len(tenant_windows)})")
            return tenant_windows[self.window]
        if self.start is not None and self.end is not None:
            return Window(start=self.start, end=self.end)
        assert self.date and self.start_time and self.end_time
        return Window(start=datetime.combine(self.date, self.start_time, zone),
                      end=datetime.combine(self.date, self.end_time, zone))


class Schedule(VisitTime):
    pass


class Propose(VisitTime):
    """A time that is not one of the tenant's windows: the tenant confirms or declines it."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [
        one_way(("start", "end"), ("window", "date", "start_time", "end_time")),
        one_way(("date", "start_time", "end_time"), ("window", "start", "end"))]})

    @model_validator(mode="after")
    def _not_a_tenant_window(self) -> Propose:
        if self.window is not None:
            raise ValueError("a tenant window needs no confirmation: schedule it instead of proposing it")
        return self


class TenantVisit(Strict):
    """The tenant's answer about the visit: confirm or decline a proposed time, ask to reschedule, or say
    nobody came."""

    action: Literal["confirm", "decline", "reschedule", "no_show"]
    comment: str | None = Field(default=None, max_length=500)


class CheckIn(Strict):
    eta_minutes: int | None = Field(default=None, ge=0, le=600)  # None: on site now


class Complete(Strict):
    notes: str = Field(min_length=1, max_length=5000)


class Cancel(Strict):
    reason: str = Field(min_length=1, max_length=500)


SteerAction = Literal["reassign", "restart_dispatch", "resume", "extend", "note", "cancel", "close"]
# What each way forward from an escalation needs besides the action (shared/services/escalations.py).
STEER_NEEDS: dict[str, tuple[str, ...]] = {
    "reassign": ("reason",), "restart_dispatch": ("reason",), "resume": ("reason",),
    "extend": ("reason", "extend_hours"), "note": ("text",), "cancel": ("reason",), "close": ("reason",)}


class KpiBaselineIn(Strict):
    """PUT /ops/kpis/baseline: a period before the deployment and/or figures entered by hand (KPI id -> value);
    `deployed_on` starts the 30/60/90-day checkpoints."""

    # A period (from and/or to) or figures: shared/services/kpis.py `set_baseline` refuses neither.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={"anyOf": [
        one_way(("from",)), one_way(("to",)),
        {"required": ["figures"], "properties": {"figures": {"minProperties": 1}}}]})
    first: date | None = Field(default=None, alias="from")
    last: date | None = Field(default=None, alias="to")
    figures: dict[str, float] = Field(default_factory=dict)
    deployed_on: date | None = None


class KpiPeriodIn(Strict):
    """POST /ops/kpis/backfill: the days received (inclusive; defaults as for /ops/kpis)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    first: date | None = Field(default=None, alias="from")
    last: date | None = Field(default=None, alias="to")


class OwnerReportLinkIn(Strict):
    """POST /ops/properties/{id}/owner-report-link: the month (YYYY-MM; default the last full month)."""

    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


def _steer_ways() -> list[dict]:
    """Each action with what it needs (STEER_NEEDS; reassign: a vendor or a technician, not both)."""
    ways = []
    for action, needs in STEER_NEEDS.items():
        named = {"action": {"const": action}}
        if action == "reassign":
            ways += [one_way(("action", *needs, "vendor_id"), ("technician_id",), **named),
                     one_way(("action", *needs, "technician_id"), ("vendor_id",), **named)]
        else:
            ways.append(one_way(("action", *needs), **named))
    return ways


class Steer(Strict):
    """POST /ops/work-orders/{id}/steer: one way forward for an escalated job (a note: any job). `reassign`
    names a `vendor_id` or a `technician_id`; `resume`/`extend` may name the `stage` (default: where it
    stalled)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": _steer_ways()})

    action: SteerAction
    reason: str | None = Field(default=None, min_length=3, max_length=500)
    vendor_id: str | None = Field(default=None, min_length=1, max_length=128)
    technician_id: str | None = Field(default=None, min_length=1, max_length=128)
    stage: Literal["schedule", "completion", "followup", "invoice", "approval", "bill"] | None = None
    extend_hours: int | None = Field(default=None, ge=1, le=720)
    text: str | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _needs(self) -> Steer:
        missing = [name for name in STEER_NEEDS[self.action] if getattr(self, name) is None]
        if self.action == "reassign" and (self.vendor_id is None) == (self.technician_id is None):
            missing.append("vendor_id or technician_id (one of them)")
        if missing:
            raise ValueError(f"{self.action} needs: {', '.join(missing)}")
        return self

    @property
    def assignee(self) -> str | None:
        return self.vendor_id or self.technician_id


class OpsPageLink(Strict):
    """Which ops page a short-lived browser link opens (`opslayer ops open`)."""

    page: Literal["record", "report"] = "report"


class RenewLink(Strict):
    token: str = Field(min_length=1, max_length=2048)


class Empty(Strict):
    pass


class PhotoSlot(Strict):
    """Ask for one upload slot; the declared type is pinned in the upload policy (the check still sniffs)."""

    content_type: Literal["image/jpeg", "image/png", "image/webp", "image/heic"] | None = None


FORM_WINDOWS = 3  # day / from / to rows on the tenant's request form


def form_windows(raw: dict[str, str], zone: ZoneInfo, now: datetime) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The request form's day/from/to rows (the property's local time) as windows, and errors by field."""
    windows: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    for n in range(1, FORM_WINDOWS + 1):
        day, start, end = (raw.get(f"w{n}_{part}", "").strip() for part in ("date", "from", "to"))
        if not (day or start or end):
            continue
        if not (day and start and end):
            errors[f"w{n}"] = "give the day, a from time and a to time"
            continue
        try:
            first = datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(start), zone)
            last = datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(end), zone)
        except ValueError:
            errors[f"w{n}"] = "not a valid day and time"
            continue
        if last <= first or last <= now:
            errors[f"w{n}"] = "the to time must be after the from time" if last <= first else "this time is past"
            continue
        windows.append({"start": first.isoformat(), "end": last.isoformat()})
    return windows, errors


class PersonRef(Strict):
    """Who an ops export or erasure is about (POST /ops/people/export|erase): a phone or an email, exactly one.
    In a body, never a URL, so the value stays out of access logs."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [one_way(("phone",), ("email",)),
                                                           one_way(("email",), ("phone",))]})

    phone: Phone | None = None
    email: EmailStr | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PersonRef:
        if (self.phone is None) == (self.email is None):
            raise ValueError("give exactly one of phone or email")
        return self

    @property
    def value(self) -> str:
        return self.phone or str(self.email)
