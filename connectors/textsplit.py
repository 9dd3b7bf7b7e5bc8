"""Splitting long answers into platform-sized messages without losing any text."""
from __future__ import annotations

import re
from typing import List

MAX_MESSAGE_CHARS = 2000

_PARAGRAPH = re.compile(r"(?<=\n)")
_SENTENCE = re.compile(r"(?<=[.!?…;:])\s+")
_WORD = re.compile(r"(?<=\s)")


def _pieces(text: str, pattern: "re.Pattern[str]") -> List[str]:
    return [p for p in pattern.split(text) if p]


def _pack(pieces: List[str], limit: int, finer: List["re.Pattern[str]"]) -> List[str]:
    """Greedily join pieces up to ``limit``; pieces too long on their own are split at a finer level."""
    out: List[str] = []
    current = ""
    for piece in pieces:
        if len(piece) > limit:
            if current.strip():
                out.append(current)
            current = ""
            if finer:
                out.extend(_pack(_pieces(piece, finer[0]), limit, finer[1:]))
            else:
                # A single "word" longer than the limit (e.g. a huge URL): hard cut, still nothing lost.
                out.extend(piece[i:i + limit] for i in range(0, len(piece), limit))
            continue
        joiner = "" if not current or current.endswith((" ", "\n")) else " "
        if len(current) + len(joiner) + len(piece) <= limit:
            current = current + joiner + piece if current else piece
        else:
            if current.strip():
                out.append(current)
            current = piece
    if current.strip():
        out.append(current)
    return out


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> List[str]:
    """Split ``text`` at paragraph, then sentence, then word boundaries into parts of at most ``limit``."""
    if text is None:
        return []
    text = str(text)
    if len(text) <= limit:
        return [text] if text.strip() else []
    parts = _pack(_pieces(text, _PARAGRAPH), limit, [_SENTENCE, _WORD])
    return [p.strip() for p in parts if p.strip()]
