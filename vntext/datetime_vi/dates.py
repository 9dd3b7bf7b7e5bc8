"""Date rules: numeric and spelled dates, weekdays, relative days, weeks, months and Tết."""
from __future__ import annotations

import datetime as _dt
import re
from typing import Callable, Iterator, Optional, Tuple

from vntext.datetime_vi.calendar_math import (
    add_months, monday, month_part, next_weekday, recent_day_month, safe_date, tet_day, upcoming_day,
    upcoming_day_month,
)
from vntext.datetime_vi.context import Candidate, MatchContext
from vntext.datetime_vi.lexicon import (
    DATE, DATE_WORD_PREV, DURATION_PREV, MAI_NEXT_EXCL, MAI_PREV_EXCL, NAME_PREV, NEGATION_NEXT, ORDER_PREV,
    ORDINAL_PREV, PART_OF_DAY, PROPER, RE_DAY, RE_DAY_MONTH, RE_MONTH, RE_NUMERIC, RE_RELATIVE, RE_TET, RE_WEEK,
    RE_WEEKDAY, SUBJECTS, SURNAMES, UNIT_NEXT, WEEKDAY_WORDS,
)
from vntext.textnorm import has_diacritics


def _day_month(m: "re.Match[str]", today: _dt.date, day: int, month: int, year: Optional[int],
               pre: Optional[str]) -> Candidate:
    """The candidate of a day and month (and year when given) that exist; without a year the next such day, or
    after "hôm" ("hôm 1/12" talks about a past day) the last one."""
    if year is not None:
        found = safe_date(year, month, day)
    elif pre == "hom":
        found = recent_day_month(today, day, month)
    else:
        found = upcoming_day_month(today, day, month)
    # "hôm" only says the day is past: like khoảng/lúc it stays outside the span ("nộp hôm [25/11]")
    start = m.start("d") if pre == "hom" else m.start()
    return Candidate(start, m.end(), DATE, found.isoformat() if found else None, found is None, "day")


