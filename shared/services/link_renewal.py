"""A fresh link for a tenant or vendor whose link expired. The new link goes only to the phone or email
on file (never to whoever asks), at most once per old link, and the answer reveals nothing."""

from __future__ import annotations

import hashlib

from shared.domain import links
from shared.domain.directory import Contact
from shared.domain.errors import LinkRejected, NotFound
from shared.domain.workorder import TimelineEntry
from shared.observability import count
from shared.services.container import Services
from shared.services.views import tenant_link, vendor_link


def renew(svc: Services, token: str) -> None:
    try:
        scope = links.verify(token, svc.link_key(), allow_expired=True)
        wo = svc.repo.get_work_order(scope.work_order_id)
    except (LinkRejected, NotFound):
        return
    once = "renew:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    if svc.repo.done(once):
        return
    base = svc.settings.public_base_url
    contact: Contact
    if scope.party == "tenant":
        contact, url = wo.tenant, tenant_link(svc, wo, base)
    elif scope.party == "vendor" and scope.party_id in (wo.vendor_id, wo.offer.vendor_id if wo.offer else None):
        vendor = svc.repo.get_vendor(scope.party_id)
        contact = Contact(name=vendor.name, phone=vendor.phone, email=vendor.email)
        url = vendor_link(svc, wo, vendor.id, base)
    else:
        return  # a unit link is printed (ops re-prints it); a vendor no longer on the job gets nothing
    text = f"Here is your new link for request {wo.id}: {url}"
    if contact.phone:
        svc.messenger.sms(contact.phone, text)
        channel = "SMS"
    elif contact.email:
        svc.messenger.email(contact.email, f"Your new link ({wo.id})", text)
        channel = "Email"
    else:
        return
    entry = TimelineEntry(at=svc.clock(), event="notified",
                          detail=f"{channel} to {scope.party}: a new link (the old one expired)")
    svc.repo.mark_done(once, wo.id, entry)
    count("LinkRenewed")
