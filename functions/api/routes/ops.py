"""Ops routes (IAM-authorized in the template; an X-Ops-Key in key mode): lists, records, reports,
corrections, cancel and close."""

from __future__ import annotations

from chalice import Blueprint

from shared.domain.links import OPS_PAGES
from shared.domain.ops_lists import AGE_PATTERN, LIMIT_PATTERN, STATUS_OF_STAGE
from shared.domain.workorder import Source, Status
from shared.services.container import services

from .. import pages
from ..plumbing import (
    ALL_TYPES,
    HTML,
    JSON,
    documented,
    endpoint,
    html_response,
    json_response,
    lazy_module,
    query_param,
    read_body,
    request_base_url,
    require_ops,
)

# Imported on first use, not with the handler (cold start): each route's models and use cases.
answers = lazy_module("functions.api.answers")
invoice_schemas = lazy_module("shared.invoice_schemas")
schemas = lazy_module("shared.schemas")
views = lazy_module("shared.services.views")

bp = Blueprint(__name__)


@bp.route("/ops/work-orders", methods=["GET"])
@documented(responses={200: "`{work_orders, count, next_cursor}`: one page, newest first.",
                       400: "`cursor` is not one this list gave (tampered, foreign, or of other filters)."},
            query={**{n: f"Filter {n}." for n in ("status", "stage", "property_id", "source", "older_than", "overdue")},
                   "limit": "Page size.", "cursor": "The previous page's next_cursor."},
            params={"status": {"enum": [s.value for s in Status]}, "stage": {"enum": sorted(STATUS_OF_STAGE)},
                    "source": {"enum": [s.value for s in Source]}, "overdue": {"enum": ["true", "false", "1", "0"]},
                    "older_than": {"pattern": AGE_PATTERN}, "limit": {"pattern": LIMIT_PATTERN}},
            response="answers.WorkOrderPage")
@endpoint()
def ops_list():
    """One page of work orders, newest first; filters: status or stage, property_id, source, older_than,
    overdue; `limit`; `cursor` (the previous page's `next_cursor`)."""
    from shared.domain.ops_lists import parse_filters, parse_limit
    from shared.services import ops_lists

    require_ops()
    filters = parse_filters(**{name: query_param(name) for name in
                               ("status", "stage", "property_id", "source", "older_than", "overdue")})
    return json_response(200, ops_lists.page(services(), filters, parse_limit(query_param("limit")),
                                             query_param("cursor")))


@bp.route("/ops/work-orders/{id}", methods=["GET"])
@documented(responses={200: "The work order."}, response="answers.OpsWorkOrder")
@endpoint()
def ops_get(id):
    require_ops()
    return json_response(200, views.ops_work_order(services(), id))


@bp.route("/ops/units/{unit_id}/qr", methods=["GET"])
@documented(responses={200: "A printable page with the unit's QR code."}, produces=(HTML,))
@endpoint()
def ops_unit_qr(unit_id):
    """A printable page with the unit's request QR code, for the lobby or the unit's door."""
    import segno

    require_ops()
    svc = services()
    unit = svc.repo.get_unit(unit_id)
    prop = svc.repo.get_property(unit.property_id)
    url = views.unit_request_link(svc, unit_id, request_base_url())
    svg = segno.make(url, error="m").svg_inline(scale=6, title=f"Request form for unit {unit.label}")
    return html_response(200, pages.unit_qr(prop.name, unit.label, url, svg))


@bp.route("/ops/work-orders/{id}/cancel", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status}`.", 409: "Not allowed in the current state."}, request="schemas.Cancel",
            response="answers.WorkOrderState")
@endpoint()
def ops_cancel(id):
    from shared.services import escalations

    actor = require_ops()
    body = read_body(schemas.Cancel)
    wo = escalations.cancel_recorded(services(), id, body.reason, actor)
    return json_response(200, answers.WorkOrderState(id=wo.id, status=wo.status.value))


@bp.route("/ops/work-orders/{id}/close", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status}`.", 409: "Not allowed in the current state."},
            request="invoice_schemas.CloseWithoutInvoice", response="answers.WorkOrderState")
