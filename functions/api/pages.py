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


PHOTO_TYPES = "image/jpeg,image/png,image/webp,image/heic"


def photo_section(photos: list[dict[str, Any]], upload: dict[str, Any] | None, texts: dict[str, str]) -> str:
    """The checked photos (short-lived links), and a form that posts one photo straight to S3 (no
    JavaScript: the presigned fields are hidden inputs; S3 redirects back to this page)."""
    figures = "".join(
        f'<figure><img src="{escape(p["url"])}" alt="{escape(texts["photo_by_" + p["party"]])}" '
        f'style="max-width:100%;max-height:16rem"><figcaption>{escape(texts["photo_by_" + p["party"]])}'
        f"</figcaption></figure>" for p in photos)
    html = f"<h2>{texts['photos']}</h2>{figures}" if photos else ""
    if upload:
        hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                         for k, v in upload["fields"].items())
        html += (f'<form method="post" action="{escape(upload["url"])}" enctype="multipart/form-data">{hidden}'
                 f'<label>{texts["add_photo"]} <input type="file" name="file" accept="{PHOTO_TYPES}" required>'
                 f'</label><p><small>{texts["photo_hint"]}</small></p><button>{texts["upload"]}</button></form>')
    return html


VENDOR_PHOTO_TEXT = {
    "en": {"photos": "Photos", "photo_by_tenant": "Photo from the tenant",
           "photo_by_vendor": "Photo from the technician",
           "add_photo": "Add a photo of the work", "upload": "Upload photo",
           "photo_hint": "JPEG, PNG, WebP or HEIC, up to 10 MB, 5 per job. It appears here once checked."},
    "es": {"photos": "Fotos", "photo_by_tenant": "Foto del inquilino", "photo_by_vendor": "Foto del técnico",
           "add_photo": "Añadir una foto del trabajo", "upload": "Subir foto",
           "photo_hint": "JPEG, PNG, WebP o HEIC, hasta 10 MB, 5 por trabajo. Aparece aquí una vez revisada."},
}


def _field(label: str, value: Any) -> str:
    return f"<dt>{escape(label)}</dt><dd>{escape(str(value)) if value else '-'}</dd>"


VENDOR_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "job": "Job", "status": "Status", "priority": "Priority", "trade": "Trade", "address": "Address",
        "unit": "unit", "problem": "Problem", "access": "Access", "entry": "Entry when nobody is home",
        "entry_yes": "allowed", "entry_no": "tenant must be home", "pets": "Pets", "tenant": "Tenant",
        "visit": "Visit", "nte": "Not to exceed", "recall": "Recall (no charge): this repeats a recent job of yours",
        "availability": "Tenant availability", "proposal": "Proposed, waiting for the tenant",
        "accept": "Accept the job", "reason": "Reason", "decline": "Decline",
        "pick": "Pick one of the tenant's times", "pick_button": "Schedule this time",
        "propose": "Propose another time", "date": "Date", "from": "From", "to": "To",
        "zone": "Times in the property's time zone", "propose_button": "Send the proposal to the tenant",
        "eta": "Minutes away (empty: I am here)", "checkin": "I'm on my way / here",
        "notes": "What did you do?", "complete": "Mark as complete", "checked_in": "Checked in",
        "st_offered": "offered to you", "st_accepted": "accepted: set a visit time", "st_scheduled": "scheduled",
        "st_completed": "completed", "st_verified": "closed", "st_cancelled": "cancelled",
        "st_escalated": "with the ops team", "st_no_longer_available": "no longer available",
        "st_invoice_awaited": "done: send your invoice", "st_coded": "invoice waiting for approval",
        "st_approved": "invoice approved", "st_billed": "invoice approved and billed", "st_closed": "closed",
    },
    "es": {
        "job": "Trabajo", "status": "Estado", "priority": "Prioridad", "trade": "Oficio", "address": "Dirección",
        "unit": "unidad", "problem": "Problema", "access": "Acceso", "entry": "Entrada si no hay nadie",
        "entry_yes": "permitida", "entry_no": "el inquilino debe estar en casa", "pets": "Mascotas",
        "tenant": "Inquilino", "visit": "Visita", "nte": "Monto máximo",
        "recall": "Garantía (sin cargo): repite un trabajo reciente suyo",
        "availability": "Disponibilidad del inquilino", "proposal": "Propuesta, esperando al inquilino",
        "accept": "Aceptar el trabajo", "reason": "Motivo", "decline": "Rechazar",
        "pick": "Elija una de las horas del inquilino", "pick_button": "Programar esta hora",
        "propose": "Proponer otra hora", "date": "Fecha", "from": "Desde", "to": "Hasta",
        "zone": "Horas en la zona horaria de la propiedad", "propose_button": "Enviar la propuesta al inquilino",
        "eta": "Minutos para llegar (vacío: ya estoy aquí)", "checkin": "Voy en camino / ya llegué",
        "notes": "¿Qué hizo?", "complete": "Marcar como terminado", "checked_in": "Llegada registrada",
        "st_offered": "ofrecido a usted", "st_accepted": "aceptado: fije la hora de la visita",
        "st_scheduled": "programado", "st_completed": "terminado", "st_verified": "cerrado",
        "st_cancelled": "cancelado", "st_escalated": "con el equipo de operaciones",
        "st_no_longer_available": "ya no está disponible",
        "st_invoice_awaited": "terminado: envíe su factura", "st_coded": "factura esperando aprobación",
        "st_approved": "factura aprobada", "st_billed": "factura aprobada y registrada", "st_closed": "cerrado",
        "p_emergency": "emergencia", "p_urgent": "urgente", "p_routine": "rutina",
        "tr_plumbing": "plomería", "tr_electrical": "electricidad", "tr_hvac": "climatización",
        "tr_appliance": "electrodomésticos", "tr_locksmith": "cerrajería", "tr_pest": "control de plagas",
        "tr_roofing": "techos", "tr_general": "mantenimiento general",
    },
}


