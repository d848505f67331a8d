"""Vendor routes: the job page and every action on it (accept, decline, schedule, propose, check in,
complete, invoice, photos), reached with the vendor's job link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel

from shared import http
from shared.domain.workorder import vendor_actions
from shared.services.container import services

from .. import pages
from ..plumbing import (
    ALL_TYPES,
    FORMS,
    HTML,
    JSON,
    api_path,
    documented,
    endpoint,
    form_fields,
    is_form,
    json_response,
    lazy_module,
    page_url,
    read_body,
    refuse_cross_site,
    see_other,
    wants_html,
)

# Imported on first use, not with the handler (cold start): each route's models and use cases.
answers = lazy_module("functions.api.answers")
invoice_schemas = lazy_module("shared.invoice_schemas")
schemas = lazy_module("shared.schemas")
views = lazy_module("shared.services.views")
wo_service = lazy_module("shared.services.workorders")

bp = Blueprint(__name__)


@bp.route("/vendor/jobs/{token}", methods=["GET"])
@documented(responses={200: "The job (JSON, or the job page for a browser)."}, produces=(JSON, HTML),
            response="views.VendorJob")
@endpoint(html_errors=True)
def vendor_job(token):
    job = views.vendor_job(services(), token)
    if wants_html():
        from shared.services import photos

        lang = pages.language(job.language, (bp.current_request.headers or {}).get("accept-language"))
        upload = photos.vendor_slot(services(), token, redirect=page_url(f"/vendor/jobs/{token}")) \
            if job.photo_upload else None  # presigning writes nothing: this GET changes no state
        return Response(body=pages.vendor_job(job, token, api_path(""), lang, upload), status_code=200,
                        headers={"Content-Type": "text/html; charset=utf-8"})
    return json_response(200, job)


@bp.route("/vendor/jobs/{token}/photos", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={201: "A presigned POST for one photo.", 409: "No more photos are taken for this job."},
            request="schemas.PhotoSlot", response="answers.PhotoUpload")
@endpoint()
def vendor_photo_slot(token):
    """An upload slot (presigned POST) for a photo of the job (e.g. the finished work)."""
    from shared.services import photos

    refuse_cross_site()
    body = read_body(schemas.PhotoSlot)
    return json_response(201, answers.PhotoUpload(**photos.vendor_slot(services(), token, body.content_type)))


def _vendor_result(token: str, wo: Any) -> Response:
    if is_form():  # a browser form: back to the job page (post/redirect/get)
        return see_other(f"/vendor/jobs/{token}")
    return json_response(200, answers.VendorActed(id=wo.id, status=wo.status.value,
                                                  allowed_actions=vendor_actions(wo, wo.vendor_id or "")))


def _vendor_action(token: str, schema: type[BaseModel], act: Callable[[Any, Any], Any]) -> Response:
    """Every vendor action: same-site form or JSON body, validated, one use case, then the result."""
    refuse_cross_site()
    body = read_body(schema)
    return _vendor_result(token, act(services(), body))


@bp.route("/vendor/jobs/{token}/accept", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, allowed_actions}`.", 303: "A form post: back to the job page.",
            409: "Not allowed in the current state."}, request="schemas.Empty", response="answers.VendorActed")
@endpoint(html_errors=True)
def vendor_accept(token):
    return _vendor_action(token, schemas.Empty, lambda svc, _: wo_service.vendor_accept(svc, token))


@bp.route("/vendor/jobs/{token}/decline", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, allowed_actions}`.", 303: "A form post: back to the job page.",
            409: "Not allowed in the current state."}, request="schemas.Decline", response="answers.VendorActed")
@endpoint(html_errors=True)
def vendor_decline(token):
    return _vendor_action(token, schemas.Decline, lambda svc, b: wo_service.vendor_decline(svc, token, b.reason))


@bp.route("/vendor/jobs/{token}/schedule", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, allowed_actions}`.", 303: "A form post: back to the job page.",
            409: "Not allowed in the current state."}, request="schemas.Schedule", response="answers.VendorActed")
@endpoint(html_errors=True)
def vendor_schedule(token):
    """One of the tenant's windows (`window`), or a time already agreed with the tenant: scheduled."""
    from shared.services import visits

    return _vendor_action(token, schemas.Schedule, lambda svc, b: visits.vendor_schedule(svc, token, b))


@bp.route("/vendor/jobs/{token}/propose", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, allowed_actions}`.", 303: "A form post: back to the job page.",
            409: "Not allowed in the current state."}, request="schemas.Propose", response="answers.VendorActed")
@endpoint(html_errors=True)
def vendor_propose(token):
    """Another time: the tenant confirms or declines it."""
    from shared.services import visits

    return _vendor_action(token, schemas.Propose, lambda svc, b: visits.vendor_propose(svc, token, b))


@bp.route("/vendor/jobs/{token}/checkin", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, allowed_actions}`.", 303: "A form post: back to the job page.",
            409: "Not allowed in the current state."}, request="schemas.CheckIn", response="answers.VendorActed")
@endpoint(html_errors=True)
def vendor_checkin(token):
    return _vendor_action(token, schemas.CheckIn,
                          lambda svc, b: wo_service.vendor_checkin(svc, token, b.eta_minutes))


@bp.route("/vendor/jobs/{token}/complete", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, allowed_actions}`.", 303: "A form post: back to the job page.",
            409: "Not allowed in the current state."}, request="schemas.Complete", response="answers.VendorActed")
@endpoint(html_errors=True)
def vendor_complete(token):
    return _vendor_action(token, schemas.Complete, lambda svc, b: wo_service.vendor_complete(svc, token, b.notes))


@bp.route("/vendor/jobs/{token}/invoice", methods=["POST"], content_types=[*ALL_TYPES, "multipart/form-data"])
@documented(responses={202: "`{invoice_id, work_order_id, status, total, currency}`.",
            303: "A form post: back to the job page.", 409: "Not allowed in the current state."},
            request="invoice_schemas.InvoiceIn", form="invoice_schemas.InvoiceForm",
            body_types=(*FORMS, "multipart/form-data"), response="answers.InvoiceSubmitted")
@endpoint(html_errors=True)
def vendor_invoice(token):
    """The vendor's invoice: JSON, or the job page's form (with an optional PDF or photo)."""
    from shared.invoice_schemas import invoice_from_form
    from shared.services import invoicing

    refuse_cross_site()
    request = bp.current_request
    content_type = (request.headers or {}).get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        fields, files = http.parse_multipart(request.raw_body or b"", content_type)
        body = invoice_schemas.InvoiceIn.model_validate(invoice_from_form(fields, files.get("attachment")))
    elif is_form():
        body = invoice_schemas.InvoiceIn.model_validate(invoice_from_form(form_fields(), None))
    else:
        body = read_body(invoice_schemas.InvoiceIn)
    inv = invoicing.submit_by_link(services(), token, body)
    if is_form() or content_type.startswith("multipart/form-data"):
        return see_other(f"/vendor/jobs/{token}")
    return json_response(202, answers.InvoiceSubmitted(invoice_id=inv.id, work_order_id=inv.work_order_id,
                                                       status=inv.status.value, total=str(inv.total),
                                                       currency=inv.currency))
