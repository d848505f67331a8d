"""Small server-rendered pages for people who open a link in a browser (no JavaScript needed)."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = ("body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.5}"
         "h1,small{overflow-wrap:anywhere}h1{font-size:1.5rem}input,textarea{display:block;width:100%;max-width:30rem}"
         "input[type=checkbox],input[type=radio]{display:inline;width:auto}.error{color:#b00020}"
         "dt{font-weight:600}form{margin:.5rem 0;padding:.5rem;border:1px solid #ccc;border-radius:.5rem}"
         "button{font-size:1rem;padding:.4rem 1rem}label{display:block;margin:.3rem 0}")


def page(title: str, body: str, lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>")


def error_page(status: int, message: str) -> str:
    return page("Link problem" if status == 403 else "Something is not right", f"<p>{escape(message)}</p>")


def when(window: dict[str, str]) -> str:
    """A visit window people can read: "2026-11-24 09:00-11:00 (UTC-05:00)"."""
    from datetime import datetime

    start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    offset = start.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} ({zone})"
    return f"{start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M} ({zone})"


def expired_page(message: str, renew_action: str, token: str) -> str:
    form = (f'<form method="post" action="{escape(renew_action)}"><input type="hidden" name="token" '
            f'value="{escape(token)}"><button>Send me a new link</button></form>') if token else ""
    return page("Link problem", f"<p>{escape(message)}</p>{form}")


def unit_qr(property_name: str, unit: str, url: str, svg: str) -> str:
    """The printable QR page (English and Spanish side by side: it hangs in a lobby)."""
    body = (f"<p>{escape(property_name)}, unit {escape(unit)}</p><figure>{svg}<figcaption>"
            f"Scan to report a maintenance problem / Escanee para reportar un problema de mantenimiento"
            f"</figcaption></figure><p><small>{escape(url)}</small></p>")
    return page("Maintenance request / Solicitud de mantenimiento", body)


def _field(label: str, value: Any) -> str:
    return f"<dt>{escape(label)}</dt><dd>{escape(str(value)) if value else '-'}</dd>"


def vendor_job(job: dict[str, Any], token: str, prefix: str = "") -> str:
    """The vendor's job page; `prefix` is the API stage path when served behind execute-api."""
    window = job.get("window")
    facts = "".join([
        _field("Status", job["status"]), _field("Priority", job.get("priority")), _field("Trade", job.get("trade")),
        _field("Address", f"{job['address']}, unit {job['unit']}"), _field("Problem", job["description"]),
        _field("Access", job.get("access_instructions")),
        _field("Entry when nobody is home", "allowed" if job.get("entry_permission") else
               ("tenant must be home" if "entry_permission" in job else None)),
        _field("Pets", job.get("pets")),
        _field("Tenant", " ".join(filter(None, [(job.get("tenant") or {}).get("name"),
                                                (job.get("tenant") or {}).get("phone")]))),
        _field("Visit", when(window) if window else None),
    ])
    base = f"{escape(prefix)}/vendor/jobs/{escape(token)}"
    forms = []
    for action in job["allowed_actions"]:
        if action == "accept":
            forms.append(f'<form method="post" action="{base}/accept"><button>Accept the job</button></form>')
        elif action == "decline":
            forms.append(f'<form method="post" action="{base}/decline"><label>Reason '
                         f'<input name="reason" required maxlength="500"></label><button>Decline</button></form>')
        elif action == "schedule":
            forms.append(f'<form method="post" action="{base}/schedule">'
                         f'<label>Start (ISO 8601 with offset) <input name="start" required '
                         f'placeholder="2026-11-24T09:00:00-05:00"></label>'
                         f'<label>End <input name="end" required placeholder="2026-11-24T11:00:00-05:00"></label>'
                         f"<button>Schedule the visit</button></form>")
        elif action == "checkin":
            forms.append(f'<form method="post" action="{base}/checkin"><label>Minutes away (empty: I am here) '
                         f'<input name="eta_minutes" type="number" min="0" max="600"></label>'
                         f"<button>I'm on my way / here</button></form>")
        elif action == "complete":
            forms.append(f'<form method="post" action="{base}/complete"><label>What did you do? '
                         f'<textarea name="notes" required maxlength="5000"></textarea></label>'
                         f"<button>Mark as complete</button></form>")
    return page(f"Job {job['work_order_id']}", f"<dl>{facts}</dl>{''.join(forms)}{invoice_section(job, base)}")


