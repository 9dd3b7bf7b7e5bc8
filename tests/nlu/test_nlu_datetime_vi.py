"""Vietnamese date/time spans (annotation conventions) and their resolution against a fixed now."""
from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from infra import clock
from vntext.datetime_vi import find_datetimes, resolve_date, resolve_time

WED = dt.datetime(2026, 11, 25, 10, 0)  # a Wednesday
SUN = dt.datetime(2026, 11, 29, 9, 0)
NEW_YEAR_EVE = dt.datetime(2026, 12, 31, 16, 0)  # Thursday
JAN_31 = dt.datetime(2026, 1, 31, 8, 0)  # Saturday, month end
LEAP_EVE = dt.datetime(2028, 2, 28, 8, 0)  # Monday


def spans(text, now=WED):
    result = find_datetimes(text, now)
    for ent in result:
        assert text[ent.start:ent.end] == ent.text
    return [(e.text, e.entity, e.value) for e in result]


# ---------------------------------------------------------------- span conventions
@pytest.mark.parametrize(
    "text, expected",
    [
        ("cho em đặt lịch sáng mai", [("sáng", "time", "08:00"), ("mai", "date", "2026-11-26")]),
        ("dat lich sang mai duoc ko", [("sang", "time", "08:00"), ("mai", "date", "2026-11-26")]),
        ("em rảnh chiều thứ 6", [("chiều", "time", "13:30"), ("thứ 6", "date", "2026-11-27")]),
        ("em ranh chieu thu 6", [("chieu", "time", "13:30"), ("thu 6", "date", "2026-11-27")]),
        ("khoảng 9 giờ sáng thì sao", [("9 giờ sáng", "time", "09:00")]),
        ("tầm 2h chiều em tới", [("2h chiều", "time", "14:00")]),
        ("lúc 14g30 nhé", [("14g30", "time", "14:30")]),
        ("vào lúc 9h", [("9h", "time", "09:00")]),
        ("9h30 được không", [("9h30", "time", "09:30")]),
        ("8 giờ 15 em có mặt", [("8 giờ 15", "time", "08:15")]),
        ("10 rưỡi em qua", [("10 rưỡi", "time", "10:30")]),
        ("10h rưỡi sáng", [("10h rưỡi sáng", "time", "10:30")]),
        ("9 giờ tối", [("9 giờ tối", "time", "21:00")]),
        ("14:45 chiều nay", [("14:45 chiều", "time", "14:45"), ("nay", "date", "2026-11-25")]),
        ("9 giờ kém 15", [("9 giờ kém 15", "time", "08:45")]),
        ("12 giờ trưa", [("12 giờ trưa", "time", "12:00")]),
        ("vào buổi sáng", [("buổi sáng", "time", "08:00")]),
        ("9h sáng mai", [("9h sáng", "time", "09:00"), ("mai", "date", "2026-11-26")]),
    ],
)
def test_time_spans(text, expected):
    assert spans(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hôm nay có làm việc không", [("hôm nay", "date", "2026-11-25")]),
        ("hom nay co lam ko", [("hom nay", "date", "2026-11-25")]),
        ("nay em lên nộp được không", [("nay", "date", "2026-11-25")]),
        ("ngày mai", [("ngày mai", "date", "2026-11-26")]),
        ("mai em qua", [("mai", "date", "2026-11-26")]),
        ("ngày mốt", [("ngày mốt", "date", "2026-11-27")]),
        ("mốt em qua", [("mốt", "date", "2026-11-27")]),
        ("ngay kia", [("ngay kia", "date", "2026-11-27")]),
        ("hôm qua em nộp rồi", [("hôm qua", "date", "2026-11-24")]),
        ("thứ hai", [("thứ hai", "date", "2026-11-30")]),
        ("Thứ Bảy có làm không", [("Thứ Bảy", "date", "2026-11-28")]),
        ("chủ nhật", [("chủ nhật", "date", "2026-11-29")]),
        ("CN có mở cửa ko", [("CN", "date", "2026-11-29")]),
        ("t7 co lam ko", [("t7", "date", "2026-11-28")]),
        ("thứ 4", [("thứ 4", "date", "2026-12-02")]),  # today is Wednesday: the next one
        ("thứ 2 tuần sau", [("thứ 2 tuần sau", "date", "2026-11-30")]),
        ("thu hai tuan sau", [("thu hai tuan sau", "date", "2026-11-30")]),
        ("thứ 6 tuần này", [("thứ 6 tuần này", "date", "2026-11-27")]),
        ("thứ 3 tuần tới", [("thứ 3 tuần tới", "date", "2026-12-01")]),
        ("thứ 6 tuần trước", [("thứ 6 tuần trước", "date", "2026-11-20")]),
        ("cuối tuần", [("cuối tuần", "date", "2026-11-28")]),
        ("cuối tuần này", [("cuối tuần này", "date", "2026-11-28")]),
        ("cuối tuần sau", [("cuối tuần sau", "date", "2026-12-05")]),
        ("đầu tuần sau", [("đầu tuần sau", "date", "2026-11-30")]),
        ("tuần sau", [("tuần sau", "date", "2026-11-30")]),
        ("15/12", [("15/12", "date", "2026-12-15")]),
        ("15-12", [("15-12", "date", "2026-12-15")]),
        ("15/12/2026", [("15/12/2026", "date", "2026-12-15")]),
        ("ngày 18/12", [("ngày 18/12", "date", "2026-12-18")]),
        ("ngay 3/1", [("ngay 3/1", "date", "2027-01-03")]),
        ("ngày 15", [("ngày 15", "date", "2026-12-15")]),
        ("ngày 28", [("ngày 28", "date", "2026-11-28")]),
        ("ngày 5 tháng 1", [("ngày 5 tháng 1", "date", "2027-01-05")]),
        ("mùng 3", [("mùng 3", "date", "2026-12-03")]),
        ("mồng 4 tháng 2", [("mồng 4 tháng 2", "date", "2027-02-04")]),
        ("đầu tháng 1", [("đầu tháng 1", "date", "2027-01-01")]),
        ("cuối tháng", [("cuối tháng", "date", "2026-11-30")]),
        ("tháng sau", [("tháng sau", "date", "2026-12-01")]),
        ("tết dương lịch", [("tết dương lịch", "date", "2027-01-01")]),
    ],
)
def test_date_spans(text, expected):
    assert spans(text) == expected


