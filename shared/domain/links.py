"""Signed, scoped, expiring links for tenants and vendors (no login).

A token is ``v1.<payload>.<mac>``: the payload (base64url JSON) names one work order, one party and
the actions it may take, with an expiry; the MAC is HMAC-SHA256 over the payload with a key kept in
Secrets Manager. Verification is constant time and never says which part was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from shared.domain.errors import LinkRejected

VERSION = "v1"
TENANT_ACTIONS = ("view", "feedback", "visit")
UNIT_ACTIONS = ("request",)
VENDOR_ACTIONS = ("view", "accept", "decline", "schedule", "checkin", "complete")


@dataclass(frozen=True)
class LinkScope:
    work_order_id: str
    party: str  # "tenant" or "vendor"
    party_id: str  # the vendor id, or the unit id for a tenant
    actions: tuple[str, ...]
    expires_at: int  # unix seconds

    def allows(self, action: str) -> bool:
        return action in self.actions


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, f"{VERSION}.{payload}".encode(), hashlib.sha256).digest())


def sign(scope: LinkScope, key: bytes) -> str:
    body = {"w": scope.work_order_id, "p": scope.party, "i": scope.party_id, "a": list(scope.actions),
            "e": scope.expires_at}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{VERSION}.{payload}.{_mac(key, payload)}"


def issue(work_order_id: str, party: str, party_id: str, ttl_seconds: int, key: bytes,
          now: float | None = None) -> str:
    actions = {"tenant": TENANT_ACTIONS, "unit": UNIT_ACTIONS}.get(party, VENDOR_ACTIONS)
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    return sign(LinkScope(work_order_id, party, party_id, actions, expires), key)


def verify(token: str, key: bytes, now: float | None = None, allow_expired: bool = False) -> LinkScope:
    """Return the scope of a genuine, unexpired token; raise LinkRejected otherwise. `allow_expired` is
    only for renewing a link: a genuine but expired token may ask for a fresh one, sent to the contact
    on file."""
    invalid = LinkRejected("This link is not valid. Use the latest link we sent you, or ask us for a new one.",
                           {"reason": "invalid"})
    parts = token.split(".") if isinstance(token, str) and len(token) < 2048 else []
    if len(parts) != 3 or parts[0] != VERSION:
        raise invalid
    payload, mac = parts[1], parts[2]
    if not hmac.compare_digest(_mac(key, payload).encode(), mac.encode()):
        raise invalid
    try:
        body = json.loads(_unb64(payload))
        scope = LinkScope(str(body["w"]), str(body["p"]), str(body["i"]), tuple(body["a"]), int(body["e"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise invalid from exc
    if not allow_expired and scope.expires_at < (now if now is not None else time.time()):
        raise LinkRejected("This link has expired. Ask us for a new one.", {"reason": "expired"})
    return scope


def require(scope: LinkScope, work_order_id: str | None, party: str, action: str) -> None:
    if (work_order_id is not None and scope.work_order_id != work_order_id) or scope.party != party \
            or not scope.allows(action):
        raise LinkRejected("This link does not allow that. Use the latest link we sent you.",
                           {"reason": "out_of_scope"})