def vendor_job(job: dict[str, Any], token: str, prefix: str = "", lang: str = "en",
               upload: dict[str, Any] | None = None) -> str:
    """The vendor's job page; `prefix` is the API stage path when served behind execute-api."""
    t = VENDOR_TEXT[lang]
    window = job.get("window")
    tenant_windows = job.get("availability") if isinstance(job.get("availability"), list) else []
    nte = job.get("nte")
    facts = "".join([
        _field(t["status"], t.get("st_" + job["status"], job["status"])),
        _field(t["priority"], t.get(f"p_{job.get('priority')}", job.get("priority"))),
        _field(t["trade"], t.get(f"tr_{job.get('trade')}", job.get("trade"))),
        _field(t["address"], f"{job['address']}, {t['unit']} {job['unit']}"), _field(t["problem"], job["description"]),
        _field(t["access"], job.get("access_instructions")),
        _field(t["entry"], t["entry_yes"] if job.get("entry_permission") else
               (t["entry_no"] if "entry_permission" in job else None)),
        _field(t["pets"], job.get("pets")),
        _field(t["tenant"], " ".join(filter(None, [(job.get("tenant") or {}).get("name"),
                                                   (job.get("tenant") or {}).get("phone")]))),
        _field(t["nte"], nte["text"] if nte else None),
        _field(t["visit"], when(window) if window else None),
        _field(t["proposal"], when(job["proposal"])) if job.get("proposal") else "",
        _field(t["availability"], job["availability"]) if isinstance(job.get("availability"), str) else "",
        _field(t["checked_in"], "✓") if job.get("checked_in") else "",
    ])
    recall = f"<p><strong>{escape(t['recall'])}</strong></p>" if job.get("recall") else ""
    base = f"{escape(prefix)}/vendor/jobs/{escape(token)}"
    forms = []
    for action in job["allowed_actions"]:
        if action == "accept":
            forms.append(f'<form method="post" action="{base}/accept"><button>{t["accept"]}</button></form>')
        elif action == "decline":
            forms.append(f'<form method="post" action="{base}/decline"><label>{t["reason"]} '
                         f'<input name="reason" required maxlength="500"></label>'
                         f'<button>{t["decline"]}</button></form>')
        elif action == "schedule" and tenant_windows:
            choices = "".join(f'<label><input type="radio" name="window" value="{i}" required> '
                              f'{escape(when(w))}</label>' for i, w in enumerate(tenant_windows))
            forms.append(f'<form method="post" action="{base}/schedule"><fieldset><legend>{t["pick"]}</legend>'
                         f'{choices}<button>{t["pick_button"]}</button></fieldset></form>')
        elif action == "propose":
            zone = escape(job.get("time_zone") or "")
            forms.append(f'<form method="post" action="{base}/propose"><fieldset><legend>{t["propose"]}</legend>'
                         f'<label>{t["date"]} <input type="date" name="date" required></label>'
                         f'<label>{t["from"]} <input type="time" name="start_time" required></label>'
                         f'<label>{t["to"]} <input type="time" name="end_time" required></label>'
                         f'<p><small>{t["zone"]}: {zone}</small></p>'
                         f'<button>{t["propose_button"]}</button></fieldset></form>')
        elif action == "checkin":
            forms.append(f'<form method="post" action="{base}/checkin"><label>{t["eta"]} '
                         f'<input name="eta_minutes" type="number" min="0" max="600"></label>'
                         f'<button>{t["checkin"]}</button></form>')
        elif action == "complete":
            forms.append(f'<form method="post" action="{base}/complete"><label>{t["notes"]} '
                         f'<textarea name="notes" required maxlength="5000"></textarea></label>'
                         f'<button>{t["complete"]}</button></form>')
    photos = photo_section(job.get("photos") or [], upload, VENDOR_PHOTO_TEXT.get(lang, VENDOR_PHOTO_TEXT["en"]))
    return page(f"{t['job']} {job['work_order_id']}",
                f"{recall}<dl>{facts}</dl>{''.join(forms)}{photos}{invoice_section(job, base, lang)}", lang)