# ---------------------------------------------------------------- ambiguity: things that are NOT dates/times
@pytest.mark.parametrize(
    "text",
    [
        "thủ tục này cần giấy tờ gì",
        "thu tuc nay can giay to gi",
        "tôi muốn hỏi về khai sinh",
        "toi muon hoi ve khai sinh",
        "tối đa bao nhiêu ngày",
        "lần thứ hai em hỏi rồi",
        "số thứ tự của em là 15",
        "theo thứ tự",
        "đem theo bản sao",
        "dem theo ban sao",
        "chị Mai ơi cho em hỏi",
        "mai mốt em tính",
        "mất 1-2 ngày",
        "trả kết quả trong 24h",
        "làm mất 3 giờ đồng hồ",
        "phí 2.5 triệu",
        "sáng kiến của em",
        "chiều cao bao nhiêu",
        "đường một chiều",
        "năm nay có thay đổi không",
        "mất 3 ngày 2 đêm",
    ],
)
def test_not_datetimes(text):
    assert spans(text) == []


def test_move_verb_sang_is_not_morning():
    assert spans("doi lich sang thu 6 duoc ko") == [("thu 6", "date", "2026-11-27")]
    assert spans("đổi sang chiều mai") == [("chiều", "time", "13:30"), ("mai", "date", "2026-11-26")]


def test_saturday_evening_not_next_saturday():
    assert spans("thứ 7 tối em qua") == [("thứ 7", "date", "2026-11-28"), ("tối", "time", "18:00")]


def test_dates_inside_codes_are_ignored():
    assert spans("ho so 000.00.11.H26-241115-0007") == []
    assert spans("sdt 0912 345 678") == []
    assert spans("cccd 001203004567 ngày 15/12") == [("ngày 15/12", "date", "2026-12-15")]


# ---------------------------------------------------------------- resolution edge cases
def test_weekday_said_on_sunday():
    assert spans("thứ 2 tuần sau", SUN) == [("thứ 2 tuần sau", "date", "2026-11-30")]
    assert spans("thứ 2", SUN) == [("thứ 2", "date", "2026-11-30")]
    assert spans("chủ nhật", SUN) == [("chủ nhật", "date", "2026-12-06")]
    assert spans("chủ nhật tuần này", SUN) == [("chủ nhật tuần này", "date", "2026-11-29")]
    assert spans("cuối tuần", SUN) == [("cuối tuần", "date", "2026-12-05")]


def test_year_end_wrap():
    assert spans("30/12", NEW_YEAR_EVE) == [("30/12", "date", "2027-12-30")]
    assert spans("31/12", NEW_YEAR_EVE) == [("31/12", "date", "2026-12-31")]
    assert spans("2/1", NEW_YEAR_EVE) == [("2/1", "date", "2027-01-02")]
    assert spans("ngày mai", NEW_YEAR_EVE) == [("ngày mai", "date", "2027-01-01")]
    assert spans("thứ 2 tuần sau", NEW_YEAR_EVE) == [("thứ 2 tuần sau", "date", "2027-01-04")]
    assert spans("tháng 1", NEW_YEAR_EVE) == [("tháng 1", "date", "2027-01-01")]
    assert spans("ngày 5", NEW_YEAR_EVE) == [("ngày 5", "date", "2027-01-05")]


def test_month_end():
    assert spans("mai", JAN_31) == [("mai", "date", "2026-02-01")]
    assert spans("ngày 30", JAN_31) == [("ngày 30", "date", "2026-03-30")]  # no 30 February
    assert spans("ngày 31", JAN_31) == [("ngày 31", "date", "2026-01-31")]
    assert spans("cuối tháng", JAN_31) == [("cuối tháng", "date", "2026-01-31")]
    assert spans("cuối tháng sau", JAN_31) == [("cuối tháng sau", "date", "2026-02-28")]
    assert spans("ngày mốt", LEAP_EVE) == [("ngày mốt", "date", "2028-03-01")]
    assert spans("mai", LEAP_EVE) == [("mai", "date", "2028-02-29")]


