"""Link renewal as a use case: an expired tenant or vendor link asks for a new one; it goes only to the
phone or email on file, once per old link (revoked first), and the caller learns nothing either way."""

from __future__ import annotations

import re

from shared.domain import links
from shared.domain.directory import Contact
from shared.domain.errors import LinkRejected
from shared.services.container import Services
from shared.services.link_renewal import renew
from tests.service.journeys import accepted, offered, triaged

UNIT = "unit-maple-1a"
ANA = "+15550100010"
AQUA = "+15550200001"
LEAK = "The bathroom faucet drips constantly"
DAY = 86400


def expired(svc: Services, wo_id: str, party: str, party_id: str) -> str:
    """A link that expired a day ago (the link code reads the wall clock)."""
    return svc.link_tokens().issue(wo_id, party, party_id, DAY, now=svc.clock().timestamp() - 2 * DAY)


def renewals(svc: Services, wo_id: str) -> list[str]:
    return [e.detail for e in svc.repo.get_work_order(wo_id, with_timeline=True).timeline
            if "a new link" in e.detail]


def is_revoked(svc: Services, token: str) -> bool:
    try:
        svc.link_tokens().verify(token, allow_expired=True)
    except LinkRejected:
        return True
    return False


def test_a_tenants_expired_link_is_replaced_by_sms_to_the_phone_on_file(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    old = expired(svc, wo.id, "tenant", UNIT)
    renew(svc, old)

    [sms] = svc.messenger.sms_to(ANA)
    assert sms.body.startswith(f"Here is your new link for request {wo.id}: https://opslayer.test/requests/{wo.id}")
    new = re.search(links.TOKEN_PATTERN, sms.body)
    assert new is not None and new.group(0) != old
    assert svc.link_tokens().verify(new.group(0)).party == "tenant"
    assert is_revoked(svc, old)
    assert renewals(svc, wo.id) == ["SMS to tenant: a new link (the old one revoked)"]


def test_a_link_is_renewed_once(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    old = expired(svc, wo.id, "tenant", UNIT)
    renew(svc, old)
    renew(svc, old)  # a second click, or a race with the first
    assert len(svc.messenger.sent) == 1 and len(renewals(svc, wo.id)) == 1


def test_a_tenant_without_a_phone_gets_the_new_link_by_email(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    current = svc.repo.get_work_order(wo.id)
    svc.repo.save(current.model_copy(update={"tenant": Contact(name="Ana Lopez", email="ana@tenant.example.com")}),
                  current.version)
    renew(svc, expired(svc, wo.id, "tenant", UNIT))
    [mail] = svc.messenger.sent
    assert (mail.channel, mail.to, mail.subject) == ("email", "ana@tenant.example.com", f"Your new link ({wo.id})")
    assert renewals(svc, wo.id) == ["Email to tenant: a new link (the old one revoked)"]


def test_a_tenant_who_cannot_be_reached_gets_nothing_and_keeps_the_old_link(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    current = svc.repo.get_work_order(wo.id)
    svc.repo.save(current.model_copy(update={"tenant": Contact(name="Ana Lopez")}), current.version)
    old = expired(svc, wo.id, "tenant", UNIT)
    renew(svc, old)
    assert svc.messenger.sent == [] and not is_revoked(svc, old)


def test_the_vendor_on_the_job_gets_a_new_job_link(svc: Services) -> None:
    wo = accepted(svc, UNIT, LEAK).wo
    svc.messenger.clear()
    renew(svc, expired(svc, wo.id, "vendor", "ven-aqua"))
    [sms] = svc.messenger.sms_to(AQUA)
    assert "https://opslayer.test/vendor/jobs/olk1_" in sms.body
    assert renewals(svc, wo.id) == ["SMS to vendor: a new link (the old one revoked)"]


def test_the_vendor_holding_the_offer_gets_a_new_link(svc: Services) -> None:
    wo = offered(svc, UNIT, LEAK).wo
    renew(svc, expired(svc, wo.id, "vendor", "ven-aqua"))
    assert len(svc.messenger.sms_to(AQUA)) == 1


def test_a_vendor_no_longer_on_the_job_gets_nothing(svc: Services) -> None:
    wo = accepted(svc, UNIT, LEAK).wo
    svc.messenger.clear()
    old = expired(svc, wo.id, "vendor", "ven-pipeline")
    renew(svc, old)
    assert svc.messenger.sent == [] and not is_revoked(svc, old)


def test_unit_links_unknown_and_long_gone_links_renew_nothing(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    unit_link = svc.link_tokens().issue(UNIT, "unit", UNIT, DAY, now=svc.clock().timestamp() - 2 * DAY)
    long_ago = svc.clock().timestamp() - DAY - links.RENEWABLE_FOR - 60
    gone = svc.link_tokens().issue(wo.id, "tenant", UNIT, DAY, now=long_ago)
    for token in (unit_link, gone, links.new_token(), "not-a-token"):
        renew(svc, token)
    assert svc.messenger.sent == [] and renewals(svc, wo.id) == []
    assert not is_revoked(svc, unit_link)
