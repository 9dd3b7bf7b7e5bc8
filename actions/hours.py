"""Officers' working hours: when a handed-off citizen can expect an answer."""
from __future__ import annotations

import datetime as dt
from typing import List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Typical one-stop hours (shared/docs/domain.md): Monday-Friday 8:00-11:30 and 13:30-17:00.
DEFAULT_PERIODS: Tuple[Tuple[dt.time, dt.time], ...] = (
    (dt.time(8, 0), dt.time(11, 30)),
    (dt.time(13, 30), dt.time(17, 0)),
)
WEEKDAYS_VI = ["thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"]
HOURS_TEXT = "thứ Hai đến thứ Sáu, 8:00-11:30 và 13:30-17:00 (trừ ngày lễ)"


def now_local() -> dt.datetime:
    """Current time in Asia/Ho_Chi_Minh."""
    return dt.datetime.now(TZ)


def is_working_time(moment: dt.datetime, holidays: Sequence[dt.date] = ()) -> bool:
    """True when officers are at work at ``moment`` (local time)."""
    local = moment.astimezone(TZ)
    if local.weekday() >= 5 or local.date() in holidays:
        return False
    return any(start <= local.time() < end for start, end in DEFAULT_PERIODS)


def next_opening(moment: dt.datetime, holidays: Sequence[dt.date] = ()) -> dt.datetime:
    """The next moment (>= ``moment``) at which officers are at work."""
    local = moment.astimezone(TZ)
    for day_offset in range(0, 30):
        day = (local + dt.timedelta(days=day_offset)).date()
        if day.weekday() >= 5 or day in holidays:
            continue
        for start, end in DEFAULT_PERIODS:
            begin = dt.datetime.combine(day, start, TZ)
            finish = dt.datetime.combine(day, end, TZ)
            if local < finish:
                return max(begin, local)
    return local


def describe_next_opening(moment: dt.datetime, holidays: Sequence[dt.date] = ()) -> str:
    """Vietnamese phrase for when an officer will reply, e.g. 'trong giờ làm việc, lúc 8:00 thứ Hai (01/12)'."""
    opening = next_opening(moment, holidays)
    if opening <= moment.astimezone(TZ) + dt.timedelta(minutes=1):
        return "trong ít phút tới"
    when = f"{opening.hour}:{opening.minute:02d} {WEEKDAYS_VI[opening.weekday()]} ({opening:%d/%m})"
    same_day = opening.date() == moment.astimezone(TZ).date()
    return f"từ {opening.hour}:{opening.minute:02d} hôm nay" if same_day else f"từ {when}"
