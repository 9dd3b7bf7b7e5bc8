"""Unanswered questions for officers: grouped by similar wording, counted, then attached or dismissed.

The texts were masked (phone and ID numbers) before they were stored (onestop.handoffs.unanswered). Blocking functions.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Sequence

import sqlalchemy as sa

from infra import db
from knowledge.lexical import content_words
from vntext.textnorm import has_diacritics

# Questions typed into the console's try-the-bot page are not citizens' questions.
TRY_SENDER = "console-try"
SIMILARITY = 0.5
MAX_ROWS = 5000


@dataclass
class Group:
    """Similar unanswered questions."""

    ids: List[int] = field(default_factory=list)
    texts: List[str] = field(default_factory=list)       # distinct wordings, most frequent first
    reasons: Counter = field(default_factory=Counter)
    last_seen: dt.datetime = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    words: FrozenSet[str] = frozenset()
    _counts: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        """How many times it was asked."""
        return len(self.ids)

    @property
    def text(self) -> str:
        """The most frequent wording."""
        return self.texts[0] if self.texts else ""


def similarity(a: FrozenSet[str], b: FrozenSet[str]) -> float:
    """Jaccard overlap of folded content words (diacritics and shorthand do not matter)."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    return len(a & b) / len(a | b)


def group(rows: Sequence[Dict]) -> List[Group]:
    """Greedy grouping: each question joins the most similar group when the overlap is high enough."""
    groups: List[Group] = []
    for row in rows:
        words = frozenset(content_words(row["text"]))
        best, best_sim = None, SIMILARITY
        for g in groups:
            sim = similarity(words, g.words)
            if sim >= best_sim:
                best, best_sim = g, sim
        if best is None:
            best = Group(words=words)
            groups.append(best)
        best.ids.append(int(row["id"]))
        best._counts[row["text"]] += 1
        best.reasons[row["reason"]] += 1
        created = row["created_at"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.timezone.utc)
        best.last_seen = max(best.last_seen, created)
    for g in groups:
        # the wording shown first (and offered for attaching): the most asked, preferring one without masked
        # personal data, written with diacritics, and short
        g.texts = sorted(g._counts, key=lambda t: (-g._counts[t], "*" in t, not has_diacritics(t), len(t)))
    return sorted(groups, key=lambda g: (-g.count, -g.last_seen.timestamp()))


def open_groups() -> List[Group]:
    """Groups of the questions nobody handled yet."""
    table = db.unanswered
    query = (sa.select(table.c.id, table.c.text, table.c.reason, table.c.created_at)
             .where(table.c.status == "new", table.c.sender_id != TRY_SENDER)
             .order_by(table.c.created_at.desc()).limit(MAX_ROWS))
    with db.get_engine().connect() as conn:
        return group([dict(r._mapping) for r in conn.execute(query)])


def texts_of(ids: Sequence[int]) -> List[str]:
    """The stored (masked) texts of these rows that are still open."""
    table = db.unanswered
    with db.get_engine().connect() as conn:
        return [r.text for r in conn.execute(sa.select(table.c.text).where(table.c.id.in_(list(ids)),
                                                                           table.c.status == "new"))]


def set_status(ids: Sequence[int], status: str) -> int:
    """Mark rows attached or dismissed; return how many were still open."""
    table = db.unanswered
    with db.get_engine().begin() as conn:
        return conn.execute(table.update().where(table.c.id.in_(list(ids)), table.c.status == "new")
                            .values(status=status)).rowcount
