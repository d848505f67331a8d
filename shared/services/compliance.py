"""Vendor compliance over time: the daily insurance check (finds, through the insurance-expiry index, the
vendors whose insurance expires within the lead time and announces each once per expiry date) and the
warning it leads to (the vendor, in their language, and ops; messages are data: shared/rules/messages.json
"notices"). Dispatch's own check, on the job's date, is the pure rule in shared/domain/compliance.py."""

from __future__ import annotations

from datetime import date
from string import Template
from typing import Any

from shared.domain.compliance import due_warning, rules, warning_window
from shared.domain.directory import Contact, Vendor
from shared.domain.messages import message_book
from shared.observability import count, logger
from shared.services.container import Services

INSURANCE_EXPIRING = "VendorInsuranceExpiring"


def check_insurance(svc: Services) -> list[str]:
    """Announce every active vendor whose insurance expires within the lead time, once per vendor and
    expiry date (a renewal is a new date, so it is warned about again in its own time). Returns their ids."""
    policy = rules().insurance
    today = svc.clock().date()
    first, last = warning_window(today, policy)
    announced: list[str] = []
    for vendor in svc.repo.get_vendors(svc.repo.vendors_insured_until(first, last)):
        insurance = vendor.insurance
        # The index is read eventually consistent: the vendor record has the last word.
        if not vendor.active or insurance is None or insurance.expires_on is None \
                or not due_warning(insurance, today, policy):
            continue
        if not svc.repo.claim_insurance_warning(vendor.id, insurance.expires_on, svc.clock().isoformat()):
            continue  # already warned about this expiry date
        try:
            svc.events.publish(INSURANCE_EXPIRING, {
                "vendor_id": vendor.id, "expires_on": insurance.expires_on.isoformat(),
                "event_key": f"insurance:{vendor.id}:{insurance.expires_on.isoformat()}"})
        except Exception:
            svc.repo.release_insurance_warning(vendor.id, insurance.expires_on)  # the next check tries again
            raise
        count(INSURANCE_EXPIRING)
        announced.append(vendor.id)
    logger.info("insurance checked", extra={"window_end": last.isoformat(), "warned": len(announced)})
    return announced


def warn_insurance_expiring(svc: Services, detail: dict[str, Any]) -> int:
    """Send the warning (SMS and email to the vendor and to ops), each message once. Nothing is sent if the
    insurance was renewed (or the vendor deactivated) since the check. Returns how many were sent."""
    expires_on = date.fromisoformat(detail["expires_on"])
    vendor = svc.repo.find_vendor(detail["vendor_id"])
    if vendor is None or not vendor.active or vendor.insurance is None or vendor.insurance.expires_on != expires_on:
        logger.info("insurance warning no longer due", extra={"vendor_id": detail["vendor_id"]})
        return 0
    values = _variables(vendor, expires_on, svc.clock().date())
    sent = 0
    for tpl in message_book().notices.get(INSURANCE_EXPIRING, []):
        contact = _recipient(svc, tpl.to, vendor)
        if contact is None:
            logger.warning("no recipient for message", extra={"role": tpl.to, "event": INSURANCE_EXPIRING})
            continue
        raw_subject, raw_body = tpl.text(contact.language)
        subject, body = Template(raw_subject).safe_substitute(values), Template(raw_body).safe_substitute(values)
        for channel, address in (("sms", contact.phone), ("email", contact.email)):
            if not address:
                continue
            marker = (f"VENDOR#{vendor.id}", f"NOTICE#insurance#{expires_on.isoformat()}#{tpl.to}#{channel}")
            if svc.repo.get_record(*marker) is not None:
                continue  # sent before this delivery was retried
            if channel == "sms" and svc.repo.sms_opted_out(address):
                count("MessageSmsOptedOut")
                continue
            if channel == "sms":
                svc.outbound(vendor.drill).sms(address, body)
            else:
                svc.outbound(vendor.drill).email(address, subject, body)
            svc.repo.put_record(*marker, {"type": "notice", "sent_at": svc.clock().isoformat()})
            count(f"Message{channel.capitalize()}")
            logger.info("message sent", extra={"event": INSURANCE_EXPIRING, "role": tpl.to, "channel": channel})
            sent += 1
    return sent


def _recipient(svc: Services, role: str, vendor: Vendor) -> Contact | None:
    if role == "vendor":
        return Contact(name=vendor.name, phone=vendor.phone, email=vendor.email, language=vendor.language)
    if role == "ops":
        return svc.repo.ops_contact()
    raise ValueError(f"unknown recipient role {role}")


def _variables(vendor: Vendor, expires_on: date, today: date) -> dict[str, str]:
    insurance = vendor.insurance
    return {
        "vendor_name": vendor.name, "expires_on": expires_on.isoformat(),
        "days_left": str(max((expires_on - today).days, 0)),
        "provider": (insurance.provider if insurance else None) or "insurer not given",
        "policy_number": (insurance.policy_number if insurance else None) or "not given",
    }
