"""Issue, verify, answer with and revoke link tokens: the table holds only their peppered hashes.

Costs: issuing is one PutItem; verifying is one GetItem of the link (and, for a work order's link,
one GetItem of the work order: a cancelled work order's links stop working without a list of them
to revoke); a single-use answer and a renewal add one conditional UpdateItem each. No Scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain import links
from shared.domain.errors import NotFound
from shared.domain.links import LinkScope
from shared.domain.workorder import Status, utcnow


@dataclass(frozen=True)
class LinkTokens:
    repo: Any  # shared.adapters.repository.Repository
    pepper: bytes  # the link key from Secrets Manager
    clock: Callable[[], datetime] = field(default=utcnow)  # the services' clock (frozen in tests)

    def _now(self, now: float | None) -> float:
        return self.clock().timestamp() if now is None else now

    def issue(self, work_order_id: str, party: str, party_id: str, ttl_seconds: int,
              now: float | None = None, actions: tuple[str, ...] | None = None) -> str:
        """A fresh random token for this scope (only its hash is stored)."""
        scope = links.new_scope(work_order_id, party, party_id, ttl_seconds, self._now(now), actions)
        token = links.new_token()
        record = {"work_order_id": scope.work_order_id, "party": scope.party, "party_id": scope.party_id,
                  "actions": list(scope.actions), "link_expires_at": scope.expires_at}
        self.repo.put_link(links.digest(token, self.pepper), record, scope.expires_at + links.RENEWABLE_FOR)
        return token

    def verify(self, token: str | None, allow_expired: bool = False, now: float | None = None) -> LinkScope:
        """The scope of a live link; LinkRejected (the same answer whatever was wrong) otherwise."""
        if not links.well_formed(token):
            raise links.invalid()
        assert token is not None
        data = self.repo.get_link(links.digest(token, self.pepper))
        if data is None or data.get("revoked"):
            raise links.invalid()
        scope = LinkScope(data["work_order_id"], data["party"], data["party_id"], tuple(data["actions"]),
                          int(data["link_expires_at"]), data.get("answered"))
        links.check_expiry(scope, self._now(now), allow_expired)
        # ops read cancelled ones; a survey link names a tenant, an owner link a property, not a work order
        if scope.party not in ("unit", "ops", "survey", "owner") and self._cancelled(scope.work_order_id):
            raise links.invalid()
        return scope

    def answered(self, token: str, action: str) -> bool:
        """Spend the link's single answer (after the state change it made); False if already spent."""
        return self.repo.close_link(links.digest(token, self.pepper), "answered", action)

    def revoke(self, token: str, reason: str) -> bool:
        """The link stops working; False if it already had (so a revocation happens once)."""
        return self.repo.close_link(links.digest(token, self.pepper), "revoked", reason)

    def _cancelled(self, work_order_id: str) -> bool:
        try:
            return self.repo.get_work_order(work_order_id).status == Status.CANCELLED
        except NotFound:
            return True
