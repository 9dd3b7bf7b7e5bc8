"""Evaluation of the catalogue tier: hit@1/3 per mode on questions with an expected national code, and how often
questions that neither tier should answer are answered anyway; the two tiers together on the curated dev sets."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .search import CatalogueSearcher, base_name
from .tiers import search_tiers



@dataclass
class CatItem:
    """One question: expected national code (or None: must not be answered by the catalogue)."""

    q: str
    expected: Optional[str]
    style: str = ""
    acceptable: List[str] = field(default_factory=list)   # for null items: catalogue records judged right


@dataclass
class CatMetrics:
    """Scores of one mode."""

    mode: str
    n: int = 0
    hit1: float = 0.0
    hit3: float = 0.0
    answered_right: float = 0.0     # not declined and top-1 right
    declined_pos: float = 0.0       # share of answerable questions declined
    asked_pos: float = 0.0          # share of answerable questions answered by "which of these?" buttons
    asked_right: float = 0.0        # ... with the expected record among the buttons
    wrong_pos: float = 0.0          # answered outright with another record (misleading)
    null_n: int = 0
    null_answered: float = 0.0      # share of curated-null questions answered outright by the catalogue
    null_wrong: float = 0.0         # ... with a record not judged right for it (misleading)
    null_asked: float = 0.0         # share of curated-null questions answered by "which of these?" buttons
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    by_style: Dict[str, float] = field(default_factory=dict)   # hit@1 per style
    failures: List[Dict] = field(default_factory=list)


def load_questions(path: Path) -> List[CatItem]:
    """Our own catalogue questions ({"q", "expected", "style"} per line)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(CatItem(row.get("q") or row.get("question"), row.get("expected"), row.get("style", "")))
    return out


def load_nulls(paths: Sequence[Path], judgements: Optional[Path] = None) -> List[CatItem]:
    """The questions with a null ``expected`` of curated dev files (retrieval.jsonl / catalogue_edge.jsonl).

    ``judgements`` (JSONL of {file, line, acceptable: [codes]}; file names and line numbers only, no sentences)
    lists the catalogue records a reviewer judged to answer such a question correctly: the curated tier must
    decline it, but the national catalogue may really hold it.
    """
    judged: Dict[tuple, List[str]] = {}
    if judgements and Path(judgements).exists():
        for line in Path(judgements).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                judged[(row["file"], int(row["line"]))] = list(row.get("acceptable", []))
    out = []
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                if not row.get("expected"):
                    out.append(CatItem(row.get("q") or row.get("question"), None, row.get("kind", ""),
                                       judged.get((Path(path).name, n), [])))
    return out


def same_procedure(searcher: CatalogueSearcher, got: str, expected: str) -> bool:
    """True for the expected record, or one published with the same name for another level."""
    if got == expected:
        return True
    a, b = searcher.catalogue.get(got), searcher.catalogue.get(expected)
    if a is None or b is None:
        return False
    return base_name(a.name) == base_name(b.name)


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def evaluate(searcher: CatalogueSearcher, items: Sequence[CatItem], nulls: Sequence[CatItem],
             modes: Sequence[str]) -> List[CatMetrics]:
    """Every question in every mode, scored."""
    out = []
    for mode in modes:
        searcher.prepare(mode)
        m = CatMetrics(mode=mode, n=len(items), null_n=len(nulls))
        times: List[float] = []
        styles: Dict[str, List[int]] = {}
        for it in items:
            r = searcher.search(it.q, k=5, mode=mode)
            times.append(r.millis)
            ids = [h.id for h in r.results]
            rank = next((i + 1 for i, x in enumerate(ids) if same_procedure(searcher, x, it.expected)), None)
            m.hit1 += rank == 1
            m.hit3 += rank is not None and rank <= 3
            m.answered_right += rank == 1 and r.answered
            m.wrong_pos += rank != 1 and r.answered
            m.declined_pos += r.declined
            m.asked_pos += r.ambiguous
            m.asked_right += r.ambiguous and any(same_procedure(searcher, h.id, it.expected)
                                                 for h in r.candidates())
            styles.setdefault(it.style, []).append(int(rank == 1))
            if rank != 1 or not r.answered:
                m.failures.append({"q": it.q, "expected": it.expected, "got": ids[:3], "declined": r.declined,
                                   "reason": r.reason or ("ambiguous" if r.ambiguous else "")})
        for it in nulls:
            r = searcher.search(it.q, k=5, mode=mode)
            times.append(r.millis)
            m.null_asked += r.ambiguous
            if r.answered:
                m.null_answered += 1
                wrong = r.top.id not in it.acceptable
                m.null_wrong += wrong
                if wrong:
                    m.failures.append({"q": it.q, "expected": None, "got": [r.top.id, r.top.name[:90]],
                                       "declined": False, "reason": f"coverage {r.coverage:.2f}"})
        n = max(len(items), 1)
        for name in ("hit1", "hit3", "answered_right", "wrong_pos", "declined_pos", "asked_pos", "asked_right"):
            setattr(m, name, getattr(m, name) / n)
        nn = max(len(nulls), 1)
        m.null_answered, m.null_wrong, m.null_asked = m.null_answered / nn, m.null_wrong / nn, m.null_asked / nn
        m.p50_ms, m.p95_ms = _pct(times, 0.5), _pct(times, 0.95)
        m.by_style = {s: sum(v) / len(v) for s, v in sorted(styles.items())}
        out.append(m)
    return out


ROWS = (("hit@1", "hit1"), ("hit@3", "hit3"), ("answered & right", "answered_right"),
        ("answered wrong", "wrong_pos"), ("asked which (buttons)", "asked_pos"),
        ("asked, right one offered", "asked_right"), ("declined", "declined_pos"),
        ("curated-null: answered", "null_answered"), ("curated-null: misleading", "null_wrong"),
        ("curated-null: asked which", "null_asked"),
        ("latency p50 ms", "p50_ms"), ("latency p95 ms", "p95_ms"))


def table(metrics: Sequence[CatMetrics]) -> str:
    """Plain-text table, one column per mode."""
    names = {"bm25": "BM25-only", "dense": "dense-only", "hybrid": "hybrid"}
    head = f"{'metric':<26}" + "".join(f"{names.get(m.mode, m.mode):>12}" for m in metrics)
    lines = [head, "-" * len(head)]
    for label, attr in ROWS:
        fmt = "{:>12.1f}" if attr.endswith("_ms") else "{:>12.3f}"
        lines.append(f"{label:<26}" + "".join(fmt.format(getattr(m, attr)) for m in metrics))
    for style in metrics[0].by_style:
        lines.append(f"{'hit@1 ' + (style or '-'):<26}" + "".join(f"{m.by_style.get(style, 0):>12.3f}"
                                                                    for m in metrics))
    first = metrics[0]
    lines.append(f"{first.n} catalogue questions with an expected code; {first.null_n} questions the curated "
                 "tier must decline (misleading = answered with a record not judged right for it)")
    return "\n".join(lines)


def tier_outcomes(curated: object, catalogue: Optional[CatalogueSearcher], rows: Sequence[Dict]) -> Dict[str, int]:
    """Counts of who answered each curated dev question (curated right/wrong, catalogue, declined by both)."""
    counts = {"curated_right": 0, "curated_wrong": 0, "catalogue": 0, "declined": 0}
    for row in rows:
        q = row.get("q") or row.get("question")
        t = search_tiers(curated, catalogue, q)
        if t.tier == "curated":
            counts["curated_right" if t.key == row.get("expected") else "curated_wrong"] += 1
        else:
            counts[t.tier if t.tier == "catalogue" else "declined"] += 1
    return counts
