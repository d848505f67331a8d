"""Composition root: builds the adapters once per warm container (lazily, never at import time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from shared.adapters.messaging import EventPublisher, Messenger, SecretCache, Workflow
from shared.adapters.repository import Repository
from shared.config import Settings, settings
from shared.domain.workorder import utcnow


@dataclass
class Services:
    settings: Settings
    repo: Repository
    events: EventPublisher
    workflow: Workflow
    messenger: Messenger
    secrets: SecretCache
    clock: Callable[[], datetime] = field(default=utcnow)

    def link_key(self) -> bytes:
        return self.secrets.get(self.settings.link_secret_arn).encode()


_built: dict[int, Services] = {}


def services() -> Services:
    """The services for the current environment (settings objects are cached, so `id` is stable)."""
    cfg = settings()
    found = _built.get(id(cfg))
    if found is None:
        found = _built[id(cfg)] = _build(cfg)
    return found


def _build(cfg: Settings) -> Services:
    return Services(
        settings=cfg,
        repo=Repository(cfg.table_name),
        events=EventPublisher(cfg.event_bus_name),
        workflow=Workflow(cfg.state_machine_arn),
        messenger=Messenger(cfg.sender_email),
        secrets=SecretCache(),
    )