# ---------------------------------------------------------------- tenant pages (English and Spanish)
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title_form": "Maintenance request", "unit": "unit", "name": "Your name",
        "phone": "Mobile phone (for text updates)", "email": "Email", "description": "What is wrong?",
        "availability": "Anything else about when you are home? (e.g. weekdays after 5pm)", "pets": "Pets at home?",
        "windows": "When can the technician come? Give up to 3 times; the technician picks one (local time)",
        "win_day": "Day", "win_from": "from", "win_to": "to",
        "entry": "The technician may enter if I am not home", "send": "Send request",
        "title_status": "Request", "status": "Status", "technician": "Technician", "visit": "Visit",
        "fixed_q": "Is it fixed?", "yes": "Yes, it is fixed", "no": "No, it is not fixed",
        "safety_title": "Please answer now", "safety_yes": "YES, it is an emergency", "safety_no": "NO, no danger",
        "ev_safety_question": "We asked whether it is an emergency", "ev_safety_answered": "You answered",
        "ev_safety_unanswered": "No answer: handled by the rules for emergencies",
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
        "ev_proposed": "Technician proposed a time", "ev_proposal_declined": "You declined the proposed time",
        "ev_reschedule_requested": "You asked for another time", "ev_no_show": "Missed visit",
        "ev_checkin": "Technician on the way or on site",
        "proposal": "Proposed visit", "proposal_q": "Can you make this time?", "confirm": "Yes, confirm this time",
        "decline": "No, ask for another time", "reschedule": "Need another time?",
        "reschedule_button": "Ask the technician to reschedule", "no_show": "Nobody came?",
        "no_show_button": "Report that nobody came", "why": "Anything to tell the technician?",
        "ev_photo_added": "Photo added", "ev_photo_rejected": "Photo not accepted (not an image, or too large)",
        "photos": "Photos", "photo_by_tenant": "Your photo", "photo_by_vendor": "Photo from the technician",
        "add_photo": "Add a photo", "upload": "Upload photo",
        "photo_hint": "JPEG, PNG, WebP or HEIC, up to 10 MB, 5 per request. It appears here once checked.",
        "photos_field": "Photos (optional, up to 5)",
        "photos_nojs": "Without JavaScript, add photos on the status page once the request is sent.",
    },
    "es": {
        "title_form": "Solicitud de mantenimiento", "unit": "unidad", "name": "Su nombre",
        "phone": "Teléfono móvil (para avisos por SMS)", "email": "Correo electrónico",
        "description": "¿Qué problema hay?",
        "availability": "¿Algo más sobre cuándo está en casa? (p. ej. entre semana después de las 5)",
        "windows": "¿Cuándo puede venir el técnico? Indique hasta 3 horarios; el técnico elige uno (hora local)",
        "win_day": "Día", "win_from": "desde", "win_to": "hasta",
        "pets": "¿Hay mascotas en casa?", "entry": "El técnico puede entrar si no estoy en casa",
        "send": "Enviar solicitud", "title_status": "Solicitud", "status": "Estado", "technician": "Técnico",
        "visit": "Visita", "fixed_q": "¿Quedó arreglado?", "yes": "Sí, quedó arreglado",
        "safety_title": "Responda ahora, por favor", "safety_yes": "SÍ, es una emergencia",
        "safety_no": "NO, no hay peligro",
        "ev_safety_question": "Le preguntamos si es una emergencia", "ev_safety_answered": "Usted respondió",
        "ev_safety_unanswered": "Sin respuesta: se aplican las reglas de emergencia",
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
        "ev_proposed": "El técnico propuso una hora", "ev_proposal_declined": "Rechazó la hora propuesta",
        "ev_reschedule_requested": "Pidió otra hora", "ev_no_show": "Visita no realizada",
        "ev_checkin": "Técnico en camino o en el domicilio",
        "proposal": "Visita propuesta", "proposal_q": "¿Le viene bien esta hora?", "confirm": "Sí, confirmo esta hora",
        "decline": "No, pedir otra hora", "reschedule": "¿Necesita otra hora?",
        "reschedule_button": "Pedir al técnico otra hora", "no_show": "¿No vino nadie?",
        "no_show_button": "Avisar que no vino nadie", "why": "¿Algo que decir al técnico?",
        "ev_photo_added": "Foto añadida", "ev_photo_rejected": "Foto no aceptada (no es una imagen o es muy grande)",
        "photos": "Fotos", "photo_by_tenant": "Su foto", "photo_by_vendor": "Foto del técnico",
        "add_photo": "Añadir una foto", "upload": "Subir foto",
        "photo_hint": "JPEG, PNG, WebP o HEIC, hasta 10 MB, 5 por solicitud. Aparece aquí una vez revisada.",
        "photos_field": "Fotos (opcional, hasta 5)",
        "photos_nojs": "Sin JavaScript, añada las fotos en la página de estado una vez enviada la solicitud.",
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


def _visit_forms(view: dict[str, Any], visit_url: str, t: dict[str, str]) -> str:
    """Confirm or decline a proposed time, ask to reschedule, report that nobody came."""
    allowed, url = view.get("allowed_actions") or [], escape(visit_url)
    forms = ""
    if "confirm" in allowed and view.get("proposal"):
        forms += (f'<form method="post" action="{url}"><fieldset><legend>{t["proposal_q"]}</legend>'
                  f"<p>{escape(when(view['proposal']))}</p>"
                  f'<label><input type="radio" name="action" value="confirm" required> {t["confirm"]}</label>'
                  f'<label><input type="radio" name="action" value="decline"> {t["decline"]}</label>'
                  f'<label>{t["why"]} <input name="comment" maxlength="500"></label>'
                  f"<button>{t['answer']}</button></fieldset></form>")
    if "reschedule" in allowed:
        forms += (f'<form method="post" action="{url}"><fieldset><legend>{t["reschedule"]}</legend>'
                  f'<input type="hidden" name="action" value="reschedule">'
                  f'<label>{t["why"]} <input name="comment" maxlength="500"></label>'
                  f"<button>{t['reschedule_button']}</button></fieldset></form>")
    if "no_show" in allowed:
        forms += (f'<form method="post" action="{url}"><fieldset><legend>{t["no_show"]}</legend>'
                  f'<input type="hidden" name="action" value="no_show">'
                  f"<button>{t['no_show_button']}</button></fieldset></form>")
    return forms


def tenant_status(view: dict[str, Any], feedback_url: str, lang: str = "en", visit_url: str = "",
                  upload: dict[str, Any] | None = None, safety_url: str = "") -> str:
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
    if view.get("proposal"):
        facts.append(_field(t["proposal"], when(view["proposal"])))
    question = _visit_forms(view, visit_url, t) if visit_url else ""
    if view.get("safety_question") and safety_url:
        question = (f'<form method="post" action="{escape(safety_url)}" class="safety"><fieldset>'
                    f'<legend>{escape(t["safety_title"])}: {escape(view["safety_question"]["question"])}</legend>'
                    f'<button name="answer" value="yes">{escape(t["safety_yes"])}</button> '
                    f'<button name="answer" value="no">{escape(t["safety_no"])}</button></fieldset></form>') + question
    if view.get("feedback_due"):
        question += (f'<form method="post" action="{escape(feedback_url)}"><fieldset><legend>{t["fixed_q"]}</legend>'
                    f'<label><input type="radio" name="resolved" value="true" required> {t["yes"]}</label>'
                    f'<label><input type="radio" name="resolved" value="false"> {t["no"]}</label>'
                    f'<label>{t["comment"]} <textarea name="comment" maxlength="2000"></textarea></label>'
                    f"<button>{t['answer']}</button></fieldset></form>")
    photos = photo_section(view.get("photos") or [], upload, t)
    body = f"<dl>{''.join(facts)}</dl>{question}{photos}<h2>{t['history']}</h2><ol>{rows}</ol>"
    return page(f"{t['title_status']} {view['id']}", body, lang)


def _window_rows(t: dict[str, str], errors: dict[str, str], values: dict[str, str]) -> str:
    """Up to three day/from/to rows: times the vendor can pick from (no JavaScript, native inputs)."""
    rows = ""
    for n in range(1, 4):
        error = (f'<p class="error" id="w{n}-error" role="alert">{escape(errors[f"w{n}"])}</p>'
                 if f"w{n}" in errors else "")
        inputs = "".join(
            f'<label>{escape(t[label])}{" " + str(n) if part == "date" else ""} <input name="w{n}_{part}" '
            f'type="{kind}" aria-label="{escape(t["win_day"])} {n}{"" if part == "date" else ", " + escape(t[label])}" '
            f'value="{escape(values.get(f"w{n}_{part}", ""))}"></label>'
            for part, kind, label in (("date", "date", "win_day"), ("from", "time", "win_from"),
                                      ("to", "time", "win_to")))
        rows += f'<div class="window">{inputs}{error}</div>'
    return f"<fieldset><legend>{escape(t['windows'])}</legend>{rows}</fieldset>"


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
        + _window_rows(t, errors, values)
        + field("availability", text("availability", extra='maxlength="500"'))
        + field("pets", text("pets", extra='maxlength="200"'))
        + f'<label><input type="checkbox" name="entry_permission" value="true"> {t["entry"]}</label>'
        + f'<label for="photos">{t["photos_field"]}</label>'
        + f'<input id="photos" name="photos" type="file" multiple accept="{PHOTO_TYPES}">'
        + f"<noscript><p><small>{t['photos_nojs']}</small></p></noscript>"
        + f"<button>{t['send']}</button></form>" + PHOTO_SCRIPT
    )
    return page(t["title_form"], body, lang)


