"""Tenant routes: a request (JSON, or the per-unit form), its status page, feedback and the rating, the
safety answer, the visit and photos, the quarterly NPS question. Reached with the link the tenant was sent
(a bearer token)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response
from pydantic import ValidationError

from shared.domain.errors import InvalidInput
from shared.observability import bind
from shared.services import writes
from shared.services.container import services

from .. import pages
from ..plumbing import (
    ALL_TYPES,
    HTML,
    JSON,
    api_path,
    documented,
    endpoint,
    form_fields,
    html_response,
    is_form,
    json_response,
    lazy_module,
    page_url,
    query_param,
    read_body,
    refuse_cross_site,
    request_base_url,
    see_other,
    wants_html,
)

# Imported on first use, not with the handler (cold start): each route's models and use cases.
answers = lazy_module("functions.api.answers")
schemas = lazy_module("shared.schemas")
views = lazy_module("shared.services.views")
wo_service = lazy_module("shared.services.workorders")

bp = Blueprint(__name__)


@bp.route("/requests", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={202: "Persisted: `{id, status, status_url}` and a Location header.",
            409: "Not allowed in the current state."}, request="schemas.NewRequest",
            headers={"Idempotency-Key": "Retries with the same key (1-255 characters) return the same work order."},
            response="answers.RequestAccepted")
@endpoint()
def create_request():
    """Tenant intake: persisted before the 202; an Idempotency-Key makes retries return the same order."""
    req = read_body(schemas.NewRequest)
    key = (bp.current_request.headers or {}).get("idempotency-key")
    if key is not None and not (1 <= len(key) <= 255):
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters.")
    svc = services()
    wo = wo_service.submit_request(svc, req, idempotency_key=key)
    bind(work_order_id=wo.id)
    url = views.tenant_link(svc, wo, request_base_url())
    return json_response(202, answers.RequestAccepted(id=wo.id, status=wo.status.value, status_url=url),
                         {"Location": url})


@bp.route("/requests/{id}", methods=["GET"])
@documented(responses={200: "The tenant's status (JSON, or the status page for a browser)."}, produces=(JSON, HTML),
            link="token", response="views.TenantStatus")
@endpoint(html_errors=True)
def get_request(id):
    token = query_param("token")
    view = views.tenant_status(services(), id, token)
    if wants_html():
        from shared.services import photos

        lang = pages.language(view.language)
        upload = photos.tenant_slot(services(), id, token, redirect=page_url(f"/requests/{id}?token={token}")) \
            if view.photo_upload else None  # presigning writes nothing: this GET changes no state
        return html_response(200, pages.tenant_status(view, api_path(f"/requests/{id}/feedback?token={token}"), lang,
                                              api_path(f"/requests/{id}/visit?token={token}"), upload,
                                              api_path(f"/requests/{id}/safety?token={token}"),
                                              api_path(f"/requests/{id}/rating?token={token}")))
    return json_response(200, view)


@bp.route("/requests/{id}/photos", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={201: "A presigned POST for one photo.", 409: "No more photos are taken for this request."},
            request="schemas.PhotoSlot", link="token", response="answers.PhotoUpload")
@endpoint()
def request_photo_slot(id):
    """An upload slot (presigned POST) for a photo of the tenant's open request."""
    from shared.services import photos

    refuse_cross_site()
    body = read_body(schemas.PhotoSlot)
    return json_response(201, answers.PhotoUpload(**photos.tenant_slot(services(), id, query_param("token"),
                                                                       body.content_type)))


@bp.route("/requests/{id}/feedback", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status}`.", 303: "A form post: back to the status page.",
            409: "Not allowed in the current state."}, request="schemas.Feedback", link="token",
            response="answers.WorkOrderState")
@endpoint(html_errors=True)
def request_feedback(id):
    refuse_cross_site()
    body = read_body(schemas.Feedback)
    token = query_param("token")
    wo = wo_service.tenant_feedback(services(), id, token, body.resolved, body.comment)
    if is_form():
        return see_other(f"/requests/{id}?token={token}")
    return json_response(200, answers.WorkOrderState(id=wo.id, status=wo.status.value))


@bp.route("/requests/{id}/rating", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, rating}`.", 303: "A form post: back to the status page.",
            409: "No rating is asked, or the job is already rated."}, request="schemas.Rating", link="token",
            response="answers.Rated")
@endpoint(html_errors=True)
def request_rating(id):
    """The tenant's 1-5 rating of a confirmed repair and an optional comment (once per job: then 409)."""
    from shared.services import satisfaction

    refuse_cross_site()
    body = read_body(schemas.Rating)
    token = query_param("token")
    wo = satisfaction.tenant_rate(services(), id, token, body.rating, body.comment)
    if is_form():
        return see_other(f"/requests/{id}?token={token}")
    return json_response(200, answers.Rated(id=wo.id, rating=body.rating))


@bp.route("/surveys/nps", methods=["GET"])
@documented(responses={200: "The NPS question (JSON `{quarter, answered, language}`, or the page)."}, produces=(JSON,
            HTML), link="token", response="answers.NpsQuestion")
