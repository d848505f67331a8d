"""One map from domain errors to HTTP statuses, the error body every endpoint uses, and the request body
parsers (urlencoded forms, JSON, multipart) every route uses."""

from __future__ import annotations

import codecs
import json
from typing import Any
from urllib.parse import parse_qsl

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
    errors.PreconditionRequired: 428,
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


FORM = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 200  # our largest form has about twenty


def media_type(content_type: str | None) -> str:
    """`application/x-www-form-urlencoded; charset=utf-8` -> `application/x-www-form-urlencoded`."""
    return (content_type or "").split(";")[0].strip().lower()


def _charset(content_type: str | None) -> str:
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or "utf-8"
            try:
                return codecs.lookup(charset).name
            except LookupError:
                raise errors.MalformedRequest(f"The charset {charset!r} is not supported; send UTF-8.",
                                              {"charset": charset}) from None
    return "utf-8"


def parse_form(body: bytes, content_type: str | None = None, *, exact: bool = False) -> dict[str, str]:
    """An urlencoded form body as {field: value}, decoded in its declared charset (UTF-8 when none is given).

    A field sent more than once keeps its last (non-blank) value. Values are stripped and blank fields dropped
    (a blank input means "not given"), unless `exact`: a signed body (Twilio's) is checked on the values as sent.
    Bytes that are not valid in the charset, or too many fields, are a MalformedRequest (400) saying so."""
    charset = _charset(content_type)
    try:
        pairs = parse_qsl(body.decode(charset), keep_blank_values=True, encoding=charset, errors="strict",
                          max_num_fields=MAX_FORM_FIELDS)
    except UnicodeDecodeError as exc:
        raise errors.MalformedRequest(f"The form body is not valid {charset}.",
                                      {"charset": charset, "position": exc.start}) from exc
    except ValueError as exc:  # parse_qsl: more than max_num_fields
        raise errors.MalformedRequest(f"The form has more than {MAX_FORM_FIELDS} fields.") from exc
    if exact:
        return dict(pairs)
    return {name: value.strip() for name, value in pairs if value.strip()}


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A request body as a dict: an urlencoded form (`parse_form`), else a JSON object (no content type, JSON
    and text/plain alike). Anything else is a MalformedRequest (400) naming the problem."""
    if media_type(content_type) == FORM:
        return parse_form(body, content_type)
    try:
        data = json.loads(body) if body.strip() else {}
    except UnicodeDecodeError as exc:
        raise errors.MalformedRequest("The request body is not valid UTF-8.", {"position": exc.start}) from exc
    except ValueError as exc:
        raise errors.MalformedRequest("The request body is not valid JSON.", {"error": str(exc)}) from exc
    if not isinstance(data, dict):
        raise errors.MalformedRequest("The request body must be a JSON object.")
    return data


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
