"""Several aspects asked in one message ("mất bao lâu, có mất phí không"): each part's aspect, in order."""
from __future__ import annotations

import re
from typing import List

from knowledge.aspects import detect_aspect

MAX_ASPECTS = 3  # a phone screen: beyond three answers the citizen is better served by the buttons
_SPLIT_RE = re.compile(r"[,;?!\n]+|\s(?:và|va|với|voi|còn|con|rồi|roi|hay|thêm|them)\s", re.IGNORECASE)


def aspects_in(text: str) -> List[str]:
    """The distinct aspects of the parts of ``text`` (split at commas and "và/với/còn..."), in reading order."""
    out: List[str] = []
    for part in _SPLIT_RE.split(text or ""):
        if len(part.split()) < 2:
            continue
        aspect = detect_aspect(part)
        if aspect != "general" and aspect not in out:
            out.append(aspect)
    return out[:MAX_ASPECTS]
