"""Small server-rendered pages for people who open a link in a browser (no JavaScript needed)."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = ("body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.5}"
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
