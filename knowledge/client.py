"""The action server's access to the knowledge search, loaded once per process and run off the event loop."""
from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

log = logging.getLogger(__name__)

# The top procedure is "clearly" the answer when it leads the next one by this much fused score; below it a
# question that names no procedure gets a clarifying question instead of a guess.
AMBIGUOUS_MARGIN = 0.08
# A declined question still gets these candidates as buttons ("did you mean ...?") when they score this well
# (fused BM25 + dense score of the hybrid search) and not far below the best one.
PLAUSIBLE_SCORE = 2.5
PLAUSIBLE_RATIO = 0.6

# How often (seconds) a search looks whether a newer index was published (KB_RELOAD_CHECK_SECONDS; 0 = never).
DEFAULT_RELOAD_CHECK_SECONDS = 3.0

_searcher: Any = None
_catalogue: Any = None                         # the national catalogue tier (None when not imported or switched off)
_stamp: Optional[Tuple[int, int]] = None      # (mtime_ns, size) of the index's meta.json the searcher was loaded with
_next_check = 0.0
_reloading: Optional[threading.Thread] = None
_reload_lock = threading.Lock()
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
class CatalogueOutcome:
    """The catalogue tier's answer when the curated tier declined: one record, or candidates to choose from."""

    key: str                                   # "cat:<record id>"
    name: str
    ambiguous: bool = False
    candidates: List[Result] = field(default_factory=list)


@dataclass
class SearchOutcome:
    """What the action needs from a search."""

    declined: bool
    aspect: str
    results: List[Result] = field(default_factory=list)
    mentions_procedure: bool = False
    ambiguous: bool = False
    catalogue: Optional[CatalogueOutcome] = None   # set only when the curated tier declined
    decline_reason: str = ""
    decline_kind: str = ""      # unnamed, lookalike, outside or empty (knowledge.search.SearchResult)


@dataclass
class ComposedAnswer:
    """Answer text and the follow-up aspects to offer."""

    text: str
    follow_ups: List[Dict[str, str]]


def searcher() -> Any:
    """The process-wide searcher (index built or loaded on first use; a newly published one swapped in)."""
    global _searcher, _stamp
    if _searcher is None:
        from knowledge.search import make_searcher

        try:
            fresh = make_searcher()
            stamp = _index_stamp(fresh.cfg.index_dir)
            _searcher = fresh.prepare()
            _stamp = stamp if stamp is not None else _index_stamp(fresh.cfg.index_dir)
        except Exception as exc:
            raise SearchUnavailable(str(exc)) from exc
        _load_catalogue(_searcher)
    else:
        _maybe_reload(_searcher)
    return _searcher


def _load_catalogue(curated: Any) -> None:
    """Load the catalogue tier beside the curated searcher (sharing its model); without one, curated only."""
    global _catalogue
    from knowledge.catalogue.tiers import load_catalogue_searcher

    try:
        _catalogue = load_catalogue_searcher(curated.embedder, faiss_kind=curated.cfg.faiss_kind)
    except Exception:
        log.exception("could not load the national catalogue tier; answering from curated guidance only")
        _catalogue = None


def catalogue() -> Any:
    """The catalogue tier's searcher, or None."""
    searcher()
    return _catalogue


def reload() -> None:
    """Forget the searcher (and the catalogue tier) so the next question loads the newly published index."""
    global _searcher, _stamp, _catalogue
    _searcher = None
    _stamp = None
    _catalogue = None


def install(ready: Any) -> None:
    """Serve this prepared searcher from now on (the console and tests reuse an already loaded model)."""
    global _searcher, _stamp
    _stamp = _index_stamp(ready.cfg.index_dir)
    _searcher = ready
    _load_catalogue(ready)


def _check_interval() -> float:
    value = os.environ.get("KB_RELOAD_CHECK_SECONDS", "").strip()
    try:
        return float(value) if value else DEFAULT_RELOAD_CHECK_SECONDS
    except ValueError:
        return DEFAULT_RELOAD_CHECK_SECONDS


def _index_stamp(index_dir: Any) -> Optional[Tuple[int, int]]:
    """(mtime_ns, size) of the index metadata: a build saves a new folder, so a new publish changes it."""
    try:
        st = os.stat(os.path.join(str(index_dir), "meta.json"))
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _maybe_reload(current: Any) -> None:
    """At most every few seconds, look whether a newer index was published; if so load it in the background."""
    global _next_check, _reloading
    interval = _check_interval()
    now = time.monotonic()
    if interval <= 0 or now < _next_check:
        return
    _next_check = now + interval
    stamp = _index_stamp(current.cfg.index_dir)
    if stamp is None or stamp == _stamp:
        return
    with _reload_lock:
        if _reloading is not None and _reloading.is_alive():
            return
        # Requests keep using the current searcher while the new one loads; the swap is one assignment.
        _reloading = threading.Thread(target=_load_new, args=(current, stamp), name="knowledge-reload", daemon=True)
        _reloading.start()


