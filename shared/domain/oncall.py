"""The on-call chain for emergencies: an ordered rota (primary, secondary, manager ...) per property with a
portfolio default, each level with its acknowledge-by time; an unacknowledged page moves to the next level,
and past the last level the chain is exhausted (ops are alarmed). Pure: the paging use case
(shared/services/paging.py) stores, sends and times what these rules decide.

The chain a work order runs is the rota as it was when the emergency was declared (kept on the work order
as its `page`): editing a rota never changes a chain that is already running.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from shared.domain.directory import Contact
from shared.domain.model import Model

DEFAULT_ACK_MINUTES = 5
MIN_ACK_MINUTES = 1  # the shortest ack-by a rota may set (the drill's rota uses it)
MAX_ACK_MINUTES = 240
ACK_LINK_TTL = 2 * 86400  # the acknowledge link: long enough to ack late (it still records who), short-lived

# "ACK", "ack.", "Ack wo-0195f3a2c1d4e5f6a7b8", "ACK: wo-..." (a reference picks one of several pages)
_ACK = re.compile(r"^\s*ack\b[\s:.,!-]*(?P<ref>wo-[0-9a-f]{6,40})?[\s.!]*$", re.IGNORECASE)


class OnCallLevel(Model):
    contact: Contact
    label: str = "primary"
    ack_within_minutes: int = Field(default=DEFAULT_ACK_MINUTES, ge=MIN_ACK_MINUTES, le=MAX_ACK_MINUTES)


class OnCallRota(Model):
    levels: list[OnCallLevel] = Field(default_factory=list)

    @classmethod
    def single(cls, contact: Contact) -> OnCallRota:
        """An old single on-call contact read as a one-level rota (existing data keeps working)."""
        return cls(levels=[OnCallLevel(contact=contact)])


class Page(Model):
    """A work order's on-call chain: the levels it runs, which one was paged last, and how it ended."""

    levels: list[OnCallLevel]
    level: int = 0  # the level paged last
    started_at: datetime
    paged_at: datetime | None = None  # when `level` was paged (None: no level at all, exhausted at once)
    due_at: datetime | None = None  # when `level` must have acknowledged; None once acknowledged or exhausted
    exhausted_at: datetime | None = None  # every level paged, none acknowledged in time
    acked_at: datetime | None = None
    acked_by: str | None = None  # the contact's name and level label
    acked_level: int | None = None
    acked_via: str | None = None  # "link" or "sms"
    acknowledged_after_s: int | None = None  # from the first page to the acknowledgement (the KPI)

    @property
    def acknowledged(self) -> bool:
        return self.acked_at is not None

    @property
    def running(self) -> bool:
        """Waiting for an acknowledgement, with a level still to page or waiting on."""
        return not self.acknowledged and self.exhausted_at is None


def ack_due(level: OnCallLevel, paged_at: datetime) -> datetime:
    return paged_at + timedelta(minutes=level.ack_within_minutes)


def start(rota: OnCallRota, now: datetime) -> Page:
    """The chain begins: level 0 is paged now; a rota without levels is exhausted at once."""
    if not rota.levels:
        return Page(levels=[], started_at=now, exhausted_at=now)
    return Page(levels=rota.levels, started_at=now, paged_at=now, due_at=ack_due(rota.levels[0], now))


Step = Literal["next", "exhausted"]


def advance(page: Page, checked_level: int, now: datetime) -> tuple[Page, Step] | None:
    """The ack-by check of `checked_level` ran: the next level is paged, or the chain is exhausted. None when
    there is nothing to do (acknowledged, already moved on or exhausted: a duplicate or stale check). The check
    is the level's one-time schedule at its ack-by time: like the other timers it is trusted to come then."""
    if not page.running or checked_level != page.level:
        return None
    following = page.level + 1
    if following >= len(page.levels):
        return page.model_copy(update={"due_at": None, "exhausted_at": now}), "exhausted"
    return page.model_copy(update={"level": following, "paged_at": now,
                                   "due_at": ack_due(page.levels[following], now)}), "next"


def acknowledge(page: Page, level: int, now: datetime, via: str) -> Page | None:
    """Level `level`'s contact acknowledged (a link or an SMS): recorded even after the chain moved on or was
    exhausted (it stops it and says who). None when the chain was already acknowledged (a second ACK)."""
    if page.acknowledged or not 0 <= level < len(page.levels):
        return None
    who = page.levels[level]
    return page.model_copy(update={
        "acked_at": now, "acked_by": f"{who.contact.name} ({who.label})", "acked_level": level, "acked_via": via,
        "acknowledged_after_s": max(0, int((now - page.started_at).total_seconds())), "due_at": None})


def paged_level_of_phone(page: Page, phone: str) -> int | None:
    """The most recent level paged so far whose contact has this phone (None: this phone was not paged)."""
    for index in range(min(page.level, len(page.levels) - 1), -1, -1):
        if page.levels[index].contact.phone == phone:
            return index
    return None


def ack_command(text: str) -> tuple[bool, str | None]:
    """(True, reference or None) when a text is an acknowledgement ("ACK", any case, optionally with the
    work order's reference); (False, None) otherwise."""
    found = _ACK.fullmatch(text or "")
    if found is None:
        return False, None
    ref = found.group("ref")
    return True, ref.lower() if ref else None


def rota_for(property_rota: OnCallRota | None, portfolio_rota: OnCallRota | None, property_on_call: Contact | None,
             portfolio_on_call: Contact | None) -> OnCallRota:
    """The rota that pages for a property: its own, else the portfolio's, else an old single on-call contact
    (the property's, then the portfolio's) as one level; else none (the chain is exhausted at once: ops)."""
    for rota in (property_rota, portfolio_rota):
        if rota is not None and rota.levels:
            return rota
    for contact in (property_on_call, portfolio_on_call):
        if contact is not None:
            return OnCallRota.single(contact)
    return OnCallRota()
