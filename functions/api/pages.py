"""Small server-rendered pages for people who open a link in a browser (no JavaScript needed).

The pages are Jinja2 templates in ``templates/`` with autoescaping on: every value is escaped unless a
template says otherwise (only the QR code's SVG, which we draw ourselves). Their English and Spanish texts
are data, in ``texts.json``. Jinja2 is imported when the first page is rendered, so the JSON routes never
load it (cold start)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from shared.domain.workorder import WorkOrder
    from shared.services.kpi_pages import Overview, OwnerReport
    from shared.services.paging import PageView
    from shared.services.views import ApprovalView, TenantStatus, VendorJob, VisitWindow

HERE = Path(__file__).parent
PHOTO_TYPES = "image/jpeg,image/png,image/webp,image/heic"
PHOTO_SCRIPT = "/assets/photo-upload.js"

Texts = dict[str, str]


@cache
def _all_texts() -> dict[str, dict[str, Texts]]:
    data = json.loads((HERE / "texts.json").read_text(encoding="utf-8"))
    return {page: languages for page, languages in data.items() if not page.startswith("_")}


def texts(page: str, lang: str) -> Texts:
    """One page's texts in one language (English for a language the page does not have)."""
    languages = _all_texts()[page]
    return languages.get(lang) or languages["en"]


def language(preferred: str | None, accept_language: str | None = None) -> str:
    """The reader's language: their saved preference, else the browser's first supported language."""
    supported = _all_texts()["tenant"]
    if preferred in supported:
        return str(preferred)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in supported:
            return code
    return "en"


def when(window: VisitWindow) -> str:
    """A visit window people can read: "2026-11-24 09:00-11:00 (UTC-05:00)"."""
    from datetime import datetime

    start, end = datetime.fromisoformat(window.start), datetime.fromisoformat(window.end)
    offset = start.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} ({zone})"
    return f"{start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M} ({zone})"


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             auto_reload=False)
    env.filters["when"] = when
    env.globals["photo_types"] = PHOTO_TYPES
    return env


def render(template: str, **context: Any) -> str:
    """One page; ``lang`` defaults to English."""
    return _environment().get_template(template).render({"lang": "en", **context})


# ---------------------------------------------------------------- simple pages
def message_page(title: str, message: str, lang: str = "en") -> str:
    """A page that only says something (the message is text, never markup)."""
    return render("message.html", title=title, message=message, lang=lang, renew_action="", token="")


def error_page(status: int, message: str) -> str:
    return message_page("Link problem" if status == 403 else "Something is not right", message)


def expired_page(message: str, renew_action: str, token: str) -> str:
    """An expired link, with a button that asks for a fresh one (sent to the contact on file)."""
    return render("message.html", title="Link problem", message=message, renew_action=renew_action, token=token)


def unit_qr(property_name: str, unit: str, url: str, svg: str) -> str:
    """The printable QR page; ``svg`` is segno's drawing of our own link (the only markup passed in)."""
    return render("unit_qr.html", title="Maintenance request / Solicitud de mantenimiento",
                  property_name=property_name, unit=unit, url=url, svg=svg)


# ---------------------------------------------------------------- tenant and vendor pages (English and Spanish)
def vendor_job(job: VendorJob, token: str, prefix: str = "", lang: str = "en",
               upload: dict[str, Any] | None = None) -> str:
    """The vendor's job page; `prefix` is the API stage path when served behind execute-api."""
    from shared.domain.enums import trade_name

    t = texts("vendor", lang)
    return render("vendor_job.html", title=f"{t['job']} {job.work_order_id}", lang=lang, job=job, t=t,
                  photo_texts=texts("vendor_photos", lang), it=texts("invoice", lang),
                  trade=trade_name(job.trade, lang) if job.trade else None,
                  base=f"{prefix}/vendor/jobs/{token}", upload=upload)


def tenant_status(view: TenantStatus, feedback_url: str, lang: str = "en", visit_url: str = "",
                  upload: dict[str, Any] | None = None, safety_url: str = "", rating_url: str = "") -> str:
    """The tenant's status page: the timeline in plain words, who is coming and when, the follow-up and
    the 1-5 rating once the fix is confirmed."""
    t = texts("tenant", lang)
    return render("tenant_status.html", title=f"{t['title_status']} {view.id}", lang=lang, view=view, t=t,
                  feedback_url=feedback_url, visit_url=visit_url, safety_url=safety_url, upload=upload,
                  rating_url=rating_url)


def nps_page(action: str, answered: bool, lang: str = "en") -> str:
    """The quarterly NPS question (its signed link): 0-10 and a comment, or the thanks once answered."""
    t = texts("tenant", lang)
    return render("nps.html", title=t["nps_title"], lang=lang, t=t, action=action, answered=answered)


def request_form(unit: str, property_name: str, action: str, errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None, lang: str = "en", script_url: str = PHOTO_SCRIPT) -> str:
    """The per-unit request form (the lobby QR code leads here). Works without JavaScript; with it,
    `script_url` (our served photo_upload.js: pages carry no inline script) uploads the chosen photos."""
    t = texts("tenant", lang)
    return render("request_form.html", title=t["title_form"], lang=lang, t=t, unit=unit,
                  property_name=property_name, action=action, errors=errors or {}, values=values or {},
                  script_url=script_url)


