"""The folded text, offset map and word index one input is matched on, and a match before overlap resolution."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Optional, Tuple

from vntext.datetime_vi.lexicon import PROPER, WORD_RE
from vntext.textnorm import fold_with_spans, has_diacritics, nfc, source_span


class MatchContext:
    """Folded text, offset map and word index of one input, with helpers the rules share."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded, self.spans = fold_with_spans(text)
        self.words = [(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(self.folded)]
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
            proper = PROPER.get(word)
            if proper is not None and we <= end:
                typed = self.typed(ws, we)
                if has_diacritics(typed) and typed not in proper:
                    return False
            i += 1
        return True


@dataclass
class Candidate:
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
