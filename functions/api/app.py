"""The HTTP API (Chalice behind API Gateway). Thin: parse, call one use case, map the result."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from chalice import Chalice, Response
from pydantic import BaseModel, ValidationError

from shared import http, schemas
from shared.domain.errors import DomainError, InvalidInput, MalformedRequest, Unauthorized
from shared.domain.workorder import vendor_actions
from shared.observability import bind, count, logger, metrics, tracer
from shared.services import views, writes
from shared.services import workorders as wo_service
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


app = OpslayerChalice(app_name="opslayer")
ALL_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]
SECURITY_HEADERS = {"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
                    "Cache-Control": "no-store"}


@app.middleware("http")
def _observe(event, get_response):
    ctx = event.context or {}
    bind(correlation_id=ctx.get("requestId"))
    limited = _rate_limited(event, ctx)
    response = limited or get_response(event)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    logger.info("http", extra={"method": event.method, "route": ctx.get("resourcePath"),
                               "status": response.status_code})
    return response


# Public routes people reach with a link: limited per client IP and per link, on top of API Gateway's
# stage throttling. Signed machine callers (Buildium, Twilio), ops and health are not limited here.
UNLIMITED_PREFIXES = ("/health", "/ops/", "/webhooks/", "/channels/")


def _rate_limited(event: Any, ctx: dict[str, Any]) -> Response | None:
    from shared.domain.links import digest
    from shared.services.rate_limits import over_limit

    route = ctx.get("resourcePath") or ""
    if route.startswith(UNLIMITED_PREFIXES):
        return None
    params = event.uri_params or {}
    query = event.query_params or {}
    ip = ((ctx.get("identity") or {}).get("sourceIp")) or "unknown"
    token = params.get("token") or query.get("token") or query.get("key")
    svc = services()
    link = digest(token, svc.link_key()) if token else None
    if not over_limit(svc.repo, ip, link, svc.settings.rate_limit_per_ip_per_minute,
                      svc.settings.rate_limit_per_link_per_minute):
        return None
    count("Http429")
    body = http.error_body("rate_limited", "Too many requests. Please wait a minute and try again.")
    return Response(body=json.dumps(body), status_code=429,
                    headers={"Content-Type": "application/json", "Retry-After": "60"})


# ---------------------------------------------------------------- plumbing
def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, default=str), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def _wants_html() -> bool:
    accept = (app.current_request.headers or {}).get("accept", "")
    return "text/html" in accept or ("application/json" not in accept and "*/*" not in accept and bool(accept))


def _error(status: int, body: dict[str, Any], html: bool = False) -> Response:
    if html:
        return Response(body=pages.error_page(status, body["message"]), status_code=status,
                        headers={"Content-Type": "text/html; charset=utf-8"})
    return _json(status, body)


def endpoint(html_errors: bool = False) -> Callable:
    """Map domain and validation errors to 4xx bodies; anything else is a logged 500 without details."""

    def wrap(view: Callable) -> Callable:
        def run(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except DomainError as exc:
                status, body = http.from_domain(exc)
                if html_errors and _wants_html() and isinstance(exc.details, dict) \
                        and exc.details.get("reason") == "expired":
                    return _html(status, pages.expired_page(body["message"], _path("/links/renew"), _token_in_use()))
            except ValidationError as exc:
                status, body = http.from_validation(exc)
            count(f"Http{status}")
            return _error(status, body, html_errors and _wants_html())

        run.__name__ = view.__name__
        run.__doc__ = view.__doc__
        return run

    return wrap


def _body(model: type[BaseModel]) -> Any:
    """Parse a JSON (or HTML form) body into `model`, or raise a 4xx naming the problem."""
    request = app.current_request
    raw = request.raw_body or b""
    content_type = (request.headers or {}).get("content-type", "application/json").split(";")[0].strip()
    if content_type == "application/x-www-form-urlencoded":
        data: Any = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    else:
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise MalformedRequest("The request body is not valid JSON.", {"error": str(exc)}) from exc
    if not isinstance(data, dict):
        raise MalformedRequest("The request body must be a JSON object.")
    return model.model_validate(data)


def _token_in_use() -> str:
    request = app.current_request
    return (request.uri_params or {}).get("token") or _query("token") or _query("key") or ""


def _html(status: int, body: str) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def _path(path: str) -> str:
    """A same-site link: behind the execute-api host the stage is part of the path."""
    request = app.current_request
    host = (request.headers or {}).get("host", "")
    stage = (request.context or {}).get("stage")
    return f"/{stage}{path}" if stage and "execute-api" in host else path


def _refuse_cross_site() -> None:
    """Forms are only accepted from our own pages (links are bearer tokens: a cross-site post must not
    be able to use one). Browsers send Sec-Fetch-Site and Origin; other clients send neither."""
    from shared.domain.errors import LinkRejected

    headers = app.current_request.headers or {}
    origin = headers.get("origin", "")
    if headers.get("sec-fetch-site") == "cross-site" or (
            origin and origin != "null" and origin.split("://", 1)[-1] != headers.get("host", "")):
        raise LinkRejected("This form can only be sent from our own page.", {"reason": "cross_site"})


def _is_form() -> bool:
    return (app.current_request.headers or {}).get("content-type", "").startswith(
        "application/x-www-form-urlencoded")


def _see_other(path: str) -> Response:
    """A form post answers with a redirect to the page to show (post/redirect/get)."""
    return Response(body="", status_code=303, headers={"Location": _path(path)})


def _base_url() -> str:
    configured = services().settings.public_base_url
    if configured:
        return configured
    request = app.current_request
    host = (request.headers or {}).get("host", "localhost")
    stage = (request.context or {}).get("stage")
    return f"https://{host}" + (f"/{stage}" if stage and "execute-api" in host else "")


def _page_url(path: str) -> str:
    """Absolute URL of one of our pages as this browser reached it (S3 redirects back there after an
    upload). API Gateway sets X-Forwarded-Proto; the stage is in the path behind execute-api."""
    headers = app.current_request.headers or {}
    proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    return f"{proto}://{headers.get('host', 'localhost')}{_path(path)}"


def _query(name: str) -> str | None:
    return (app.current_request.query_params or {}).get(name)


def _require_ops() -> str:
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


# ---------------------------------------------------------------- routes
@app.route("/health", methods=["GET"])
@endpoint()
def health():
    return _json(200, {"status": "ok", "service": "opslayer"})


@app.route("/requests", methods=["POST"], content_types=ALL_TYPES)
@endpoint()
def create_request():
    """Tenant intake: persisted before the 202; an Idempotency-Key makes retries return the same order."""
    req = _body(schemas.NewRequest)
    key = (app.current_request.headers or {}).get("idempotency-key")
    if key is not None and not (1 <= len(key) <= 255):
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters.")
    svc = services()
    wo = wo_service.submit_request(svc, req, idempotency_key=key)
    bind(work_order_id=wo.id)
    url = views.tenant_link(svc, wo, _base_url())
    return _json(202, {"id": wo.id, "status": wo.status.value, "status_url": url}, {"Location": url})


@app.route("/requests/{id}", methods=["GET"])
@endpoint(html_errors=True)
def get_request(id):
    token = _query("token")
    view = views.tenant_status(services(), id, token)
    if _wants_html():
        from shared.services import photos

        lang = pages.language(view["language"])
        upload = photos.tenant_slot(services(), id, token, redirect=_page_url(f"/requests/{id}?token={token}")) \
            if view["photo_upload"] else None  # presigning writes nothing: this GET changes no state
        return _html(200, pages.tenant_status(view, _path(f"/requests/{id}/feedback?token={token}"), lang,
                                              _path(f"/requests/{id}/visit?token={token}"), upload,
                                              _path(f"/requests/{id}/safety?token={token}")))
    return _json(200, view)


@app.route("/requests/{id}/photos", methods=["POST"], content_types=ALL_TYPES)
@endpoint()
def request_photo_slot(id):
    """An upload slot (presigned POST) for a photo of the tenant's open request."""
    from shared.services import photos

    _refuse_cross_site()
    body = _body(schemas.PhotoSlot)
    return _json(201, photos.tenant_slot(services(), id, _query("token"), body.content_type))


