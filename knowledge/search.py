"""Hybrid search: BM25 and dense halves fused per procedure, aspect detection and the decline decision."""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from vntext.textnorm import canonical_words

from .aspects import detect_aspect
from .background import OOS_KEY, background_texts
from .chunks import Chunk, build_chunks
from .config import Config, FusionWeights, load_config
from .decline import DeclineModel, Features
from .embeddings import Embedder
from .index import DenseIndex, ensure_index, set_faiss_threads
from .lexical import BM25, accented_vocabulary, content_words, identity_words, query_tokens
from .schema import KnowledgeBase, Procedure, load_knowledge_base
from .scope import ScopeChecker

log = logging.getLogger(__name__)
DENSE_CANDIDATES = 400


@dataclass
class Hit:
    """One ranked procedure with the chunk that matched best."""

    key: str
    name: str
    score: float
    chunk_id: str = ""
    chunk_kind: str = ""
    chunk_text: str = ""
    lexical: float = 0.0
    dense: float = 0.0


@dataclass
class SearchResult:
    """What the search found for one question."""

    query: str
    declined: bool
    decline_reason: str
    aspect: str
    results: List[Hit] = field(default_factory=list)
    mode: str = "hybrid"
    features: Dict[str, float] = field(default_factory=dict)
    millis: float = 0.0
    # why it declined, for the reply: "unnamed" (no procedure named or matched well enough), "lookalike" (sounds
    # like the top procedure but is one it declares it is not for), "outside" (a topic the base does not cover),
    # "empty" (nothing to search); "" when answered
    decline_kind: str = ""

    @property
    def top(self) -> Optional[Hit]:
        """The best hit, if any."""
        return self.results[0] if self.results else None

    def to_json(self, verbose: bool = False) -> Dict:
        """The CLI's JSON shape (plus chunk details and features when ``verbose``)."""
        out = {"query": self.query, "declined": self.declined, "aspect": self.aspect,
               "results": [{"key": h.key, "name": h.name, "score": round(float(h.score), 4)} for h in self.results]}
        if verbose:
            out["decline_reason"] = self.decline_reason
            out["decline_kind"] = self.decline_kind
            out["mode"] = self.mode
            out["features"] = {k: round(float(v), 4) for k, v in self.features.items()}
            out["results"] = [dict(asdict(h), score=round(float(h.score), 4), lexical=round(float(h.lexical), 4),
                                   dense=round(float(h.dense), 4)) for h in self.results]
        return out


