"""One map from domain errors to HTTP statuses, and the error body every endpoint uses."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shared.domain import errors

STATUS = {
    errors.InvalidInput: 422,
    errors.MalformedRequest: 400,
    errors.NotFound: 404,
    errors.LinkRejected: 403,
    errors.Unauthorized: 401,
    errors.InvalidTransition: 409,
    errors.IdempotencyConflict: 422,
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def from_domain(exc: errors.DomainError) -> tuple[int, dict[str, Any]]:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    details = exc.details
    if isinstance(exc, errors.LinkRejected):
        details = None  # a rejected link learns nothing about the work order
    return status, error_body(exc.code, exc.message, details)


def from_validation(exc: ValidationError) -> tuple[int, dict[str, Any]]:
    details = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"], "type": e["type"]}
               for e in exc.errors(include_url=False, include_input=False)]
    fields = ", ".join(sorted({d["field"] for d in details}))
    return 422, error_body("invalid_input", f"The request body is not valid: {fields}.", details)


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    """A multipart/form-data body: (text fields, files as name -> (filename, content type, bytes))."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    if not message.is_multipart():
        raise errors.MalformedRequest("The form body is not valid multipart/form-data.")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            if payload:  # an empty file input sends an empty part
                files[str(name)] = (filename, part.get_content_type(), payload)
        else:
            fields[str(name)] = payload.decode(part.get_content_charset() or "utf-8", "replace").strip()
    return fields, files
