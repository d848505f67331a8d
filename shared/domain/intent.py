"""What a tenant's text or email means: the carriers' keywords (STOP, START, HELP), STATUS, a yes or a
no in plain words (English or Spanish), or free text; and which language to answer in. Pure rules: the
inbound SMS and email use cases decide what to do with them."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from shared.domain.directory import Unit
from shared.domain.replies import DEFAULT_LANGUAGE, supported
from shared.domain.workorder import WorkOrder

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
START_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info", "ayuda"})
STATUS_KEYWORDS = frozenset({"status", "estado"})
YES_WORDS_ES = frozenset({"si", "listo", "arreglado", "arreglada"})
NO_WORDS_ES = frozenset({"todavia", "sigue", "aun"})
YES_WORDS = frozenset({"yes", "y", "yep", "yeah", "yup", "ok", "okay", "fixed", "oui", "sure"}) | YES_WORDS_ES
NO_WORDS = frozenset({"no", "n", "nope", "nah", "not", "non", "still"}) | NO_WORDS_ES
# "it's fixed" / "ya está arreglado": a leading word, then (within three words) a fixed word, and no negation
FIXED_PHRASES = {"it": (frozenset({"fixed"}), "not"), "ya": (frozenset({"arreglado", "arreglada", "funciona"}), "no")}
# The classifier's words that only Spanish uses: a text with one of them is answered in Spanish when the
# tenant has no saved preference ("no" is both languages' word, so it says nothing).
SPANISH_WORDS = YES_WORDS_ES | NO_WORDS_ES | {"estado", "ayuda", "arreglado", "arreglada", "funciona"}


class Intent(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    STATUS = "status"
    YES = "yes"
    NO = "no"
    TEXT = "text"



def words(body: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", body).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z]+", plain)


def classify(body: str) -> Intent:
    """Keywords first (a carrier's STOP must never be read as a repair request), then yes/no words."""
    found = words(body)
    if not found:
        return Intent.TEXT
    first, single = found[0], len(found) == 1
    if single and first in STOP_WORDS:
        return Intent.STOP
    if single and first in START_WORDS:
        return Intent.START
    if single and first in HELP_WORDS:
        return Intent.HELP
    if single and first in STATUS_KEYWORDS:
        return Intent.STATUS
    fixed, negation = FIXED_PHRASES.get(first, (frozenset(), ""))
    if first in YES_WORDS or (fixed.intersection(found[:3]) and negation not in found):
        return Intent.YES
    if first in NO_WORDS:
        return Intent.NO
    return Intent.TEXT


def only_answer(body: str) -> bool:
    """One or two words: an answer and nothing else (never a new request)."""
    return len(words(body)) <= 2


SPANISH_CONFIDENCE = 0.8  # a request is saved in Spanish when the model is this sure


def spanish(body: str) -> bool:
    """The text uses one of the classifier's Spanish words (no general language detection)."""
    return not SPANISH_WORDS.isdisjoint(words(body))


def reply_language(*preferences: str | None, said: str = "") -> str:
    """The first saved preference we answer in (most specific first: the work order's tenant, then the
    unit's); else Spanish when what they wrote is clearly Spanish; else English."""
    for preference in preferences:
        if supported(preference):
            return str(preference)
    return "es" if spanish(said) else DEFAULT_LANGUAGE


def tenant_language(unit: Unit, wo: WorkOrder | None, said: str) -> str:
    """The language to answer a tenant in: the work order's saved preference (or, for an answer about no
    one work order, their newest one's), the unit tenant's, else what they wrote."""
    return reply_language(wo.tenant.language if wo else None, unit.tenant.language if unit.tenant else None,
                          said=said)


def request_language(unit: Unit, said: str) -> str | None:
    """The language a request opened by text or email is saved with: none of its own when the unit's
    tenant has a saved preference (it inherits that), else Spanish when they wrote clearly Spanish, so the
    acknowledgement and every later message are in Spanish."""
    if unit.tenant and supported(unit.tenant.language):
        return None
    return "es" if spanish(said) or written_in_spanish(said) else None


def written_in_spanish(text: str) -> bool:
    """The triage model's language head reads the request as Spanish with confidence."""
    from shared.domain.triage_model import load_model  # cold start: the model loads only for free text

    language = load_model().predict(text).language or {}
    return language.get("es", 0.0) >= SPANISH_CONFIDENCE
