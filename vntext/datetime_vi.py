"""Vietnamese date and time expressions: find spans and resolve them relative to ``now``.

dateparser 1.2.0 was measured on 22 citizen-style phrases (languages=["vi"], RELATIVE_BASE fixed):
12/22 right. It handles "hôm nay", "ngày mai", "hôm qua", weekdays, dd/mm(/yyyy) and "ngày 5 tháng 1", but
fails on every clock time ("9 giờ sáng", "2h chiều", "14g30", "9h30", "10 rưỡi"), on "mai", "ngày mốt",
"ngày kia", "sáng mai" and "thứ 2 tuần sau", and its search_dates() returns no usable spans (it turned
"lúc 9 giờ" into 01:00). So it is not used: the rules below cover its successes, and span conventions
("[sáng](time) [mai](date)", "[9 giờ sáng](time)") need our own matcher anyway.

Span conventions: part-of-day words are ``time`` and day words ``date``; a clock time keeps its part of
day in one span; "khoảng", "tầm", "lúc", "vào" stay outside. Matching runs on folded text (no diacritics,
lower case) so "chieu thu 6" works, but a word typed WITH diacritics must be the right word ("tôi" is not
"tối", "này" is not the date "nay", "thủ" is not "thứ").
"""
from __future__ import annotations

import bisect
import calendar
import datetime as _dt
import re
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from vntext.patterns import find_pattern_entities
from vntext.textnorm import fold_with_spans, has_diacritics, nfc, source_span

DATE = "date"
TIME = "time"

# part of day -> (range name, default clock time when no hour is given)
PART_OF_DAY: Dict[str, Tuple[str, str]] = {
    "sang": ("morning", "08:00"),
    "trua": ("noon", "12:00"),
    "chieu": ("afternoon", "13:30"),
    "toi": ("evening", "18:00"),
    "dem": ("night", "21:00"),
    "khuya": ("night", "22:00"),
}

# Lunar New Year (Tết Nguyên đán) needs a lunar calendar; a table covers the bot's horizon.
TET_DATES: Tuple[_dt.date, ...] = (
    _dt.date(2024, 2, 10), _dt.date(2025, 1, 29), _dt.date(2026, 2, 17), _dt.date(2027, 2, 6),
    _dt.date(2028, 1, 26), _dt.date(2029, 2, 13), _dt.date(2030, 2, 3), _dt.date(2031, 1, 23),
)

# Accepted spellings of a folded word when the user typed diacritics (a bare spelling is always
# accepted because many citizens type without marks).
_PROPER: Dict[str, Tuple[str, ...]] = {
    "sang": ("sáng",), "trua": ("trưa",), "chieu": ("chiều",), "toi": ("tối", "tới"), "dem": ("đêm",),
    "khuya": ("khuya",), "buoi": ("buổi",), "nay": ("nay", "này"), "mai": ("mai",), "mot": ("mốt",),
    "kia": ("kia",), "qua": ("qua",), "hom": ("hôm",), "bua": ("bữa",), "ngay": ("ngày",), "thu": ("thứ",),
    "hai": ("hai",), "ba": ("ba",), "tu": ("tư",), "bon": ("bốn",), "nam": ("năm",), "sau": ("sáu", "sau"),
    "bay": ("bảy", "bẩy"), "chu": ("chủ",), "nhat": ("nhật",), "tuan": ("tuần",), "thang": ("tháng",),
    "cuoi": ("cuối",), "dau": ("đầu",), "giua": ("giữa",), "truoc": ("trước",), "ke": ("kế",),
    "tiep": ("tiếp",), "nua": ("nữa",), "mung": ("mùng",), "mong": ("mồng",), "tet": ("tết",),
    "duong": ("dương",), "lich": ("lịch",), "nguyen": ("nguyên",), "dan": ("đán",), "am": ("âm",),
    "tay": ("tây",), "gio": ("giờ",), "phut": ("phút",), "ruoi": ("rưỡi",), "kem": ("kém",),
}

_WEEKDAY_WORDS = {"2": 0, "hai": 0, "3": 1, "ba": 1, "4": 2, "tu": 2, "bon": 2, "5": 3, "nam": 3,
                  "6": 4, "sau": 4, "7": 5, "bay": 5}
# "lần thứ hai", "bước thứ 2", "số thứ tự" are ordinals, not weekdays.
_ORDINAL_PREV = {"lan", "nguoi", "con", "buoc", "ban", "trang", "muc", "dieu", "khoan", "lop", "tang", "hang",
                 "giai", "vong", "dot", "ky", "phan", "chuong", "cau", "theo", "dung", "xep", "dua",
                 "chau", "thang", "nam", "tuan", "quy", "phong", "quay", "mau"}
_ORDER_PREV = {"so", "theo", "dung", "xep"}  # "số thứ tự": bare "thu tu" is "thứ tự" (order) there
# A number followed by these is a quantity ("1-2 ngày", "3 giờ đồng hồ"), not a date or clock time.
_UNIT_NEXT = {"ngay", "tuan", "thang", "nam", "gio", "tieng", "phut", "lan", "trieu", "nghin", "ngan", "k",
              "nguoi", "ban", "bo", "dong", "buoi", "dem", "to", "trang", "cai", "chiec", "so", "ty", "muc",
              "ho", "nha", "can", "m", "km", "kg", "tr"}
