"""The HTTP API (Chalice behind API Gateway). Thin: parse, call one use case, map the result.

The routes are blueprints by audience in functions/api/routes/; this module is the Lambda entry point:
the app, its middleware (security headers, rate limits, the request log line) and /health."""

from __future__ import annotations

import json
from typing import Any

from chalice import Response

from shared import http
from shared.entry import lambda_entry
from shared.observability import bind, count, logger
from shared.services.container import services

from .plumbing import UNLIMITED_PREFIXES, app, documented, endpoint, json_response, lazy_module
from .routes import approvals, config, docs, drill, kpi_pages, kpis, links, oncall, ops, tenant, vendor, webhooks

answers = lazy_module("functions.api.answers")


@app.middleware("http")
def _observe(event, get_response):
    ctx = event.context or {}
    bind(correlation_id=ctx.get("requestId"))
    limited = _rate_limited(event, ctx)
    response = limited or get_response(event)
    _secure(event, response)
    logger.info("http", extra={"method": event.method, "route": ctx.get("resourcePath"),
                               "status": response.status_code})
    return response


def _secure(event: Any, response: Response) -> None:
    """The security headers (functions/api/security.py); a route's own value (e.g. Cache-Control) wins."""
    from .security import is_https, is_page, origin, security_headers

    content_type = response.headers.get("Content-Type", "")
    page = is_page(content_type)  # photos are shown from and uploaded to the bucket its presigned URLs name
    photos = origin(services().photo_store().view_url("csp-origin", 60)) if page else None
    body = response.body if page and isinstance(response.body, str) else ""
    headers = security_headers(content_type, body, is_https(event.headers or {}), [photos] if photos else [])
    for name, value in headers.items():
        response.headers.setdefault(name, value)


# Public routes people reach with a link: limited per client IP and per link, on top of API Gateway's
# stage throttling. Signed machine callers (Buildium, Twilio), ops, health and the static script are not
# limited here (UNLIMITED_PREFIXES).

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


@app.route("/health", methods=["GET"])
@documented(responses={200: "The service is up."}, response="answers.Health")
@endpoint()
def health():
    return json_response(200, answers.Health(status="ok", service="opslayer"))


for routes in (tenant, vendor, approvals, webhooks, ops, config, links, oncall, drill, kpis, kpi_pages, docs):
    app.register_blueprint(routes.bp)


@lambda_entry(requires=("link_secret_arn", "pms_inbound_queue_url", "pms_webhook_secret_arn",
                        "twilio_auth_token_secret_arn", "document_bucket", "photos_bucket"))
def handler(event, context):
    """The Lambda entry point: the Chalice app with logging context, tracing and metrics around it."""
    return app(event, context)
