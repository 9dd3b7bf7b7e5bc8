"""Calendar arithmetic of the date rules: weeks from Monday, months, dd/mm without a year, Tết."""
from __future__ import annotations

import calendar
import datetime as _dt
from typing import Optional, Tuple

from vntext.datetime_vi.lexicon import TET_DATES


def monday(day: _dt.date) -> _dt.date:
    """Monday of the (Vietnamese, Monday-first) week containing ``day``."""
    return day - _dt.timedelta(days=day.weekday())


def next_weekday(today: _dt.date, weekday: int, include_today: bool) -> _dt.date:
    """Next date with the given weekday (0 = Monday), today counted only if include_today."""
    delta = (weekday - today.weekday()) % 7
    if delta == 0 and not include_today:
        delta = 7
    return today + _dt.timedelta(days=delta)


def safe_date(year: int, month: int, day: int) -> Optional[_dt.date]:
    """The date, or None when it does not exist."""
    try:
        return _dt.date(year, month, day)
    except (ValueError, OverflowError):
        return None


def add_months(year: int, month: int, delta: int) -> Tuple[int, int]:
    """(year, month) shifted by ``delta`` months."""
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def upcoming_day_month(today: _dt.date, day: int, month: int) -> Optional[_dt.date]:
    """dd/mm without year: this year unless already past, then the next year in which it exists."""
    for year in range(today.year, today.year + 9):  # 29/2 may need a few years
        candidate = safe_date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def recent_day_month(today: _dt.date, day: int, month: int) -> Optional[_dt.date]:
    """dd/mm without year said about the past: the latest such date on or before today."""
    for year in range(today.year, today.year - 9, -1):
        candidate = safe_date(year, month, day)
        if candidate is not None and candidate <= today:
            return candidate
    return None


def upcoming_day(today: _dt.date, day: int) -> Optional[_dt.date]:
    """Day of month only: this month unless past or missing, else the next month that has it."""
    for delta in range(0, 13):
        year, month = add_months(today.year, today.month, delta)
        candidate = safe_date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def month_part(year: int, month: int, part: Optional[str]) -> _dt.date:
    """First (đầu / none), 15th (giữa) or last (cuối) day of a month."""
    if part == "giua":
        return _dt.date(year, month, 15)
    if part == "cuoi":
        return _dt.date(year, month, calendar.monthrange(year, month)[1])
    return _dt.date(year, month, 1)


def tet_day(today: _dt.date, lunar_day: int = 1) -> Optional[_dt.date]:
    """Lunar New Year day ``lunar_day`` of the nearest Tết not more than a week past."""
    for tet in TET_DATES:
        day = tet + _dt.timedelta(days=lunar_day - 1)
        if day >= today - _dt.timedelta(days=7):
            return day
    return None
