"""`fake_services()`: a `Services` on in-memory twins of every port, and the demo portfolio to seed it."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from infra import demo
from shared.config import Settings, timeouts
from shared.ports import RepositoryPort
from shared.services.container import Services
from tests.fakes.clock import FrozenClock
from tests.fakes.continuations import RecordedContinuations
from tests.fakes.messaging import ACCOUNT, REGION, FakeQueues, FakeSecrets, FakeWorkflow, Outbox, RecordingEvents
from tests.fakes.pms import InMemoryPms
from tests.fakes.repository import InMemoryRepository
from tests.fakes.schedules import FakeSchedules
from tests.fakes.storage import InMemoryBuckets

# A Wednesday, 10:00 in the demo properties' time zone (the deployment default; they set none of their own).
DEMO_TIME_ZONE = ZoneInfo(Settings.model_fields["default_time_zone"].default)
DEFAULT_NOW = datetime(2026, 6, 10, 10, 0, tzinfo=DEMO_TIME_ZONE)

LINK_SECRET = "test-link-key-0123456789abcdef0123456789abcdef"
OPS_KEY = "test-ops-key"
TWILIO_AUTH_TOKEN = "test-twilio-token"
BUILDIUM_WEBHOOK_SECRET = "test-buildium-webhook-secret"


def _secret_arn(name: str) -> str:
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:opslayer-test-{name}"


def _queue_url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/opslayer-test-{name}"


def fake_settings(**changes: Any) -> Settings:
    """Settings as a deployed stack has them (every ARN, URL and bucket set), default timers; `changes`
    replace fields (e.g. `timeouts=shared.config.timeouts('{"accept": {"urgent": 2}}')`)."""
    values: dict[str, Any] = {
        "stage": "test", "table_name": "opslayer-test", "event_bus_name": "opslayer-test",
        "state_machine_arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:opslayer-test-workorder",
        "link_secret_arn": _secret_arn("link"), "public_base_url": "https://opslayer.test",
        "ops_auth_mode": "key", "ops_key_secret_arn": _secret_arn("ops-key"),
        "sender_email": "maintenance@opslayer.test", "pms_inbound_queue_url": _queue_url("pms-inbound"),
        "pms_base_url": "https://buildium.fake.test", "pms_api_secret_arn": _secret_arn("buildium"),
        "pms_webhook_secret_arn": _secret_arn("buildium-webhook"), "pms_account_id": "1001",
        "sensor_dlq_url": _queue_url("sensor-dlq"), "twilio_auth_token_secret_arn": _secret_arn("twilio"),
        "notification_queue_url": _queue_url("notifications"), "document_bucket": "opslayer-test-documents",
        "visit_schedule_group": "opslayer-test-visits",
        "visit_timers_function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:opslayer-test-visit-timers",
        "visit_scheduler_role_arn": f"arn:aws:iam::{ACCOUNT}:role/opslayer-test-scheduler",
        "scheduler_dlq_arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:opslayer-test-scheduler-dlq",
        "photos_bucket": "opslayer-test-photos", "inbound_email_bucket": "opslayer-test-inbound-email",
        "ops_alert_emails": "ops-alerts@opslayer.test,ops-lead@opslayer.test", "ops_alert_phones": "+15550100099",
        "dead_letter_queues": json.dumps({"intake": _queue_url("intake-dlq"),
                                          "notifications": _queue_url("notifications-dlq")}),
        "timeouts": timeouts(None),
    }
    return Settings(**{**values, **changes})


def fake_secret_values(cfg: Settings) -> dict[str, str]:
    """The value of every secret the settings name."""
    return {cfg.link_secret_arn: LINK_SECRET, cfg.ops_key_secret_arn: OPS_KEY,
            cfg.twilio_auth_token_secret_arn: TWILIO_AUTH_TOKEN,
            cfg.pms_webhook_secret_arn: BUILDIUM_WEBHOOK_SECRET,
            cfg.pms_api_secret_arn: json.dumps({"client_id": "test-client", "client_secret": "test-secret"})}


def fake_services(**overrides: Any) -> Services:
    """A `Services` on fresh fakes, the clock frozen at DEFAULT_NOW. Any field can be replaced by keyword
    (`settings=`, `repo=`, `clock=`...; `pms=`, `schedules=` and `continuations=` for the adapters built on
    first use).
    The directory is empty: `seed_demo(svc.repo, svc.clock().date())` loads the demo portfolio."""
    cfg = overrides.pop("settings", None) or fake_settings()
    clock = overrides.pop("clock", None) or FrozenClock(DEFAULT_NOW)
    parts: dict[str, Any] = {
        "settings": cfg, "repo": InMemoryRepository(), "events": RecordingEvents(cfg.event_bus_name),
        "workflow": FakeWorkflow(cfg.state_machine_arn), "messenger": Outbox(cfg.sender_email),
        "secrets": FakeSecrets(fake_secret_values(cfg)), "queues": FakeQueues(), "clock": clock,
        "object_store": InMemoryBuckets(),
        "_pms": overrides.pop("pms", None) or InMemoryPms(),
        "_schedules": overrides.pop("schedules", None) or FakeSchedules(clock),
        "_continuations": overrides.pop("continuations", None) or RecordedContinuations(),
    }
    return Services(**{**parts, **overrides})


class DemoIds(demo.Ids):
    """The demo's own keys as Opslayer ids ("unit-maple-1a"): seeded directly, not through a PMS sync."""

    def __init__(self) -> None:
        super().__init__({})

    def property(self, key: str) -> str:
        return key

    def unit(self, key: str) -> str:
        return key

    def vendor(self, key: str) -> str:
        return key


DEMO_IDS = DemoIds()


def seed_demo(repo: RepositoryPort, today: date) -> None:
    """The demo portfolio of infra/demo.py: properties, units (tenant phones and emails indexed), vendors,
    the dispatch profile (preferred vendors, on-call, ops, owners), sensors and preventive assets."""
    from shared.services.preventive import Asset

    for prop in demo.PROPERTIES:
        repo.put_property(prop)
    for unit in demo.UNITS:
        repo.put_unit(unit)
    for vendor in demo.VENDORS:
        repo.put_vendor(vendor.model_copy(update={"insurance": demo.insurance(f"GL-{vendor.id}", today)}))
    demo.apply_dispatch_profile(repo, DEMO_IDS)
    for sensor_id, unit_id, location in demo.sensors(DEMO_IDS):
        repo.put_record(f"SENSOR#{sensor_id}", "META", {"unit_id": unit_id, "location": location})
    for asset in demo.assets(DEMO_IDS, today):
        repo.put_listed("ASSETS", asset["id"], Asset.model_validate(asset).model_dump(mode="json"))
