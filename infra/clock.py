"""The one clock and time zone of the service: Vietnam time (Asia/Ho_Chi_Minh, UTC+7 all year, no daylight saving).

Every "now" a citizen or an officer sees (office hours, booking days, reminders, relative dates such as "thứ 2 tuần
sau", console timestamps) comes from here, so a test that fixes the clock fixes it for them all.
"""
from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

TZ_NAME = "Asia/Ho_Chi_Minh"


@functools.lru_cache(maxsize=1)
def tz() -> ZoneInfo:
    """The service's time zone."""
    return ZoneInfo(TZ_NAME)


def now_local() -> dt.datetime:
    """Current time in Vietnam (aware)."""
    return dt.datetime.now(tz())


def to_local(moment: dt.datetime) -> dt.datetime:
    """``moment`` in Vietnam time (naive values are taken as Vietnam time)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz())
    return moment.astimezone(tz())


def utc_now() -> dt.datetime:
    """Current time in UTC (aware), for stored timestamps."""
    return dt.datetime.now(dt.timezone.utc)
