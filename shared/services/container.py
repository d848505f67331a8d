"""Composition root: builds the adapters once per warm container (lazily, never at import time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.adapters.messaging import EventPublisher, Messenger, QueueSender, SecretCache, Workflow
from shared.adapters.repository import Repository
from shared.config import Settings, settings
from shared.domain.workorder import utcnow
from shared.pms.providers import PmsConnection, provider

if TYPE_CHECKING:  # the port's models stay out of every function's cold start
    from shared.pms.port import PmsPort, WebhookVerifier
    from shared.ports import (
        ContinuationPort,
        EventPort,
        MessengerPort,
        ObjectStorePort,
        QueuePort,
        RepositoryPort,
        SchedulesPort,
        SecretsPort,
        WorkflowPort,
    )


def _s3_object_store(bucket: str) -> ObjectStorePort:
    from shared.adapters.storage import ObjectStore

    return ObjectStore(bucket)


@dataclass
class Services:
    """Every port a use case reaches (shared/ports.py): the AWS adapters here, in-memory twins in tests
    (tests/fakes.fake_services)."""

    settings: Settings
    repo: RepositoryPort
    events: EventPort
    workflow: WorkflowPort
    messenger: MessengerPort
    secrets: SecretsPort
    queues: QueuePort = field(default_factory=QueueSender)
    clock: Callable[[], datetime] = field(default=utcnow)
    # bucket name -> its object store
    object_store: Callable[[str], ObjectStorePort] = field(default=_s3_object_store)
    _pms: PmsPort | None = None  # the PMS adapter, built on first use unless given
    _pms_secret: str | None = None  # the API credentials the built adapter uses (None: given, not built)
    _schedules: SchedulesPort | None = None  # the visit timers' one-time schedules, built on first use unless given
    _webhooks: WebhookVerifier | None = None  # tests may pass their own; else built per call (the key rotates)
    _continuations: ContinuationPort | None = None  # a function's next invocation, built on first use unless given

    def outbound(self, drill: bool = False) -> MessengerPort:
        """Where a message goes: SMS/email through `messenger`, except a drill work order's (`drill`) and any
        to a drill address, which the drill sink keeps (shared/services/drill.py). Senders use this."""
        from shared.services.drill import DrillRouting

        return DrillRouting(self, drill)

    def link_key(self) -> bytes:
        return self.secrets.get(self.settings.link_secret_arn).encode()

    def documents(self) -> ObjectStorePort:
        """The documents bucket: invoices and their attachments."""
        return self.object_store(self.settings.document_bucket)

    def link_tokens(self) -> Any:
        """Issue and verify tenant, vendor and unit links (shared.services.link_tokens.LinkTokens)."""
        from shared.services.link_tokens import LinkTokens

        return LinkTokens(self.repo, self.link_key(), self.clock)

    def inbound_mail(self) -> ObjectStorePort:
        """The raw inbound emails the SES receipt rule stored."""
        return self.object_store(self.settings.inbound_email_bucket)

    def photo_store(self) -> ObjectStorePort:
        """The photos bucket (uploads are checked there; see shared/services/photos.py)."""
        return self.object_store(self.settings.photos_bucket)

    def schedules(self) -> SchedulesPort:
        """One-time EventBridge Scheduler schedules invoking the visit-timers function (visits, safety)."""
        if self._schedules is None:
            from shared.adapters.scheduler import OneTimeSchedules

            s = self.settings
            self._schedules = OneTimeSchedules(s.visit_schedule_group, s.visit_timers_function_arn,
                                               s.visit_scheduler_role_arn, dead_letter_arn=s.scheduler_dlq_arn)
        return self._schedules

    def continuations(self) -> ContinuationPort:
        """New asynchronous invocations of the running function, going on with its work (a long reconciliation)."""
        if self._continuations is None:
            from shared.adapters.continuations import LambdaContinuations

            self._continuations = LambdaContinuations()
        return self._continuations

    def pms(self) -> PmsPort:
        """The configured PMS's adapter (the PmsProvider setting), with its API credentials from Secrets
        Manager; built on first use, and again when the credentials change (an operator stores the key after
        the deploy, or rotates it: a warm container must not keep the old one)."""
        if self._pms is None or self._pms_secret is not None:
            secret = self.secrets.get(self.settings.pms_api_secret_arn)
            if self._pms is None or secret != self._pms_secret:
                self._pms = provider(self.settings.pms_provider).client(PmsConnection(self.settings.pms_base_url,
                                                                                      secret))
                self._pms_secret = secret
        return self._pms

    def webhook_verifier(self) -> WebhookVerifier:
        """The configured PMS's webhook verifier, with the current signing key."""
        if self._webhooks is not None:
            return self._webhooks
        return provider(self.settings.pms_provider).webhook_verifier(
            self.secrets.get(self.settings.pms_webhook_secret_arn), self.settings.pms_account_id)


_built: dict[int, Services] = {}


def reset() -> None:
    """Forget the built services (their cached secrets and clients): the local cloud calls this after it
    stores the PMS credentials, as a new Lambda container would start without them."""
    _built.clear()


def services() -> Services:
    """The services for the current environment (settings objects are cached, so `id` is stable)."""
    cfg = settings()
    found = _built.get(id(cfg))
    if found is None:
        found = _built[id(cfg)] = _build(cfg)
    return found


def _build(cfg: Settings) -> Services:
    provider(cfg.pms_provider)  # an unknown PMS fails here, at init, not on the first PMS call
    return Services(
        settings=cfg,
        repo=Repository(cfg.table_name),
        events=EventPublisher(cfg.event_bus_name),
        workflow=Workflow(cfg.state_machine_arn),
        messenger=Messenger(cfg.sender_email, sms_origination=cfg.sms_origination_identity),
        secrets=SecretCache(),
    )
