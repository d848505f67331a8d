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


@dataclass
class Services:
    settings: Settings
    repo: Repository
    events: EventPublisher
    workflow: Workflow
    messenger: Messenger
    secrets: SecretCache
    queues: QueueSender = field(default_factory=QueueSender)
    clock: Callable[[], datetime] = field(default=utcnow)
    _pms: PmsPort | None = None  # built on first use (tests may pass their own)
    _webhooks: WebhookVerifier | None = None  # tests may pass their own; else built per call (the key rotates)

    def link_key(self) -> bytes:
        return self.secrets.get(self.settings.link_secret_arn).encode()

    def documents(self) -> Any:
        """The documents bucket: invoices and their attachments."""
        from shared.adapters.storage import ObjectStore

        return ObjectStore(self.settings.document_bucket)

    def link_tokens(self) -> Any:
        """Issue and verify tenant, vendor and unit links (shared.services.link_tokens.LinkTokens)."""
        from shared.services.link_tokens import LinkTokens

        return LinkTokens(self.repo, self.link_key())

    def inbound_mail(self) -> Any:
        """The raw inbound emails the SES receipt rule stored."""
        from shared.adapters.storage import ObjectStore

        return ObjectStore(self.settings.inbound_email_bucket)

    def photo_store(self) -> Any:
        """The photos bucket (uploads are checked there; see shared/services/photos.py)."""
        from shared.adapters.storage import ObjectStore

        return ObjectStore(self.settings.photos_bucket)

    def pms(self) -> PmsPort:
        """The configured PMS's adapter (the PmsProvider setting), with its API credentials from Secrets
        Manager; built on first use."""
        if self._pms is None:
            connection = PmsConnection(self.settings.pms_base_url, self.secrets.get(self.settings.pms_api_secret_arn))
            self._pms = provider(self.settings.pms_provider).client(connection)
        return self._pms

    def webhook_verifier(self) -> WebhookVerifier:
        """The configured PMS's webhook verifier, with the current signing key."""
        if self._webhooks is not None:
            return self._webhooks
        return provider(self.settings.pms_provider).webhook_verifier(
            self.secrets.get(self.settings.pms_webhook_secret_arn), self.settings.pms_account_id)


_built: dict[int, Services] = {}


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
        messenger=Messenger(cfg.sender_email),
        secrets=SecretCache(),
    )