def _numeric_dates(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """15/12, 15-12, 15/12/2026, ngày 18/12, 15.12.2026."""
    for m in RE_NUMERIC.finditer(ctx.folded):
        day, month, sep = int(m.group("d")), int(m.group("m")), m.group("sep")
        year_text, pre = m.group("y"), m.group("pre")
        nxt, _ = ctx.next_word(m.end())
        if nxt in UNIT_NEXT or nxt == "%":
            continue
        if sep == "." and not year_text and not pre:  # "2.5 triệu", "1.5" are numbers
            continue
        if not (1 <= day <= 31 and 1 <= month <= 12):
            if pre and day <= 99 and month <= 99:
                yield Candidate(m.start(), m.end(), DATE, None, True, "day")
            continue
        year = int(year_text) + (2000 if len(year_text) == 2 else 0) if year_text else None
        yield _day_month(m, today, day, month, year, pre)


def _day_month_dates(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """ngày 5 tháng 1, mùng 3 tháng 2, 15 tháng 12 năm 2026."""
    for m in RE_DAY_MONTH.finditer(ctx.folded):
        day, month, pre = int(m.group("d")), int(m.group("m")), m.group("pre")
        if not pre:
            prev, _ = ctx.prev_word(m.start())
            if prev in DURATION_PREV:
                continue
        if not (1 <= month <= 12) or not (1 <= day <= 31):
            if pre:
                yield Candidate(m.start(), m.end(), DATE, None, True, "day")
            continue
        yield _day_month(m, today, day, month, int(m.group("y")) if m.group("y") else None, pre)


def _day_only_dates(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """ngày 15, mùng 3, mồng 8, mùng 2 Tết."""
    for m in RE_DAY.finditer(ctx.folded):
        day, pre = int(m.group("d")), m.group("pre")
        nxt, _ = ctx.next_word(m.end())
        prev, _ = ctx.prev_word(m.start())
        if nxt in UNIT_NEXT or nxt in {"thang", "gio", "h"}:
            continue
        if prev is not None and prev.isdigit():  # "3 ngày 2 đêm"
            continue
        is_mung = pre.endswith(("mung", "mong"))
        if pre.startswith("mong") and ctx.typed(m.start(), m.start() + 4) not in ("mong", "mồng"):
            continue
        if m.group("tet"):
            if 1 <= day <= 10:
                found = tet_day(today, day)
                yield Candidate(m.start(), m.end(), DATE, found.isoformat() if found else None, False, "day")
            continue
        if not (1 <= day <= (10 if is_mung else 31)):
            continue
        found = upcoming_day(today, day)
        yield Candidate(m.start(), m.end(), DATE, found.isoformat() if found else None, found is None, "day")


def _weekday_dates(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """thứ 2..thứ 7, thứ hai..thứ bảy, chủ nhật, CN, t2..t7, with tuần này / sau / tới / trước."""
    for m in RE_WEEKDAY.finditer(ctx.folded):
        prev, prev_near = ctx.prev_word(m.start())
        if m.group("n") is not None:
            if prev_near and prev in ORDINAL_PREV:
                continue
            if m.group("n") == "tu" and prev_near and prev in ORDER_PREV:
                continue
            weekday = WEEKDAY_WORDS[m.group("n")]
        elif m.group("tn") is not None:
            weekday = int(m.group("tn")) - 2
        else:
            weekday = 6
            if m.group("cn") == "cn":
                raw = ctx.typed_raw(m.start("cn"), m.end("cn"))
                if raw != "CN" and not m.group("mod") and prev not in DATE_WORD_PREV:
                    continue  # lower-case "cn" is often "chi nhánh" / "cá nhân"
        mod = re.sub(r"\s+", " ", m.group("mod") or "")
        end = m.end()
        if mod in ("nay", "toi"):
            typed_mod = ctx.typed(m.start("mod"), m.end("mod"))
            if (mod == "nay" and typed_mod not in ("nay", "này")) or (mod == "toi" and typed_mod != "tới"):
                mod, end = "", len(ctx.folded[:m.start("mod")].rstrip())  # "thứ 7 tối" = Saturday evening
        if mod == "nay":
            day = next_weekday(today, weekday, include_today=True)
        elif mod == "tuan nay":
            day = monday(today) + _dt.timedelta(days=weekday)
        elif mod in ("tuan sau", "tuan toi", "tuan ke", "tuan ke tiep"):
            day = monday(today) + _dt.timedelta(days=7 + weekday)
        elif mod == "tuan sau nua":
            day = monday(today) + _dt.timedelta(days=14 + weekday)
        elif mod == "tuan truoc":
            day = monday(today) + _dt.timedelta(days=weekday - 7)
        elif prev_near and prev == "hom":  # "hôm thứ 2" = the last Monday
            day = today - _dt.timedelta(days=(today.weekday() - weekday) % 7 or 7)
        else:
            day = next_weekday(today, weekday, include_today=False)
        yield Candidate(m.start(), end, DATE, day.isoformat(), False, "day")


def _middle_name_thi(ctx: MatchContext, pos: int) -> bool:
    """True when the word before ``pos`` is the middle name "Thị" rather than "thì" (then)."""
    i = ctx.prev_index(pos)
    typed = ctx.typed(ctx.words[i][0], ctx.words[i][1])
    if typed == "thị":
        return True
    return typed == "thi" and i > 0 and ctx.words[i - 1][2] in SURNAMES | {"le", "do", "ho", "mai", "cao", "lam"}


def _relative_dates(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """hôm nay, nay, (ngày) mai, ngày mốt / kia, hôm qua, hôm kia, bữa nay."""
    offsets = {"hom nay": 0, "bua nay": 0, "ngay hom nay": 0, "nay": 0, "ngay mai": 1, "mai": 1,
               "ngay mot": 2, "mot": 2, "ngay kia": 2, "hom qua": -1, "bua qua": -1, "ngay hom qua": -1,
               "hom kia": -2}
    for m in RE_RELATIVE.finditer(ctx.folded):
        words = re.sub(r"\s+", " ", m.group("w"))
        prev, prev_near = ctx.prev_word(m.start())
        nxt, next_near = ctx.next_word(m.end())
        last_typed = ctx.typed(m.end() - len(words.split()[-1]), m.end())
        if words == "mai":
            raw = ctx.typed_raw(m.start(), m.end())
            clause_start = prev is None or not prev_near
            if last_typed != "mai" or (next_near and nxt in MAI_NEXT_EXCL) or (prev_near and prev in MAI_PREV_EXCL):
                continue  # "mai táng" (burial), "mai sau", "hoa mai"
            if raw[:1].isupper() and not clause_start:  # "chị Mai", "Hoàng Mai", "Trần Thị Mai"
                continue
            if prev_near and (prev in NAME_PREV and raw[:1].isupper() or prev in SURNAMES):
                continue
            if prev_near and prev == "thi" and _middle_name_thi(ctx, m.start()):
                continue
            if next_near and nxt in NEGATION_NEXT and not clause_start and prev not in SUBJECTS \
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
                after_pod = not has_diacritics(typed_prev) or typed_prev == PROPER[prev][0]
            # A user who types marks writes "này" for "this", so a bare "nay" after a subject is "today".
            after_subject = ctx.has_marks and prev_near and prev in SUBJECTS
            if not (clause_start or after_pod or after_subject):
                continue
        day = today + _dt.timedelta(days=offsets[words])
        yield Candidate(m.start(), m.end(), DATE, day.isoformat(), False, "day")


def _week_dates(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """cuối tuần (này / sau), đầu tuần sau, giữa tuần, tuần sau, tuần này."""
    for m in RE_WEEK.finditer(ctx.folded):
        part, which = m.group("part"), re.sub(r"\s+", " ", m.group("which") or "")
        if not part and which in ("", "nay"):
            continue  # "tuần này" names a period, not a day
        if which == "toi" and ctx.typed(m.start("which"), m.end("which")) not in ("toi", "tới"):
            continue
        offset = {"": 0, "nay": 0, "sau": 7, "toi": 7, "ke": 7, "ke tiep": 7, "sau nua": 14, "truoc": -7}[which]
        target = {"cuoi": 5, "dau": 0, "giua": 2, None: 0}[part]
        if part and which in ("",):
            day = next_weekday(today, target, include_today=True)
        elif part and which == "nay" and part == "cuoi":
            day = next_weekday(today, target, include_today=True)
        elif part:
            day = monday(today) + _dt.timedelta(days=offset + target)
        elif which == "nay":
            day = today
        else:
            day = monday(today) + _dt.timedelta(days=offset)
        yield Candidate(m.start(), m.end(), DATE, day.isoformat(), False, "day" if part else "week")


def _month_dates(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """tháng 12, đầu tháng 1, cuối tháng, giữa tháng sau, tháng 1 năm 2027."""
    for m in RE_MONTH.finditer(ctx.folded):
        part, month_text, which = m.group("part"), m.group("m"), m.group("which")
        if not (part or month_text or which) or (which == "nay" and not part):
            continue  # "tháng này" names a period, not a day
        grain = "part_of_month" if part else "month"
        if month_text:
            month = int(month_text)
            if not 1 <= month <= 12:
                continue
            nxt, _ = ctx.next_word(m.end())
            if nxt in UNIT_NEXT and not part:
                continue
            year = int(m.group("y")) if m.group("y") else today.year + (1 if month < today.month else 0)
            day = month_part(year, month, part)
        elif which:
            if which == "toi" and ctx.typed(m.start("which"), m.end("which")) not in ("toi", "tới"):
                continue
            year, month = add_months(today.year, today.month, {"nay": 0, "sau": 1, "toi": 1, "truoc": -1}[which])
            day = today if which == "nay" and not part else month_part(year, month, part)
        else:
            day = month_part(today.year, today.month, part)
            if day < today:
                year, month = add_months(today.year, today.month, 1)
                day = month_part(year, month, part)
        yield Candidate(m.start(), m.end(), DATE, day.isoformat(), False, grain)


def _tet_dates(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """Tết (Nguyên đán: lunar table), Tết dương lịch / Tết Tây (1 January)."""
    for m in RE_TET.finditer(ctx.folded):
        kind = re.sub(r"\s+", " ", m.group("kind") or "")
        if kind in ("duong lich", "tay"):
            day: Optional[_dt.date] = upcoming_day_month(today, 1, 1)
        else:
            day = tet_day(today)
        yield Candidate(m.start(), m.end(), DATE, day.isoformat() if day else None, False, "day")


DateRule = Callable[[MatchContext, _dt.date], Iterator[Candidate]]
# Order matters only for ties: overlapping spans are resolved leftmost-longest (resolve._choose).
DATE_RULES: Tuple[DateRule, ...] = (
    _numeric_dates, _day_month_dates, _day_only_dates, _weekday_dates, _relative_dates, _week_dates,
    _month_dates, _tet_dates,
)