# ---------------------------------------------------------------- tenant pages (English and Spanish)
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title_form": "Maintenance request", "unit": "unit", "name": "Your name",
        "phone": "Mobile phone (for text updates)", "email": "Email", "description": "What is wrong?",
        "availability": "When are you home? (e.g. weekdays after 5pm)", "pets": "Pets at home?",
        "entry": "The technician may enter if I am not home", "send": "Send request",
        "title_status": "Request", "status": "Status", "technician": "Technician", "visit": "Visit",
        "fixed_q": "Is it fixed?", "yes": "Yes, it is fixed", "no": "No, it is not fixed",
        "comment": "Anything to add?", "answer": "Send my answer", "history": "What happened",
        "received": "We have your request.", "triaged": "We have reviewed your request and are finding a technician.",
        "offered": "We are finding a technician for you.",
        "accepted": "A technician has taken your request and will set a time.", "scheduled": "A visit is scheduled.",
        "completed": "The technician says the work is done. Is it fixed?", "verified": "Done. Your request is closed.",
        "reopened": "We reopened your request and are sending a technician back.",
        "escalated": "A member of our team is handling your request personally.",
        "cancelled": "This request was cancelled.",
        "ev_received": "Request received", "ev_triaged": "Reviewed", "ev_offered": "Technician contacted",
        "ev_accepted": "Technician assigned", "ev_scheduled": "Visit scheduled", "ev_completed": "Work completed",
        "ev_verified": "Closed", "ev_reopened": "Reopened", "ev_escalated": "Handled by our team",
        "ev_cancelled": "Cancelled", "ev_notified": "Message sent to you",
        "ev_joined_incident": "Linked to a building-wide repair",
    },
    "es": {
        "title_form": "Solicitud de mantenimiento", "unit": "unidad", "name": "Su nombre",
        "phone": "Teléfono móvil (para avisos por SMS)", "email": "Correo electrónico",
        "description": "¿Qué problema hay?",
        "availability": "¿Cuándo está en casa? (p. ej. entre semana después de las 5)",
        "pets": "¿Hay mascotas en casa?", "entry": "El técnico puede entrar si no estoy en casa",
        "send": "Enviar solicitud", "title_status": "Solicitud", "status": "Estado", "technician": "Técnico",
        "visit": "Visita", "fixed_q": "¿Quedó arreglado?", "yes": "Sí, quedó arreglado",
        "no": "No, no quedó arreglado", "comment": "¿Algo más?", "answer": "Enviar mi respuesta",
        "history": "Qué ha pasado", "received": "Recibimos su solicitud.",
        "triaged": "Revisamos su solicitud y estamos buscando un técnico.",
        "offered": "Estamos buscando un técnico para usted.",
        "accepted": "Un técnico tomó su solicitud y fijará una hora.", "scheduled": "Hay una visita programada.",
        "completed": "El técnico dice que el trabajo está hecho. ¿Quedó arreglado?",
        "verified": "Listo. Su solicitud está cerrada.",
        "reopened": "Reabrimos su solicitud y enviaremos de nuevo a un técnico.",
        "escalated": "Una persona de nuestro equipo se ocupa de su solicitud.",
        "cancelled": "Esta solicitud fue cancelada.",
        "ev_received": "Solicitud recibida", "ev_triaged": "Revisada", "ev_offered": "Técnico contactado",
        "ev_accepted": "Técnico asignado", "ev_scheduled": "Visita programada", "ev_completed": "Trabajo terminado",
        "ev_verified": "Cerrada", "ev_reopened": "Reabierta", "ev_escalated": "En manos de nuestro equipo",
        "ev_cancelled": "Cancelada", "ev_notified": "Le enviamos un mensaje",
        "ev_joined_incident": "Unida a una reparación de todo el edificio",
    },
}


