"""The OpenAPI 3.1 document of the API, generated from the Chalice route table and each route's ``documented``
declaration (functions/api/plumbing.py), with the pydantic request models as components.

Pure: ``document(app)`` reads the app's routes and returns a dict. ``GET /openapi.json`` serves it (built once
per container) and ``opslayer openapi`` (``make openapi``) writes ``docs/openapi.json``, which
a unit test keeps equal to what this module generates. Only the docs routes import this module (cold start)."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from chalice import Chalice
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .plumbing import HTML, JSON, UNLIMITED_PREFIXES, ApiDoc

VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class ApiError(BaseModel):
    """Every error answer (shared/http.py ``error_body``)."""

    error: str
    message: str
    details: Any = None


SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "sigv4": {"type": "apiKey", "in": "header", "name": "Authorization",
              "description": "On AWS every /ops route is IAM-authorized by API Gateway: sign the request with "
                             "AWS Signature Version 4 (the stack's OpsPolicyArn is the policy a caller needs).",
              "x-amazon-apigateway-authtype": "awsSigv4"},
    "opsKey": {"type": "apiKey", "in": "header", "name": "X-Ops-Key",
               "description": "With OpsAuthMode=key (the local cloud) the /ops routes take this key instead."},
    "linkToken": {"type": "apiKey", "in": "query", "name": "token",
                  "description": "The signed link the person was sent (a bearer token)."},
    "unitKey": {"type": "apiKey", "in": "query", "name": "key",
                "description": "The unit's request link (printed as a QR code)."},
}
MEDIA_SCHEMA = {JSON: {"type": "object"}, HTML: {"type": "string"}, "text/csv": {"type": "string"},
                "text/xml": {"type": "string"}, "text/javascript": {"type": "string"}}
REASONS = {400: "The body cannot be read (not JSON, not an object, a bad charset).",
           401: "No valid ops credentials.",
           403: "The link is unknown, tampered, expired, revoked, used up or out of scope; or a cross-site form.",
           404: "No such record.", 422: "The body or a parameter is not valid: `details` names the problem.",
           429: "Too many requests: wait a minute (`Retry-After`)."}


class Undocumented(Exception):
    """A route without a ``documented`` declaration."""


Models = dict[str, tuple[type[BaseModel], JsonSchemaMode]]  # component name -> (request or answer model, mode)


def document(app: Chalice) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document of `app`'s routes."""
    models: Models = {"ApiError": (ApiError, "serialization")}
    paths: dict[str, dict[str, Any]] = {}
    for path in sorted(app.routes):
        entries = app.routes[path]
        paths[path] = {method.lower(): _operation(path, method, entry, len(entries) > 1, models)
                       for method, entry in sorted(entries.items())}
    refs, schemas = models_json_schema([used for _, used in sorted(models.items())], ref_template=REF)
    for name, used in models.items():  # a model read and answered alike would be two components: not named so
        if refs[used] != {"$ref": REF.format(model=name)}:
            raise ValueError(f"{name} is both a request and an answer model with different schemas: {refs[used]}")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Opslayer API", "version": VERSION,
                 "description": "Maintenance work orders: tenants, vendors, owners and ops. Generated from the "
                                "routes (functions/api/openapi.py); see docs/api.md."},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.get("$defs", {}).items())),
                       "securitySchemes": SECURITY_SCHEMES},
    }


def _doc(entry: Any) -> ApiDoc:
    doc = getattr(entry.view_function, "api_doc", None)
    if doc is None:
        raise Undocumented(f"{entry.method} {entry.uri_pattern} ({entry.view_name}) has no @documented(...)")
    return doc


def _operation(path: str, method: str, entry: Any, shared_view: bool, models: Models) -> dict[str, Any]:
    doc = _doc(entry)
    text = inspect.getdoc(entry.view_function) or entry.view_name.replace("_", " ").capitalize() + "."
    operation: dict[str, Any] = {
        "operationId": f"{entry.view_name}_{method.lower()}" if shared_view else entry.view_name,
        "summary": text.split("\n\n")[0].split(". ")[0].replace("\n", " ").rstrip("."),
        "description": text,
        "tags": [_tag(path)],
        "security": _security(path, doc),
    }
    parameters = _parameters(entry, doc)
    if parameters:
        operation["parameters"] = parameters
    body = method in ("POST", "PUT", "PATCH")
    if body:
        operation["requestBody"] = _request_body(entry, doc, models)
    operation["responses"] = _responses(path, doc, body and doc.request is not None, models)
    return operation


