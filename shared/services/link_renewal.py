"""A fresh link for a tenant or vendor whose link expired. The new link goes only to the phone or email
on file (never to whoever asks), at most once per old link, and the answer reveals nothing."""

from __future__ import annotations

from shared.domain.directory import Contact
from shared.domain.errors import LinkRejected, NotFound
from shared.domain.workorder import TimelineEntry
from shared.observability import count
from shared.services.container import Services
from shared.services.views import tenant_link, vendor_link


def renew(svc: Services, token: str) -> None:
    """The old link is revoked first (a conditional write: one renewal per link, even when two requests
    race), then the new one is sent."""
    tokens = svc.link_tokens()
    try:
        scope = tokens.verify(token, allow_expired=True)
        if scope.party in ("unit", "oncall", "survey"):
            # a unit link is printed (ops re-prints it); a late on-call page is acknowledged by SMS; an expired
            # survey link's question has closed
            return
        if scope.party == "owner":  # a property owner's report: a fresh link to the owner's email on file
            from shared.services.kpi_pages import renew_owner_link

            renew_owner_link(svc, token, scope.work_order_id, scope.party_id)
            return
        wo = svc.repo.get_work_order(scope.work_order_id)
    except (LinkRejected, NotFound):
        return
    if scope.party == "vendor" and scope.party_id not in (wo.vendor_id, wo.offer.vendor_id if wo.offer else None):
        return  # a vendor no longer on the job gets nothing (and keeps nothing to renew)
    contact = wo.tenant if scope.party == "tenant" else _vendor_contact(svc, scope.party_id)
    if not (contact.phone or contact.email) or not tokens.revoke(token, "renewed"):
        return
    base = svc.settings.public_base_url
    url = tenant_link(svc, wo, base) if scope.party == "tenant" else vendor_link(svc, wo, scope.party_id, base)
    text = f"Here is your new link for request {wo.id}: {url}"
    messenger = svc.outbound(wo.drill)
    if contact.phone:
        messenger.sms(contact.phone, text)
        channel = "SMS"
    else:
        messenger.email(contact.email or "", f"Your new link ({wo.id})", text)
        channel = "Email"
    svc.repo.add_timeline(wo.id, TimelineEntry(at=svc.clock(), event="notified",
                                               detail=f"{channel} to {scope.party}: a new link (the old one revoked)"))
    count("LinkRenewed")


def _vendor_contact(svc: Services, vendor_id: str) -> Contact:
    vendor = svc.repo.get_vendor(vendor_id)
    return Contact(name=vendor.name, phone=vendor.phone, email=vendor.email)
