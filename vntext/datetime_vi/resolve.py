"""Entity assembly: run the rules, keep leftmost-longest spans, map them back to the text; the public calls."""
from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Tuple

from vntext.datetime_vi.context import Candidate, MatchContext
from vntext.datetime_vi.dates import DATE_RULES
from vntext.datetime_vi.lexicon import DATE, TIME
from vntext.datetime_vi.times import apply_part_of_day, clock_times, pod_times
from vntext.patterns import find_pattern_entities


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


def _choose(candidates: List[Candidate]) -> List[Candidate]:
    """Leftmost-longest non-overlapping candidates."""
    chosen: List[Candidate] = []
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
    ctx = MatchContext(text)
    dates: List[Candidate] = []
    for rule in DATE_RULES:
        dates.extend(c for c in rule(ctx, today) if ctx.words_typed_right(c.start, c.end))
    times = [c for c in clock_times(ctx, today) if ctx.words_typed_right(c.start, c.end)]
    times.extend(c for c in pod_times(ctx, dates) if ctx.words_typed_right(c.start, c.end))

    blocked = [(e.start, e.end) for e in find_pattern_entities(text)] + list(exclude or [])
    chosen = _choose(dates + times)
    # "chiều mai lúc 3 giờ": a bare clock time takes the part of day said elsewhere in the message.
    said_pods = {c.pod_key for c in chosen if c.grain == "part_of_day"}
    if len(said_pods) == 1:
        pod = next(iter(said_pods))
        for cand in chosen:
            if cand.clock is not None and cand.pod_key is None:
                hour = apply_part_of_day(cand.clock[0], pod)
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
