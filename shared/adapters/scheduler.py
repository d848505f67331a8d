"""One-time EventBridge Scheduler schedules (``at()``), created or replaced by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shared.adapters.aws import client, error_code


class OneTimeSchedules:
    """Schedules in one group that invoke one target with a JSON payload, once, then delete themselves."""

    def __init__(self, group: str, target_arn: str, role_arn: str, scheduler: Any = None,
                 dead_letter_arn: str = "") -> None:
        self.group, self.target_arn, self.role_arn = group, target_arn, role_arn
        self.dead_letter_arn = dead_letter_arn  # what could not be delivered after the retries goes there
        self._client = scheduler

    @property
    def scheduler(self) -> Any:
        return self._client or client("scheduler")

    def _on_failure(self) -> dict[str, Any]:
        """Retries and the dead-letter queue, as the template's own schedules have (alarmed: SchedulerDLQAlarm)."""
        if not self.dead_letter_arn:
            return {}
        return {"RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": self.dead_letter_arn}}

    def put(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        """Create the schedule, or move an existing one with this name to the new time and payload."""
        args = {
            "Name": name, "GroupName": self.group,
            "ScheduleExpression": f"at({at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
            "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {"Arn": self.target_arn, "RoleArn": self.role_arn, "Input": json.dumps(payload),
                       **self._on_failure()},
        }
        try:
            self.scheduler.create_schedule(**args)
        except Exception as exc:
            if error_code(exc) != "ConflictException":
                raise
            self.scheduler.update_schedule(**args)