def language(preferred: str | None, accept_language: str | None = None) -> str:
    """The tenant's language: their saved preference, else the browser's first supported language."""
    if preferred in TEXT:
        return str(preferred)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in TEXT:
            return code
    return "en"


def tenant_status(view: dict[str, Any], feedback_url: str, lang: str = "en") -> str:
    """The tenant's status page: the timeline in plain words, who is coming and when, the follow-up."""
    t = TEXT[lang]
    rows = "".join(
        f"<li><time datetime=\"{escape(e['at'])}\">{escape(e['at'][:16].replace('T', ' '))}</time> - "
        f"{escape(t.get('ev_' + e['event'], e['event']))}</li>" for e in view["timeline"])
    facts = [_field(t["status"], t.get(view["status"], view["status"]))]
    if view.get("vendor"):
        facts.append(_field(t["technician"], view["vendor"]["name"]))
    if view.get("window"):
        facts.append(_field(t["visit"], when(view["window"])))
    question = ""
    if view.get("feedback_due"):
        question = (f'<form method="post" action="{escape(feedback_url)}"><fieldset><legend>{t["fixed_q"]}</legend>'
                    f'<label><input type="radio" name="resolved" value="true" required> {t["yes"]}</label>'
                    f'<label><input type="radio" name="resolved" value="false"> {t["no"]}</label>'
                    f'<label>{t["comment"]} <textarea name="comment" maxlength="2000"></textarea></label>'
                    f"<button>{t['answer']}</button></fieldset></form>")
    body = f"<dl>{''.join(facts)}</dl>{question}<h2>{t['history']}</h2><ol>{rows}</ol>"
    return page(f"{t['title_status']} {view['id']}", body, lang)


def request_form(unit: str, property_name: str, action: str, errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None, lang: str = "en") -> str:
    """The per-unit request form (the lobby QR code leads here). Works without JavaScript."""
    t = TEXT[lang]
    errors, values = errors or {}, values or {}

    def field(name: str, control: str) -> str:
        error = f'<p class="error" id="{name}-error" role="alert">{escape(errors[name])}</p>' if name in errors else ""
        return f'<label for="{name}">{escape(t[name])}</label>{control}{error}'

    def text(name: str, kind: str = "text", required: bool = False, extra: str = "") -> str:
        described = f' aria-describedby="{name}-error" aria-invalid="true"' if name in errors else ""
        return (f'<input id="{name}" name="{name}" type="{kind}" value="{escape(values.get(name, ""))}"'
                f'{" required" if required else ""}{described} {extra}>')

    body = (
        f"<p>{escape(property_name)}, {t['unit']} {escape(unit)}</p>"
        f'<form method="post" action="{escape(action)}"><input type="hidden" name="language" value="{lang}">'
        + field("name", text("name", required=True, extra='maxlength="200" autocomplete="name"'))
        + field("phone", text("phone", "tel", extra='autocomplete="tel"'))
        + field("email", text("email", "email", extra='autocomplete="email"'))
        + field("description", f'<textarea id="description" name="description" required minlength="3" '
                               f'maxlength="5000">{escape(values.get("description", ""))}</textarea>')
        + field("availability", text("availability", extra='maxlength="500"'))
        + field("pets", text("pets", extra='maxlength="200"'))
        + f'<label><input type="checkbox" name="entry_permission" value="true"> {t["entry"]}</label>'
        + f"<button>{t['send']}</button></form>"
    )
    return page(t["title_form"], body, lang)


