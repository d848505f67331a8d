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


VENDOR_PHOTO_TEXT = {"photos": "Photos", "photo_by_tenant": "Photo from the tenant",
                     "photo_by_vendor": "Photo from the technician", "add_photo": "Add a photo of the work",
                     "upload": "Upload photo", "photo_hint": "JPEG, PNG, WebP or HEIC, up to 10 MB, 5 per job. "
                                                            "It appears here once checked."}


def _field(label: str, value: Any) -> str:
    return f"<dt>{escape(label)}</dt><dd>{escape(str(value)) if value else '-'}</dd>"


def vendor_job(job: dict[str, Any], token: str, prefix: str = "", upload: dict[str, Any] | None = None) -> str:
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
    photos = photo_section(job.get("photos") or [], upload, VENDOR_PHOTO_TEXT)
    return page(f"Job {job['work_order_id']}", f"<dl>{facts}</dl>{''.join(forms)}{photos}")


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


def tenant_status(view: dict[str, Any], feedback_url: str, lang: str = "en",
                  upload: dict[str, Any] | None = None) -> str:
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
    photos = photo_section(view.get("photos") or [], upload, t)
    body = f"<dl>{''.join(facts)}</dl>{question}{photos}<h2>{t['history']}</h2><ol>{rows}</ol>"
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
        + f'<label for="photos">{t["photos_field"]}</label>'
        + f'<input id="photos" name="photos" type="file" multiple accept="{PHOTO_TYPES}">'
        + f"<noscript><p><small>{t['photos_nojs']}</small></p></noscript>"
        + f"<button>{t['send']}</button></form>" + PHOTO_SCRIPT
    )
    return page(t["title_form"], body, lang)


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