_DURATION_PREV = {"trong", "mat", "het", "can", "tong", "ca", "suot", "duoi", "tren", "hon"}
_MOVE_VERBS = {"doi", "chuyen", "lui", "hoan", "day", "sang", "qua", "gui", "ve"}
_CHIEU_NEXT_EXCL = {"cao", "dai", "rong", "ngang", "sau", "khach", "long", "theo", "huong", "chuong", "nguoc"}
# "hộ chiếu" (passport), "đối chiếu" (compare), "tham chiếu" typed without marks
_CHIEU_PREV_EXCL = {"mot", "hai", "nhieu", "cac", "moi", "nguoc", "xuoi", "da", "ho", "doi", "tham", "phan",
                    "trinh", "soi", "chieu"}
_TRUA_PREV_EXCL = {"nghi", "an", "com"}  # "nghỉ trưa" is the lunch break, not a time to come
_GREETING_PREV = {"chao", "chuc"}  # "chào buổi sáng", "chúc buổi tối vui vẻ"
_NEGATION_NEXT = {"ko", "khong", "k", "kh", "hok", "khg", "chua", "chang", "van", "het"}
# "Nguyễn Mai", "Hoàng Mai", "Phương Mai" typed without marks are names, not "tomorrow".
_SURNAMES = {"nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "ngo", "duong",
             "ly", "dinh", "trinh", "luong", "phuong", "xuan"}
_SANG_NEXT_EXCL = {"kien", "tao", "lap", "suot", "tac", "choi", "den", "ro", "rua", "loang"}
_TOI_NEXT_EXCL = {"da", "thieu", "uu", "cao", "tan", "mat", "hau", "om", "ky", "gian", "nghia"}
_MAI_PREV_EXCL = {"hoa", "ban", "cay", "canh", "nay", "luc"}
_MAI_NEXT_EXCL = {"mot", "sau", "tang", "dich", "tram", "linh", "hoa", "huong", "phuong"}
_NAME_PREV = {"chi", "anh", "em", "co", "ba", "ong", "ban", "be", "chu", "bac", "di", "thim", "mo"}
_SUBJECTS = {"em", "toi", "minh", "anh", "chi", "con", "co", "chu", "bac", "ong", "ba", "to", "tui", "ma", "thi"}
_DATE_WORD_PREV = {"ngay", "vao", "hom", "ca", "sang", "trua", "chieu", "toi", "dem", "tu", "den", "toi"}

_POD = r"(?:sang|trua|chieu|toi|dem|khuya)"
_WEEK_MOD = r"tuan\s+(?:nay|sau\s+nua|sau|toi|truoc|ke\s+tiep|ke)"
_RE_NUMERIC = re.compile(
    r"(?<![\w/.\-:])(?:(?P<pre>ngay(?:\s+(?:mung|mong))?|hom|mung|mong)\s+)?"
    r"(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\w]|[/.\-:]\d)"
)
_RE_DAY_MONTH = re.compile(
    r"(?<![\w/.\-])(?:(?P<pre>ngay(?:\s+(?:mung|mong))?|hom|mung|mong)\s+)?(?P<d>\d{1,2})\s+thang\s+"
    r"(?P<m>\d{1,2})(?:\s+nam\s+(?P<y>\d{4}))?(?![\w]|[/.\-:]\d)"
)
_RE_DAY = re.compile(
    r"(?<![\w/.\-])(?P<pre>ngay(?:\s+(?:mung|mong))?|mung|mong)\s+(?P<d>\d{1,2})(?P<tet>\s+tet)?"
    r"(?![\w]|[/.\-:]\d)"
)
_RE_WEEKDAY = re.compile(
    r"(?<!\w)(?:thu\s*(?P<n>[2-7]|hai|ba|tu|bon|nam|sau|bay)|(?P<cn>chu\s*nhat|cn)|t(?P<tn>[2-7]))"
    rf"(?:\s+(?P<mod>{_WEEK_MOD}|nay|toi))?(?!\w)"
)
_RE_RELATIVE = re.compile(
    r"(?<!\w)(?P<w>ngay\s+hom\s+nay|ngay\s+hom\s+qua|hom\s+nay|bua\s+nay|hom\s+qua|bua\s+qua|hom\s+kia"
    r"|ngay\s+mai|ngay\s+mot|ngay\s+kia|mai|mot|nay)(?!\w)"
)
_RE_WEEK = re.compile(
    r"(?<!\w)(?:(?P<part>cuoi|dau|giua)\s+)?tuan(?:\s+(?P<which>nay|sau\s+nua|sau|toi|truoc|ke\s+tiep|ke))?(?!\w)"
)
_RE_MONTH = re.compile(
    r"(?<!\w)(?:(?P<part>cuoi|dau|giua)\s+)?thang(?:\s+(?P<m>\d{1,2})(?:\s+nam\s+(?P<y>\d{4}))?"
    r"|\s+(?P<which>nay|sau|toi|truoc))?(?![\w]|[/.\-:]\d)"
)
_RE_TET = re.compile(r"(?<!\w)tet(?:\s+(?P<kind>duong\s+lich|tay|nguyen\s+dan|am\s+lich|ta))?(?!\w)")
_RE_CLOCK = re.compile(
    r"(?<![\w/.:])(?P<h>\d{1,2})"
    rf"(?:\s*(?P<u>h|gio)|g(?=\d|\s+(?:buoi\s+)?{_POD}(?!\w))|:(?=\d\d))"
    r"(?:\s*(?P<mm>\d{2})(?:\s*(?:p|phut))?|\s*(?P<m1>\d)\s*(?:p|phut)|\s+(?P<half>ruoi)"
    r"|\s+kem\s+(?P<kem>\d{1,2})(?:\s*(?:p|phut))?)?"
    rf"(?:\s+(?:buoi\s+)?(?P<pod>{_POD}))?(?![\w]|[/.:]\d)"
)
_RE_HALF = re.compile(
    rf"(?<![\w/.:])(?P<h>\d{{1,2}})\s+(?P<half>ruoi)(?:\s+(?:buoi\s+)?(?P<pod>{_POD}))?(?!\w)"
)
_RE_POD = re.compile(rf"(?<!\w)(?:(?P<buoi>buoi)\s+)?(?P<pod>{_POD})(?!\w)")
_WORD_RE = re.compile(r"\w+")