@endpoint()
def ops_close(id):
    """Close without an invoice (in-house work, warranty), with the reason on the record."""
    from shared.services import escalations

    actor = require_ops()
    body = read_body(invoice_schemas.CloseWithoutInvoice)
    wo = escalations.close_recorded(services(), id, body.reason, actor)
    return json_response(200, answers.WorkOrderState(id=wo.id, status=wo.status.value))


@bp.route("/ops/work-orders/{id}/triage", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{id, status, trade, priority, redispatched, tenant_told}`.",
            409: "Not allowed in the current state."}, request="schemas.TriageCorrectionRequest",
            response="answers.TriageCorrected")
@endpoint()
def ops_triage(id):
    """Correct a triage: dispatched again or re-timed, the tenant told when it matters, the example kept."""
    from shared.services import corrections

    actor = require_ops()
    body = read_body(schemas.TriageCorrectionRequest)
    done = corrections.correct_triage(services(), id, body.trade, body.priority, body.reason, actor=actor)
    wo = done.work_order
    return json_response(200, answers.TriageCorrected(
        id=wo.id, status=wo.status.value, trade=wo.trade.value if wo.trade else None,
        priority=wo.priority.value if wo.priority else None, redispatched=done.redispatched,
        tenant_told=done.tenant_told))


@bp.route("/ops/triage/corrections", methods=["GET"])
@documented(responses={200: "`{corrections}`."}, response="answers.Corrections")
@endpoint()
def ops_triage_corrections():
    """Every triage correction as a labelled example (``opslayer triage export`` writes them out)."""
    from shared.services import corrections

    require_ops()
    return json_response(200, {"corrections": corrections.corrections(services())})


@bp.route("/ops/work-orders/{id}/record", methods=["GET"])
@documented(responses={200: "The complete record."}, response="answers.FullRecord")
@endpoint()
def ops_record(id):
    """The complete record: every step, message, actor, photo, invoice, check, coding, approval, bill."""
    from shared.services import records

    require_ops()
    return json_response(200, records.full_record(services(), id))


@bp.route("/ops/work-orders/{id}/report", methods=["GET"])
@documented(responses={200: "The record as a printable page."}, produces=(HTML,))
@endpoint()
def ops_report(id):
    """The same record as a printable HTML page (print to PDF from the browser)."""
    from shared.services import records

    require_ops()
    return html_response(200, pages.report(records.full_record(services(), id)))


@bp.route("/ops/work-orders/{id}/links", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={201: "`{url, path, expires_at}`: a single-use link."}, request="schemas.OpsPageLink",
            response="answers.PageLink")
@endpoint()
def ops_page_link(id):
    """A short-lived link a browser can open once: one page (record or report) of one work order."""
    from shared.services import ops_links

    require_ops()
    body = read_body(schemas.OpsPageLink)
    return json_response(201, answers.PageLink(**ops_links.mint(services(), id, body.page, request_base_url())))


@bp.route("/ops-pages/{id}/{page}", methods=["GET"])
@documented(responses={200: "The record (JSON) or the report (HTML)."}, produces=(JSON, HTML), link="token",
            params={"page": {"enum": list(OPS_PAGES)}}, response="answers.FullRecord")
@endpoint(html_errors=True)
def ops_page(id, page):
    """The page an ops link opens (no IAM at the gateway: the link is the credential, spent on opening)."""
    from shared.services import ops_links, records

    svc = services()
    ops_links.open_page(svc, id, page, query_param("token"))
    record = records.full_record(svc, id)
    response = json_response(200, record) if page == "record" else html_response(200, pages.report(record))
    # The link is in the address bar: neither cached nor sent on as a Referer.
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return response


@bp.route("/ops/invoice-exceptions", methods=["GET"])
@documented(responses={200: "`{exceptions, count}`."}, response="answers.InvoiceExceptions")
@endpoint()
def ops_invoice_exceptions():
    """Invoices that matched no work order (kept, never dropped), oldest first."""
    from shared.services import invoicing

    require_ops()
    items = invoicing.exceptions(services())
    return json_response(200, {"exceptions": items, "count": len(items)})


@bp.route("/ops/dlq", methods=["GET"])
@documented(responses={200: "`{queues}`."}, response="answers.DeadLetters")
@endpoint()
def ops_dead_letters():
    """Each dead-letter queue's approximate depth and its running redrive, if any."""
    from shared.services import steering

    require_ops()
    return json_response(200, {"queues": steering.dead_letters(services())})


@bp.route("/ops/dlq/{queue}/redrive", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={202: "The redrive started.", 409: "A move is already running."},
            response="answers.RedriveStarted")
@endpoint()
def ops_redrive(queue):
    """Move a dead-letter queue's messages back to their source queue (409 while a move runs)."""
    from shared.services import steering

    actor = require_ops()
    return json_response(202, steering.redrive(services(), queue, actor))


@bp.route("/ops/work-orders/{id}/retry", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={202: "`{id, status, resume_at, execution_arn}`.", 409: "A lifecycle is running."},
            response="answers.Restarted")
@endpoint()
def ops_retry(id):
    """Restart a lifecycle whose automation failed, at the step its status implies (409 while one runs)."""
    from shared.services import steering

    actor = require_ops()
    done = steering.retry(services(), id, actor)
    return json_response(202, answers.Restarted(id=done.work_order.id, status=done.work_order.status.value,
                                                resume_at=done.resume_at, execution_arn=done.execution_arn))


@bp.route("/ops/work-orders/{id}/steer", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "Done: `{id, action, status, vendor_id, resume_at, execution_arn}`.",
            202: "Done and a lifecycle started.", 409: "The action does not apply in this state."},
            request="schemas.Steer", response="answers.Steered")
@endpoint()
def ops_steer(id):
    """A way forward for an escalated job: reassign (vendor or in-house technician), restart dispatch,
    resume or extend at a stage, note, cancel or close (409 naming the state when it does not apply)."""
    from shared.services import escalations

    actor = require_ops()
    body = read_body(schemas.Steer)
    done = escalations.steer(services(), id, body, actor)
    wo = done.work_order
    return json_response(202 if done.execution_arn else 200, answers.Steered(
        id=wo.id, action=body.action, status=wo.status.value, vendor_id=wo.vendor_id, resume_at=done.resume_at,
        execution_arn=done.execution_arn))


@bp.route("/ops/audit", methods=["GET"])
@documented(responses={200: "`{actions}`: newest first."}, response="answers.AuditLog")
@endpoint()
def ops_audit():
    """Who did what, when: redrives and retries, newest first."""
    from shared.services import steering

    require_ops()
    return json_response(200, {"actions": steering.audit_log(services())})


@bp.route("/ops/people/export", methods=["POST"])
@documented(responses={200: "Everything held about the person: `{work_orders, surveys, sms_opted_out, ...}`."},
            request="schemas.PersonRef", body_types=(JSON,), response="answers.PersonRecords")
@endpoint()
def ops_people_export():
    """Everything held about a person (`{"phone"}` or `{"email"}`): work orders with their timelines, photo
    keys, survey records, SMS opt-out. Recorded in the ops audit by a hash, never the value."""
    from shared.services import privacy

    actor = require_ops()
    person = read_body(schemas.PersonRef)
    return json_response(200, privacy.export_person(services(), person.value, actor))


@bp.route("/ops/people/erase", methods=["POST"])
@documented(responses={200: "What was erased: the counts of work orders redacted and records deleted."},
            request="schemas.PersonRef", body_types=(JSON,), response="answers.PersonRecords")
@endpoint()
def ops_people_erase():
    """Erase a person (`{"phone"}` or `{"email"}`): their work orders redacted now (the numbers stay), their
    photos and survey records deleted. Recorded in the ops audit by a hash. The PMS keeps its own records."""
    from shared.services import privacy

    actor = require_ops()
    person = read_body(schemas.PersonRef)
    return json_response(200, privacy.erase_person(services(), person.value, actor))
