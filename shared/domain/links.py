"""Link tokens for tenants, vendors and unit request forms (no login): the pure part.

A token is ``olk1_`` + 256 random bits (base64url). It carries nothing: the table keeps only its
HMAC-SHA256 keyed with the link key from Secrets Manager (a pepper, so a table dump alone cannot be used
to test guesses offline), and under that hash the scope - one work order (or unit), one party, its
actions - with an expiry. The I/O (issue, verify, revoke, answer) is in ``shared/services/link_tokens.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from shared.domain.errors import LinkRejected

PREFIX = "olk1_"  # Opslayer link, format 1: recognisable in a URL or by a secret scanner
TOKEN_BYTES = 32  # 256 bits from the OS CSPRNG
TOKEN_PATTERN = PREFIX + r"[A-Za-z0-9_-]{43}"  # what finds a token in a message (drill, tests)
_SHAPE = re.compile(TOKEN_PATTERN)
TENANT_ACTIONS = ("view", "feedback", "visit", "safety", "rate")
UNIT_ACTIONS = ("request",)
VENDOR_ACTIONS = ("view", "accept", "decline", "schedule", "checkin", "complete", "invoice")
APPROVER_ACTIONS = ("view", "approve", "reject")  # the owner or ops, for one invoice
# The person paged for an emergency (party_id: the level paged): GET shows the page, POST acknowledges.
ONCALL_ACTIONS = ("view", "acknowledge")
# A tenant's quarterly NPS question (work_order_id: the tenant key, party_id: the quarter): GET shows it,
# POST answers (once: the survey record refuses a second answer).
SURVEY_ACTIONS = ("view", "nps")
# Ops pages a browser cannot sign for (`opslayer ops open`): a link names one page of one work order
# (party "ops", party_id and action = the page), lives OPS_PAGE_TTL and opens once.
OPS_PAGES = ("record", "report")
OPS_PAGE_TTL = 600
# The ops overview (not one work order's page): its link names the fixed id OVERVIEW and the page "overview".
OVERVIEW = "overview"
OPS_LINK_PAGES = (*OPS_PAGES, OVERVIEW)
# A property owner's monthly report (work_order_id: the property id, party_id: the month YYYY-MM): view only,
# opened any number of times while it lives (shared/services/kpi_pages.py: 45 days).
OWNER_ACTIONS = ("view",)
# Answers that settle a question once: a link gives one of them. A later offer or follow-up question
# comes with a new link, so an old link (a forwarded message, a shared phone) cannot answer it.
SINGLE_USE = ("accept", "decline", "feedback")
# An expired link may still ask for a new one this long; then its record expires (DynamoDB TTL).
RENEWABLE_FOR = 30 * 86400


@dataclass(frozen=True)
class LinkScope:
    work_order_id: str  # the unit id for a unit link
    party: str  # "tenant", "vendor", "unit", "approver", "ops", "oncall", "survey" or "owner"
    party_id: str  # the vendor id, the unit id for a tenant or a unit link, the level paged for "oncall"
    actions: tuple[str, ...]
    expires_at: int  # unix seconds
    answered: str | None = None  # the single-use answer this link already gave

    def allows(self, action: str) -> bool:
        return action in self.actions


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: object) -> bool:
    """Cheap shape check before any lookup (garbage never reaches the table)."""
    return isinstance(token, str) and _SHAPE.fullmatch(token) is not None


def digest(token: str, pepper: bytes) -> str:
    """What the table stores and looks up: HMAC-SHA256(pepper, token), hex."""
    return hmac.new(pepper, token.encode(), hashlib.sha256).hexdigest()


def actions_for(party: str) -> tuple[str, ...]:
    return {"tenant": TENANT_ACTIONS, "unit": UNIT_ACTIONS, "vendor": VENDOR_ACTIONS,
            "approver": APPROVER_ACTIONS, "ops": OPS_LINK_PAGES, "oncall": ONCALL_ACTIONS,
            "survey": SURVEY_ACTIONS, "owner": OWNER_ACTIONS}[party]


def new_scope(work_order_id: str, party: str, party_id: str, ttl_seconds: int, now: float,
              actions: tuple[str, ...] | None = None) -> LinkScope:
    """`actions` narrows the party's actions (an ops link allows its one page)."""
    allowed = actions_for(party)
    if actions is not None and not set(actions) <= set(allowed):
        raise ValueError(f"{party} links cannot allow {actions}")
    return LinkScope(work_order_id, party, party_id, actions if actions is not None else allowed,
                     int(now + ttl_seconds))


def invalid() -> LinkRejected:
    """The one answer for unknown, forged, revoked or long-gone links: it never says which."""
    return LinkRejected("This link is not valid. Use the latest link we sent you, or ask us for a new one.",
                        {"reason": "invalid"})


def check_expiry(scope: LinkScope, now: float, allow_expired: bool = False) -> None:
    """An expired link is refused with its own reason (the page offers a new one); `allow_expired` is only
    for renewing, and only within RENEWABLE_FOR."""
    if scope.expires_at + RENEWABLE_FOR < now:
        raise invalid()
    if not allow_expired and scope.expires_at < now:
        raise LinkRejected("This link has expired. Ask us for a new one.", {"reason": "expired"})


def require_unanswered(scope: LinkScope, action: str) -> None:
    """Checked once the work order's state allows the answer (a repeat in the same round stays a 409):
    a link that already answered cannot answer a later round."""
    if action in SINGLE_USE and scope.answered:
        raise LinkRejected("This link was already used to answer. Use the latest link we sent you.",
                           {"reason": "answered"})


def require(scope: LinkScope, work_order_id: str | None, party: str, action: str) -> None:
    if (work_order_id is not None and scope.work_order_id != work_order_id) or scope.party != party \
            or not scope.allows(action):
        raise LinkRejected("This link does not allow that. Use the latest link we sent you.",
                           {"reason": "out_of_scope"})