@dataclass
class DateTimeEntity:
    """A date or time span: offsets into the original text, text as typed, resolved value."""

    start: int
    end: int
    entity: str
    text: str
    value: Optional[str]
    invalid: bool = False
    grain: Optional[str] = None  # date: day / week / month / part_of_month; time: minute / part_of_day
    part_of_day: Optional[str] = None  # morning / noon / afternoon / evening / night

    def to_dict(self) -> Dict[str, Any]:
        """Plain dict (JSON-serialisable) of this entity."""
        return asdict(self)



# ----------------------------------------------------------------------------- calendar arithmetic
def _monday(day: _dt.date) -> _dt.date:
    """Monday of the (Vietnamese, Monday-first) week containing ``day``."""
    return day - _dt.timedelta(days=day.weekday())


def _next_weekday(today: _dt.date, weekday: int, include_today: bool) -> _dt.date:
    """Next date with the given weekday (0 = Monday), today counted only if include_today."""
    delta = (weekday - today.weekday()) % 7
    if delta == 0 and not include_today:
        delta = 7
    return today + _dt.timedelta(days=delta)


def _safe_date(year: int, month: int, day: int) -> Optional[_dt.date]:
    """The date, or None when it does not exist."""
    try:
        return _dt.date(year, month, day)
    except (ValueError, OverflowError):
        return None


def _add_months(year: int, month: int, delta: int) -> Tuple[int, int]:
    """(year, month) shifted by ``delta`` months."""
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _upcoming_day_month(today: _dt.date, day: int, month: int) -> Optional[_dt.date]:
    """dd/mm without year: this year unless already past, then the next year in which it exists."""
    for year in range(today.year, today.year + 9):  # 29/2 may need a few years
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _recent_day_month(today: _dt.date, day: int, month: int) -> Optional[_dt.date]:
    """dd/mm without year said about the past: the latest such date on or before today."""
    for year in range(today.year, today.year - 9, -1):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate <= today:
            return candidate
    return None


def _upcoming_day(today: _dt.date, day: int) -> Optional[_dt.date]:
    """Day of month only: this month unless past or missing, else the next month that has it."""
    for delta in range(0, 13):
        year, month = _add_months(today.year, today.month, delta)
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _month_part(year: int, month: int, part: Optional[str]) -> _dt.date:
    """First (đầu / none), 15th (giữa) or last (cuối) day of a month."""
    if part == "giua":
        return _dt.date(year, month, 15)
    if part == "cuoi":
        return _dt.date(year, month, calendar.monthrange(year, month)[1])
    return _dt.date(year, month, 1)


def _tet(today: _dt.date, lunar_day: int = 1) -> Optional[_dt.date]:
    """Lunar New Year day ``lunar_day`` of the nearest Tết not more than a week past."""
    for tet in TET_DATES:
        day = tet + _dt.timedelta(days=lunar_day - 1)
        if day >= today - _dt.timedelta(days=7):
            return day
    return None