# ---------------------------------------------------------------- invoices, approvals, the record
INVOICE_TEXT: dict[str, dict[str, str]] = {
    "en": {"yours": "Your invoices", "send": "Send your invoice", "nte": "Not to exceed", "number": "Invoice number",
           "date": "Invoice date", "hours": "Labour hours", "rate": "Hourly rate", "materials": "Materials (what)",
           "materials_amount": "Materials amount", "trip": "Trip charge", "tax": "Tax", "total": "Total",
           "file": "Invoice PDF or photo (optional, up to 4 MB)", "button": "Send invoice",
           "submitted": "received", "pending_approval": "waiting for approval", "approved": "approved",
           "rejected": "not approved", "billed": "approved and billed", "superseded": "closed without it"},
    "es": {"yours": "Sus facturas", "send": "Envíe su factura", "nte": "Monto máximo", "number": "Número de factura",
           "date": "Fecha de la factura", "hours": "Horas de mano de obra", "rate": "Tarifa por hora",
           "materials": "Materiales (cuáles)", "materials_amount": "Importe de materiales",
           "trip": "Cargo por desplazamiento", "tax": "Impuestos", "total": "Total",
           "file": "Factura en PDF o foto (opcional, hasta 4 MB)", "button": "Enviar factura",
           "submitted": "recibida", "pending_approval": "esperando aprobación", "approved": "aprobada",
           "rejected": "no aprobada", "billed": "aprobada y facturada", "superseded": "cerrada sin ella"},
}