# ---------------------------------------------------------------- invoices, approvals, the record
def invoice_section(job: dict[str, Any], base: str) -> str:
    """The vendor's invoices so far, and the invoice form once the job is done (no JavaScript needed)."""
    rows = "".join(
        f"<li>{escape(i['invoice_number'])}: {escape(i['total'])} - {escape(i['status'])}"
        + (f" ({escape(i['rejection_reason'])})" if i.get("rejection_reason") else "") + "</li>"
        for i in job.get("invoices") or [])
    listing = f"<h2>Your invoices</h2><ul>{rows}</ul>" if rows else ""
    if "invoice" not in job["allowed_actions"]:
        return listing
    nte = f"<p>Not-to-exceed: {escape(job['nte'])}</p>" if job.get("nte") else ""
    currency = escape(job.get("currency") or "USD")

    def money(name: str, label: str, required: bool = False) -> str:
        return (f'<label>{label} <input name="{name}" inputmode="decimal" pattern="\\d+(\\.\\d{{1,2}})?"'
                f'{" required" if required else ""}></label>')

    return (f'{listing}<h2>Send your invoice</h2>{nte}'
            f'<form method="post" action="{base}/invoice" enctype="multipart/form-data">'
            f'<input type="hidden" name="currency" value="{currency}">'
            f'<label>Invoice number <input name="invoice_number" required maxlength="40"></label>'
            f'<label>Invoice date <input name="invoice_date" type="date" required></label>'
            f'{money("labour_hours", "Labour hours")}{money("labour_rate", f"Hourly rate ({currency})")}'
            f'<label>Materials (what) <input name="materials_description" maxlength="200"></label>'
            f'{money("materials_amount", f"Materials amount ({currency})")}'
            f'{money("trip_charge", f"Trip charge ({currency})")}{money("tax", f"Tax ({currency})")}'
            f'{money("total", f"Total ({currency})", required=True)}'
            f'<label>Invoice PDF or photo (optional, up to 4 MB) <input type="file" name="attachment" '
            f'accept="application/pdf,image/jpeg,image/png"></label>'
            f"<button>Send invoice</button></form>")


def _lines_table(lines: list[dict[str, Any]], currency: str) -> str:
    rows = "".join(f"<tr><td>{escape(x['kind'])}</td><td>{escape(x['description'])}</td>"
                   f"<td>{escape(str(x['quantity']))}</td><td>{escape(str(x['unit_price']))}</td>"
                   f"<td>{escape(str(x['amount']))}</td></tr>" for x in lines)
    return (f"<table><thead><tr><th>Kind</th><th>Description</th><th>Qty</th><th>Unit price ({escape(currency)})"
            f"</th><th>Amount</th></tr></thead><tbody>{rows}</tbody></table>")


def _checks_list(checks: list[dict[str, Any]]) -> str:
    return "<ul>" + "".join(
        f"<li>{'PASSED' if c['passed'] else '<strong class=error>FAILED</strong>'} {escape(c['rule'])}: "
        f"{escape(c['reason'])}</li>" for c in checks) + "</ul>"


def approval(view: dict[str, Any], base: str) -> str:
    """The approver's page: the job, the invoice lines, every check and the coding; approve or reject."""
    facts = "".join([
        _field("Property", f"{view['property']}, unit {view['unit']}"), _field("Job", view["work_order_id"]),
        _field("Work", view.get("description")), _field("Done", view.get("completion_notes")),
        _field("Vendor", view["vendor"]), _field("Invoice", f"{view['invoice_number']} of {view['invoice_date']}"),
        _field("Total", f"{view['total']} {view['currency']}"), _field("Not-to-exceed", view.get("nte")),
        _field("Why you are asked", view.get("reason")), _field("Status", view["status"]),
    ])
    coding = view.get("coding") or {}
    coded = (f"<p>GL {escape(coding.get('gl_account_number', ''))} {escape(coding.get('gl_account_name', ''))}, "
             f"cost center {escape(coding.get('cost_center', ''))} (rule {escape(coding.get('rule', ''))})</p>"
             if coding else "")
    forms = ""
    if view["allowed_actions"]:
        forms = (f'<form method="post" action="{escape(base)}/approve"><button>Approve</button></form>'
                 f'<form method="post" action="{escape(base)}/reject"><label>Reason for the vendor '
                 f'<textarea name="reason" required minlength="3" maxlength="1000"></textarea></label>'
                 f"<button>Reject</button></form>")
    return page(f"Invoice {view['invoice_number']}",
                f"<dl>{facts}</dl><h2>Lines</h2>{_lines_table(view['lines'], view['currency'])}"
                f"<h2>Checks</h2>{_checks_list(view['checks'])}<h2>Coding</h2>{coded}{forms}")


