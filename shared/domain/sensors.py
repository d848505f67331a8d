"""Sensor alerts as data: the payload an IoT sensor publishes, and the rules (shared/rules/sensor_rules.json)
that turn one into a trade and a priority (a leak or smoke alert is an emergency; a threshold or the
alert's severity can raise or lower it). Pure: the sensor use case opens or updates the work order."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from shared.domain.enums import Priority, Trade
from shared.domain.model import Model

RULES = Path(__file__).resolve().parent.parent / "rules" / "sensor_rules.json"


class SensorAlert(Model):
    """The payload published on opslayer/<site>/sensors/<sensor>/alerts (plus what the topic rule adds)."""

    sensor_id: str = Field(min_length=1, max_length=128)
    type: Literal["leak", "hvac_fault", "temperature", "smoke", "power"]
    severity: str = Field(min_length=1, max_length=32)
    value: float | str | None = None
    unit_id: str | None = None
    asset_id: str | None = None
    ts: datetime
    site: str | None = None


class Threshold(Model):
    value: float
    priority: Priority
    reason: str | None = None


class Override(Model):
    priority: Priority
    reason: str | None = None


class SensorRule(Model):
    trade: Trade
    priority: Priority
    reason: str | None = None
    text: str
    by_severity: dict[str, Override] = Field(default_factory=dict)
    below: Threshold | None = None
    above: Threshold | None = None

    def decide(self, alert: SensorAlert) -> tuple[Priority, str | None]:
        chosen: Override | Threshold | None = self.by_severity.get(alert.severity.lower())
        number = alert.value if isinstance(alert.value, int | float) else None
        if number is not None and self.below and number < self.below.value:
            chosen = self.below
        elif number is not None and self.above and number > self.above.value:
            chosen = self.above
        if chosen:
            return chosen.priority, chosen.reason
        return self.priority, self.reason


class SensorRules(Model):
    version: str
    types: dict[str, SensorRule]


@cache
def rules() -> SensorRules:
    return SensorRules.model_validate(json.loads(RULES.read_text()))


def already_recorded(alert: SensorAlert, last_recorded: datetime | None) -> bool:
    """Whether the open job has this alert already: a sensor's alerts carry its own increasing timestamps,
    so one no newer than the last recorded is a redelivery (SQS delivers at least once) or a stale copy."""
    if last_recorded is None:
        return False

    def utc(at: datetime) -> datetime:
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    return utc(alert.ts) <= utc(last_recorded)
