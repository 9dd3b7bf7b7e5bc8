"""Time rules: clock times (9h30, 2 giờ chiều, 10 rưỡi) and parts of the day said alone (sáng, buổi tối)."""
from __future__ import annotations

import datetime as _dt
import re
from typing import Iterator, List, Optional

from vntext.datetime_vi.context import Candidate, MatchContext
from vntext.datetime_vi.lexicon import (
    CHIEU_NEXT_EXCL, CHIEU_PREV_EXCL, DURATION_PREV, GREETING_PREV, MOVE_VERBS, PART_OF_DAY, PROPER, RE_CLOCK,
    RE_HALF, RE_POD, SANG_NEXT_EXCL, TIME, TOI_NEXT_EXCL, TRUA_PREV_EXCL,
)
from vntext.textnorm import has_diacritics


def apply_part_of_day(hour: int, pod: Optional[str]) -> int:
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


def _pod_typed_ok(ctx: MatchContext, m: "re.Match[str]") -> bool:
    """A part-of-day word typed with diacritics must be that word ("tôi" is not "tối")."""
    if m.group("pod") is None:
        return True
    typed = ctx.typed(m.start("pod"), m.end("pod"))
    return not has_diacritics(typed) or typed == PROPER[m.group("pod")][0]


def clock_times(ctx: MatchContext, today: _dt.date) -> Iterator[Candidate]:
    """9h, 9h30, 14g30, 14:30, 9 giờ sáng, 2h chiều, 8 giờ 15, 10 rưỡi, 9 giờ kém 15."""
    for regex in (RE_CLOCK, RE_HALF):
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
            if (prev_near and prev in DURATION_PREV) or nxt == "dong":
                continue  # "trong 24h", "3 giờ đồng hồ": durations
            end = m.end()
            pod = groups.get("pod")
            if pod and not _pod_typed_ok(ctx, m):
                # "9h tôi qua": the clock time ends before the word that only looked like "tối"
                pod, end = None, len(ctx.folded[:m.start("pod")].rstrip())
                if ctx.folded[m.start():end].endswith("buoi"):
                    end = len(ctx.folded[:end - 4].rstrip())
            said = (hour, minute)
            hour = apply_part_of_day(hour, pod)
            yield Candidate(m.start(), end, TIME, f"{hour:02d}:{minute:02d}", False, "minute",
                             PART_OF_DAY[pod][0] if pod else None, pod, said)


def _moved_to(ctx: MatchContext, pos: int) -> bool:
    """True after "đổi sang", "lùi lịch hẹn LH-... sang": there "sang" is the verb "to", not "morning"."""
    i = ctx.prev_index(pos)
    if i >= 0 and ctx.words[i][2] in ("sang", "qua", "ve"):
        return True  # "sang" right after another motion word
    for back in range(i, max(i - 8, -1), -1):
        gap_end = ctx.words[back + 1][0] if back < i else pos
        if ctx.folded[ctx.words[back][1]:gap_end].strip(" \t-."):
            break  # punctuation ends the clause
        if ctx.words[back][2] in MOVE_VERBS - {"sang", "qua", "ve"}:
            return True
    return False


def _greeting(ctx: MatchContext, start: int, end: int) -> bool:
    """True for "chào buổi sáng", "chúc ad buổi tối vui vẻ": the part of day is part of a greeting."""
    i = ctx.prev_index(start)
    for back in range(i, max(i - 3, -1), -1):
        gap_end = ctx.words[back + 1][0] if back < i else start
        if ctx.folded[ctx.words[back][1]:gap_end].strip():
            break
        if ctx.words[back][2] in GREETING_PREV:
            return True
    following = ctx.folded[end:end + 12].split()
    return following[:2] in (["vui", "ve"], ["tot", "lanh"], ["an", "lanh"])


def pod_times(ctx: MatchContext, dates: List[Candidate]) -> Iterator[Candidate]:
    """sáng, trưa, chiều, tối, đêm, khuya, buổi sáng (alone, as ranges)."""
    date_starts = {c.start for c in dates}
    date_ends = {c.end for c in dates}
    for m in RE_POD.finditer(ctx.folded):
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
            ok = ok and not (next_near and nxt in SANG_NEXT_EXCL)
        elif pod == "toi":
            if bare:
                ok = ok and (has_buoi or date_follows)
            ok = ok and not (next_near and nxt in TOI_NEXT_EXCL)
        elif pod == "dem":
            if bare:
                ok = ok and (has_buoi or date_follows or (prev_near and prev == "nua"))
        elif pod == "chieu":
            ok = ok and not (next_near and nxt in CHIEU_NEXT_EXCL)
            ok = ok and not (not has_buoi and prev_near and prev in CHIEU_PREV_EXCL)
        elif pod == "trua":
            ok = ok and not (not has_buoi and prev_near and prev in TRUA_PREV_EXCL)
        if ok:
            name, default = PART_OF_DAY[pod]
            if pod == "dem" and prev_near and prev == "nua":
                default = "00:00"  # "nửa đêm" is midnight
            yield Candidate(m.start(), m.end(), TIME, default, False, "part_of_day", name, pod)