def report(record: dict[str, Any]) -> str:
    """The printable work-order record (the browser's print-to-PDF makes the PDF)."""
    wo = record["work_order"]
    facts = "".join([
        _field("Status", wo["status"]), _field("Property", f"{record['property']['name']}, "
                                                         f"{record['property']['address']}"),
        _field("Unit", record["unit"]["label"]),
        _field("Trade / priority", f"{wo.get('trade')} / {wo.get('priority')}"),
        _field("Source", wo.get("source")), _field("Problem", wo.get("description")),
        _field("Vendor", (record.get("vendor") or {}).get("name")),
        _field("Completion notes", wo.get("completion_notes")),
        _field("Buildium task / work order", f"{wo.get('buildium_task_id')} / {wo.get('buildium_work_order_id')}"),
        _field("Bill in the PMS", (record.get("bill") or {}).get("bill_id")),
        _field("Created", wo.get("created_at")), _field("Last change", wo.get("updated_at")),
    ])
    timeline = "".join(f"<tr><td>{escape(e['at'][:19].replace('T', ' '))}</td><td>{escape(e['event'])}</td>"
                       f"<td>{escape(e.get('actor', ''))}</td><td>{escape(e.get('detail', ''))}</td></tr>"
                       for e in record["timeline"])
    invoices = ""
    for inv in record["invoices"]:
        coding = inv.get("coding") or {}
        approval_ = inv.get("approval") or {}
        attachment = inv.get("attachment")
        invoices += (
            f"<h3>Invoice {escape(inv['invoice_number'])} ({escape(inv['status'])})</h3>"
            f"<p>{escape(inv['invoice_date'])}, total {escape(str(inv['total']))} {escape(inv['currency'])}</p>"
            f"{_lines_table(inv['lines'], inv['currency'])}<h4>Checks</h4>{_checks_list(inv.get('checks') or [])}"
            + (f"<p>Coded to GL {escape(coding['gl_account_number'])} {escape(coding['gl_account_name'])}, cost "
               f"center {escape(coding['cost_center'])}, owner {escape(coding['owner'])} (rule "
               f"{escape(coding['rule'])})</p>" if coding else "")
            + (f"<p>Approval: {escape(approval_.get('route', ''))} - {escape(approval_.get('reason', ''))}; "
               f"{escape(str(approval_.get('decision') or 'pending'))} by {escape(str(approval_.get('approver')))} "
               f"at {escape(str(approval_.get('decided_at') or '-'))}</p>" if approval_ else "")
            + (f"<p>Attachment: <a href=\"{escape(attachment['download_url'])}\">{escape(attachment['filename'])}</a>"
               f" ({attachment['size']} bytes)</p>" if attachment else "")
            + (f"<p>Bill: {escape(inv['bill_pms_id'])}</p>" if inv.get("bill_pms_id") else ""))
    body = (f"<dl>{facts}</dl><h2>Timeline (every step, message and actor)</h2><table><thead><tr><th>When (UTC)"
            f"</th><th>What</th><th>Who</th><th>Detail</th></tr></thead><tbody>{timeline}</tbody></table>"
            f"<h2>Invoices</h2>{invoices or '<p>None</p>'}<p><small>Generated {escape(record['generated_at'])}"
            f"</small></p>")
    return page(f"Work order {wo['id']}", body).replace(
        "</style>", "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.2rem;"
                    "text-align:left;vertical-align:top}@media print{form{display:none}}</style>", 1).replace(
        "max-width:40rem", "max-width:60rem", 1)