@cache
def photo_upload_script() -> str:
    """The request form's script, served as a file (GET /assets/photo-upload.js)."""
    return (HERE / "templates" / "photo_upload.js").read_text(encoding="utf-8")


# ---------------------------------------------------------------- approvals and the record (ops, English)
def approval(view: ApprovalView, base: str) -> str:
    """The approver's page: the job, the invoice lines, every check and the coding; approve or reject."""
    return render("approval.html", title=f"Invoice {view.invoice_number}", view=view, base=base)


def oncall_page(view: PageView, action: str) -> str:
    """The paged person's page: the emergency and the acknowledge button (a POST to `action`)."""
    t = texts("oncall", view.language)
    return render("oncall_page.html", title=f"{t['title']} {view.work_order_id}", lang=view.language, view=view,
                  t=t, action=action)


def api_reference(document: dict[str, Any]) -> str:
    """The API reference page of the OpenAPI document (functions/api/openapi.py): operations by tag, each with
    its parameters, body and answers, and the schemas of the bodies."""
    operations: dict[str, list[dict[str, Any]]] = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for tag in operation.get("tags") or ["other"]:
                operations.setdefault(tag, []).append({"path": path, "method": method.upper(), **operation})
    return render("api_reference.html", title=document["info"]["title"], info=document["info"],
                  operations=dict(sorted(operations.items())), schemas=document["components"]["schemas"],
                  schemes=document["components"]["securitySchemes"], openapi_version=document["openapi"])


def report(record: dict[str, Any]) -> str:
    """The printable work-order record (the browser's print-to-PDF makes the PDF)."""
    return render("report.html", title=f"Work order {record['work_order']['id']}", record=record)


# ---------------------------------------------------------------- the KPI pages (charts: SVG drawn here)
def figure(value: float | None, unit: str, lang: str = "en") -> str:
    """A KPI value people can read: seconds as minutes/hours/days, a ratio as a percentage, cents as money."""
    if value is None:
        return "-"
    if unit == "seconds":
        for size, suffix in ((86400, " d"), (3600, " h"), (60, " min")):
            if value >= size:
                return f"{value / size:.1f}{suffix}"
        return f"{value:.0f} s"
    if unit == "ratio":
        return f"{value * 100:.0f}%"
    if unit == "cents":
        return money(int(value))
    if unit == "minutes":
        return f"{value:.1f} min"
    return f"{value:g}" if isinstance(value, int) else f"{value:.1f}"


def money(cents: int) -> str:
    """Cents as dollars: "$1,234.50", "-$12.00"."""
    return f"{'-' if cents < 0 else ''}${abs(cents) / 100:,.2f}"


def ops_overview(view: Overview) -> str:
    """The ops overview: open work orders by stage and age, the overdue list, KPI tiles with weekly trends."""
    from markupsafe import Markup

    from . import charts

    tiles = [{"tile": t, "now": figure(t.value_30, t.unit), "before": figure(t.value_90, t.unit),
              "baseline": figure(t.baseline, t.unit) if t.baseline is not None else None,
              "chart": Markup(charts.sparkline(t.trend, f"{t.name}, weekly",
                                               fmt=lambda v, unit=t.unit: figure(v, unit)))}
             for t in view.tiles]
    stages = Markup(charts.bars([(s.status, s.total) for s in view.stages if s.total],
                                "Open work orders by stage", empty="no open work orders"))
    return render("ops_overview.html", title="Ops overview", view=view, tiles=tiles, stages_chart=stages)


def owner_report(report: OwnerReport, base: str) -> str:
    """The owner's monthly report of one property (printable; English or Spanish)."""
    from markupsafe import Markup

    from shared.domain.enums import trade_name

    from . import charts

    t = texts("owner", report.language)

    def name(trade: str | None) -> str:
        return trade_name(trade, report.language) if trade and trade != "-" else t["no_trade"]

    spend_chart = Markup(charts.bars([(name(s.trade), s.cents) for s in report.spend],
                                     t["spend_by_trade"], compare=[s.prior_cents for s in report.spend],
                                     fmt=lambda v: money(int(v)), empty=t["no_spend"]))
    return render("owner_report.html", title=f"{t['title']} {report.property_name} {report.month}",
                  lang=report.language, t=t, report=report, base=base, spend_chart=spend_chart,
                  trade=name, money=money, figure=figure)


def owner_job(wo: WorkOrder, invoices: list[Any], lang: str, back: str) -> str:
    """One job of an owner's report: what was done, its steps, and the invoices counted as spend."""
    from shared.domain.enums import trade_name

    t = texts("owner", lang)
    return render("owner_job.html", title=f"{t['job']} {wo.id}", lang=lang, t=t, wo=wo, back=back,
                  trade=trade_name(wo.trade, lang) if wo.trade else None,
                  invoices=[i for i in invoices if str(i.status) in ("approved", "billed")])
