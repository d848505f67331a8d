"""Small server-rendered pages for people who open a link in a browser (no JavaScript needed)."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = ("body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.5}"
         "h1{font-size:1.5rem;overflow-wrap:anywhere}input,textarea{display:block;width:100%;max-width:30rem}"
         "input[type=checkbox],input[type=radio]{display:inline;width:auto}.error{color:#b00020}"
         "dt{font-weight:600}form{margin:.5rem 0;padding:.5rem;border:1px solid #ccc;border-radius:.5rem}"
         "button{font-size:1rem;padding:.4rem 1rem}label{display:block;margin:.3rem 0}")


def page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>")


def error_page(status: int, message: str) -> str:
    return page("Link problem" if status == 403 else "Something is not right", f"<p>{escape(message)}</p>")


def _field(label: str, value: Any) -> str:
    return f"<dt>{escape(label)}</dt><dd>{escape(str(value)) if value else '-'}</dd>"


def vendor_job(job: dict[str, Any], token: str) -> str:
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
        _field("Visit", f"{window['start']} to {window['end']}" if window else None),
    ])
    base = f"/vendor/jobs/{escape(token)}"
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
        elif action == "complete":
            forms.append(f'<form method="post" action="{base}/complete"><label>What did you do? '
                         f'<textarea name="notes" required maxlength="5000"></textarea></label>'
                         f"<button>Mark as complete</button></form>")
    return page(f"Job {job['work_order_id']}", f"<dl>{facts}</dl>{''.join(forms)}")


# ---------------------------------------------------------------- tenant pages
STATUS_WORDS = {
    "received": "We have your request.",
    "triaged": "We have reviewed your request and are finding a technician.",
    "offered": "We are finding a technician for you.",
    "accepted": "A technician has taken your request and will set a time.",
    "scheduled": "A visit is scheduled.",
    "completed": "The technician says the work is done. Is it fixed?",
    "verified": "Done. Your request is closed.",
    "reopened": "We reopened your request and are sending a technician back.",
    "escalated": "A member of our team is handling your request personally.",
    "cancelled": "This request was cancelled.",
}
EVENT_WORDS = {
    "received": "Request received", "triaged": "Reviewed", "offered": "Technician contacted",
    "accepted": "Technician assigned", "scheduled": "Visit scheduled", "completed": "Work completed",
    "verified": "Closed", "reopened": "Reopened", "escalated": "Handled by our team", "cancelled": "Cancelled",
    "notified": "Message sent to you", "joined_incident": "Linked to a building-wide repair",
}


def tenant_status(view: dict[str, Any], feedback_url: str) -> str:
    """The tenant's status page: the timeline in plain words, who is coming and when, the follow-up."""
    rows = "".join(
        f"<li><time datetime=\"{escape(e['at'])}\">{escape(e['at'][:16].replace('T', ' '))}</time> - "
        f"{escape(EVENT_WORDS.get(e['event'], e['event']))}</li>" for e in view["timeline"])
    facts = [_field("Status", STATUS_WORDS.get(view["status"], view["status"]))]
    if view.get("vendor"):
        facts.append(_field("Technician", view["vendor"]["name"]))
    if view.get("window"):
        facts.append(_field("Visit", f"{view['window']['start']} to {view['window']['end']}"))
    question = ""
    if view.get("feedback_due"):
        question = (f'<form method="post" action="{escape(feedback_url)}"><fieldset><legend>Is it fixed?</legend>'
                    f'<label><input type="radio" name="resolved" value="true" required> Yes, it is fixed</label>'
                    f'<label><input type="radio" name="resolved" value="false"> No, it is not fixed</label>'
                    f'<label>Anything to add? <textarea name="comment" maxlength="2000"></textarea></label>'
                    f"<button>Send my answer</button></fieldset></form>")
    return page(f"Request {view['id']}", f"<dl>{''.join(facts)}</dl>{question}<h2>What happened</h2><ol>{rows}</ol>")


def request_form(unit: str, property_name: str, action: str, errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None) -> str:
    """The per-unit request form (the lobby QR code leads here). Works without JavaScript."""
    errors, values = errors or {}, values or {}

    def field(name: str, label: str, control: str) -> str:
        error = f'<p class="error" id="{name}-error" role="alert">{escape(errors[name])}</p>' if name in errors else ""
        return f'<label for="{name}">{escape(label)}</label>{control}{error}'

    def text(name: str, kind: str = "text", required: bool = False, extra: str = "") -> str:
        described = f' aria-describedby="{name}-error" aria-invalid="true"' if name in errors else ""
        return (f'<input id="{name}" name="{name}" type="{kind}" value="{escape(values.get(name, ""))}"'
                f'{" required" if required else ""}{described} {extra}>')

    body = (
        f"<p>{escape(property_name)}, unit {escape(unit)}</p>"
        f'<form method="post" action="{escape(action)}">'
        + field("name", "Your name", text("name", required=True, extra='maxlength="200" autocomplete="name"'))
        + field("phone", "Mobile phone (for text updates)", text("phone", "tel", extra='autocomplete="tel"'))
        + field("email", "Email", text("email", "email", extra='autocomplete="email"'))
        + field("description", "What is wrong?",
                f'<textarea id="description" name="description" required minlength="3" maxlength="5000">'
                f'{escape(values.get("description", ""))}</textarea>')
        + field("availability", "When are you home? (e.g. weekdays after 5pm)",
                text("availability", extra='maxlength="500"'))
        + field("pets", "Pets at home?", text("pets", extra='maxlength="200"'))
        + '<label><input type="checkbox" name="entry_permission" value="true"> '
          "The technician may enter if I am not home</label>"
        + "<button>Send request</button></form>"
    )
    return page("Maintenance request", body)
