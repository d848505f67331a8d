"""The lifecycle messages as data (shared/rules/messages.json: per event, who is told, by which channel,
in English and Spanish) and how a visit time reads in them. Pure: the notification use case fills in
the variables and sends."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Literal

from shared.domain.model import Model
from shared.domain.workorder import Window

MESSAGES = Path(__file__).resolve().parent.parent / "rules" / "messages.json"


class Translation(Model):
    subject: str
    body: str


class MessageTemplate(Model):
    to: str
    subject: str
    body: str
    es: Translation | None = None  # Spanish, for tenants and vendors who prefer it
    via: Literal["all", "source"] = "all"  # "source": only by the channel the request came in on
    urgent: bool = False  # never held for quiet hours (a possible emergency)

    def channels(self, source: str) -> tuple[str, ...]:
        if self.via == "source" and source in ("sms", "email"):
            return (source,)
        return ("sms", "email")

    def text(self, language: str | None) -> tuple[str, str]:
        """(subject, body) in the recipient's language, English when there is no translation."""
        translated = getattr(self, language, None) if language in ("es",) else None
        return (translated.subject, translated.body) if translated else (self.subject, self.body)


class MessageBook(Model):
    version: str
    events: dict[str, list[MessageTemplate]]  # lifecycle events of a work order
    notices: dict[str, list[MessageTemplate]] = {}  # about no work order (a vendor's insurance expiring)
    safety_questions: dict[str, dict[str, str]]  # hazard class -> language -> the question
    # what happens next when ops resume a job at a stage: stage -> "tenant" | "vendor" -> language -> text
    next_steps: dict[str, dict[str, dict[str, str]]] = {}

    def next_step(self, stage: str, role: str, language: str) -> str:
        texts = self.next_steps.get(stage, {}).get(role, {})
        return texts.get(language) or texts.get("en", "")

    def safety_question(self, hazard: str | None, language: str | None) -> str:
        texts = self.safety_questions.get(hazard or "none") or self.safety_questions["none"]
        return texts.get(language or "en") or texts["en"]


@cache
def message_book() -> MessageBook:
    return MessageBook.model_validate(json.loads(MESSAGES.read_text()))


DAYS_ES = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
MONTHS_ES = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")


def format_window(window: Window | None, lang: str = "en", zone: bool = True) -> str:
    """'Tue 24 Nov 09:00-11:00 (UTC-0500)' / 'mar 24 nov 09:00-11:00 (UTC-0500)'."""
    if not window:
        return "una hora por confirmar" if lang == "es" else "a time to be confirmed"
    s, e = window.start, window.end
    day = f"{DAYS_ES[s.weekday()]} {s.day:02d} {MONTHS_ES[s.month - 1]}" if lang == "es" else f"{s:%a %d %b}"
    return f"{day} {s:%H:%M}-{e:%H:%M}" + (f" (UTC{s:%z})" if zone else "")
