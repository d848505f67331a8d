"""Domain errors. Each carries a stable machine code; `shared.http` maps them to HTTP statuses."""

from typing import Any


class ObjectGone(Exception):
    """A stored object was deleted meanwhile (another delivery of the same event got there first)."""


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    code = "invalid_input"


class MalformedRequest(DomainError):
    """The body cannot even be parsed (not JSON, not an object)."""

    code = "bad_request"


class NotFound(DomainError):
    code = "not_found"


class PreconditionRequired(DomainError):
    """A change that must name the version it was made against (If-Match) did not."""

    code = "precondition_required"


class LinkRejected(DomainError):
    """A link that is unknown, tampered, expired, revoked, already used to answer, or used outside its scope."""

    code = "forbidden"


class Unauthorized(DomainError):
    code = "unauthorized"


class InvalidTransition(DomainError):
    """The action is not allowed in the work order's current state."""

    code = "conflict"


class ConcurrentUpdate(InvalidTransition):
    """Someone else changed the work order first (version check failed)."""


class IdempotencyConflict(DomainError):
    """An Idempotency-Key was reused with a different request body."""

    code = "idempotency_conflict"