def _group_max(values: np.ndarray, groups: np.ndarray, n_groups: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per-group maximum of ``values`` and the position achieving it (-1 for empty groups)."""
    best = np.full(n_groups, -np.inf, dtype=np.float64)
    arg = np.full(n_groups, -1, dtype=np.int64)
    order = np.argsort(values, kind="stable")  # ascending: later (larger) values overwrite
    best[groups[order]] = values[order]
    arg[groups[order]] = order
    return best, arg


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, best (largest) first."""
    r = np.empty(len(x))
    r[np.argsort(-x, kind="stable")] = np.arange(1, len(x) + 1)
    return r


def fuse(lex: np.ndarray, dense: np.ndarray, weights: FusionWeights,
         alias: Optional[np.ndarray] = None) -> np.ndarray:
    """Fuse per-procedure lexical and dense scores, plus the alias-match bonus when given.

    "score": weighted sum of standard scores (how much each procedure stands out in each half) + alias bonus;
    "rrf": weighted reciprocal-rank fusion, the alias match being a third ranking.
    """
    if weights.method == "rrf":
        out = weights.lexical / (weights.rrf_k + _ranks(lex)) + weights.dense / (weights.rrf_k + _ranks(dense))
        if alias is not None and weights.alias:
            out = out + weights.alias * (alias > 0) / (weights.rrf_k + _ranks(alias))
        return out
    out = weights.lexical * standardize(lex) + weights.dense * standardize(dense)
    if alias is not None and weights.alias:
        out = out + weights.alias * alias
    return out


def standardize(x: np.ndarray) -> np.ndarray:
    """(x - mean) / std over the candidate procedures: how much each one stands out (0 when all are equal)."""
    if len(x) < 2:
        return np.zeros_like(x, dtype=np.float64)
    std = float(np.std(x))
    return (x - float(np.mean(x))) / std if std > 1e-12 else np.zeros_like(x, dtype=np.float64)


class Searcher:
    """Searches the knowledge base; loads the KB, the BM25 index and (for dense modes) the model lazily."""

    def __init__(self, cfg: Optional[Config] = None, *, embedder: Optional[Embedder] = None,
                 kb: Optional[KnowledgeBase] = None, decline: Optional[DeclineModel] = None,
                 scope_check: bool = True):
        self.cfg = cfg or load_config()
        self.scope_check = scope_check   # off: the ranking's decline rule alone (for comparison)
        self._scope: Optional[ScopeChecker] = None
        self._embedder = embedder
        self._kb = kb
        self.decline_model = decline or DeclineModel()
        self._chunks: Optional[List[Chunk]] = None
        self._bm25: Optional[BM25] = None
        self._dense: Optional[DenseIndex] = None
        self._keys: List[str] = []
        self._chunk_group: Optional[np.ndarray] = None
        self._ident: Optional[Dict[str, List[List[Tuple[str, float]]]]] = None
        self._accented: Dict[str, Dict[str, set]] = {}
        self.build_stats = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------------------------------- lazy parts
    @property
    def kb(self) -> KnowledgeBase:
        """The loaded knowledge base (validation errors are logged, valid procedures still served)."""
        with self._lock:
            return self._load_kb()

    def _load_kb(self) -> KnowledgeBase:
        if self._kb is None:
            self._kb = load_knowledge_base(self.cfg.kb_dir)
            if self._kb.errors:
                log.warning("the knowledge base has %d validation problem(s) (first: %s); "
                            "run `python -m knowledge validate`", len(self._kb.errors), self._kb.errors[0])
        return self._kb

    @property
    def embedder(self) -> Embedder:
        """The embedding model wrapper (model itself loads on first use)."""
        if self._embedder is None:
            self._embedder = Embedder.from_config(self.cfg)
        return self._embedder

    @property
    def chunks(self) -> List[Chunk]:
        """Procedure chunks followed by the out-of-scope anchors."""
        with self._lock:
            return self._build_chunks()

    def _build_chunks(self) -> List[Chunk]:
        if self._chunks is None:
            chunks = build_chunks(self.kb.procedures)
            chunks += [Chunk(f"{OOS_KEY}#bg{i}", OOS_KEY, "background", t) for i, t in enumerate(background_texts())]
            self._chunks = chunks
            self._keys = sorted(self.kb.procedures) + [OOS_KEY]
            pos = {k: i for i, k in enumerate(self._keys)}
            self._chunk_group = np.array([pos[c.key] for c in chunks], dtype=np.int64)
        return self._chunks

    @property
    def scope(self) -> ScopeChecker:
        """The scope check over the procedures' own words, their not_for look-alikes and the anchor topics."""
        with self._lock:
            if self._scope is None:
                texts: Dict[str, List[str]] = {}
                for c in self.chunks:
                    if c.key != OOS_KEY:
                        texts.setdefault(c.key, []).append(c.text)
                procs = self.kb.procedures
                self._scope = ScopeChecker.build(texts, {k: p.not_for for k, p in procs.items()},
                                                 background_texts(),
                                                 {k: [p.name] + p.aliases for k, p in procs.items()})
            return self._scope

    @property
    def bm25(self) -> BM25:
        """The lexical index over all chunks."""
        if self._bm25 is None:
            self._bm25 = BM25([c.text for c in self.chunks])
        return self._bm25

    def dense_index(self, rebuild: bool = False, allow_model_change: bool = False) -> DenseIndex:
        """The dense index, built or refreshed incrementally when missing or stale."""
        with self._lock:
            return self._dense_index(rebuild, allow_model_change)

    def _dense_index(self, rebuild: bool, allow_model_change: bool) -> DenseIndex:
        if self._dense is None or rebuild:
            self._dense, self.build_stats = ensure_index(
                self.cfg.index_dir, self.chunks, self.embedder, kb_version=self.kb.version,
                faiss_kind=self.cfg.faiss_kind, rebuild=rebuild, allow_model_change=allow_model_change)
            set_faiss_threads(1)
        return self._dense

    def prepare(self, mode: Optional[str] = None) -> "Searcher":
        """Load everything ``mode`` needs now (instead of on the first question)."""
        mode = mode or self.cfg.mode
        _ = self.bm25
        if mode != "bm25":
            self.dense_index()
            self.embedder.embed_query("khởi động")
        return self

    # ------------------------------------------------------------------------------------------- scoring
    def _lexical_chunk_scores(self, query: str) -> np.ndarray:
        return self.bm25.scores(query).astype(np.float64)

    def _dense_chunk_scores(self, query: str) -> np.ndarray:
        index = self.dense_index()
        qvec = self.embedder.embed_query(query)
        n = len(self.chunks)
        scores, ids = index.search(qvec, min(n, DENSE_CANDIDATES))
        out = np.full(n, np.nan, dtype=np.float64)
        out[ids] = scores
        floor = float(np.min(scores)) if len(scores) else 0.0
        out[np.isnan(out)] = floor
        return out

    def _identity(self) -> Dict[str, List[List[Tuple[str, float]]]]:
        """Per procedure, each name/alias as [(syllable, specificity)]; specificity is 1 for a syllable used by the
        names of one procedure only and falls to 0 for syllables every procedure's names use ("đăng", "ký").
        Function words are left out ("sang ten so hong" must not be named by "không" via the shorthand "hong")."""
        if self._ident is None:
            procs = self.kb.procedures
            names = {k: [p.name] + p.aliases for k, p in procs.items()}
            words = {k: [identity_words(a) for a in aliases] for k, aliases in names.items()}
            df: Dict[str, int] = {}
            for per_alias in words.values():
                for w in {w for ws in per_alias for w in ws}:
                    df[w] = df.get(w, 0) + 1
            n = max(len(procs), 2)
            spec = {w: math.log(n / d) / math.log(n) for w, d in df.items()}
            self._ident = {k: [[(w, spec[w]) for w in ws] for ws in per_alias] for k, per_alias in words.items()}
            self._accented = {k: accented_vocabulary(aliases + procs[k].examples) for k, aliases in names.items()}
        return self._ident

    def _alias_scores(self, query: str) -> np.ndarray:
        """alias_match of every procedure, in key order."""
        return np.array([self._alias_match(k, query) for k in self._keys[:-1]], dtype=np.float64)

    def _alias_match(self, key: str, query: str) -> float:
        """How completely the question names the procedure: the best specificity-weighted share of one alias's
        syllables found in the question, an accented question word counting only when it is the procedure's own
        spelling ("vàng" does not match "tạm vắng")."""
        aliases = self._identity().get(key, [])
        qtokens = query_tokens(query)
        own = self._accented.get(key, {})
        qwords = [w if acc is None or acc in own.get(w, {acc}) else "\0" + w for w, acc in qtokens]
        qset = set(qwords)
        best = 0.0
        for alias in aliases:
            total = sum(v for _, v in alias)
            if total <= 0:
                continue
            found = sum(v for w, v in alias if w in qset)
            best = max(best, found / total)
        return best

    def names_procedure(self, key: str, query: str) -> bool:
        """Does the question name the procedure by one of its names or aliases, unambiguously? Like alias_match,
        but an alias reduced to one syllable by its function words ("làm sổ đỏ" -> "sổ", "khai tử" -> "khai")
        must appear with its neighbour ("sổ đỏ", "khai tử"), not inside another word ("hồ sơ", "kê khai")."""
        aliases = self._identity().get(key, [])
        names = [self.kb.procedures[key].name] + self.kb.procedures[key].aliases
        qtokens = query_tokens(query)
        own = self._accented.get(key, {})
        qwords = [w if acc is None or acc in own.get(w, {acc}) else "\0" + w for w, acc in qtokens]
        qset = set(qwords)
        qpairs = {f"{a}_{b}" for a, b in zip(qwords, qwords[1:])}
        for alias, text in zip(aliases, names):
            total = sum(v for _, v in alias)
            if total <= 0 or sum(v for w, v in alias if w in qset) / total < self.decline_model.full_alias:
                continue
            if len(alias) >= 2:
                return True
            words = canonical_words(text)
            pairs = {f"{a}_{b}" for a, b in zip(words, words[1:]) if alias[0][0] in (a, b)}
            if not pairs or pairs & qpairs:
                return True
        return False

    def search(self, query: str, k: int = 5, mode: Optional[str] = None,
               scope_check: Optional[bool] = None) -> SearchResult:
        """Rank procedures for ``query``, detect the aspect, and decide whether to decline."""
        start = time.perf_counter()
        mode = mode or self.cfg.mode
        chunks = self.chunks
        n_groups = len(self._keys)
        groups = self._chunk_group
        oos = n_groups - 1
        aspect = detect_aspect(query)
        if not self.kb.procedures or not query.strip():
            return SearchResult(query, True, "empty knowledge base" if query.strip() else "empty question", aspect,
                                mode=mode, decline_kind="empty")
        lex_chunks = self._lexical_chunk_scores(query) if mode != "dense" else np.zeros(len(chunks))
        dense_chunks = self._dense_chunk_scores(query) if mode != "bm25" else np.zeros(len(chunks))
        lex_best, lex_arg = _group_max(lex_chunks, groups, n_groups)
        dense_best, dense_arg = _group_max(dense_chunks, groups, n_groups)
        procs = slice(0, oos)
        if mode == "bm25":
            fused = fuse(lex_best[procs], np.zeros(oos), FusionWeights(lexical=1.0, dense=0.0))
        elif mode == "dense":
            fused = fuse(np.zeros(oos), dense_best[procs], FusionWeights(lexical=0.0, dense=1.0))
        else:
            alias = self._alias_scores(query) if self.cfg.fusion.alias else None
            fused = fuse(lex_best[procs], dense_best[procs], self.cfg.fusion, alias)
        # ties (e.g. nothing matched lexically) are broken by the other half; the reported chunk is the lexical
        # one when it is a strong match, else the closest by meaning
        tiebreak = 1e-6 * (dense_best[procs] if mode != "dense" else lex_best[procs])
        order = np.argsort(-(fused + tiebreak), kind="stable")
        hits: List[Hit] = []
        for gi in order[:k]:
            key = self._keys[gi]
            proc: Procedure = self.kb.procedures[key]
            ci = lex_arg[gi] if mode == "bm25" else dense_arg[gi] if mode == "dense" else (
                lex_arg[gi] if lex_best[gi] > 0 and (lex_chunks[lex_arg[gi]] / max(lex_best[procs].max(), 1e-9))
                >= 0.5 else dense_arg[gi])
            c = chunks[ci]
            hits.append(Hit(key, proc.name, float(fused[gi]), c.id, c.kind, c.text, float(lex_best[gi]),
                            float(dense_best[gi])))
        feats = self._features(query, order, fused, lex_best, dense_best, oos, mode)
        declined, reason = self.decline_model.decide(feats, mode)
        kind = "empty" if feats.n_words == 0 else "unnamed"
        feats_out = asdict(feats)
        if hits and kind != "empty" and (self.scope_check if scope_check is None else scope_check):
            named = self.names_procedure(hits[0].key, query)
            verdict = self.scope.check(query, hits[0].key, named=named)
            feats_out["names_top"] = float(named)
            feats_out["scope_foreign"] = verdict.foreign
            feats_out["scope_covered"] = verdict.covered
            if not verdict.in_scope:
                # also for a question the ranking already declined: an outside topic gets no "did you mean"
                reason = verdict.reason if not declined else f"{reason}; {verdict.reason}"
                declined, kind = True, "lookalike" if verdict.lookalike else "outside"
        return SearchResult(query, declined, reason, aspect, hits, mode, feats_out,
                            (time.perf_counter() - start) * 1000, kind if declined else "")

    def _features(self, query: str, order: np.ndarray, fused: np.ndarray,
                  lex_best: np.ndarray, dense_best: np.ndarray, oos: int, mode: str) -> Features:
        """Decline features of the top-ranked procedure."""
        top = int(order[0])
        second = int(order[1]) if len(order) > 1 else top
        top_key = self._keys[top]
        words = content_words(query)
        f = Features()
        f.n_words = float(len(words))
        f.fused_margin = float(fused[top] - fused[second])
        f.alias_match = self._alias_match(top_key, query)
        if mode != "dense":
            f.lex_top = float(lex_best[top])
            f.lex_bg = float(lex_best[oos])
            f.lex_margin = float(lex_best[top] - lex_best[second])
            f.lex_z = float(standardize(lex_best[:oos])[top])
        if mode != "bm25":
            ranked = np.sort(dense_best[:oos])[::-1]
            f.dense_top = float(dense_best[top])
            f.dense_best = float(ranked[0])
            f.dense_margin = float(ranked[0] - ranked[1]) if len(ranked) > 1 else 0.0
            f.dense_bg = float(dense_best[oos])
            f.dense_vs_bg = float(dense_best[top] - dense_best[oos])
            f.dense_z = float(standardize(dense_best[:oos])[top])
        if mode == "hybrid":
            f.agree = float(int(np.argmax(lex_best[:oos])) == int(np.argmax(dense_best[:oos])) == top)
        return f


def make_searcher(**overrides) -> Searcher:
    """A Searcher for the configuration from the environment plus overrides."""
    return Searcher(load_config(**overrides))
