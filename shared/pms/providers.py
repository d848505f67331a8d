"""The PMS adapters Opslayer has, by provider name (the `PmsProvider` template parameter): the one place
that names an adapter. Adding a PMS (AppFolio, Yardi) is one entry here plus its adapter module; no use
case changes.

Adapter modules are imported only when a factory runs, so a function that only verifies webhooks never
loads an API client (and its HTTP stack) on a cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the composition root on every cold start: stays light
    from shared.pms.port import PmsPort, WebhookVerifier


@dataclass(frozen=True)
class PmsConnection:
    """What any adapter is built from (deployment settings and secret values, never logged)."""

    base_url: str  # the PMS API's base URL; "" = the adapter's production default
    api_credentials: str  # the API credentials secret's value (JSON, its shape is the adapter's)


@dataclass(frozen=True)
class PmsProvider:
    name: str
    client: Callable[[PmsConnection], PmsPort]
    webhook_verifier: Callable[[str, str], WebhookVerifier]  # (signing secret, account id or "")


def _buildium_client(connection: PmsConnection) -> PmsPort:
    from shared.pms.buildium import DEFAULT_BASE_URL, BuildiumClient

    return BuildiumClient.from_secret(connection.base_url or DEFAULT_BASE_URL, connection.api_credentials)


def _buildium_webhooks(signing_secret: str, account_id: str) -> WebhookVerifier:
    from shared.pms.buildium_webhooks import BuildiumWebhookVerifier

    return BuildiumWebhookVerifier(signing_secret, account_id=account_id or None)


PROVIDERS: dict[str, PmsProvider] = {
    "buildium": PmsProvider("buildium", client=_buildium_client, webhook_verifier=_buildium_webhooks),
}


class UnknownPmsProvider(ValueError):
    """The configured PMS provider has no adapter (a deployment error: fails at init, not per request)."""


def provider(name: str) -> PmsProvider:
    """The adapter factories for a provider name; UnknownPmsProvider names the known ones otherwise."""
    found = PROVIDERS.get(name.strip().lower())
    if found is None:
        raise UnknownPmsProvider(f"unknown PMS provider {name!r}: PmsProvider must be one of {', '.join(PROVIDERS)}")
    return found