@app.route("/requests/{id}/feedback", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def request_feedback(id):
    _refuse_cross_site()
    body = _body(schemas.Feedback)
    token = _query("token")
    wo = wo_service.tenant_feedback(services(), id, token, body.resolved, body.comment)
    if _is_form():
        return _see_other(f"/requests/{id}?token={token}")
    return _json(200, {"id": wo.id, "status": wo.status.value})


@app.route("/requests/{id}/safety", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def request_safety(id):
    """The tenant's YES or NO to triage's safety question (the buttons on the status page)."""
    from shared.services import safety

    _refuse_cross_site()
    body = _body(schemas.SafetyAnswer)
    token = _query("token")
    svc = services()
    writes.tenant_scope(svc, id, token, "safety")
    wo = safety.answer(svc, id, body.answer == "yes", via="the status page")
    if _is_form():
        return _see_other(f"/requests/{id}?token={token}")
    return _json(200, {"id": wo.id, "status": wo.status.value, "priority": wo.priority.value if wo.priority else None})


@app.route("/requests/{id}/visit", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def request_visit(id):
    """The tenant about the visit: confirm or decline a proposed time, ask to reschedule, nobody came."""
    from shared.services import visits

    _refuse_cross_site()
    body = _body(schemas.TenantVisit)
    token = _query("token")
    wo = visits.tenant_visit(services(), id, token, body.action, body.comment)
    if _is_form():
        return _see_other(f"/requests/{id}?token={token}")
    return _json(200, {"id": wo.id, "status": wo.status.value, "window": views.window_of(wo),
                       "proposal": views.window_of(wo, proposal=True)})


def _unit_link(unit_id: str) -> tuple[Any, Any, str]:
    """The unit behind a per-unit request link (a token: unit ids alone cannot be used to spam)."""
    from shared.domain import links

    svc = services()
    key = _query("key") or ""
    scope = svc.link_tokens().verify(key)
    links.require(scope, unit_id, "unit", "request")
    unit = svc.repo.get_unit(unit_id)
    return unit, svc.repo.get_property(unit.property_id), key


@app.route("/units/{unit_id}/request", methods=["GET"])
@endpoint(html_errors=True)
def unit_request_form(unit_id):
    unit, prop, key = _unit_link(unit_id)
    lang = pages.language(_query("lang"), (app.current_request.headers or {}).get("accept-language"))
    action = _path(f"/units/{unit_id}/request?key={key}")
    return _html(200, pages.request_form(unit.label, prop.name, action, lang=lang))


@app.route("/units/{unit_id}/request", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def unit_request_submit(unit_id):
    """The per-unit form posts here; errors come back on the form, next to their fields."""
    _refuse_cross_site()
    unit, prop, key = _unit_link(unit_id)
    raw = {k: v[-1].strip() for k, v in parse_qs((app.current_request.raw_body or b"").decode("utf-8", "replace"))
           .items()}
    fields: dict[str, Any] = {k: v for k, v in raw.items() if v and k in schemas.NewRequest.model_fields}
    svc = services()
    zone = ZoneInfo(prop.time_zone or svc.settings.default_time_zone)
    windows, errors = schemas.form_windows(raw, zone, svc.clock())
    if windows:  # times to pick from; words about availability go with the description
        fields["availability"] = windows
        if raw.get("availability") and raw.get("description"):
            fields["description"] = f"{raw['description']}\n(When I am home: {raw['availability']})"
    try:
        req = schemas.NewRequest.model_validate({**fields, "unit_id": unit_id})
    except ValidationError as exc:
        errors.update({str(e["loc"][0]): e["msg"] for e in exc.errors(include_url=False, include_input=False)
                       if e["loc"]})
    if errors:
        action = _path(f"/units/{unit_id}/request?key={key}")
        form = pages.request_form(unit.label, prop.name, action, errors, raw, lang=pages.language(raw.get("language")))
        return _html(422, form)
    wo = wo_service.submit_request(svc, req)
    status = views.tenant_link(svc, wo, "")
    return _see_other(status)


@app.route("/vendor/jobs/{token}", methods=["GET"])
@endpoint(html_errors=True)
def vendor_job(token):
    job = views.vendor_job(services(), token)
    if _wants_html():
        from shared.services import photos

        lang = pages.language(job.get("language"), (app.current_request.headers or {}).get("accept-language"))
        upload = photos.vendor_slot(services(), token, redirect=_page_url(f"/vendor/jobs/{token}")) \
            if job.get("photo_upload") else None  # presigning writes nothing: this GET changes no state
        return Response(body=pages.vendor_job(job, token, _path(""), lang, upload), status_code=200,
                        headers={"Content-Type": "text/html; charset=utf-8"})
    return _json(200, job)


@app.route("/vendor/jobs/{token}/photos", methods=["POST"], content_types=ALL_TYPES)
@endpoint()
def vendor_photo_slot(token):
    """An upload slot (presigned POST) for a photo of the job (e.g. the finished work)."""
    from shared.services import photos

    _refuse_cross_site()
    body = _body(schemas.PhotoSlot)
    return _json(201, photos.vendor_slot(services(), token, body.content_type))


def _vendor_result(token: str, wo: Any) -> Response:
    if _is_form():  # a browser form: back to the job page (post/redirect/get)
        return _see_other(f"/vendor/jobs/{token}")
    return _json(200, {"id": wo.id, "status": wo.status.value,
                       "allowed_actions": vendor_actions(wo, wo.vendor_id or "")})


def _vendor_action(token: str, schema: type[BaseModel], act: Callable[[Any, Any], Any]) -> Response:
    """Every vendor action: same-site form or JSON body, validated, one use case, then the result."""
    _refuse_cross_site()
    body = _body(schema)
    return _vendor_result(token, act(services(), body))


@app.route("/vendor/jobs/{token}/accept", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def vendor_accept(token):
    return _vendor_action(token, schemas.Empty, lambda svc, _: wo_service.vendor_accept(svc, token))


@app.route("/vendor/jobs/{token}/decline", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def vendor_decline(token):
    return _vendor_action(token, schemas.Decline, lambda svc, b: wo_service.vendor_decline(svc, token, b.reason))


@app.route("/vendor/jobs/{token}/schedule", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def vendor_schedule(token):
    """One of the tenant's windows (`window`), or a time already agreed with the tenant: scheduled."""
    from shared.services import visits

    return _vendor_action(token, schemas.Schedule, lambda svc, b: visits.vendor_schedule(svc, token, b))


@app.route("/vendor/jobs/{token}/propose", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def vendor_propose(token):
    """Another time: the tenant confirms or declines it."""
    from shared.services import visits

    return _vendor_action(token, schemas.Propose, lambda svc, b: visits.vendor_propose(svc, token, b))


@app.route("/vendor/jobs/{token}/checkin", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def vendor_checkin(token):
    return _vendor_action(token, schemas.CheckIn,
                          lambda svc, b: wo_service.vendor_checkin(svc, token, b.eta_minutes))


@app.route("/vendor/jobs/{token}/complete", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def vendor_complete(token):
    return _vendor_action(token, schemas.Complete, lambda svc, b: wo_service.vendor_complete(svc, token, b.notes))


@app.route("/vendor/jobs/{token}/invoice", methods=["POST"], content_types=[*ALL_TYPES, "multipart/form-data"])
@endpoint(html_errors=True)
def vendor_invoice(token):
    """The vendor's invoice: JSON, or the job page's form (with an optional PDF or photo)."""
    from shared.invoice_schemas import InvoiceIn, invoice_from_form
    from shared.services import invoicing

    _refuse_cross_site()
    request = app.current_request
    content_type = (request.headers or {}).get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        fields, files = http.parse_multipart(request.raw_body or b"", content_type)
        body = InvoiceIn.model_validate(invoice_from_form(fields, files.get("attachment")))
    elif _is_form():
        body = InvoiceIn.model_validate(invoice_from_form(
            {k: v[-1].strip() for k, v in parse_qs((request.raw_body or b"").decode("utf-8", "replace")).items()},
            None))
    else:
        body = _body(InvoiceIn)
    inv = invoicing.submit_by_link(services(), token, body)
    if _is_form() or content_type.startswith("multipart/form-data"):
        return _see_other(f"/vendor/jobs/{token}")
    return _json(202, {"invoice_id": inv.id, "work_order_id": inv.work_order_id, "status": inv.status.value,
                       "total": str(inv.total), "currency": inv.currency})


@app.route("/approvals/{token}", methods=["GET"])
@endpoint(html_errors=True)
def approval_get(token):
    """The owner's or ops' view of one invoice: lines, checks, coding, and approve / reject."""
    from shared.services import invoicing

    view = invoicing.approval_view(services(), token)
    if _wants_html():
        return _html(200, pages.approval(view, _path(f"/approvals/{token}")))
    return _json(200, view)


def _decision(token: str, approve: bool) -> Response:
    from shared.services import invoicing

    _refuse_cross_site()
    from shared.invoice_schemas import Reject

    reason = None if approve else _body(Reject).reason
    inv = invoicing.decide(services(), token, approve, reason)
    if _is_form():
        return _see_other(f"/approvals/{token}")
    return _json(200, {"invoice_id": inv.id, "status": inv.status.value})


@app.route("/approvals/{token}/approve", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def approval_approve(token):
    return _decision(token, True)


@app.route("/approvals/{token}/reject", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def approval_reject(token):
    return _decision(token, False)


@app.route("/webhooks/buildium", methods=["POST"], content_types=ALL_TYPES)
@endpoint()
def buildium_webhook():
    """Verify, queue, answer: no PMS call here (Buildium allows 10 s and retries; the consumer fetches)."""
    from shared.services import pms_sync

    request = app.current_request
    outcome = pms_sync.receive_webhook(services(), dict(request.headers or {}), request.raw_body or b"")
    return _json(200 if outcome == "ignored" else 202, {"status": outcome})


@app.route("/channels/sms", methods=["POST"], content_types=ALL_TYPES)
@endpoint()
def sms_webhook():
    """Twilio-compatible inbound SMS: verify X-Twilio-Signature, apply the text once, answer TwiML."""
    from shared.services import sms

    request = app.current_request
    svc = services()
    params = {k: v[-1] for k, v in parse_qs((request.raw_body or b"").decode("utf-8", "replace"),
                                             keep_blank_values=True).items()}
    query = "&".join(f"{k}={v}" for k, v in (request.query_params or {}).items())
    url = _base_url().rstrip("/") + "/channels/sms" + (f"?{query}" if query else "")
    token = svc.secrets.get(svc.settings.twilio_auth_token_secret_arn)
    if not sms.twilio_signature_valid(token, url, params, (request.headers or {}).get("x-twilio-signature")):
        count("Http403")
        return _json(403, {"error": "invalid_signature",
                           "message": "A valid X-Twilio-Signature header is required."})
    msg = sms.InboundSms(channel="twilio", message_id=params.get("MessageSid") or params.get("SmsSid") or "",
                         from_phone=params.get("From", ""), to_phone=params.get("To", ""), body=params.get("Body", ""))
    outcome = sms.handle_inbound(svc, msg)
    bind(work_order_id=outcome.work_order_id)
    return Response(body=sms.twiml(outcome.reply), status_code=200, headers={"Content-Type": "text/xml"})


@app.route("/ops/work-orders", methods=["GET"])
@endpoint()
def ops_list():
    _require_ops()
    status = _query("status")
    from shared.domain.workorder import Source, Status

    if status and status not in {s.value for s in Status}:
        raise InvalidInput(f"Unknown status {status!r}.", {"allowed": [s.value for s in Status]})
    source = _query("source")
    if source and source not in {s.value for s in Source}:
        raise InvalidInput(f"Unknown source {source!r}.", {"allowed": [s.value for s in Source]})
    return _json(200, views.ops_list(services(), status, _query("property_id"), source))


@app.route("/ops/work-orders/{id}", methods=["GET"])
@endpoint()
def ops_get(id):
    _require_ops()
    return _json(200, views.ops_work_order(services(), id))


@app.route("/links/renew", methods=["POST"], content_types=ALL_TYPES)
@endpoint(html_errors=True)
def renew_link():
    """An expired link asks for a fresh one; it goes to the contact on file, and the answer never says
    whether the link was ours."""
    from shared.services.link_renewal import renew

    _refuse_cross_site()
    body = _body(schemas.RenewLink)
    renew(services(), body.token)
    message = "If this link was ours, a new one is on its way to the phone or email we have on file."
    if _is_form():
        return _html(202, pages.page("New link", f"<p>{message}</p>"))
    return _json(202, {"status": "accepted", "message": message})


@app.route("/ops/units/{unit_id}/qr", methods=["GET"])
@endpoint()
def ops_unit_qr(unit_id):
    """A printable page with the unit's request QR code, for the lobby or the unit's door."""
    import segno

    _require_ops()
    svc = services()
    unit = svc.repo.get_unit(unit_id)
    prop = svc.repo.get_property(unit.property_id)
    url = views.unit_request_link(svc, unit_id, _base_url())
    svg = segno.make(url, error="m").svg_inline(scale=6, title=f"Request form for unit {unit.label}")
    return _html(200, pages.unit_qr(prop.name, unit.label, url, svg))


@app.route("/ops/work-orders/{id}/cancel", methods=["POST"], content_types=ALL_TYPES)
@endpoint()
def ops_cancel(id):
    actor = _require_ops()
    body = _body(schemas.Cancel)
    wo = wo_service.cancel(services(), id, body.reason, actor=actor)
    return _json(200, {"id": wo.id, "status": wo.status.value})


@app.route("/ops/work-orders/{id}/close", methods=["POST"], content_types=ALL_TYPES)
@endpoint()
def ops_close(id):
    """Close without an invoice (in-house work, warranty), with the reason on the record."""
    from shared.invoice_schemas import CloseWithoutInvoice
    from shared.services import invoicing

    actor = _require_ops()
    body = _body(CloseWithoutInvoice)
    wo = invoicing.close_without_invoice(services(), id, body.reason, actor=actor)
    return _json(200, {"id": wo.id, "status": wo.status.value})


@app.route("/ops/work-orders/{id}/triage", methods=["POST"], content_types=ALL_TYPES)
@endpoint()
def ops_triage(id):
    """Correct a triage: dispatched again or re-timed, the tenant told when it matters, the example kept."""
    from shared.services import corrections

    actor = _require_ops()
    body = _body(schemas.TriageCorrectionRequest)
    done = corrections.correct_triage(services(), id, body.trade, body.priority, body.reason, actor=actor)
    wo = done.work_order
    return _json(200, {"id": wo.id, "status": wo.status.value, "trade": wo.trade.value if wo.trade else None,
                       "priority": wo.priority.value if wo.priority else None,
                       "redispatched": done.redispatched, "tenant_told": done.tenant_told})


@app.route("/ops/triage/corrections", methods=["GET"])
@endpoint()
def ops_triage_corrections():
    """Every triage correction as a labelled example (``opslayer triage export`` writes them out)."""
    from shared.services import corrections

    _require_ops()
    return _json(200, {"corrections": corrections.corrections(services())})


@app.route("/ops/work-orders/{id}/record", methods=["GET"])
@endpoint()
def ops_record(id):
    """The complete record: every step, message, actor, photo, invoice, check, coding, approval, bill."""
    from shared.services import records

    _require_ops()
    return _json(200, records.full_record(services(), id))


@app.route("/ops/work-orders/{id}/report", methods=["GET"])
@endpoint()
def ops_report(id):
    """The same record as a printable HTML page (print to PDF from the browser)."""
    from shared.services import records

    _require_ops()
    return _html(200, pages.report(records.full_record(services(), id)))


@app.route("/ops/invoice-exceptions", methods=["GET"])
@endpoint()
def ops_invoice_exceptions():
    """Invoices that matched no work order (kept, never dropped), oldest first."""
    from shared.services import invoicing

    _require_ops()
    items = invoicing.exceptions(services())
    return _json(200, {"exceptions": items, "count": len(items)})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    """The Lambda entry point: the Chalice app with logging context, tracing and metrics around it."""
    return app(event, context)