@pytest.mark.parametrize("text", ["31/11", "30/2", "ngày 31/11", "29/2/2027", "31-04", "ngày 30 tháng 2"])
def test_impossible_dates_are_flagged(text):
    result = find_datetimes(text, WED)
    assert len(result) == 1
    assert result[0].entity == "date" and result[0].value is None and result[0].invalid is True


def test_leap_day_without_year_goes_to_next_leap_year():
    assert spans("29/2") == [("29/2", "date", "2028-02-29")]


def test_past_marker_hom():
    assert spans("em nộp hôm 1/12") == [("1/12", "date", "2025-12-01")]  # "hôm" stays outside
    assert spans("hôm thứ 2 em nộp rồi") == [("thứ 2", "date", "2026-11-23")]


def test_clock_takes_part_of_day_from_message():
    assert spans("chiều mai lúc 3 giờ") == [
        ("chiều", "time", "13:30"), ("mai", "date", "2026-11-26"), ("3 giờ", "time", "15:00")]
    assert spans("tối nay 7h30")[-1] == ("7h30", "time", "19:30")


def test_part_of_day_values():
    result = {e.text: (e.value, e.part_of_day, e.grain) for e in find_datetimes("sáng, trưa, chiều, tối nay", WED)}
    assert result["sáng"] == ("08:00", "morning", "part_of_day")
    assert result["chiều"] == ("13:30", "afternoon", "part_of_day")
    assert result["tối"] == ("18:00", "evening", "part_of_day")
    assert result["trưa"][1] == "noon"


def test_diacritic_forms_and_unicode():
    nfd = unicodedata.normalize("NFD", "chiều thứ sáu tuần sau")
    assert [(e.entity, e.value) for e in find_datetimes(nfd, WED)] == [("time", "13:30"), ("date", "2026-12-04")]
    assert spans("ngày １５/１２") == [("ngày １５/１２", "date", "2026-12-15")]
    assert spans("THỨ HAI") == [("THỨ HAI", "date", "2026-11-30")]


def test_resolve_helpers():
    assert resolve_date("thứ 2 tuần sau", WED) == "2026-11-30"
    assert resolve_time("2h chiều", WED) == "14:00"
    assert resolve_date("không có ngày", WED) is None
    assert resolve_time("", WED) is None


def test_the_service_clock_is_vietnam_time():
    now = clock.now_local()
    assert now.utcoffset() == dt.timedelta(hours=7)
    assert resolve_date("hôm nay", now) == now.date().isoformat()


@pytest.mark.parametrize("text", [None, "", "   ", "😀😀", "?!?!", "\x00", "9" * 5000, "thứ " * 3000, 42])
def test_odd_input_never_raises(text):
    assert isinstance(find_datetimes(text, WED), list)


def test_long_text_is_fast_enough():
    import time

    text = ("Em muốn đặt lịch sáng mai 9h hoặc chiều thứ 6 tuần sau, sđt 0912 345 678. " * 140)[:10000]
    started = time.perf_counter()
    result = find_datetimes(text, WED)
    assert time.perf_counter() - started < 5
    assert len(result) > 100


@pytest.mark.parametrize(
    "text",
    [
        "chế độ mai táng phí gồm những gì",
        "tro cap mai tang phi",
        "cap ho chieu mat bao lau",
        "mang ban chinh de doi chieu",
        "chào buổi sáng ad",
        "chuc ad buoi toi vui ve",
        "giờ nghỉ trưa là mấy giờ",
        "em ở phường Hoàng Mai",
        "người nộp là Nguyễn Thị Mai",
        "nguoi nop la nguyen thi mai",
        "cho mai ko thay tra loi",
        "trong tuần này",
        "tiền nước tháng này tăng",
        "Tôi sang phường hỏi rồi",
    ],
)
def test_not_datetimes_more(text):
    assert spans(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("dời lịch hẹn sang thứ 5", [("thứ 5", "date", "2026-11-26")]),
        ("lui lich hen LH-AB12CD sang thu 5", [("thu 5", "date", "2026-11-26")]),
        ("chuyển hồ sơ sang ngày 2/12", [("ngày 2/12", "date", "2026-12-02")]),
        ("phường có mở cửa thứ 7 không", [("thứ 7", "date", "2026-11-28")]),
        ("giấy tờ thứ 7 nộp được không", [("thứ 7", "date", "2026-11-28")]),
        ("em mai ko đi được", [("mai", "date", "2026-11-26")]),
        ("Mai em qua nộp", [("Mai", "date", "2026-11-26")]),
        ("con lich sang mai ko", [("sang", "time", "08:00"), ("mai", "date", "2026-11-26")]),
        ("gọi 0912345678 chiều nay", [("chiều", "time", "13:30"), ("nay", "date", "2026-11-25")]),
    ],
)
def test_context_positives(text, expected):
    assert spans(text) == expected