def invoice_section(job: dict[str, Any], base: str, lang: str = "en") -> str:
    """The vendor's invoices so far, and the invoice form once the job is done (no JavaScript needed)."""
    t = INVOICE_TEXT.get(lang, INVOICE_TEXT["en"])
    rows = "".join(
        f"<li>{escape(i['invoice_number'])}: {escape(i['total'])} - {escape(t.get(i['status'], i['status']))}"
        + (f" ({escape(i['rejection_reason'])})" if i.get("rejection_reason") else "") + "</li>"
        for i in job.get("invoices") or [])
    listing = f"<h2>{t['yours']}</h2><ul>{rows}</ul>" if rows else ""
    if "invoice" not in job["allowed_actions"]:
        return listing
    nte = f"<p>{t['nte']}: {escape(job['nte']['text'])}</p>" if job.get("nte") else ""
    currency = escape(job.get("currency") or "USD")

    def money(name: str, label: str, required: bool = False) -> str:
        return (f'<label>{label} <input name="{name}" inputmode="decimal" pattern="\\d+(\\.\\d{{1,2}})?"'
                f'{" required" if required else ""}></label>')

    rate, materials, trip, tax, total = (f"{t[k]} ({currency})" for k in ("rate", "materials_amount", "trip", "tax",
                                                                          "total"))
    return (f'{listing}<h2>{t["send"]}</h2>{nte}'
            f'<form method="post" action="{base}/invoice" enctype="multipart/form-data">'
            f'<input type="hidden" name="currency" value="{currency}">'
            f'<label>{t["number"]} <input name="invoice_number" required maxlength="40"></label>'
            f'<label>{t["date"]} <input name="invoice_date" type="date" required></label>'
            f'{money("labour_hours", t["hours"])}{money("labour_rate", rate)}'
            f'<label>{t["materials"]} <input name="materials_description" maxlength="200"></label>'
            f'{money("materials_amount", materials)}{money("trip_charge", trip)}{money("tax", tax)}'
            f'{money("total", total, required=True)}'
            f'<label>{t["file"]} <input type="file" name="attachment" '
            f'accept="application/pdf,image/jpeg,image/png"></label>'
            f"<button>{t['button']}</button></form>")


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
        _field(f"{wo['pms']['provider'].title()} task / work order",
               f"{wo['pms']['task_id']} / {wo['pms']['work_order_id']}"),
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
    photos = "".join(f'<figure><a href="{escape(p["url"])}"><img src="{escape(p["url"])}" alt="Photo from the '
                     f'{escape(p["party"])}" width="160"></a><figcaption>{escape(p["party"])}, '
                     f'{escape(p["uploaded_at"][:16].replace("T", " "))}</figcaption></figure>'
                     for p in record.get("photos") or [])
    body = (f"<dl>{facts}</dl>" + (f"<h2>Photos</h2>{photos}" if photos else "")
            + f"<h2>Timeline (every step, message and actor)</h2><table><thead><tr><th>When (UTC)"
            f"</th><th>What</th><th>Who</th><th>Detail</th></tr></thead><tbody>{timeline}</tbody></table>"
            f"<h2>Invoices</h2>{invoices or '<p>None</p>'}<p><small>Generated {escape(record['generated_at'])}"
            f"</small></p>")
    return page(f"Work order {wo['id']}", body).replace(
        "</style>", "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.2rem;"
                    "text-align:left;vertical-align:top}@media print{form{display:none}}</style>", 1).replace(
        "max-width:40rem", "max-width:60rem", 1)