@endpoint(html_errors=True)
def nps_survey():
    """The quarterly NPS question behind its signed link (this GET changes nothing)."""
    from shared.services import satisfaction

    token = query_param("token")
    svc = services()
    survey = satisfaction.page_nps(svc, token)
    answered = satisfaction.nps_answered(svc, survey)
    if wants_html():
        return html_response(200, pages.nps_page(api_path(f"/surveys/nps?token={token}"), answered,
                                                 pages.language(survey.language)))
    return json_response(200, answers.NpsQuestion(quarter=survey.quarter, answered=answered, language=survey.language))


@bp.route("/surveys/nps", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{quarter, score}`.", 303: "A form post: back to the question.", 409: "Already answered."},
            request="schemas.NpsAnswer", link="token", response="answers.NpsAnswered")
@endpoint(html_errors=True)
def nps_answer():
    """The tenant's 0-10 answer (once: a second is a 409)."""
    from shared.services import satisfaction

    refuse_cross_site()
    body = read_body(schemas.NpsAnswer)
    token = query_param("token")
    survey = satisfaction.page_nps(services(), token, body.score, body.comment)
    if is_form():
        return see_other(f"/surveys/nps?token={token}")
    return json_response(200, answers.NpsAnswered(quarter=survey.quarter, score=body.score))


@bp.route("/requests/{id}/safety", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, priority}`.", 303: "A form post: back to the status page.",
            409: "No question is open."}, request="schemas.SafetyAnswer", link="token",
            response="answers.SafetyAnswered")
@endpoint(html_errors=True)
def request_safety(id):
    """The tenant's YES or NO to triage's safety question (the buttons on the status page)."""
    from shared.services import safety

    refuse_cross_site()
    body = read_body(schemas.SafetyAnswer)
    token = query_param("token")
    svc = services()
    writes.tenant_scope(svc, id, token, "safety")
    wo = safety.answer(svc, id, body.answer == "yes", via="the status page")
    if is_form():
        return see_other(f"/requests/{id}?token={token}")
    return json_response(200, answers.SafetyAnswered(id=wo.id, status=wo.status.value,
                                                     priority=wo.priority.value if wo.priority else None))


@bp.route("/requests/{id}/visit", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, window, proposal}`.", 303: "A form post: back to the status page.",
            409: "Not one of the allowed actions now."}, request="schemas.TenantVisit", link="token",
            response="answers.VisitAnswered")
@endpoint(html_errors=True)
def request_visit(id):
    """The tenant about the visit: confirm or decline a proposed time, ask to reschedule, nobody came."""
    from shared.services import visits

    refuse_cross_site()
    body = read_body(schemas.TenantVisit)
    token = query_param("token")
    wo = visits.tenant_visit(services(), id, token, body.action, body.comment)
    if is_form():
        return see_other(f"/requests/{id}?token={token}")
    return json_response(200, answers.VisitAnswered(id=wo.id, status=wo.status.value, window=views.window_of(wo),
                                                    proposal=views.window_of(wo, proposal=True)))


def _unit_link(unit_id: str) -> tuple[Any, Any, str]:
    """The unit behind a per-unit request link (a token: unit ids alone cannot be used to spam)."""
    from shared.domain import links

    svc = services()
    key = query_param("key") or ""
    scope = svc.link_tokens().verify(key)
    links.require(scope, unit_id, "unit", "request")
    unit = svc.repo.get_unit(unit_id)
    return unit, svc.repo.get_property(unit.property_id), key


@bp.route("/assets/photo-upload.js", methods=["GET"])
@documented(responses={200: "The request form's photo upload script."}, produces=("text/javascript",))
def photo_upload_script():
    """The request form's photo upload script (pages carry no inline script: a strict CSP allows 'self')."""
    return Response(body=pages.photo_upload_script(), status_code=200,
                    headers={"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300"})


@bp.route("/units/{unit_id}/request", methods=["GET"])
@documented(responses={200: "The request form."}, produces=(HTML,), query={"lang": "The form's language (en, es)."},
            link="key")
@endpoint(html_errors=True)
def unit_request_form(unit_id):
    unit, prop, key = _unit_link(unit_id)
    lang = pages.language(query_param("lang"), (bp.current_request.headers or {}).get("accept-language"))
    action = api_path(f"/units/{unit_id}/request?key={key}")
    return html_response(200, pages.request_form(unit.label, prop.name, action, lang=lang,
                                                 script_url=api_path(pages.PHOTO_SCRIPT)))


@bp.route("/units/{unit_id}/request", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={303: "Received: on to the status page.",
            422: "The form again, each error next to its field (HTML)."}, request={"type": "object",
            "description": "The request form's fields (NewRequest's, availability as up to three windows)."},
            body_types=("application/x-www-form-urlencoded",), produces=(HTML,),
            link="key")
@endpoint(html_errors=True)
def unit_request_submit(unit_id):
    """The per-unit form posts here; errors come back on the form, next to their fields."""
    refuse_cross_site()
    unit, prop, key = _unit_link(unit_id)
    raw = form_fields()
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
        action = api_path(f"/units/{unit_id}/request?key={key}")
        form = pages.request_form(unit.label, prop.name, action, errors, raw, lang=pages.language(raw.get("language")),
                                  script_url=api_path(pages.PHOTO_SCRIPT))
        return html_response(422, form)
    wo = wo_service.submit_request(svc, req)
    status = views.tenant_link(svc, wo, "")
    return see_other(status)
