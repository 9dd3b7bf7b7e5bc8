"""Officers' working hours: when a handed-off citizen can expect an answer.

One source: the deployment's default calendar (knowledge/deployment.yml `defaults.hours`) and the public holidays
of knowledge/holidays.yml, the same files the offices' booking calendars use.
"""
from __future__ import annotations

import datetime as dt
from typing import Dict, List, Optional, Sequence, Tuple

from infra.clock import TZ_NAME, now_local, tz
from knowledge.calendar import WEEKDAY_KEYS, holidays_map

TZ = tz()
WEEKDAYS_VI = ["thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"]
_FALLBACK = {k: ["08:00-11:30", "13:30-17:00"] for k in WEEKDAY_KEYS[:5]}
__all__ = ["TZ", "TZ_NAME", "now_local", "is_working_time", "next_opening", "describe_next_opening", "hours_text"]


def default_hours() -> Dict[str, List[str]]:
    """Weekday -> spans of the deployment's default calendar."""
    from knowledge.directory import defaults

    return dict(defaults().get("hours") or _FALLBACK)


def _periods(day: dt.date) -> List[Tuple[dt.time, dt.time]]:
    spans = default_hours().get(WEEKDAY_KEYS[day.weekday()]) or []
    return [(dt.time.fromisoformat(s[:5]), dt.time.fromisoformat(s[6:11])) for s in spans]


def _holidays(holidays: Optional[Sequence[dt.date]]) -> Sequence[dt.date]:
    return holidays if holidays is not None else list(holidays_map())


def is_working_time(moment: dt.datetime, holidays: Optional[Sequence[dt.date]] = None) -> bool:
    """True when officers are at work at ``moment`` (local time; holidays.yml unless ``holidays`` is given)."""
    local = moment.astimezone(TZ)
    if local.date() in _holidays(holidays):
        return False
    return any(start <= local.time() < end for start, end in _periods(local.date()))


def next_opening(moment: dt.datetime, holidays: Optional[Sequence[dt.date]] = None) -> dt.datetime:
    """The next moment (>= ``moment``) at which officers are at work."""
    local = moment.astimezone(TZ)
    closed = _holidays(holidays)
    for day_offset in range(0, 30):
        day = (local + dt.timedelta(days=day_offset)).date()
        if day in closed:
            continue
        for start, end in _periods(day):
            begin = dt.datetime.combine(day, start, TZ)
            finish = dt.datetime.combine(day, end, TZ)
            if local < finish:
                return max(begin, local)
    return local


def describe_next_opening(moment: dt.datetime, holidays: Optional[Sequence[dt.date]] = None) -> str:
    """Vietnamese phrase for when an officer will reply, e.g. 'từ 8:00 thứ Hai (01/12)'."""
    opening = next_opening(moment, holidays)
    if opening <= moment.astimezone(TZ) + dt.timedelta(minutes=1):
        return "trong ít phút tới"
    when = f"{opening.hour}:{opening.minute:02d} {WEEKDAYS_VI[opening.weekday()]} ({opening:%d/%m})"
    same_day = opening.date() == moment.astimezone(TZ).date()
    return f"từ {opening.hour}:{opening.minute:02d} hôm nay" if same_day else f"từ {when}"


def hours_text() -> str:
    """'thứ Hai đến thứ Sáu, 8:00-11:30 và 13:30-17:00 (trừ ngày lễ)' from the default calendar."""
    hours = default_hours()
    groups: List[Tuple[List[int], str]] = []
    for i, key in enumerate(WEEKDAY_KEYS):
        spans = " và ".join(s.lstrip("0") for s in hours.get(key) or [])
        if not spans:
            continue
        if groups and groups[-1][1] == spans and groups[-1][0][-1] == i - 1:
            groups[-1][0].append(i)
        else:
            groups.append(([i], spans))
    parts = [(f"{WEEKDAYS_VI[d[0]]} đến {WEEKDAYS_VI[d[-1]]}" if len(d) > 1 else WEEKDAYS_VI[d[0]]) + ", " + s
             for d, s in groups]
    return "; ".join(parts) + " (trừ ngày lễ)"