# With JavaScript, photos chosen on the request form are uploaded right after the request exists: the
# form is posted as usual, then each photo gets an upload slot (presigned POST) and goes straight to S3.
# Without JavaScript the request is sent without them, and the status page offers the upload form.
PHOTO_SCRIPT = r"""<script>
(() => {
  const input = document.getElementById("photos"), form = input && input.form;
  if (!form || !window.fetch || !window.FormData) return;
  const allowed = input.accept.split(",");
  form.addEventListener("submit", async (event) => {
    const files = Array.from(input.files).slice(0, 5);
    if (!files.length) return;
    event.preventDefault();
    const body = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (k !== "photos") body.append(k, v);
    const sent = await fetch(form.action, {method: "POST", body});
    if (!/\/requests\/wo-/.test(sent.url)) {
      document.open(); document.write(await sent.text()); document.close(); return;
    }
    const status = new URL(sent.url);
    for (const file of files) {
      const type = allowed.includes(file.type) ? file.type : null;
      const answer = await fetch(status.pathname + "/photos" + status.search, {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({content_type: type})});
      if (answer.status !== 201) break;
      const slot = await answer.json(), data = new FormData();
      for (const [k, v] of Object.entries(slot.fields)) data.append(k, v);
      data.append("file", file);
      try { await fetch(slot.url, {method: "POST", body: data, mode: "no-cors"}); } catch (e) {}
    }
    location.href = sent.url;
  });
})();
</script>"""
