"""Quiet hours for outbound SMS: when a non-emergency text must wait, and until when (pure: the clock
is passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def build(cls, start: str, end: str, time_zone: str | None, default_zone: str) -> QuietHours:
        try:
            zone = ZoneInfo(time_zone or default_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(default_zone)
        return cls(time.fromisoformat(start), time.fromisoformat(end), zone)

    def release_at(self, now: datetime) -> datetime | None:
        """None outside quiet hours; else when they end (an aware datetime)."""
        local = now.astimezone(self.zone)
        t = local.time()
        overnight = self.start > self.end
        inside = (t >= self.start or t < self.end) if overnight else (self.start <= t < self.end)
        if not inside:
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end
