"""One validated settings model, read from the function's environment through `settings()`."""

from __future__ import annotations

import json
import os
from functools import cache, lru_cache
from pathlib import Path

from pydantic import Field

from shared.domain.enums import Priority
from shared.domain.model import Model

TIMERS = Path(__file__).resolve().parent / "rules" / "timers.json"
STAGES = ("accept", "schedule", "arrive", "complete", "followup", "invoice", "approval", "safety_question")


class Timeouts(Model):
    """Seconds each human step may take, per stage and priority, before its timer fires
    (data: shared/rules/timers.json, overridable per deployment with STAGE_TIMER_OVERRIDES)."""

    stages: dict[str, dict[Priority, int]]
    reminders_before_visit: list[int] = Field(default_factory=list)  # seconds before a visit's start
    stuck_grace: int = 3600  # seconds past a stage's timer before the stuck sweep reports the work order

    def arrive_grace(self, priority: Priority) -> int:
        """Seconds after the visit window's end without a check-in before the no-show path runs."""
        return self.stages["arrive"][priority]

    def for_priority(self, priority: Priority) -> dict[str, int]:
        """The timers the workflow reads (keys as the ASL names them)."""
        s = self.stages
        return {"offer": s["accept"][priority], "schedule": s["schedule"][priority],
                "completion": s["complete"][priority], "followup": s["followup"][priority],
                "invoice": s["invoice"][priority], "approval": s["approval"][priority]}


@cache
def _timer_rules() -> dict:
    return json.loads(TIMERS.read_text())


def _timer_defaults() -> dict[str, dict[str, int]]:
    return _timer_rules()["stages"]


def timeouts(overrides_json: str | None) -> Timeouts:
    stages = {stage: dict(values) for stage, values in _timer_defaults().items()}
    try:
        overrides = json.loads(overrides_json or "{}")
    except ValueError as exc:
        raise ValueError(f"STAGE_TIMER_OVERRIDES is not JSON: {exc}") from exc
    for stage, values in overrides.items():
        if stage not in STAGES:
            raise ValueError(f"STAGE_TIMER_OVERRIDES: unknown stage {stage!r} (known: {', '.join(STAGES)})")
        stages[stage].update(values)
    rules = _timer_rules()
    parsed = Timeouts.model_validate({"stages": stages, "stuck_grace": rules.get("stuck_grace", 3600),
                                      "reminders_before_visit": rules.get("reminders_before_visit", [])})
    if any(v < 1 for values in parsed.stages.values() for v in values.values()):
        raise ValueError("stage timers must be at least 1 second")
    return parsed


class Settings(Model):
    stage: str = "dev"
    table_name: str = "opslayer-dev"
    event_bus_name: str = "opslayer-dev"
    state_machine_arn: str = ""
    link_secret_arn: str = ""
    link_ttl_seconds: int = Field(default=14 * 86400, ge=60)
    unit_link_ttl_seconds: int = Field(default=2 * 365 * 86400, ge=86400)
    public_base_url: str = ""
    ops_auth_mode: str = "iam"
    ops_key_secret_arn: str = ""
    sender_email: str = "maintenance@example.com"
    sms_origination_identity: str = ""  # the SmsOriginationIdentity parameter; "" = SNS picks the number
    pms_inbound_queue_url: str = ""
    # The PMS (one per deployment; shared/pms/providers.py lists the adapters). Neutral names: the
    # template maps its Buildium* parameters and secrets onto these.
    pms_provider: str = "buildium"
    pms_base_url: str = ""  # "" = the provider's production API
    pms_api_secret_arn: str = ""
    pms_webhook_secret_arn: str = ""
    pms_account_id: str = ""  # the only PMS account whose webhooks are accepted; "" = any
    sensor_repeat_window_seconds: int = 6 * 3600
    sensor_dlq_url: str = ""
    preventive_lead_days: int = 14
    recall_window_days: int = 30
    nps_gap_days: int = Field(default=14, ge=0, le=90)  # no NPS question within this many days of another survey
    rate_limit_per_ip_per_minute: int = 600
    rate_limit_per_link_per_minute: int = 120
    twilio_auth_token_secret_arn: str = ""
    notification_queue_url: str = ""
    quiet_hours_start: str = Field(default="21:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_hours_end: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    default_time_zone: str = "America/New_York"
    document_bucket: str = ""
    # Days after a work order closed or was cancelled before its personal fields are redacted (the numbers stay).
    personal_data_retention_days: int = Field(default=365, ge=1)
    raw_email_retention_days: int = Field(default=30, ge=1)  # what the inbound-email bucket's lifecycle keeps
    invoice_reminders: int = Field(default=2, ge=0, le=10)  # reminders before an invoice/approval wait escalates
    # Visit timers (reminders, arrive): one-time Scheduler schedules in this group, invoking this function.
    visit_schedule_group: str = ""
    visit_timers_function_arn: str = ""
    visit_scheduler_role_arn: str = ""
    scheduler_dlq_arn: str = ""  # where EventBridge Scheduler puts what it could not deliver after its retries
    photos_bucket: str = ""
    inbound_email_bucket: str = ""
    # Who ops alerts reach (template parameters OpsAlertEmails/OpsAlertPhones, comma-separated): the first
    # of each is the ops contact for escalations unless the `ops_contact` configuration record overrides it.
    ops_alert_emails: str = ""
    ops_alert_phones: str = ""
    # The dead-letter queues ops may redrive (JSON: logical name -> queue URL), given to the API only.
    dead_letter_queues: str = ""
    drill_api_url: str = ""  # the Drill function's target: the stack's own API (its ApiUrl)
    timeouts: Timeouts


# Each setting is read from the env var of its name in upper case (table_name <- TABLE_NAME).
ENV_VARS: dict[str, str] = {name: name.upper() for name in Settings.model_fields if name != "timeouts"}
_KEYS = (*ENV_VARS.values(), "STAGE_TIMER_OVERRIDES")


def settings() -> Settings:
    """Settings for the current environment (cached per distinct environment, so in-process
    functions of the local cloud each see their own)."""
    return _build(tuple(os.environ.get(k) for k in _KEYS))


@lru_cache(maxsize=32)
def _build(values: tuple[str | None, ...]) -> Settings:
    env = dict(zip(_KEYS, values, strict=True))
    given = {field: env[name] for field, name in ENV_VARS.items() if env[name] not in (None, "")}
    return Settings(timeouts=timeouts(env["STAGE_TIMER_OVERRIDES"]), **given)


class MissingSetting(RuntimeError):
    """A function started without a setting it cannot work without (raised at cold start, naming the env var)."""


def require(*names: str) -> None:
    """Fail now, naming the env var, if any of these settings is unset or empty in this environment
    (a model default such as table_name's "opslayer-dev" does not count: the function's env must say)."""
    unknown = [name for name in names if name not in ENV_VARS]
    if unknown:
        raise ValueError(f"not settings: {', '.join(unknown)} (known: {', '.join(ENV_VARS)})")
    missing = [ENV_VARS[name] for name in names if not (os.environ.get(ENV_VARS[name]) or "").strip()]
    if missing:
        raise MissingSetting(f"missing required environment variable(s): {', '.join(missing)} "
                             "(set them in this function's Environment in template.yaml)")
