"""Automatic answers to inbound texts and emails, in English or Spanish (pure: the texts are data in
shared/rules/replies.json, with $placeholders). Which language to answer in is decided by the caller
(shared/services/sms.py `reply_language`); this module only looks the text up."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from string import Template

from shared.domain.model import Model

RULES = Path(__file__).resolve().parent.parent / "rules" / "replies.json"
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"


class Reply(Model):
    en: str
    es: str


class ReplyBook(Model):
    version: str
    replies: dict[str, Reply]


@cache
def book() -> ReplyBook:
    return ReplyBook.model_validate(json.loads(RULES.read_text()))


def supported(language: str | None) -> str | None:
    """The language if we answer in it, else None (an unset or unknown preference)."""
    return language if language in LANGUAGES else None


def reply(key: str, language: str, **values: str) -> str:
    """The reply `key` in `language` (English if unsupported), placeholders filled; a missing value is an
    error (a reply must never go out with a raw $placeholder)."""
    entry = book().replies[key]
    text = getattr(entry, supported(language) or DEFAULT_LANGUAGE)
    return Template(text).substitute(values)