def _tag(path: str) -> str:
    first = path.strip("/").split("/")[0]
    return {"requests": "tenants", "units": "tenants", "surveys": "tenants", "links": "tenants",
            "vendor": "vendors", "approvals": "owners", "owner": "owners", "ops-pages": "ops", "oncall": "ops",
            "channels": "webhooks", "openapi.json": "meta", "docs": "meta", "health": "meta"}.get(first, first)


def _security(path: str, doc: ApiDoc) -> list[dict[str, list[str]]]:
    if path.startswith("/ops/"):
        return [{"sigv4": []}, {"opsKey": []}]
    if doc.link:
        return [{"unitKey" if doc.link == "key" else "linkToken": []}]
    return []  # public, a link in the path, or a signed body (webhooks)


def _parameters(entry: Any, doc: ApiDoc) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in entry.view_args:
        described = {"token": "The link (a bearer token) the person was sent."}.get(name, f"The {name}.")
        found.append({"name": name, "in": "path", "required": True, "description": described,
                      "schema": {"type": "string", "minLength": 1, **doc.params.get(name, {})}})
    for where, described_by_name in (("query", doc.query), ("header", doc.headers)):
        found += [{"name": name, "in": where, "required": name in doc.required, "description": described,
                   "schema": {"type": "string", **doc.params.get(name, {})}}
                  for name, described in described_by_name.items()]
    return found


def _request_body(entry: Any, doc: ApiDoc, models: Models) -> dict[str, Any]:
    if isinstance(doc.request, type) and issubclass(doc.request, BaseModel):
        models[doc.request.__name__] = (doc.request, "validation")
        schema: dict[str, Any] = {"$ref": REF.format(model=doc.request.__name__)}
        required = any(f.is_required() for f in doc.request.model_fields.values())
    else:
        schema = doc.request or {"type": "object", "description": "No fields are read; send none."}
        required = False
    accepted = [t for t in doc.body_types if t in entry.content_types]
    content = {t: {"schema": schema} for t in accepted}
    if doc.form is not None:  # a page's form: its own fields
        models[doc.form.__name__] = (doc.form, "validation")
        form = {"schema": {"$ref": REF.format(model=doc.form.__name__)}}
        content.update({t: form for t in accepted if t in FORM_TYPES})
    return {"required": required, "content": content}


def _responses(path: str, doc: ApiDoc, reads_body: bool, models: Models) -> dict[str, Any]:
    # Errors are the JSON ApiError; a page route answers a browser with an error page instead.
    error = {JSON: {"schema": {"$ref": REF.format(model="ApiError")}}}
    if HTML in doc.produces:
        error[HTML] = {"schema": MEDIA_SCHEMA[HTML]}
    answers: dict[int, dict[str, Any]] = {}
    for status, described in doc.responses.items():
        answer: dict[str, Any] = {"description": described}
        if status < 300:
            answer["content"] = {t: {"schema": MEDIA_SCHEMA[t]} for t in doc.produces}
            if JSON in doc.produces and doc.response is not None:
                models[doc.response.__name__] = (doc.response, "serialization")
                answer["content"][JSON] = {"schema": {"$ref": REF.format(model=doc.response.__name__)}}
        elif status >= 400:  # a declared error of a page-only route is that page (the form with its errors)
            answer["content"] = {HTML: error[HTML]} if doc.produces == (HTML,) else error
        answers[status] = answer
    common = set()
    if path.startswith("/ops/"):
        common.add(401)
    if reads_body:
        common |= {400, 422}
    if doc.query:
        common.add(422)
    if "{token}" in path or doc.link:
        common.add(403)
    if re.search(r"\{(?!token\})[a-z_]+\}", path):
        common.add(404)
    if not path.startswith(UNLIMITED_PREFIXES):
        common.add(429)
    for status in sorted(common - answers.keys()):
        answers[status] = {"description": REASONS[status], "content": error}
    return {str(status): answers[status] for status in sorted(answers)}


def rendered(app: Chalice) -> str:
    """The document as committed in docs/openapi.json (stable key order, a final newline)."""
    return json.dumps(document(app), indent=2, ensure_ascii=False) + "\n"
