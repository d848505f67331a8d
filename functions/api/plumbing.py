"""The API's plumbing shared by every blueprint: the app object, responses, body parsing, errors, links.

Helper names are kept from when every route lived in app.py (routes call them unchanged)."""

from __future__ import annotations

import hmac
import importlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Chalice, Response
from pydantic import BaseModel, ValidationError

from shared import http
from shared.domain.errors import DomainError, Unauthorized
from shared.observability import count
from shared.services.container import services

from . import pages


class OpslayerChalice(Chalice):
    """Chalice keeps the current request on the app object; make it per thread so concurrent
    in-process invocations (the local cloud's server mode) cannot see each other's request."""

    _local = threading.local()

    @property  # type: ignore[override]
    def current_request(self):
        return getattr(self._local, "request", None)

    @current_request.setter
    def current_request(self, value):
        self._local.request = value

    @property  # type: ignore[override]
    def lambda_context(self):
        return getattr(self._local, "context", None)

    @lambda_context.setter
    def lambda_context(self, value):
        self._local.context = value


class lazy_module:
    """A module imported on its first attribute use, not when the API is loaded (cold start: Chalice needs every
    route at import, not every route's models and use cases). Thread-safe: it holds no state of its own, the
    import system's module locks make a concurrent first use wait for the import."""

    def __init__(self, name: str) -> None:
        self.__name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name}>"


