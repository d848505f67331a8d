"""A clock that stands still until a test moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FrozenClock:
    """Callable like `shared.domain.workorder.utcnow`: an aware UTC datetime, the same until moved."""

    def __init__(self, now: datetime) -> None:
        self._now = _utc(now)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, *, seconds: float = 0, minutes: float = 0, hours: float = 0,
                days: float = 0) -> datetime:
        """Move forward (never back) and return the new time."""
        step = (delta or timedelta()) + timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        if step < timedelta():
            raise ValueError("a frozen clock only moves forward; use set() to go back")
        self._now += step
        return self._now

    def set(self, now: datetime) -> datetime:
        self._now = _utc(now)
        return self._now

    def timestamp(self) -> float:
        """Seconds since the epoch (for code that takes `now: float`, like link tokens)."""
        return self._now.timestamp()


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    return moment.astimezone(UTC)
