"""Retrieval evaluation on a JSONL file of {"q", "expected" (key or null = must decline), "aspect"}."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .search import SearchResult, Searcher


@dataclass
class EvalItem:
    """One labelled question."""

    q: str
    expected: Optional[str]
    aspect: Optional[str] = None
    kind: Optional[str] = None      # catalogue_edge.jsonl: outside, near_miss, inside_hard


@dataclass
class Metrics:
    """Scores of one mode on one file."""

    mode: str
    n: int = 0
    answerable: int = 0
    hit1: float = 0.0
    hit3: float = 0.0
    mrr5: float = 0.0
    aspect_acc: float = 0.0
    aspect_acc_answerable: float = 0.0
    decline_precision: float = 0.0
    decline_recall: float = 0.0
    declined: int = 0
    answered_correct: float = 0.0   # answerable, not declined and top-1 right
    misleading: int = 0             # answered with a key other than expected (any key when expected is null)
    misleading_rate: float = 0.0    # misleading / n
    misleading_by_kind: Dict[str, str] = field(default_factory=dict)
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    failures: List[Dict] = field(default_factory=list)


def load_items(path: Path) -> List[EvalItem]:
    """Read the labelled questions (blank lines ignored; the question under "q" or "question")."""
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = row["q"] if "q" in row else row["question"]
            items.append(EvalItem(q=q, expected=row.get("expected"), aspect=row.get("aspect"), kind=row.get("kind")))
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}:{n}: not a {{q, expected, aspect}} JSON line ({exc})") from exc
    return items


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def score(items: Sequence[EvalItem], results: Sequence[SearchResult], mode: str) -> Metrics:
    """Metrics of ``results`` against ``items`` (same order)."""
    m = Metrics(mode=mode, n=len(items))
    answerable = [(it, r) for it, r in zip(items, results) if it.expected]
    m.answerable = len(answerable)
    if answerable:
        ranks = [next((i + 1 for i, h in enumerate(r.results[:5]) if h.key == it.expected), None)
                 for it, r in answerable]
        m.hit1 = sum(1 for x in ranks if x == 1) / len(ranks)
        m.hit3 = sum(1 for x in ranks if x is not None and x <= 3) / len(ranks)
        m.mrr5 = sum(1.0 / x for x in ranks if x is not None) / len(ranks)
        m.answered_correct = sum(1 for (it, r), x in zip(answerable, ranks) if x == 1 and not r.declined) \
            / len(ranks)
        labelled = [(it, r) for it, r in answerable if it.aspect]
        if labelled:
            m.aspect_acc_answerable = sum(1 for it, r in labelled if r.aspect == it.aspect) / len(labelled)
    labelled_all = [(it, r) for it, r in zip(items, results) if it.aspect]
    if labelled_all:
        m.aspect_acc = sum(1 for it, r in labelled_all if r.aspect == it.aspect) / len(labelled_all)
    declined = [(it, r) for it, r in zip(items, results) if r.declined]
    negatives = [(it, r) for it, r in zip(items, results) if not it.expected]
    m.declined = len(declined)
    m.decline_precision = sum(1 for it, _ in declined if not it.expected) / len(declined) if declined else 0.0
    m.decline_recall = sum(1 for _, r in negatives if r.declined) / len(negatives) if negatives else 0.0
    kinds: Dict[str, List[int]] = {}
    for it, r in zip(items, results):
        bad = not r.declined and bool(r.results) and r.results[0].key != it.expected
        m.misleading += bad
        tally = kinds.setdefault(it.kind or "all", [0, 0])
        tally[0] += bad
        tally[1] += 1
    m.misleading_rate = m.misleading / m.n if m.n else 0.0
    m.misleading_by_kind = {k: f"{v[0]}/{v[1]}" for k, v in sorted(kinds.items())}
    times = [r.millis for r in results]
    m.p50_ms, m.p95_ms = _pct(times, 0.5), _pct(times, 0.95)
    for it, r in zip(items, results):
        top = r.results[0].key if r.results else None
        wrong_key = bool(it.expected) and top != it.expected
        wrong_decline = r.declined != (not it.expected)
        wrong_aspect = bool(it.aspect) and r.aspect != it.aspect
        if wrong_key or wrong_decline or wrong_aspect:
            m.failures.append({"q": it.q, "expected": it.expected, "got": [h.key for h in r.results[:3]],
                               "declined": r.declined, "reason": r.decline_reason, "aspect": r.aspect,
                               "expected_aspect": it.aspect})
    return m


def evaluate(searcher: Searcher, items: Sequence[EvalItem], modes: Sequence[str]) -> List[Metrics]:
    """Run every question in every mode and score them; a mode ending in "-noscope" runs without the scope check
    (the ranking's decline rule alone, as before the check existed)."""
    out = []
    for name in modes:
        mode, _, variant = name.partition("-")
        searcher.prepare(mode)
        results = [searcher.search(it.q, k=5, mode=mode, scope_check=variant != "noscope") for it in items]
        out.append(score(items, results, name))
    return out


ROWS = (("hit@1", "hit1"), ("hit@3", "hit3"), ("MRR@5", "mrr5"), ("aspect accuracy", "aspect_acc"),
        ("aspect acc. (answerable)", "aspect_acc_answerable"), ("decline precision", "decline_precision"),
        ("decline recall", "decline_recall"), ("answered & right", "answered_correct"),
        ("misleading (share of all)", "misleading_rate"),
        ("latency p50 ms", "p50_ms"), ("latency p95 ms", "p95_ms"))


def table(metrics: Sequence[Metrics]) -> str:
    """A plain-text table, one column per mode."""
    names = {"bm25": "BM25-only", "dense": "dense-only", "hybrid": "hybrid", "bm25-noscope": "BM25 (old)",
             "dense-noscope": "dense (old)", "hybrid-noscope": "hybrid (old)"}
    head = f"{'metric':<26}" + "".join(f"{names.get(m.mode, m.mode):>12}" for m in metrics)
    lines = [head, "-" * len(head)]
    for label, attr in ROWS:
        fmt = "{:>12.1f}" if attr.endswith("_ms") else "{:>12.3f}"
        lines.append(f"{label:<26}" + "".join(fmt.format(getattr(m, attr)) for m in metrics))
    first = metrics[0]
    kinds = sorted(first.misleading_by_kind)
    if kinds != ["all"]:
        for kind in kinds:
            lines.append(f"{'misleading ' + kind:<26}" + "".join(f"{m.misleading_by_kind.get(kind, ''):>12}"
                                                                 for m in metrics))
    lines.append(f"{first.n} questions, {first.answerable} answerable, {first.n - first.answerable} must decline")
    return "\n".join(lines)
