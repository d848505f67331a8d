"""One validated settings model, read from the function's environment through `settings()`."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field

from shared.domain.enums import Priority


class Timeouts(BaseModel):
    """Seconds each human step may take before its timer fires (offer timeouts are per priority)."""

    offer: dict[Priority, int]
    schedule: int
    completion: int
    followup: int

    def for_priority(self, priority: Priority) -> dict[str, int]:
        return {"offer": self.offer[priority], "schedule": self.schedule, "completion": self.completion,
                "followup": self.followup}


class Settings(BaseModel):
    stage: str = "dev"
    table_name: str = "opslayer-dev"
    event_bus_name: str = "opslayer-dev"
    state_machine_arn: str = ""
    link_secret_arn: str = ""
    link_ttl_seconds: int = Field(default=14 * 86400, ge=60)
    public_base_url: str = ""
    ops_auth_mode: str = "iam"
    ops_key_secret_arn: str = ""
    sender_email: str = "maintenance@example.com"
    pms_inbound_queue_url: str = ""
    buildium_base_url: str = "https://api.buildium.com"
    buildium_api_secret_arn: str = ""
    buildium_webhook_secret_arn: str = ""
    buildium_account_id: str = ""
    sensor_repeat_window_seconds: int = 6 * 3600
    sensor_dlq_url: str = ""
    preventive_lead_days: int = 14
    recall_window_days: int = 30
    timeouts: Timeouts


_ENV = {
    "stage": "STAGE", "table_name": "TABLE_NAME", "event_bus_name": "EVENT_BUS_NAME",
    "state_machine_arn": "STATE_MACHINE_ARN", "link_secret_arn": "LINK_SECRET_ARN",
    "link_ttl_seconds": "LINK_TTL_SECONDS", "public_base_url": "PUBLIC_BASE_URL",
    "ops_auth_mode": "OPS_AUTH_MODE", "ops_key_secret_arn": "OPS_KEY_SECRET_ARN", "sender_email": "SENDER_EMAIL",
    "pms_inbound_queue_url": "PMS_INBOUND_QUEUE_URL", "buildium_base_url": "BUILDIUM_BASE_URL",
    "buildium_api_secret_arn": "BUILDIUM_API_SECRET_ARN", "buildium_webhook_secret_arn": "BUILDIUM_WEBHOOK_SECRET_ARN",
    "buildium_account_id": "BUILDIUM_ACCOUNT_ID", "sensor_repeat_window_seconds": "SENSOR_REPEAT_WINDOW_SECONDS",
    "sensor_dlq_url": "SENSOR_DLQ_URL", "preventive_lead_days": "PREVENTIVE_LEAD_DAYS",
    "recall_window_days": "RECALL_WINDOW_DAYS",
}
_TIMEOUT_ENV = {
    "emergency": ("OFFER_TIMEOUT_EMERGENCY_SECONDS", 900), "urgent": ("OFFER_TIMEOUT_URGENT_SECONDS", 7200),
    "routine": ("OFFER_TIMEOUT_ROUTINE_SECONDS", 86400), "schedule": ("SCHEDULE_TIMEOUT_SECONDS", 86400),
    "completion": ("COMPLETION_TIMEOUT_SECONDS", 14 * 86400), "followup": ("FOLLOW_UP_TIMEOUT_SECONDS", 3 * 86400),
}
_KEYS = tuple(_ENV.values()) + tuple(name for name, _ in _TIMEOUT_ENV.values())


def settings() -> Settings:
    """Settings for the current environment (cached per distinct environment, so in-process
    functions of the local cloud each see their own)."""
    return _build(tuple(os.environ.get(k) for k in _KEYS))


@lru_cache(maxsize=32)
def _build(values: tuple[str | None, ...]) -> Settings:
    env = dict(zip(_KEYS, values, strict=True))
    t = {key: int(env[name] or default) for key, (name, default) in _TIMEOUT_ENV.items()}
    timeouts = Timeouts(
        offer={Priority.EMERGENCY: t["emergency"], Priority.URGENT: t["urgent"], Priority.ROUTINE: t["routine"]},
        schedule=t["schedule"], completion=t["completion"], followup=t["followup"],
    )
    given = {field: env[name] for field, name in _ENV.items() if env[name] not in (None, "")}
    return Settings(timeouts=timeouts, **given)
