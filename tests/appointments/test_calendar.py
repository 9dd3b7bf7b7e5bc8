"""Slots, open days and checks of requested dates (month and year ends, weekends, holidays, lunch)."""
from __future__ import annotations

import datetime as dt

import pytest

from knowledge import calendar as cal
from knowledge.offices import get_office
from tests.appointments.conftest import vn

D = dt.date


@pytest.fixture
def ba_dinh():
    return get_office("phuong_ba_dinh")  # Mon-Fri


@pytest.fixture
def hoan_kiem():
    return get_office("phuong_hoan_kiem")  # Mon-Fri + Saturday morning


def test_slots_skip_lunch_break(ba_dinh) -> None:
    slots = [s.strftime("%H:%M") for s in cal.day_slots(ba_dinh, D(2027, 3, 2))]
    assert slots[:2] == ["08:00", "08:30"] and slots[-1] == "16:30"
    assert "11:00" in slots and "11:30" not in slots and "12:00" not in slots and "13:00" not in slots
    assert "13:30" in slots and len(slots) == 14
    assert all(s.tzinfo is not None and s.utcoffset() == dt.timedelta(hours=7) for s in cal.day_slots(ba_dinh, D(2027, 3, 2)))


def test_weekends(ba_dinh, hoan_kiem) -> None:
    assert not cal.is_open_day(ba_dinh, D(2027, 3, 6))   # Saturday
    assert cal.is_open_day(hoan_kiem, D(2027, 3, 6))
    assert [s.strftime("%H:%M") for s in cal.day_slots(hoan_kiem, D(2027, 3, 6))][-1] == "11:00"
    assert not cal.is_open_day(hoan_kiem, D(2027, 3, 7))  # Sunday
    check = cal.check_date(ba_dinh, "chủ nhật", now=vn(2027, 3, 3, 9, 0))
    assert not check.ok and check.reason == cal.CLOSED_DAY and check.day == D(2027, 3, 7)
    assert check.alternatives == [D(2027, 3, 8), D(2027, 3, 9), D(2027, 3, 10)]


@pytest.mark.parametrize("text", ["31/11", "30/2", "ngày 31/11"])
def test_impossible_dates_refused(ba_dinh, text: str) -> None:
    check = cal.check_date(ba_dinh, text, now=vn(2026, 11, 24, 9, 0))
    assert not check.ok and check.reason == cal.INVALID_DATE
    assert check.alternatives == [D(2026, 11, 24), D(2026, 11, 25), D(2026, 11, 26)]


def test_month_end(ba_dinh) -> None:
    check = cal.check_date(ba_dinh, "mai", now=vn(2026, 11, 30, 9, 0))
    assert check.ok and check.day == D(2026, 12, 1)
    assert cal.next_open_days(ba_dinh, D(2026, 10, 31), 2) == [D(2026, 11, 2), D(2026, 11, 3)]
    # 30/4 and 1/5 holidays, weekend, then the (unconfirmed) substitute day off 3/5.
    assert cal.next_open_days(ba_dinh, D(2027, 4, 30), 1) == [D(2027, 5, 4)]


def test_year_end(ba_dinh, hoan_kiem) -> None:
    now = vn(2026, 12, 31, 10, 0)
    check = cal.check_date(ba_dinh, "1/1", now=now)
    assert not check.ok and check.reason == cal.HOLIDAY and check.day == D(2027, 1, 1)
    assert check.holiday_name == "Tết Dương lịch"
    assert check.alternatives[0] == D(2027, 1, 4)
    assert cal.next_open_days(hoan_kiem, D(2027, 1, 1), 1) == [D(2027, 1, 2)]  # Saturday morning
    assert cal.check_date(hoan_kiem, "2/1", now=now).ok
    closed = cal.check_date(ba_dinh, "2/1", now=now)
    assert closed.reason == cal.CLOSED_DAY and closed.alternatives[0] == D(2027, 1, 4)
    # 31/12 after closing time: today is over, 1/1 is a holiday -> 2/1 (Saturday morning at Hoàn Kiếm).
    late = cal.check_date(hoan_kiem, D(2026, 12, 31), now=vn(2026, 12, 31, 16, 45))
    assert late.reason == cal.DAY_OVER and late.alternatives[:2] == [D(2027, 1, 2), D(2027, 1, 4)]


def test_all_2027_holidays_closed(ba_dinh, hoan_kiem) -> None:
    holidays = {d: n for d, n in cal.holidays_map().items() if d.year == 2027}
    assert D(2027, 1, 1) in holidays and D(2027, 9, 2) in holidays and len(holidays) == 12
    now = vn(2026, 12, 1, 9, 0)
    for day, name in holidays.items():
        for office in (ba_dinh, hoan_kiem):
            assert not cal.is_open_day(office, day)
            check = cal.check_date(office, day, now=now)
            assert not check.ok and check.reason == cal.HOLIDAY and check.holiday_name == name
            assert all(a not in holidays for a in check.alternatives) and check.alternatives[0] > day
    # Tết Đinh Mùi: closed Thu 4/2 to Wed 10/2.
    assert cal.next_open_days(ba_dinh, D(2027, 2, 4), 1) == [D(2027, 2, 11)]


def test_past_days_and_past_slots(ba_dinh) -> None:
    now = vn(2027, 3, 2, 10, 10)
    past = cal.check_date(ba_dinh, "hôm qua", now=now)
    assert not past.ok and past.reason == cal.PAST and past.alternatives[0] == D(2027, 3, 2)
    slots = cal.bookable_slots(ba_dinh, D(2027, 3, 2), now)
    assert slots[0] == vn(2027, 3, 2, 10, 30) and len(slots) == 9
    assert cal.bookable_slots(ba_dinh, D(2027, 3, 2), vn(2027, 3, 2, 16, 30)) == []
    assert cal.check_date(ba_dinh, D(2027, 3, 2), now=vn(2027, 3, 2, 16, 31)).reason == cal.DAY_OVER


def test_unrecognised_text(ba_dinh) -> None:
    check = cal.check_date(ba_dinh, "lúc nào cũng được", now=vn(2027, 3, 2, 9, 0))
    assert not check.ok and check.reason == cal.NO_DATE and len(check.alternatives) == 3
