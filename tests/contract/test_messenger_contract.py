"""One contract for the messenger: Messenger on moto's SNS (SMS) and SES (email), read back from moto's
records of what it sent, and its twin Outbox (tests/fakes)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from shared.adapters.aws import error_code
from shared.adapters.messaging import Messenger
from tests.contract.conftest import REGION
from tests.fakes import Outbox

ACCOUNT = "123456789012"
_domains = itertools.count(1)


@dataclass(frozen=True)
class Sent:
    channel: str  # "sms" | "email"
    sender: str | None
    to: str
    subject: str | None
    body: str


@dataclass
class Backend:
    make: Callable[[str], Messenger | Outbox]  # a messenger sending email from this address
    verify: Callable[[str], None]  # make an SES identity (an address or a domain) verified
    sent: Callable[[], list[Sent]]  # what went out, in order, since the backend was made


@pytest.fixture(params=["sns-ses", "memory"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        verified: set[str] = set()  # one SES account for every messenger, as on AWS
        outboxes: list[Outbox] = []

        def make_twin(sender: str) -> Outbox:
            outboxes.append(Outbox(sender, verified=verified))
            return outboxes[-1]

        def twin_sent() -> list[Sent]:  # each test sends through one messenger
            return [Sent(m.channel, m.sender, m.to, m.subject, m.body) for box in outboxes for m in box.sent]

        return Backend(make_twin, verified.add, twin_sent)
    request.getfixturevalue("aws")
    import boto3
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    sns, ses = boto3.client("sns", region_name=REGION), boto3.client("ses", region_name=REGION)
    sms_log, email_log = sns_backends[ACCOUNT][REGION].sms_messages, ses_backends[ACCOUNT][REGION].sent_messages
    sms_before, emails_before = set(sms_log), len(email_log)
    order: list[str] = []  # message ids, in the order the messengers returned them

    def verify_real(identity: str) -> None:
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)

    class Recorded(Messenger):
        def sms(self, phone: str, body: str) -> str:
            order.append(super().sms(phone, body))
            return order[-1]

        def email(self, to: str, subject: str, body: str) -> str:
            order.append(super().email(to, subject, body))
            return order[-1]

    def real_sent() -> list[Sent]:
        texts = {i: Sent("sms", None, phone, None, body) for i, (phone, body) in sms_log.items() if i not in sms_before}
        mails = {m.id: Sent("email", m.source, *m.destinations["ToAddresses"], m.subject, m.body)
                 for m in email_log[emails_before:]}
        assert set(texts) | set(mails) == set(order), "moto recorded other messages than the ones sent"
        return [texts.get(i) or mails[i] for i in order]

    return Backend(lambda sender: Recorded(sender, sns=sns, ses=ses), verify_real, real_sent)


def new_domain() -> str:
    return f"pm{next(_domains)}.opslayer.test"


def test_sms_sends_the_body_to_the_phone_and_returns_a_message_id(backend: Backend) -> None:
    messenger = backend.make(f"maintenance@{new_domain()}")

    first = messenger.sms("+15550100010", "Your plumber arrives at 2 pm.")
    second = messenger.sms("+447700900123", "Reply YES to accept job wo-1.")

    assert isinstance(first, str) and first and isinstance(second, str) and second and first != second
    assert backend.sent() == [Sent("sms", None, "+15550100010", None, "Your plumber arrives at 2 pm."),
                              Sent("sms", None, "+447700900123", None, "Reply YES to accept job wo-1.")]


def test_email_goes_from_the_verified_sender_to_the_address(backend: Backend) -> None:
    sender = f"maintenance@{new_domain()}"
    backend.verify(sender)
    messenger = backend.make(sender)

    message_id = messenger.email("Tenant.One@example.com", "Work order wo-1: scheduled", "Tuesday 9-11 am.\nThanks")

    assert isinstance(message_id, str) and message_id
    assert backend.sent() == [Sent("email", sender, "Tenant.One@example.com", "Work order wo-1: scheduled",
                                   "Tuesday 9-11 am.\nThanks")]


def test_a_verified_domain_verifies_every_sender_at_it(backend: Backend) -> None:
    domain = new_domain()
    backend.verify(domain)

    backend.make(f"ops@{domain}").email("vendor@example.com", "Invoice", "Received.")

    assert [(m.sender, m.to) for m in backend.sent()] == [(f"ops@{domain}", "vendor@example.com")]


def test_email_from_a_sender_that_is_not_verified_is_rejected(backend: Backend) -> None:
    domain, other = new_domain(), new_domain()
    backend.verify(f"someone-else@{domain}")
    backend.verify(other)

    with pytest.raises(Exception) as rejected:
        backend.make(f"maintenance@{domain}").email("tenant@example.com", "Subject", "Body")

    assert error_code(rejected.value) == "MessageRejected"
    assert backend.sent() == []


def test_email_to_an_address_without_a_domain_is_refused(backend: Backend) -> None:
    sender = f"maintenance@{new_domain()}"
    backend.verify(sender)

    with pytest.raises(Exception) as refused:
        backend.make(sender).email("tenant-at-nowhere", "Subject", "Body")

    assert error_code(refused.value) == "InvalidParameterValue"
    assert backend.sent() == []


@pytest.mark.parametrize(("phone", "body"), [
    ("555-0100", "not E.164"), ("+0155501000", "no country code starts with 0"), ("", "no number"),
    ("+15550100010", "x" * 1601),  # over what one SMS publish may carry
])
def test_an_sms_sns_cannot_send_is_refused(backend: Backend, phone: str, body: str) -> None:
    messenger = backend.make(f"maintenance@{new_domain()}")

    with pytest.raises(Exception) as refused:
        messenger.sms(phone, body)

    assert error_code(refused.value) == "InvalidParameter"
    assert backend.sent() == []


def test_an_sms_of_the_longest_allowed_body_is_sent(backend: Backend) -> None:
    backend.make(f"maintenance@{new_domain()}").sms("+15550100010", "x" * 1600)

    assert [(m.to, len(m.body)) for m in backend.sent()] == [("+15550100010", 1600)]
