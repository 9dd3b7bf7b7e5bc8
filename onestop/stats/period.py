"""The dashboard's filters (a range of local days, an office) and the day arithmetic every query shares."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from infra.clock import to_local, tz

MAX_DAYS = 366   # a year at most on one page: the queries read every row of the range


@dataclass(frozen=True)
class Filters:
    """Days ``start``..``end`` (inclusive, Vietnam time) and optionally one office."""

    start: dt.date
    end: dt.date
    office: Optional[str] = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end before start")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise ValueError(f"more than {MAX_DAYS} days")

    @property
    def days(self) -> List[dt.date]:
        """Every day of the range."""
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def utc_bounds(self) -> "tuple[dt.datetime, dt.datetime]":
        """[start, end) of the range as UTC instants (local midnight of the first day, of the day after the last)."""
        first = dt.datetime.combine(self.start, dt.time(), tzinfo=tz())
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=tz())
        return first.astimezone(dt.timezone.utc), after.astimezone(dt.timezone.utc)

    @property
    def local_bounds(self) -> "tuple[dt.datetime, dt.datetime]":
        """[start, end) as aware Vietnam-time instants (for columns that convert themselves)."""
        return (dt.datetime.combine(self.start, dt.time(), tzinfo=tz()),
                dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=tz()))


def aware(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """A stored time as an aware UTC instant (SQLite gives back naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def local_day(value: dt.datetime) -> dt.date:
    """The Vietnam-time day of a stored instant."""
    return to_local(aware(value)).date()


def series(days: List[dt.date], counts: Dict[dt.date, int]) -> List[int]:
    """Counts per day in the order of ``days`` (0 for a day without any)."""
    return [int(counts.get(d, 0)) for d in days]


def count_by_day(values: Iterable[dt.datetime]) -> Dict[dt.date, int]:
    """How many instants fall on each local day."""
    out: Dict[dt.date, int] = {}
    for value in values:
        day = local_day(value)
        out[day] = out.get(day, 0) + 1
    return out


def median(values: List[float]) -> Optional[float]:
    """The median (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: List[float], q: float) -> Optional[float]:
    """The nearest-rank percentile ``q`` (0..100) (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))   # ceil without floats drifting
    return ordered[int(rank) - 1]


def rows(result: Any) -> List[Dict[str, Any]]:
    """SQLAlchemy result rows as dicts."""
    return [dict(r._mapping) for r in result]