views = lazy_module("shared.services.views")
app = OpslayerChalice(app_name="opslayer")
ALL_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, views.View):
        body = body.as_json()
    return Response(body=json.dumps(body, default=str), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def wants_html() -> bool:
    accept = (app.current_request.headers or {}).get("accept", "")
    return "text/html" in accept or ("application/json" not in accept and "*/*" not in accept and bool(accept))


def error_response(status: int, body: dict[str, Any], html: bool = False) -> Response:
    if html:
        return Response(body=pages.error_page(status, body["message"]), status_code=status,
                        headers={"Content-Type": "text/html; charset=utf-8"})
    return json_response(status, body)


def endpoint(html_errors: bool = False) -> Callable:
    """Map domain and validation errors to 4xx bodies; anything else is a logged 500 without details."""

    def wrap(view: Callable) -> Callable:
        def run(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except DomainError as exc:
                status, body = http.from_domain(exc)
                if html_errors and wants_html() and isinstance(exc.details, dict) \
                        and exc.details.get("reason") == "expired":
                    page = pages.expired_page(body["message"], api_path("/links/renew"), token_in_use())
                    return html_response(status, page)
            except ValidationError as exc:
                status, body = http.from_validation(exc)
            count(f"Http{status}")
            return error_response(status, body, html_errors and wants_html())

        run.__name__ = view.__name__
        run.__doc__ = view.__doc__
        return run

    return wrap


# Routes the API's own rate limits (functions/api/app.py) leave alone: signed machine callers, ops, health and
# the static script. The OpenAPI document adds 429 to every other route.
UNLIMITED_PREFIXES = ("/health", "/assets/", "/ops/", "/webhooks/", "/channels/")
JSON = "application/json"
HTML = "text/html"
FORMS = (JSON, "application/x-www-form-urlencoded")


# Where a route's documented models live: `documented(request="schemas.NewRequest", response="answers.Health")`
# names them, so a route's declaration imports no model (they load when the OpenAPI document is built).
MODEL_MODULES = {"answers": "functions.api.answers", "schemas": "shared.schemas",
                 "invoice_schemas": "shared.invoice_schemas", "views": "shared.services.views",
                 "config": "shared.services.config", "paging": "shared.services.paging"}


def documented_model(ref: str) -> type[BaseModel]:
    """`"answers.Health"` -> the model class (see MODEL_MODULES)."""
    module, _, name = ref.partition(".")
    return getattr(importlib.import_module(MODEL_MODULES[module]), name)


@dataclass(frozen=True)
class ApiDoc:
    """What the OpenAPI document (functions/api/openapi.py) says of a route beyond its path and methods:
    the body it reads, the answers it gives, its query parameters and headers. Errors common to a kind of
    route (401 for /ops, 422 for a body, 403 for a link, 429 for rate-limited routes) are added there."""

    responses: dict[int, str]
    request_ref: str | dict[str, Any] | None = None  # a model (see MODEL_MODULES), or a free-form body's JSON schema
    response_ref: str | None = None  # the JSON success answers' model (mostly functions/api/answers.py)
    body_types: tuple[str, ...] = FORMS  # the body's media types (those the route also accepts in Chalice)
    form_ref: str | None = None  # the form media types' model, where a page's form differs from the JSON
    produces: tuple[str, ...] = (JSON,)  # the media types of the success answers
    query: dict[str, str] = field(default_factory=dict)  # optional query parameters: name -> description
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # a parameter's schema beyond "a string"
    required: tuple[str, ...] = ()  # the query parameters and headers the route cannot do without
    headers: dict[str, str] = field(default_factory=dict)  # optional request headers: name -> description
    link: str | None = None  # the query parameter that carries the link token ("token" or "key"), if any

    @property
    def request(self) -> type[BaseModel] | dict[str, Any] | None:
        return documented_model(self.request_ref) if isinstance(self.request_ref, str) else self.request_ref

    @property
    def response(self) -> type[BaseModel] | None:
        return documented_model(self.response_ref) if self.response_ref else None

    @property
    def form(self) -> type[BaseModel] | None:
        return documented_model(self.form_ref) if self.form_ref else None


def documented(responses: dict[int, str], request: str | dict[str, Any] | None = None, response: str | None = None,
               form: str | None = None, **details: Any) -> Callable:
    """Declare a route's documentation next to it (between ``route`` and ``endpoint``): see ``ApiDoc``. Models
    are named (``"answers.Health"``), not imported (see MODEL_MODULES)."""
    doc = ApiDoc(responses=responses, request_ref=request, response_ref=response, form_ref=form, **details)

    def mark(view: Callable) -> Callable:
        view.api_doc = doc  # type: ignore[attr-defined]
        return view

    return mark


def read_body(model: type[BaseModel]) -> Any:
    """Parse a JSON (or HTML form) body into `model`, or raise a 4xx naming the problem."""
    request = app.current_request
    return model.model_validate(http.parse_body(request.raw_body or b"", (request.headers or {}).get("content-type")))


def form_fields(exact: bool = False) -> dict[str, str]:
    """The request's urlencoded form, stripped (or `exact`, as sent): see `shared.http.parse_form`."""
    request = app.current_request
    return http.parse_form(request.raw_body or b"", (request.headers or {}).get("content-type"), exact=exact)


def token_in_use() -> str:
    request = app.current_request
    return (request.uri_params or {}).get("token") or query_param("token") or query_param("key") or ""


def html_response(status: int, body: str) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def api_path(path: str) -> str:
    """A same-site link: behind the execute-api host the stage is part of the path."""
    request = app.current_request
    host = (request.headers or {}).get("host", "")
    stage = (request.context or {}).get("stage")
    return f"/{stage}{path}" if stage and "execute-api" in host else path


def refuse_cross_site() -> None:
    """Forms are only accepted from our own pages (links are bearer tokens: a cross-site post must not
    be able to use one). Browsers send Sec-Fetch-Site and Origin; other clients send neither."""
    from shared.domain.errors import LinkRejected

    headers = app.current_request.headers or {}
    origin = headers.get("origin", "")
    if headers.get("sec-fetch-site") == "cross-site" or (
            origin and origin != "null" and origin.split("://", 1)[-1] != headers.get("host", "")):
        raise LinkRejected("This form can only be sent from our own page.", {"reason": "cross_site"})


def is_form() -> bool:
    return (app.current_request.headers or {}).get("content-type", "").startswith(
        "application/x-www-form-urlencoded")


def see_other(path: str) -> Response:
    """A form post answers with a redirect to the page to show (post/redirect/get)."""
    return Response(body="", status_code=303, headers={"Location": api_path(path)})


def request_base_url() -> str:
    configured = services().settings.public_base_url
    if configured:
        return configured
    request = app.current_request
    host = (request.headers or {}).get("host", "localhost")
    stage = (request.context or {}).get("stage")
    return f"https://{host}" + (f"/{stage}" if stage and "execute-api" in host else "")


def page_url(path: str) -> str:
    """Absolute URL of one of our pages as this browser reached it (S3 redirects back there after an
    upload). API Gateway sets X-Forwarded-Proto; the stage is in the path behind execute-api."""
    headers = app.current_request.headers or {}
    proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    return f"{proto}://{headers.get('host', 'localhost')}{api_path(path)}"


def query_param(name: str) -> str | None:
    return (app.current_request.query_params or {}).get(name)


def require_ops() -> str:
    """The ops caller ("ops:key" in key mode, else "ops:<IAM caller>"), or Unauthorized: every /ops route."""
    svc = services()
    request = app.current_request
    if svc.settings.ops_auth_mode == "key":
        given = (request.headers or {}).get("x-ops-key", "")
        expected = svc.secrets.get(svc.settings.ops_key_secret_arn)
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("A valid X-Ops-Key header is required.")
        return "ops:key"
    identity = (request.context or {}).get("identity") or {}
    caller = identity.get("userArn") or identity.get("caller")
    if not caller:  # API Gateway's AWS_IAM authorizer fills these; never trust a request without them
        raise Unauthorized("This route is IAM-authorized.")
    return f"ops:{caller}"