def _load_new(current: Any, stamp: Tuple[int, int]) -> None:
    """Load the published knowledge base and index next to the running searcher, then swap them."""
    global _searcher, _stamp
    from knowledge.search import Searcher

    try:
        # The embedding model does not change with the content: reuse the loaded one (no second copy in memory).
        fresh = Searcher(current.cfg, embedder=current.embedder).prepare()
    except Exception:
        log.exception("could not load the newly published knowledge index; still serving the previous one")
        _stamp = stamp  # do not retry a broken publish on every request; the next publish changes the stamp
        return
    if _searcher is current:
        _searcher, _stamp = fresh, stamp
        log.info("knowledge index reloaded (%d procedures)", len(fresh.kb.procedures))


def wait_for_reload(timeout: float = 60.0) -> bool:
    """Block until a background reload in progress has finished (tests, the console); True when none is left."""
    thread = _reloading
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _plausible(kind: str, i: int, score: float, best: float, named: bool) -> bool:
    """Is the i-th candidate of a declined question worth offering as "did you mean"? Never for a topic outside
    the base (a karaoke licence is not household business registration); for a look-alike only the procedure it
    resembles, and only when the question names it; for a vague question the candidates that score well and
    close to the best."""
    if kind == "outside" or kind == "empty":
        return False
    if kind == "lookalike":
        return i == 0 and named
    return i < 3 and score >= PLAUSIBLE_SCORE and score >= PLAUSIBLE_RATIO * best


def _search_sync(text: str) -> SearchOutcome:
    result = searcher().search(text)
    feats = result.features or {}
    mentions = float(feats.get("alias_match", 0.0)) >= 1.0
    margin = float(feats.get("fused_margin", 1.0))
    best = float(result.results[0].score) if result.results else 0.0
    kind = result.decline_kind if result.declined else ""
    named = bool(feats.get("names_top"))
    results = [Result(h.key, h.name, float(h.score), plausible=_plausible(kind, i, float(h.score), best, named))
               for i, h in enumerate(result.results)]
    outcome = SearchOutcome(declined=result.declined, aspect=result.aspect, results=results,
                            mentions_procedure=mentions,
                            ambiguous=not result.declined and not mentions and margin < AMBIGUOUS_MARGIN,
                            decline_reason=result.decline_reason, decline_kind=kind)
    if result.declined and _catalogue is not None:   # curated guidance always wins: the catalogue only after it
        try:
            outcome.catalogue = _catalogue_outcome(_catalogue.search(text))
        except Exception:  # a broken second tier must not hide the curated decline
            log.exception("the national catalogue tier failed; answering with the curated decline")
    return outcome


def _catalogue_outcome(found: Any) -> Optional[CatalogueOutcome]:
    """The catalogue's answer, or None when it declines too."""
    from knowledge.catalogue.tiers import CATALOGUE_KEY_PREFIX, curated_key_for

    if found.declined or found.top is None:
        return None
    curated = curated_key_for(found.top.code, searcher().kb.procedures) if found.answered else None
    if curated is not None:   # the record is one of ours: answer with the curated guidance
        return CatalogueOutcome(key=curated, name=searcher().kb.procedures[curated].name)
    candidates = [Result(CATALOGUE_KEY_PREFIX + h.id, h.name, float(h.score), plausible=True)
                  for h in found.candidates()] if found.ambiguous else []
    return CatalogueOutcome(key=CATALOGUE_KEY_PREFIX + found.top.id, name=found.top.name,
                            ambiguous=found.ambiguous and len(candidates) > 1, candidates=candidates)


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


def _catalogue_record(key: str) -> Any:
    from knowledge.catalogue.tiers import CATALOGUE_KEY_PREFIX

    cat = catalogue()
    return cat.catalogue.get(key[len(CATALOGUE_KEY_PREFIX):]) if cat is not None else None


def is_catalogue_key(key: Optional[str]) -> bool:
    """True for the key of a national catalogue entry ("cat:<record id>")."""
    from knowledge.catalogue.tiers import CATALOGUE_KEY_PREFIX

    return bool(key) and str(key).startswith(CATALOGUE_KEY_PREFIX)


def has_procedure(key: str) -> bool:
    """True when the knowledge base (or the catalogue, for "cat:" keys) holds ``key``."""
    if is_catalogue_key(key):
        return _catalogue_record(key) is not None
    return key in searcher().kb.procedures


def procedure_name(key: str) -> str:
    """The name citizens see for ``key`` (curated or catalogue), the key itself when unknown."""
    if is_catalogue_key(key):
        record = _catalogue_record(key)
        return str(getattr(record, "name", "") or key)
    proc = searcher().kb.procedures.get(key)
    return proc.name if proc is not None else key


def compose(key: str, aspect: str) -> ComposedAnswer:
    """The composed answer for (procedure, aspect), with the other aspects as follow-ups."""
    from knowledge.compose import compose as compose_answer

    if is_catalogue_key(key):
        from knowledge.catalogue.answer import compose_record

        answer = compose_record(_catalogue_record(key), aspect)
    else:
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
