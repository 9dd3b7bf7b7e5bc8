"""The action server's access to the knowledge search, loaded once per process and run off the event loop."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

log = logging.getLogger(__name__)

# The top procedure is "clearly" the answer when it leads the next one by this much fused score; below it a
# question that names no procedure gets a clarifying question instead of a guess.
AMBIGUOUS_MARGIN = 0.08
# A declined question still gets these candidates as buttons ("did you mean ...?") when they score this well
# (fused BM25 + dense score of the hybrid search) and not far below the best one.
PLAUSIBLE_SCORE = 2.5
PLAUSIBLE_RATIO = 0.6

_searcher: Any = None
# One worker: model inference is CPU-bound and the searcher is not meant for concurrent use.
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge")


class SearchUnavailable(Exception):
    """The index or the embedding model cannot be loaded."""


@dataclass
class Result:
    """One candidate procedure."""

    key: str
    name: str
    score: float
    plausible: bool = False


@dataclass
class SearchOutcome:
    """What the action needs from a search."""

    declined: bool
    aspect: str
    results: List[Result] = field(default_factory=list)
    mentions_procedure: bool = False
    ambiguous: bool = False


@dataclass
class ComposedAnswer:
    """Answer text and the follow-up aspects to offer."""

    text: str
    follow_ups: List[Dict[str, str]]


def searcher() -> Any:
    """The process-wide searcher (index built or loaded on first use)."""
    global _searcher
    if _searcher is None:
        from knowledge.search import make_searcher

        try:
            _searcher = make_searcher().prepare()
        except Exception as exc:
            raise SearchUnavailable(str(exc)) from exc
    return _searcher


def reload() -> None:
    """Forget the searcher so the next question loads the newly published index."""
    global _searcher
    _searcher = None


def _search_sync(text: str) -> SearchOutcome:
    result = searcher().search(text)
    feats = result.features or {}
    mentions = float(feats.get("alias_match", 0.0)) >= 1.0
    margin = float(feats.get("fused_margin", 1.0))
    best = float(result.results[0].score) if result.results else 0.0
    results = [Result(h.key, h.name, float(h.score),
                      plausible=i < 3 and h.score >= PLAUSIBLE_SCORE and h.score >= PLAUSIBLE_RATIO * best)
               for i, h in enumerate(result.results)]
    return SearchOutcome(declined=result.declined, aspect=result.aspect, results=results,
                         mentions_procedure=mentions,
                         ambiguous=not result.declined and not mentions and margin < AMBIGUOUS_MARGIN)


async def search(text: str) -> SearchOutcome:
    """Search the knowledge base without blocking the event loop."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor, _search_sync, text)
    except SearchUnavailable:
        raise
    except Exception as exc:
        log.exception("knowledge search failed")
        raise SearchUnavailable(str(exc)) from exc


def has_procedure(key: str) -> bool:
    """True when the knowledge base holds ``key``."""
    return key in searcher().kb.procedures


def compose(key: str, aspect: str) -> ComposedAnswer:
    """The composed answer for (procedure, aspect), with the other aspects as follow-ups."""
    from knowledge.compose import compose as compose_answer

    answer = compose_answer(searcher().kb.procedures[key], aspect)
    follow_ups = [{"title": f["title"], "aspect": _aspect_of(f)} for f in answer.followups]
    return ComposedAnswer(text=answer.text, follow_ups=follow_ups)


def _aspect_of(follow_up: Dict[str, str]) -> str:
    import json

    payload = follow_up.get("payload", "")
    try:
        return json.loads(payload[payload.index("{"):]).get("aspect", "general")
    except (ValueError, AttributeError):
        return "general"


def warm_up() -> Optional[float]:
    """Load the model and index now (start-up), returning the seconds it took, or None on failure."""
    import time

    start = time.perf_counter()
    try:
        searcher().search("làm giấy khai sinh cần gì")
    except Exception:
        log.exception("knowledge warm-up failed")
        return None
    return time.perf_counter() - start
