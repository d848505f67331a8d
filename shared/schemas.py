"""Request bodies accepted from people and systems, validated with pydantic (4xx on failure)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

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
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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


class Decline(Strict):
    reason: str = Field(min_length=1, max_length=500)


class Schedule(TimeWindow):
    pass


class CheckIn(Strict):
    eta_minutes: int | None = Field(default=None, ge=0, le=600)  # None: on site now


class Complete(Strict):
    notes: str = Field(min_length=1, max_length=5000)


class Cancel(Strict):
    reason: str = Field(min_length=1, max_length=500)


class RenewLink(Strict):
    token: str = Field(min_length=1, max_length=2048)


class Empty(Strict):
    pass


class PhotoSlot(Strict):
    """Ask for one upload slot; the declared type is pinned in the upload policy (the check still sniffs)."""

    content_type: Literal["image/jpeg", "image/png", "image/webp", "image/heic"] | None = None
