"""Office calendars: open days, appointment slots, and checks of a date a citizen asked for."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

from infra.clock import TZ_NAME, now_local, to_local, tz  # noqa: F401  (the offices' clock is the service's)
from knowledge.schema import Holiday, Office, load_holidays

HOLIDAYS_FILE = Path(__file__).resolve().parent / "holidays.yml"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A year ahead is as far as holidays.yml is ever filled in; beyond it we would promise unknown days.
MAX_SCAN_DAYS = 366

HolidayMap = Dict[dt.date, str]


@functools.lru_cache(maxsize=4)
def _load_holidays(path: str) -> tuple:
    errors: List[str] = []
    return tuple(load_holidays(Path(path), errors))


def holidays_map(path: Optional[Union[str, Path]] = None) -> HolidayMap:
    """Holiday date -> name from knowledge/holidays.yml (cached per file)."""
    return {h.date: h.name for h in _load_holidays(str(path or HOLIDAYS_FILE))}


def _as_map(holidays: Optional[Union[HolidayMap, Iterable[Union[Holiday, dt.date]]]]) -> HolidayMap:
    if holidays is None:
        return holidays_map()
    if isinstance(holidays, dict):
        return holidays
    out: HolidayMap = {}
    for h in holidays:
        if isinstance(h, Holiday):
            out[h.date] = h.name
        else:
            out[h] = ""
    return out


def _periods(office: Office, day: dt.date) -> List[str]:
    return list(office.hours.get(WEEKDAY_KEYS[day.weekday()]) or [])


def is_open_day(office: Office, day: dt.date, holidays: Optional[Union[HolidayMap, Iterable]] = None) -> bool:
    """True when ``office`` receives citizens on ``day`` (has hours that weekday and it is no holiday)."""
    return bool(_periods(office, day)) and day not in _as_map(holidays)


def day_slots(office: Office, day: dt.date) -> List[dt.datetime]:
    """Slot starts of ``day`` from the office's hours; each period is cut separately so lunch is never booked."""
    out: List[dt.datetime] = []
    step = dt.timedelta(minutes=office.slot_minutes)
    for period in _periods(office, day):
        start_s, end_s = period.split("-")
        start = dt.datetime.combine(day, dt.time.fromisoformat(start_s), tzinfo=tz())
        end = dt.datetime.combine(day, dt.time.fromisoformat(end_s), tzinfo=tz())
        # A slot must end before the counter closes: 11:15 with 30-minute slots is not offered before 11:30.
        while start + step <= end:
            out.append(start)
            start += step
    return out


def bookable_slots(office: Office, day: dt.date, now: Optional[dt.datetime] = None,
                   holidays: Optional[Union[HolidayMap, Iterable]] = None) -> List[dt.datetime]:
    """Slots of ``day`` that can still be booked: open day, and (today) not already started."""
    if not is_open_day(office, day, holidays):
        return []
    now = to_local(now or now_local())
    return [s for s in day_slots(office, day) if s > now]


def next_open_days(office: Office, from_day: dt.date, n: int = 3,
                   holidays: Optional[Union[HolidayMap, Iterable]] = None) -> List[dt.date]:
    """The first ``n`` open days of ``office`` from ``from_day`` (inclusive)."""
    hmap = _as_map(holidays)
    out: List[dt.date] = []
    day = from_day
    for _ in range(MAX_SCAN_DAYS):
        if len(out) >= n:
            break
        if is_open_day(office, day, hmap):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def next_bookable_days(office: Office, from_day: dt.date, n: int = 3, now: Optional[dt.datetime] = None,
                       holidays: Optional[Union[HolidayMap, Iterable]] = None) -> List[dt.date]:
    """Open days from ``from_day`` that still have slots in the future (today after closing is skipped)."""
    hmap = _as_map(holidays)
    now = to_local(now or now_local())
    out: List[dt.date] = []
    day = max(from_day, now.date())
    while len(out) < n:
        days = next_open_days(office, day, 1, hmap)
        if not days:
            break
        if bookable_slots(office, days[0], now, hmap):
            out.append(days[0])
        day = days[0] + dt.timedelta(days=1)
    return out


# Reasons a requested date is refused (the dialogue turns them into Vietnamese sentences).
INVALID_DATE = "invalid_date"      # 31/11, 30/2
NO_DATE = "no_date"                # nothing recognisable as a date
PAST = "past"
CLOSED_DAY = "closed_day"          # weekend or a weekday without hours for this office
HOLIDAY = "holiday"
DAY_OVER = "day_over"              # today, but every slot has started
TOO_FAR = "too_far"


@dataclass
class DateCheck:
    """Outcome of checking a requested date: ``ok`` or a refusal ``reason`` with open days to offer."""

    ok: bool
    day: Optional[dt.date] = None
    reason: Optional[str] = None
    holiday_name: str = ""
    alternatives: List[dt.date] = field(default_factory=list)


def check_date(office: Office, requested: Union[str, dt.date, None], now: Optional[dt.datetime] = None,
               holidays: Optional[Union[HolidayMap, Iterable]] = None, n_alternatives: int = 3) -> DateCheck:
    """Check a requested day (text like '31/11', 'thứ hai tuần sau', or a date) for booking at ``office``."""
    from vntext.datetime_vi import DATE, find_datetimes

    hmap = _as_map(holidays)
    now = to_local(now or now_local())
    today = now.date()

    def refuse(reason: str, day: Optional[dt.date] = None, name: str = "") -> DateCheck:
        start = today if day is None or day < today else day
        return DateCheck(False, day, reason, name, next_bookable_days(office, start, n_alternatives, now, hmap))

    if isinstance(requested, dt.datetime):
        day: Optional[dt.date] = to_local(requested).date()
    elif isinstance(requested, dt.date):
        day = requested
    elif isinstance(requested, str):
        day = None
        try:
            day = dt.date.fromisoformat(requested.strip())
        except ValueError:
            dates = [e for e in find_datetimes(requested, now) if e.entity == DATE]
            if not dates:
                return refuse(NO_DATE)
            if dates[0].invalid or not dates[0].value:
                return refuse(INVALID_DATE)
            day = dt.date.fromisoformat(dates[0].value[:10])
    else:
        return refuse(NO_DATE)
    assert day is not None
    if day < today:
        return refuse(PAST, day)
    if (day - today).days > MAX_SCAN_DAYS:
        return refuse(TOO_FAR)
    if day in hmap:
        return refuse(HOLIDAY, day, hmap[day])
    if not _periods(office, day):
        return refuse(CLOSED_DAY, day)
    if not bookable_slots(office, day, now, hmap):
        return refuse(DAY_OVER, day)
    return DateCheck(True, day)
