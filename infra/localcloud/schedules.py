"""EventBridge Scheduler expressions: parse once, then ask for the next fire time.

Supported (anything else raises :class:`UnsupportedSchedule` when the schedule is deployed):

* ``rate(N minute|minutes|hour|hours|day|days)`` -- fires at the anchor (``StartDate``, or the
  moment the schedule was created, as Scheduler "starts invoking immediately" without one) and
  every N units after it. A rate is a fixed duration (a day is 24 hours, also across DST).
* ``cron(minutes hours day-of-month month day-of-week year)`` -- the six fields of Scheduler's cron,
  each ``*``, a value, ``a-b``, ``a/step``, ``a-b/step``, ``*/step`` or a comma list of those;
  ``?`` in exactly one of day-of-month / day-of-week (as AWS requires); months ``1-12`` or
  ``JAN-DEC``; days of week ``1-7`` or ``SUN-SAT`` (1 = Sunday). ``L``, ``W`` and ``#`` are rejected.
  Evaluated in ``ScheduleExpressionTimezone``: a wall time that does not exist (spring forward) is
  skipped, one that exists twice (fall back) fires once -- what Scheduler documents.
* ``at(yyyy-mm-ddThh:mm:ss)`` -- once, in ``ScheduleExpressionTimezone``; ``StartDate`` is ignored.

Fire times have whole-second precision (Scheduler invokes within the scheduled minute; the local
clock fires at its start).
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnsupportedSchedule(ValueError):
    """The schedule uses something the local clock does not emulate (raised at deploy time)."""


_MONTHS = {name: i for i, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_WEEKDAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _WEEKDAYS),
    ("year", 1970, 2199, {}),
)
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnsupportedSchedule(f"unknown ScheduleExpressionTimezone {name!r}") from exc


def _localize(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """``wall`` (naive) as an aware time in ``tz``; None when that wall time does not exist."""
    aware = wall.replace(tzinfo=tz, fold=0)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return aware


@dataclass(frozen=True)
class Rate:
    seconds: int

    def first_at_or_after(self, moment: datetime, anchor: datetime) -> datetime | None:
        if moment <= anchor:
            return anchor
        periods = math.ceil((moment - anchor).total_seconds() / self.seconds)
        return anchor + timedelta(seconds=periods * self.seconds)


@dataclass(frozen=True)
class At:
    when: datetime  # aware, UTC

    def first_at_or_after(self, moment: datetime, anchor: datetime) -> datetime | None:
        return self.when if self.when >= moment else None


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...] | None  # None: '?'
    months: tuple[int, ...]
    weekdays: tuple[int, ...] | None  # None: '?'; 1 = Sunday
    years: tuple[int, ...]
    tz: ZoneInfo

    def _day_matches(self, year: int, month: int, day: int) -> bool:
        if self.days is not None:
            return day in self.days
        aws_weekday = (calendar.weekday(year, month, day) + 1) % 7 + 1
        return self.weekdays is not None and aws_weekday in self.weekdays

    def first_at_or_after(self, moment: datetime, anchor: datetime) -> datetime | None:
        local = moment.astimezone(self.tz)
        wall = local.replace(tzinfo=None, second=0, microsecond=0)
        if wall < local.replace(tzinfo=None):
            wall += timedelta(minutes=1)
        for year in self.years:
            if year < wall.year:
                continue
            for month in self.months:
                if (year, month) < (wall.year, wall.month):
                    continue
                for day in range(1, calendar.monthrange(year, month)[1] + 1):
                    if (year, month, day) < (wall.year, wall.month, wall.day):
                        continue
                    if not self._day_matches(year, month, day):
                        continue
                    for hour in self.hours:
                        for minute in self.minutes:
                            candidate = datetime(year, month, day, hour, minute)
                            if candidate < wall:
                                continue
                            aware = _localize(candidate, self.tz)
                            if aware is not None and aware >= moment:
                                return aware.astimezone(UTC)
        return None


Expression = Rate | At | Cron


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> tuple[int, ...] | None:
    if text == "?":
        if name not in ("day-of-month", "day-of-week"):
            raise UnsupportedSchedule(f"cron field {name}: '?' is only allowed for day-of-month/day-of-week")
        return None

    def value(token: str) -> int:
        upper = token.upper()
        if upper in names:
            return names[upper]
        if not token.isdigit():
            raise UnsupportedSchedule(f"cron field {name}: {token!r} is not a value")
        number = int(token)
        if not low <= number <= high:
            raise UnsupportedSchedule(f"cron field {name}: {number} is outside {low}-{high}")
        return number

    values: set[int] = set()
    for part in text.split(","):
        upper = part.upper()
        if "#" in upper or upper in ("L", "LW") or re.fullmatch(r"\d*[LW]|L-\d+", upper):
            raise UnsupportedSchedule(
                f"cron field {name}: {part!r} uses L, W or #, which the local clock does not support"
            )
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise UnsupportedSchedule(f"cron field {name}: bad step in {part!r}")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = value(first), value(last)
            if start > end:
                raise UnsupportedSchedule(f"cron field {name}: range {base!r} runs backwards")
        else:
            start = value(base)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return tuple(sorted(values))


def parse_cron(body: str, tz: ZoneInfo) -> Cron:
    parts = body.split()
    if len(parts) != 6:
        raise UnsupportedSchedule(f"cron({body}) needs 6 fields (minutes hours day-of-month month day-of-week year)")
    fields = [_field(text, *spec) for text, spec in zip(parts, _FIELDS, strict=True)]
    if (fields[2] is None) == (fields[4] is None):
        raise UnsupportedSchedule(f"cron({body}): use '?' in exactly one of day-of-month and day-of-week")
    minutes, hours, days, months, weekdays, years = fields
    assert minutes is not None and hours is not None and months is not None and years is not None
    return Cron(minutes, hours, days, months, weekdays, years, tz)


def parse(expression: str, timezone: str | None = None) -> Expression:
    """Parse a ``ScheduleExpression``; :class:`UnsupportedSchedule` says what is wrong."""
    tz = zone(timezone)
    text = expression.strip()
    if match := re.fullmatch(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)", text):
        count, unit = int(match.group(1)), match.group(2)
        if unit not in _UNITS or count <= 0:
            raise UnsupportedSchedule(f"{expression!r}: rate needs a positive number of minutes, hours or days")
        return Rate(count * _UNITS[unit])
    if match := re.fullmatch(r"cron\((.*)\)", text):
        return parse_cron(match.group(1), tz)
    if match := re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", text):
        wall = datetime.fromisoformat(match.group(1))
        aware = _localize(wall, tz) or wall.replace(tzinfo=tz)
        return At(aware.astimezone(UTC))
    raise UnsupportedSchedule(
        f"ScheduleExpression {expression!r} is not rate(...), cron(...) or at(yyyy-mm-ddThh:mm:ss)"
    )


def parse_date(value: object) -> datetime | None:
    """A ``StartDate``/``EndDate`` as CloudFormation (ISO-8601) or the API (epoch seconds) gives it."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value)):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise UnsupportedSchedule(f"date {value!r} is not ISO-8601") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise UnsupportedSchedule(f"date {value!r} is not ISO-8601 or epoch seconds")
