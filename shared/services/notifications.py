"""Turns lifecycle events into SMS and email from per-event templates (data: shared/rules/messages.json)
and records every message in the work order's timeline."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from string import Template
from typing import Any

from shared.domain.directory import Contact, Property, Unit, Vendor
from shared.domain.enums import Priority, trade_name
from shared.domain.messages import MessageTemplate, format_window, message_book
from shared.domain.nte import money
from shared.domain.oncall import Page
from shared.domain.quiet_hours import QuietHours
from shared.domain.workorder import TimelineEntry, WorkOrder
from shared.observability import count, logger
from shared.services.container import Services
from shared.services.incidents import members, mirror
from shared.services.views import tenant_link, vendor_link


def _fmt_window(wo: WorkOrder) -> str:
    return format_window(wo.window)


def _availability(wo: WorkOrder, lang: str = "en") -> str:
    if not wo.availability:
        return "sin indicar" if lang == "es" else "not given"
    if isinstance(wo.availability, str):
        return wo.availability
    return "; ".join(format_window(w, lang, zone=False) for w in wo.availability)


def _in_hours(hours: int, lang: str) -> str:
    if lang == "es":
        return "en 1 hora" if hours == 1 else f"en unas {hours} horas"
    return "in about 1 hour" if hours == 1 else f"in about {hours} hours"


def _recipients(svc: Services, role: str, wo: WorkOrder, prop: Property, vendor_id: str | None,
                detail: dict[str, Any], vendor_of: Callable[[str], Vendor]) -> Contact | None:
    if role == "tenant":
        return wo.tenant
    if role == "vendor":
        vid = vendor_id or wo.vendor_id
        if not vid:
            return None
        v = vendor_of(vid)
        return Contact(name=v.name, phone=v.phone, email=v.email, language=v.language)
    if role == "oncall":  # the level of the work order's on-call chain the event pages (shared/services/paging.py)
        level = int(detail.get("level") or 0)
        return wo.page.levels[level].contact if wo.page and level < len(wo.page.levels) else None
    if role == "ops":
        return ops_contact(svc)
    if role == "approver":  # an invoice's approver: the property's owner, or ops
        if detail.get("route") == "owner":
            owner = (svc.repo.get_config("owners") or {}).get(wo.property_id)
            return Contact.model_validate(owner) if owner else None
        return ops_contact(svc)
    raise ValueError(f"unknown recipient role {role}")


class NoOpsContact(RuntimeError):
    """Nobody to tell: neither the `ops_contact` configuration record nor the OpsAlertEmails setting."""


def ops_contact(svc: Services) -> Contact:
    """Who messages for ops go to: the `ops_contact` configuration record if set, else the first of the
    deployment's ops alert email addresses and phone numbers (template parameters, required at deploy and
    checked at the notification function's cold start). Never None: a message for ops is never dropped;
    without anyone to tell this raises, so the event is retried and ends in the notification DLQ (alarmed)."""
    configured = svc.repo.ops_contact()
    if configured is not None:
        return configured
    email = _first(svc.settings.ops_alert_emails)
    phone = _first(svc.settings.ops_alert_phones)
    if not (email or phone):
        raise NoOpsContact("no ops contact: set the OpsAlertEmails parameter (or the ops_contact record)")
    return Contact(name="Ops", email=email, phone=phone)


def _first(comma_separated: str) -> str | None:
    return next((item.strip() for item in comma_separated.split(",") if item.strip()), None)


def _variables(svc: Services, wo: WorkOrder, prop: Property, unit: Unit, detail: dict[str, Any],
               vendor_id: str | None, templates: list[MessageTemplate],
               vendor_of: Callable[[str], Vendor]) -> dict[str, str]:
    base = svc.settings.public_base_url
    vendor_name = vendor_of(vendor_id).name if vendor_id else "Your technician"
    desc = wo.description.replace("\n", " ")
    values = {
        "reference": wo.id, "tenant_name": wo.tenant.name, "tenant_phone": wo.tenant.phone or "",
        "property_name": prop.name, "address": prop.address, "unit_label": unit.label,
        "access_instructions": unit.access_instructions or "ask the tenant",
        "description": desc, "description_short": desc if len(desc) <= 80 else desc[:77] + "...",
        "priority": (wo.priority or "").upper() if wo.priority == "emergency" else str(wo.priority or ""),
        "trade": str(wo.trade or ""), "emergency_reason": wo.emergency_reason or "emergency",
        "vendor_name": vendor_name, "window": _fmt_window(wo), "availability": _availability(wo),
        "reason": str(detail.get("detail") or detail.get("reason") or ""),
        "recall_note": "RECALL (no charge): this repeats a recent job of yours. " if wo.recall_of else "",
        "arrival": f"on the way, about {detail['eta_minutes']} minutes away" if detail.get("eta_minutes")
        else "on site now",
        "arrival_es": f"va en camino, llega en unos {detail['eta_minutes']} minutos" if detail.get("eta_minutes")
        else "ya está en su domicilio",
        "recall_subject": "RECALL: " if wo.recall_of else "",
        "recall_subject_es": "GARANTÍA: " if wo.recall_of else "",
        "recall_note_es": "GARANTÍA (sin cargo): repite un trabajo reciente suyo. " if wo.recall_of else "",
        "priority_es": {"emergency": "URGENTE (emergencia)", "urgent": "urgente", "routine": "de rutina"}.get(
            str(wo.priority or ""), str(wo.priority or "")),
        "trade_es": trade_name(wo.trade, "es"),
        "window_es": format_window(wo.window, "es"), "availability_es": _availability(wo, "es"),
        "proposal": format_window(wo.proposal), "proposal_es": format_window(wo.proposal, "es"),
        "nte": money(wo.nte_cents, wo.currency) if wo.nte_cents is not None else "not set",
        "reminder_when": _in_hours(int(detail.get("hours") or 1), "en"),
        "reminder_when_es": _in_hours(int(detail.get("hours") or 1), "es"),
        "reason_note": f"They said: \"{detail['detail']}\"." if detail.get("detail") else "",
        "missed_by": "reported by the tenant" if detail.get("reported_by") == "tenant" else "no check-in",
        "reason_note_es": f"Dijo: \"{detail['detail']}\"." if detail.get("detail") else "",
    }
    if detail.get("invoice_id"):
        from shared.services.invoicing import invoice_variables  # cold start: the money side only for its events

        values.update(invoice_variables(svc, wo, detail, any("$approval_url" in t.body for t in templates)))
    if any("next_step" in t.body for t in templates):  # a job ops resumed at a stage: what happens next
        book = message_book()
        values |= {f"{prefix}next_step{suffix}": Template(book.next_step(detail.get("stage", ""), role, lang))
                   .safe_substitute(values)
                   for prefix, role in (("", "tenant"), ("vendor_", "vendor"))
                   for suffix, lang in (("", "en"), ("_es", "es"))}
    if wo.safety_question and any("$safety_question" in t.body for t in templates):
        book, hazard = message_book(), wo.safety_question.hazard.value
        values |= {"safety_question": book.safety_question(hazard, "en"),
                   "safety_question_es": book.safety_question(hazard, "es")}
    # Links are signed only for the messages that carry them.
    if any("$status_url" in t.body for t in templates):
        values["status_url"] = tenant_link(svc, wo, base)
    if vendor_id and any("$job_url" in t.body for t in templates):
        values["job_url"] = vendor_link(svc, wo, vendor_id, base)
    if wo.page is not None and any("$ack_url" in t.body for t in templates):
        from shared.services.paging import ack_link  # cold start: the on-call chain only for its events

        level = min(int(detail.get("level") or 0), max(len(wo.page.levels) - 1, 0))
        values["ack_url"] = ack_link(svc, wo, level, base)
    if wo.page is not None:
        values |= _page_variables(wo.page, int(detail.get("level") or 0))
    return values


def _page_variables(page: Page, level: int) -> dict[str, str]:
    if not page.levels:
        return {"oncall_tried": "nobody is on call"}
    paged = page.levels[min(level, len(page.levels) - 1)]
    return {"oncall_label": paged.label, "ack_minutes": str(paged.ack_within_minutes),
            "oncall_tried": ", ".join(f"{lv.contact.name} ({lv.label})" for lv in page.levels)}


def notify(svc: Services, detail_type: str, detail: dict[str, Any]) -> int:
    """Send every message the event calls for, once (dedupe on the event key). Returns how many were sent.
    For a building incident's primary, members are brought to the same stage and their tenants told too.
    An emergency starts the on-call chain and pages its first level at once (shared/services/paging.py)."""
    pages = 0
    if detail_type == "EmergencyDeclared":
        from shared.services.paging import start_chain  # cold start: the on-call chain only for emergencies

        paged = start_chain(svc, detail["work_order_id"])
        if paged.page is not None and paged.page.running and paged.page.level == 0:
            first = {"work_order_id": paged.id, "status": paged.status.value, "level": 0,
                     "event_key": f"{paged.id}:oncall:0"}  # the key a re-published level 0 would have
            pages = notify(svc, "OnCallPaged", first)
    templates = message_book().events.get(detail_type, [])
    wo = svc.repo.get_work_order(detail["work_order_id"])
    event_key = detail.get("event_key") or f"{wo.id}:{detail_type}:{wo.version}"
    held: list[datetime] = []  # quiet hours: when held SMS may go
    sent = pages + (_send(svc, detail_type, detail, wo, templates, event_key, held) if templates else 0)
    if wo.incident_id == wo.id:
        mirror(svc, detail_type, wo)
        for member_id in members(svc, wo):
            member = svc.repo.get_work_order(member_id)
            # A member's tenant follows the primary's visit but cannot answer its proposal.
            tenant_templates = [t for t in templates if t.to == "tenant" and detail_type != "VisitProposed"]
            if tenant_templates:
                sent += _send(svc, detail_type, detail, member, tenant_templates, f"{event_key}:{member_id}", held)
    if held:  # deferred, not dropped: the event comes back (at most 15 min later) and checks again
        delay = max(1, int((min(held) - svc.clock()).total_seconds()))
        svc.queues.send_delayed(svc.settings.notification_queue_url,
                                json.dumps({"detail-type": detail_type, "detail": detail}), delay)
    return sent


def _send(svc: Services, detail_type: str, detail: dict[str, Any], wo: WorkOrder,
          templates: list[MessageTemplate], event_key: str, held: list[datetime]) -> int:
    prop = svc.repo.get_property(wo.property_id)
    unit = svc.repo.get_unit(wo.unit_id)
    vendor_id = detail.get("vendor_id") or wo.vendor_id or wo.previous_vendor_id
    vendor_of = functools.cache(svc.repo.get_vendor)  # the names and the contact: one read per vendor and event
    values = _variables(svc, wo, prop, unit, detail, vendor_id, templates, vendor_of)
    sent = 0
    for tpl in templates:
        contact = _recipients(svc, tpl.to, wo, prop, vendor_id, detail, vendor_of)
        if contact is None:
            logger.warning("no recipient for message", extra={"role": tpl.to, "event": detail_type})
            continue
        raw_subject, raw_body = tpl.text(contact.language or (wo.tenant.language if tpl.to == "tenant" else None))
        subject = Template(raw_subject).safe_substitute(values)
        body = Template(raw_body).safe_substitute(values)
        channels = [(channel, address) for channel, address in (("sms", contact.phone), ("email", contact.email))
                    if address and channel in tpl.channels(wo.source.value)]
        if not channels:
            continue
        # One marker for the message: `<base>` when all its channels went in one pass, else `<base>:<channel>`
        # for each that went (an SMS held for quiet hours, a send that failed after another went).
        base = f"msg:{event_key}:{tpl.to}"
        done = svc.repo.done_under(base, wo.id)
        if base in done:
            continue
        went: list[str] = []
        try:
            for channel, address in channels:
                key = f"{base}:{channel}"
                if key in done:
                    continue
                # A drill's messages go to the sink at once (no opt-outs, no quiet hours: nothing is really sent).
                if channel == "sms" and not wo.drill and not _sms_may_go(svc, detail_type, wo, prop, tpl.to,
                                                                         address, key, held, urgent=tpl.urgent):
                    continue
                messenger = svc.outbound(wo.drill)
                if channel == "sms":
                    messenger.sms(address, body)
                else:
                    messenger.email(address, subject, body)
                went.append(channel)
                if not wo.drill:  # the sink counts the drill's (DrillSinkMessage)
                    count(f"Message{channel.capitalize()}")
                logger.info("message sent", extra={"event": detail_type, "role": tpl.to, "channel": channel,
                                                   "drill": wo.drill})
                sent += 1
        finally:
            _mark_sent(svc, wo, base, [c for c, _ in channels], went, f"to {tpl.to}: {subject}")
    return sent


def _mark_sent(svc: Services, wo: WorkOrder, base: str, channels: list[str], went: list[str], what: str) -> None:
    """Record what went: one timeline entry for the message when every channel went now, else one per channel
    that went (the others are sent, and marked, when the event comes back)."""
    if not went:
        return
    if went == channels and len(went) > 1:
        svc.repo.mark_done(base, wo.id, TimelineEntry(
            at=svc.clock(), event="notified", detail=f"{' and '.join(c.upper() for c in went)} {what}"))
        return
    for channel in went:
        svc.repo.mark_done(f"{base}:{channel}", wo.id, TimelineEntry(
            at=svc.clock(), event="notified", detail=f"{channel.upper()} {what}"))


# ---------------------------------------------------------------- SMS rules: opt-outs and quiet hours
def _sms_may_go(svc: Services, detail_type: str, wo: WorkOrder, prop: Property, role: str, phone: str, key: str,
                held: list[datetime], urgent: bool = False) -> bool:
    """False when this SMS must not go now: the number opted out (STOP; email still goes), or it is a
    non-emergency message in the property's quiet hours (deferred: the event is queued again, not dropped)."""
    if svc.repo.sms_opted_out(phone):
        if not svc.repo.done(f"{key}:optout", wo.id):
            svc.repo.mark_done(f"{key}:optout", wo.id, TimelineEntry(
                at=svc.clock(), event="sms_suppressed", detail=f"SMS to {role} not sent: the number opted out (STOP)"))
        count("MessageSmsOptedOut")
        return False
    release = None if urgent else quiet_release(svc, wo, prop)
    if release is None:
        return True
    held.append(release)
    if not svc.repo.done(f"{key}:held", wo.id):
        svc.repo.mark_done(f"{key}:held", wo.id, TimelineEntry(
            at=svc.clock(), event="sms_deferred",
            detail=f"SMS to {role} held for quiet hours until {release:%H:%M} ({release.tzinfo})"))
    count("MessageSmsDeferred")
    logger.info("sms deferred for quiet hours", extra={"event": detail_type, "role": role})
    return False


def quiet_release(svc: Services, wo: WorkOrder, prop: Property) -> datetime | None:
    """When a non-emergency SMS for this work order may go, if it may not go now (None = now is fine)."""
    from shared.domain.triage import classify  # cold start: the rules and the model load only when needed

    policy = svc.repo.get_config("quiet_hours") or {}
    if policy.get("enabled") is False:
        return None
    priority = wo.priority or classify(wo.description).priority  # the acknowledgement precedes triage
    if priority == Priority.EMERGENCY:
        return None
    hours = QuietHours.build(policy.get("start") or svc.settings.quiet_hours_start,
                             policy.get("end") or svc.settings.quiet_hours_end,
                             prop.time_zone or policy.get("time_zone"), svc.settings.default_time_zone)
    return hours.release_at(svc.clock())