# ----------------------------------------------------------------------------- matching context
class _Context:
    """Folded text, offset map and word index of one input, with helpers the rules share."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded, self.spans = fold_with_spans(text)
        self.words = [(m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(self.folded)]
        self.word_starts = [w[0] for w in self.words]
        self.has_marks = has_diacritics(text)

    def source(self, start: int, end: int) -> Tuple[int, int]:
        """Original-text span of a folded span."""
        return source_span(self.spans, start, end)

    def typed(self, start: int, end: int) -> str:
        """What the user typed for a folded span, NFC and lower case."""
        s, e = self.source(start, end)
        return nfc(self.text[s:e]).lower()

    def typed_raw(self, start: int, end: int) -> str:
        """What the user typed for a folded span, untouched."""
        s, e = self.source(start, end)
        return self.text[s:e]

    def prev_index(self, pos: int) -> int:
        """Index in ``words`` of the last word ending at or before ``pos`` (-1 when none)."""
        i = bisect.bisect_left(self.word_starts, pos) - 1
        while i >= 0 and self.words[i][1] > pos:
            i -= 1
        return i

    def prev_word(self, pos: int) -> Tuple[Optional[str], bool]:
        """(folded word before ``pos``, True when only spaces separate it from ``pos``)."""
        i = self.prev_index(pos)
        if i < 0:
            return None, False
        gap = self.folded[self.words[i][1]:pos]
        return self.words[i][2], gap.strip() == ""

    def next_word(self, pos: int) -> Tuple[Optional[str], bool]:
        """(folded word after ``pos``, True when only spaces separate it from ``pos``)."""
        i = bisect.bisect_left(self.word_starts, pos)
        if i >= len(self.words):
            return None, False
        gap = self.folded[pos:self.words[i][0]]
        return self.words[i][2], gap.strip() == ""

    def words_typed_right(self, start: int, end: int) -> bool:
        """Every known word in the span is typed bare or with its proper diacritics."""
        i = bisect.bisect_left(self.word_starts, start)
        while i < len(self.words) and self.words[i][0] < end:
            ws, we, word = self.words[i]
            proper = _PROPER.get(word)
            if proper is not None and we <= end:
                typed = self.typed(ws, we)
                if has_diacritics(typed) and typed not in proper:
                    return False
            i += 1
        return True


@dataclass
class _Candidate:
    """A match before overlap resolution, in folded-text offsets."""

    start: int  # folded offsets
    end: int
    entity: str
    value: Optional[str]
    invalid: bool = False
    grain: Optional[str] = None
    part_of_day: Optional[str] = None
    pod_key: Optional[str] = None  # folded part-of-day word ("chieu")
    clock: Optional[Tuple[int, int]] = None  # hour and minute as said, before the part of day


# ----------------------------------------------------------------------------- date rules
def _numeric_dates(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """15/12, 15-12, 15/12/2026, ngày 18/12, 15.12.2026."""
    for m in _RE_NUMERIC.finditer(ctx.folded):
        day, month, sep = int(m.group("d")), int(m.group("m")), m.group("sep")
        year_text, pre = m.group("y"), m.group("pre")
        nxt, _ = ctx.next_word(m.end())
        if nxt in _UNIT_NEXT or nxt == "%":
            continue
        if sep == "." and not year_text and not pre:  # "2.5 triệu", "1.5" are numbers
            continue
        if not (1 <= day <= 31 and 1 <= month <= 12):
            if pre and day <= 99 and month <= 99:
                yield _Candidate(m.start(), m.end(), DATE, None, True, "day")
            continue
        if year_text:
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            found = _safe_date(year, month, day)
        elif pre == "hom":  # "hôm 1/12" talks about a past day
            found = _recent_day_month(today, day, month)
        else:
            found = _upcoming_day_month(today, day, month)
        # "hôm" only says the day is past: like khoảng/lúc it stays outside the span ("nộp hôm [25/11]")
        start = m.start("d") if pre == "hom" else m.start()
        yield _Candidate(start, m.end(), DATE, found.isoformat() if found else None, found is None, "day")


def _day_month_dates(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """ngày 5 tháng 1, mùng 3 tháng 2, 15 tháng 12 năm 2026."""
    for m in _RE_DAY_MONTH.finditer(ctx.folded):
        day, month, pre = int(m.group("d")), int(m.group("m")), m.group("pre")
        if not pre:
            prev, _ = ctx.prev_word(m.start())
            if prev in _DURATION_PREV:
                continue
        if not (1 <= month <= 12) or not (1 <= day <= 31):
            if pre:
                yield _Candidate(m.start(), m.end(), DATE, None, True, "day")
            continue
        if m.group("y"):
            found = _safe_date(int(m.group("y")), month, day)
        elif pre == "hom":
            found = _recent_day_month(today, day, month)
        else:
            found = _upcoming_day_month(today, day, month)
        start = m.start("d") if pre == "hom" else m.start()
        yield _Candidate(start, m.end(), DATE, found.isoformat() if found else None, found is None, "day")


def _day_only_dates(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """ngày 15, mùng 3, mồng 8, mùng 2 Tết."""
    for m in _RE_DAY.finditer(ctx.folded):
        day, pre = int(m.group("d")), m.group("pre")
        nxt, _ = ctx.next_word(m.end())
        prev, _ = ctx.prev_word(m.start())
        if nxt in _UNIT_NEXT or nxt in {"thang", "gio", "h"}:
            continue
        if prev is not None and prev.isdigit():  # "3 ngày 2 đêm"
            continue
        is_mung = pre.endswith(("mung", "mong"))
        if pre.startswith("mong") and ctx.typed(m.start(), m.start() + 4) not in ("mong", "mồng"):
            continue
        if m.group("tet"):
            if 1 <= day <= 10:
                found = _tet(today, day)
                yield _Candidate(m.start(), m.end(), DATE, found.isoformat() if found else None, False, "day")
            continue
        if not (1 <= day <= (10 if is_mung else 31)):
            continue
        found = _upcoming_day(today, day)
        yield _Candidate(m.start(), m.end(), DATE, found.isoformat() if found else None, found is None, "day")


def _weekday_dates(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """thứ 2..thứ 7, thứ hai..thứ bảy, chủ nhật, CN, t2..t7, with tuần này / sau / tới / trước."""
    for m in _RE_WEEKDAY.finditer(ctx.folded):
        prev, prev_near = ctx.prev_word(m.start())
        if m.group("n") is not None:
            if prev_near and prev in _ORDINAL_PREV:
                continue
            if m.group("n") == "tu" and prev_near and prev in _ORDER_PREV:
                continue
            weekday = _WEEKDAY_WORDS[m.group("n")]
        elif m.group("tn") is not None:
            weekday = int(m.group("tn")) - 2
        else:
            weekday = 6
            if m.group("cn") == "cn":
                raw = ctx.typed_raw(m.start("cn"), m.end("cn"))
                if raw != "CN" and not m.group("mod") and prev not in _DATE_WORD_PREV:
                    continue  # lower-case "cn" is often "chi nhánh" / "cá nhân"
        mod = re.sub(r"\s+", " ", m.group("mod") or "")
        end = m.end()
        if mod in ("nay", "toi"):
            typed_mod = ctx.typed(m.start("mod"), m.end("mod"))
            if (mod == "nay" and typed_mod not in ("nay", "này")) or (mod == "toi" and typed_mod != "tới"):
                mod, end = "", len(ctx.folded[:m.start("mod")].rstrip())  # "thứ 7 tối" = Saturday evening
        if mod == "nay":
            day = _next_weekday(today, weekday, include_today=True)
        elif mod == "tuan nay":
            day = _monday(today) + _dt.timedelta(days=weekday)
        elif mod in ("tuan sau", "tuan toi", "tuan ke", "tuan ke tiep"):
            day = _monday(today) + _dt.timedelta(days=7 + weekday)
        elif mod == "tuan sau nua":
            day = _monday(today) + _dt.timedelta(days=14 + weekday)
        elif mod == "tuan truoc":
            day = _monday(today) + _dt.timedelta(days=weekday - 7)
        elif prev_near and prev == "hom":  # "hôm thứ 2" = the last Monday
            day = today - _dt.timedelta(days=(today.weekday() - weekday) % 7 or 7)
        else:
            day = _next_weekday(today, weekday, include_today=False)
        yield _Candidate(m.start(), end, DATE, day.isoformat(), False, "day")


def _middle_name_thi(ctx: _Context, pos: int) -> bool:
    """True when the word before ``pos`` is the middle name "Thị" rather than "thì" (then)."""
    i = ctx.prev_index(pos)
    typed = ctx.typed(ctx.words[i][0], ctx.words[i][1])
    if typed == "thị":
        return True
    return typed == "thi" and i > 0 and ctx.words[i - 1][2] in _SURNAMES | {"le", "do", "ho", "mai", "cao", "lam"}


def _relative_dates(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """hôm nay, nay, (ngày) mai, ngày mốt / kia, hôm qua, hôm kia, bữa nay."""
    offsets = {"hom nay": 0, "bua nay": 0, "ngay hom nay": 0, "nay": 0, "ngay mai": 1, "mai": 1,
               "ngay mot": 2, "mot": 2, "ngay kia": 2, "hom qua": -1, "bua qua": -1, "ngay hom qua": -1,
               "hom kia": -2}
    for m in _RE_RELATIVE.finditer(ctx.folded):
        words = re.sub(r"\s+", " ", m.group("w"))
        prev, prev_near = ctx.prev_word(m.start())
        nxt, next_near = ctx.next_word(m.end())
        last_typed = ctx.typed(m.end() - len(words.split()[-1]), m.end())
        if words == "mai":
            raw = ctx.typed_raw(m.start(), m.end())
            clause_start = prev is None or not prev_near
            if last_typed != "mai" or (next_near and nxt in _MAI_NEXT_EXCL) or (prev_near and prev in _MAI_PREV_EXCL):
                continue  # "mai táng" (burial), "mai sau", "hoa mai"
            if raw[:1].isupper() and not clause_start:  # "chị Mai", "Hoàng Mai", "Trần Thị Mai"
                continue
            if prev_near and (prev in _NAME_PREV and raw[:1].isupper() or prev in _SURNAMES):
                continue
            if prev_near and prev == "thi" and _middle_name_thi(ctx, m.start()):
                continue
            if next_near and nxt in _NEGATION_NEXT and not clause_start and prev not in _SUBJECTS \
                    and prev not in PART_OF_DAY:
                continue  # "hỏi mãi không được" typed without marks
        elif words == "mot":
            if last_typed != "mốt" or (prev_near and prev == "mai"):
                continue
        elif words == "ngay mot":
            if last_typed not in ("mot", "mốt") or nxt in {"thang", "ngay", "lan"} or (prev_near and prev == "mai"):
                continue
        elif words == "nay":
            if last_typed != "nay" or (next_near and nxt == "mai"):
                continue
            clause_start = prev is None or not prev_near
            after_pod = False
            if prev_near and prev in PART_OF_DAY:
                ps, pe, _ = ctx.words[ctx.prev_index(m.start())]
                typed_prev = ctx.typed(ps, pe)
                after_pod = not has_diacritics(typed_prev) or typed_prev == _PROPER[prev][0]
            # A user who types marks writes "này" for "this", so a bare "nay" after a subject is "today".
            after_subject = ctx.has_marks and prev_near and prev in _SUBJECTS
            if not (clause_start or after_pod or after_subject):
                continue
        day = today + _dt.timedelta(days=offsets[words])
        yield _Candidate(m.start(), m.end(), DATE, day.isoformat(), False, "day")


def _week_dates(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """cuối tuần (này / sau), đầu tuần sau, giữa tuần, tuần sau, tuần này."""
    for m in _RE_WEEK.finditer(ctx.folded):
        part, which = m.group("part"), re.sub(r"\s+", " ", m.group("which") or "")
        if not part and which in ("", "nay"):
            continue  # "tuần này" names a period, not a day
        if which == "toi" and ctx.typed(m.start("which"), m.end("which")) not in ("toi", "tới"):
            continue
        offset = {"": 0, "nay": 0, "sau": 7, "toi": 7, "ke": 7, "ke tiep": 7, "sau nua": 14, "truoc": -7}[which]
        target = {"cuoi": 5, "dau": 0, "giua": 2, None: 0}[part]
        if part and which in ("",):
            day = _next_weekday(today, target, include_today=True)
        elif part and which == "nay" and part == "cuoi":
            day = _next_weekday(today, target, include_today=True)
        elif part:
            day = _monday(today) + _dt.timedelta(days=offset + target)
        elif which == "nay":
            day = today
        else:
            day = _monday(today) + _dt.timedelta(days=offset)
        yield _Candidate(m.start(), m.end(), DATE, day.isoformat(), False, "day" if part else "week")


def _month_dates(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """tháng 12, đầu tháng 1, cuối tháng, giữa tháng sau, tháng 1 năm 2027."""
    for m in _RE_MONTH.finditer(ctx.folded):
        part, month_text, which = m.group("part"), m.group("m"), m.group("which")
        if not (part or month_text or which) or (which == "nay" and not part):
            continue  # "tháng này" names a period, not a day
        grain = "part_of_month" if part else "month"
        if month_text:
            month = int(month_text)
            if not 1 <= month <= 12:
                continue
            nxt, _ = ctx.next_word(m.end())
            if nxt in _UNIT_NEXT and not part:
                continue
            year = int(m.group("y")) if m.group("y") else today.year + (1 if month < today.month else 0)
            day = _month_part(year, month, part)
        elif which:
            if which == "toi" and ctx.typed(m.start("which"), m.end("which")) not in ("toi", "tới"):
                continue
            year, month = _add_months(today.year, today.month, {"nay": 0, "sau": 1, "toi": 1, "truoc": -1}[which])
            day = today if which == "nay" and not part else _month_part(year, month, part)
        else:
            day = _month_part(today.year, today.month, part)
            if day < today:
                year, month = _add_months(today.year, today.month, 1)
                day = _month_part(year, month, part)
        yield _Candidate(m.start(), m.end(), DATE, day.isoformat(), False, grain)


def _tet_dates(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """Tết (Nguyên đán: lunar table), Tết dương lịch / Tết Tây (1 January)."""
    for m in _RE_TET.finditer(ctx.folded):
        kind = re.sub(r"\s+", " ", m.group("kind") or "")
        if kind in ("duong lich", "tay"):
            day: Optional[_dt.date] = _upcoming_day_month(today, 1, 1)
        else:
            day = _tet(today)
        yield _Candidate(m.start(), m.end(), DATE, day.isoformat() if day else None, False, "day")


# ----------------------------------------------------------------------------- time rules
def _apply_part_of_day(hour: int, pod: Optional[str]) -> int:
    """24-hour clock hour for an hour said with a part of day ("2 giờ chiều" -> 14)."""
    if pod == "sang":
        return 0 if hour == 12 else hour
    if pod == "trua":
        return hour + 12 if 1 <= hour <= 4 else hour
    if pod == "chieu":
        return hour + 12 if 1 <= hour <= 11 else hour
    if pod == "toi":
        return 0 if hour == 12 else (hour + 12 if 1 <= hour <= 11 else hour)
    if pod in ("dem", "khuya"):
        return 0 if hour == 12 else (hour + 12 if 7 <= hour <= 11 else hour)
    # No part of day: offices work 7:30-17:00, so "2h" means 14:00, "9h" 09:00.
    return hour + 12 if 1 <= hour <= 5 else hour


def _pod_typed_ok(ctx: _Context, m: "re.Match[str]") -> bool:
    """A part-of-day word typed with diacritics must be that word ("tôi" is not "tối")."""
    if m.group("pod") is None:
        return True
    typed = ctx.typed(m.start("pod"), m.end("pod"))
    return not has_diacritics(typed) or typed == _PROPER[m.group("pod")][0]


def _clock_times(ctx: _Context, today: _dt.date) -> Iterator[_Candidate]:
    """9h, 9h30, 14g30, 14:30, 9 giờ sáng, 2h chiều, 8 giờ 15, 10 rưỡi, 9 giờ kém 15."""
    for regex in (_RE_CLOCK, _RE_HALF):
        for m in regex.finditer(ctx.folded):
            hour = int(m.group("h"))
            groups = m.groupdict()
            minute = 0
            if groups.get("mm"):
                minute = int(groups["mm"])
            elif groups.get("m1"):
                minute = int(groups["m1"])
            elif groups.get("half"):
                minute = 30
            elif groups.get("kem"):
                hour, minute = hour - 1, 60 - int(groups["kem"])
            if not (0 <= hour <= 23 and 0 <= minute <= 59):
                continue
            prev, prev_near = ctx.prev_word(m.start())
            nxt, _ = ctx.next_word(m.end())
            if (prev_near and prev in _DURATION_PREV) or nxt == "dong":
                continue  # "trong 24h", "3 giờ đồng hồ": durations
            end = m.end()
            pod = groups.get("pod")
            if pod and not _pod_typed_ok(ctx, m):
                # "9h tôi qua": the clock time ends before the word that only looked like "tối"
                pod, end = None, len(ctx.folded[:m.start("pod")].rstrip())
                if ctx.folded[m.start():end].endswith("buoi"):
                    end = len(ctx.folded[:end - 4].rstrip())
            said = (hour, minute)
            hour = _apply_part_of_day(hour, pod)
            yield _Candidate(m.start(), end, TIME, f"{hour:02d}:{minute:02d}", False, "minute",
                             PART_OF_DAY[pod][0] if pod else None, pod, said)


def _moved_to(ctx: _Context, pos: int) -> bool:
    """True after "đổi sang", "lùi lịch hẹn LH-... sang": there "sang" is the verb "to", not "morning"."""
    i = ctx.prev_index(pos)
    if i >= 0 and ctx.words[i][2] in ("sang", "qua", "ve"):
        return True  # "sang" right after another motion word
    for back in range(i, max(i - 8, -1), -1):
        gap_end = ctx.words[back + 1][0] if back < i else pos
        if ctx.folded[ctx.words[back][1]:gap_end].strip(" \t-."):
            break  # punctuation ends the clause
        if ctx.words[back][2] in _MOVE_VERBS - {"sang", "qua", "ve"}:
            return True
    return False


def _greeting(ctx: _Context, start: int, end: int) -> bool:
    """True for "chào buổi sáng", "chúc ad buổi tối vui vẻ": the part of day is part of a greeting."""
    i = ctx.prev_index(start)
    for back in range(i, max(i - 3, -1), -1):
        gap_end = ctx.words[back + 1][0] if back < i else start
        if ctx.folded[ctx.words[back][1]:gap_end].strip():
            break
        if ctx.words[back][2] in _GREETING_PREV:
            return True
    following = ctx.folded[end:end + 12].split()
    return following[:2] in (["vui", "ve"], ["tot", "lanh"], ["an", "lanh"])


def _pod_times(ctx: _Context, dates: List[_Candidate]) -> Iterator[_Candidate]:
    """sáng, trưa, chiều, tối, đêm, khuya, buổi sáng (alone, as ranges)."""
    date_starts = {c.start for c in dates}
    date_ends = {c.end for c in dates}
    for m in _RE_POD.finditer(ctx.folded):
        pod = m.group("pod")
        if not _pod_typed_ok(ctx, m):
            continue
        if m.group("buoi") and has_diacritics(ctx.typed(m.start("buoi"), m.end("buoi"))) and \
                ctx.typed(m.start("buoi"), m.end("buoi")) != "buổi":
            continue
        typed = ctx.typed(m.start("pod"), m.end("pod"))
        bare = not has_diacritics(typed)
        prev, prev_near = ctx.prev_word(m.start())
        nxt, next_near = ctx.next_word(m.end())
        i = m.end()
        while i < len(ctx.folded) and ctx.folded[i] in " \t":
            i += 1
        date_follows = i in date_starts and i > m.end()
        has_buoi = m.group("buoi") is not None
        ok = not _greeting(ctx, m.start(), m.end())
        if prev_near and prev is not None and prev.isdigit() and len(prev) <= 2:
            # "3 ngày 2 đêm" counts nights, but "thứ 7 tối" is Saturday evening
            ok = ctx.words[ctx.prev_index(m.start())][1] in date_ends
        # A user who types marks writes "sáng" / "tối" / "đêm": their bare "sang" / "toi" / "dem" is the
        # verb "sang" (to), "tôi" / "tới", "đem".
        if bare and ctx.has_marks and pod in ("sang", "toi", "dem"):
            ok = False
        if pod == "sang":
            if bare:
                ok = ok and (has_buoi or (date_follows and not _moved_to(ctx, m.start())))
            ok = ok and not (next_near and nxt in _SANG_NEXT_EXCL)
        elif pod == "toi":
            if bare:
                ok = ok and (has_buoi or date_follows)
            ok = ok and not (next_near and nxt in _TOI_NEXT_EXCL)
        elif pod == "dem":
            if bare:
                ok = ok and (has_buoi or date_follows or (prev_near and prev == "nua"))
        elif pod == "chieu":
            ok = ok and not (next_near and nxt in _CHIEU_NEXT_EXCL)
            ok = ok and not (not has_buoi and prev_near and prev in _CHIEU_PREV_EXCL)
        elif pod == "trua":
            ok = ok and not (not has_buoi and prev_near and prev in _TRUA_PREV_EXCL)
        if ok:
            name, default = PART_OF_DAY[pod]
            if pod == "dem" and prev_near and prev == "nua":
                default = "00:00"  # "nửa đêm" is midnight
            yield _Candidate(m.start(), m.end(), TIME, default, False, "part_of_day", name, pod)


# ----------------------------------------------------------------------------- public API
def _choose(candidates: List[_Candidate]) -> List[_Candidate]:
    """Leftmost-longest non-overlapping candidates."""
    chosen: List[_Candidate] = []
    last_end = -1
    for cand in sorted(candidates, key=lambda c: (c.start, -(c.end - c.start))):
        if cand.start >= last_end and cand.end > cand.start:
            chosen.append(cand)
            last_end = cand.end
    return chosen


def find_datetimes(
    text: str, now: _dt.datetime, exclude: Optional[List[Tuple[int, int]]] = None
) -> List[DateTimeEntity]:
    """Date and time entities in ``text`` resolved against ``now`` (the caller's clock: infra.clock.now_local()).

    Spans overlapping a pattern entity (codes, phones, ID numbers) or an ``exclude`` span are dropped.
    Never raises: odd input gives an empty list.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        return _find(text, now, exclude)
    except Exception:  # a chat message must never break the pipeline
        return []


def _find(text: str, now: _dt.datetime, exclude: Optional[List[Tuple[int, int]]]) -> List[DateTimeEntity]:
    """Implementation of find_datetimes (may raise)."""
    today = now.date() if isinstance(now, _dt.datetime) else now
    ctx = _Context(text)
    dates: List[_Candidate] = []
    rules: Tuple[Callable[[_Context, _dt.date], Iterator[_Candidate]], ...] = (
        _numeric_dates, _day_month_dates, _day_only_dates, _weekday_dates, _relative_dates, _week_dates,
        _month_dates, _tet_dates,
    )
    for rule in rules:
        dates.extend(c for c in rule(ctx, today) if ctx.words_typed_right(c.start, c.end))
    times = [c for c in _clock_times(ctx, today) if ctx.words_typed_right(c.start, c.end)]
    times.extend(c for c in _pod_times(ctx, dates) if ctx.words_typed_right(c.start, c.end))

    blocked = [(e.start, e.end) for e in find_pattern_entities(text)] + list(exclude or [])
    chosen = _choose(dates + times)
    # "chiều mai lúc 3 giờ": a bare clock time takes the part of day said elsewhere in the message.
    said_pods = {c.pod_key for c in chosen if c.grain == "part_of_day"}
    if len(said_pods) == 1:
        pod = next(iter(said_pods))
        for cand in chosen:
            if cand.clock is not None and cand.pod_key is None:
                hour = _apply_part_of_day(cand.clock[0], pod)
                cand.value = f"{hour:02d}:{cand.clock[1]:02d}"
    result: List[DateTimeEntity] = []
    for cand in chosen:
        start, end = ctx.source(cand.start, cand.end)
        if any(start < b_end and b_start < end for b_start, b_end in blocked):
            continue
        result.append(DateTimeEntity(start, end, cand.entity, text[start:end], cand.value, cand.invalid,
                                     cand.grain, cand.part_of_day))
    return result


def resolve_date(text: str, now: _dt.datetime) -> Optional[str]:
    """ISO date of the first date expression in ``text`` (e.g. a slot value), or None."""
    for ent in find_datetimes(text, now):
        if ent.entity == DATE:
            return ent.value
    return None


def resolve_time(text: str, now: _dt.datetime) -> Optional[str]:
    """"HH:MM" of the first time expression in ``text`` (e.g. a slot value), or None."""
    for ent in find_datetimes(text, now):
        if ent.entity == TIME:
            return ent.value
    return None
