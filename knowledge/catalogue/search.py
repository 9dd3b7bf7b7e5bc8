"""Search over the catalogue tier: BM25 + dense (e5) over one compact text per record, and its own decline.

With 2,642 records almost any question has a nearest neighbour, so ranking is not evidence enough: a record is
answered only when its name (with its field) covers the question's distinctive words, weighted by how rare each
word is among the records' names. Words that no record uses ("visa", "Mỹ") weigh the most, so a question about
something the catalogue does not hold keeps a low coverage whatever ranks first.
"""
from __future__ import annotations

import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import numpy as np

from ..chunks import Chunk
from ..embeddings import Embedder
from ..index import DenseIndex, ensure_index, set_faiss_threads
from ..lexical import BM25, query_tokens
from vntext.textnorm import canonical_words

from .parse import Record
from .store import Catalogue

log = logging.getLogger(__name__)

# What a question says about a procedure rather than which one ("hồ sơ gồm những gì", "ở đâu", "bao lâu"): folded
# phrases removed from the question before coverage is measured. Phrases, not syllables: "giải" of "giải quyết"
# is boilerplate, "giải" of "giải thể" is not; "thế" of "như thế nào" is not the "thẻ" of "thẻ đảng viên".
GENERIC_PHRASES: Tuple[str, ...] = tuple(sorted("""
thu tuc hanh chinh|thu tuc|ho so|giay to|thanh phan|gom nhung|bao gom|nhung gi|la gi|gi vay|nhu the nao|the nao
|o dau|tai dau|bao lau|mat bao lau|thoi gian|thoi han|giai quyet|le phi|muc phi|chi phi|bao nhieu tien|bao nhieu
|co quan nao|co quan|tham quyen|noi nop|nop o|nop ho so|cac buoc|trinh tu|thuc hien|cach thuc|quy dinh|yeu cau
|dieu kien|ket qua|mau don|to khai|cho hoi|cho em hoi|xin hoi|muon hoi|can nhung|can gi|can chuan bi|chuan bi
|de nghi|duoc khong|co duoc|duoc ko|co phai|co the|truc tuyen|online|qua mang|buu chinh|truong hop|cu the
|theo quy dinh|hien nay|hien hanh|moi nhat|huong dan|lam sao|lam the nao|phai lam|xin cap|nguoi dan|cong dan
|ben minh|nha minh|cua minh|khi nao|luc nao|ngay nao|viet nam|vn|phai khong|the nao|nhu nao|di lam
""".replace("\n", "").split("|"), key=lambda p: -len(p.split())))
# Function words as spelled with their marks: removed when typed so (an accented "thẻ", "đảng", "vệ" is kept).
FUNCTION_ACCENTED: FrozenSet[str] = frozenset("""
về có là và của cho gì nào được không thì mà hay hoặc để từ đến tại trong ngoài khi nếu đã sẽ rồi chưa nữa cũng
này đó kia ấy bị bằng theo sau trước đang phải cần nộp làm xin những các một thế sao biết giúp việc mình em tôi
anh chị ai với vậy nhé nha ạ ơi ở đâu muốn hỏi ạ nhờ vào ra lên xuống thôi luôn gồm nhiêu bao lâu ad admin
cái con người hiện giờ ngày nay mới vẫn còn đi rằng như nhất nên vì do
""".split())
# Unmarked syllables that are function words whatever marks they lost (ambiguous ones such as "the" (thẻ),
# "dang" (đảng), "ve" (vệ), "can" (căn) are not here: typed without marks they stay distinctive).
FUNCTION_PLAIN: FrozenSet[str] = frozenset("""
co la va cua cho gi nao duoc khong thi ma hay hoac de tu den tai trong ngoai khi neu da se roi chua nua cung
nay do kia ay bang theo truoc phai nhung cac mot sao biet giup viec minh em toi anh chi ai voi vay nhe a oi
o dau muon hoi nho vao ra len xuong thoi luon gom nhieu bao lau ad admin k ko dc hok j ntn xin
""".split())
_CODE_IN_TEXT = re.compile(r"(?<![\d.])(\d\.\d{6})(?![\d])")

# Everyday words that often only frame the situation ("bị mất", "cho cháu", "ở lâu hơn"): they count a third.
SOFT: FrozenSet[str] = frozenset("mat cho chau con bo me ong ba vo chong nha hon lau khac moi cu".split())
MODES = ("bm25", "dense", "hybrid")


# "(thực hiện tại cấp tỉnh)", "(cấp Trung ương)": the same procedure published once per level
_LEVEL_SUFFIX = re.compile(r"\s*\((?:thực hiện tại |thực hiện ở )?cấp [^)]*\)\s*$", re.IGNORECASE)


def base_name(name: str) -> str:
    """A record's name without its level suffix, lower-cased: equal for one procedure published per level."""
    return _LEVEL_SUFFIX.sub("", name).strip().rstrip(".").lower()


def record_text(r: Record) -> str:
    """The compact text embedded and indexed for a record: name, field and competent agency."""
    parts = [r.name.rstrip(".")]
    if r.field:
        parts.append(f"Lĩnh vực: {r.field}")
    if r.agency:
        parts.append(f"Cơ quan: {r.agency}")
    return ". ".join(parts) + "."


BODY_CHARS = 4000   # how much of a record's other text counts for coverage (its steps can be very long)


def _name_terms(r: Record) -> Tuple[Set[str], Set[str], Set[str]]:
    """(syllables of the name and field, their adjacent pairs, syllables of the record's other text)."""
    words = canonical_words(r.name)
    field_words = canonical_words(r.field)
    pairs = {f"{a} {b}" for seq in (words, field_words) for a, b in zip(seq, seq[1:])}
    body = " ".join([r.audience, r.agency, r.executing_agency, " ".join(d.name for d in r.documents),
                     " ".join(r.results), r.conditions, r.steps])[:BODY_CHARS]
    return set(words) | set(field_words), pairs, set(canonical_words(body))


@dataclass
class CatalogueHit:
    """One ranked catalogue record."""

    id: str
    code: str
    name: str
    score: float
    coverage: float = 0.0
    lexical: float = 0.0
    dense: float = 0.0


@dataclass
class CatalogueResult:
    """What the catalogue search found for one question."""

    query: str
    declined: bool
    reason: str
    results: List[CatalogueHit] = field(default_factory=list)
    coverage: float = 0.0
    missing: List[str] = field(default_factory=list)   # distinctive words the top record's name lacks
    ambiguous: bool = False        # covered, but other records come close: ask which one rather than answer
    mode: str = "hybrid"
    millis: float = 0.0

    @property
    def top(self) -> Optional[CatalogueHit]:
        """The best hit, if any."""
        return self.results[0] if self.results else None

    @property
    def answered(self) -> bool:
        """True when the top record is answered outright (neither declined nor ambiguous)."""
        return not self.declined and not self.ambiguous

    def candidates(self, n: int = 3, min_coverage: float = 0.8) -> List[CatalogueHit]:
        """The records to offer when the question is ambiguous (each covering the question well; one per procedure
        published for several levels)."""
        out: List[CatalogueHit] = []
        seen: Set[str] = set()
        for h in self.results:
            if h.coverage >= min_coverage and base_name(h.name) not in seen:
                seen.add(base_name(h.name))
                out.append(h)
        return out[:n]


@dataclass
class CatalogueDecline:
    """Thresholds of the catalogue's decline (fields so that evaluation can vary them)."""

    min_coverage: float = 0.8      # share (idf-weighted) of the distinctive words the record's name covers
    min_terms: int = 1             # distinctive words needed at all ("thủ tục gì" alone is not a question)
    soft_weight: float = 0.5       # weight of the SOFT words (measured: 2 fewer declines, no new wrong answer)
    body_credit: float = 0.6       # a word found in the record's other text (documents, steps...) counts this much
    min_pairs: float = 0.5         # share of the question's adjacent distinctive word pairs found as pairs
    min_gap: float = 1.25          # below this lead over the second record, ask which one is meant
    rerank: int = 10               # the best-covered of the top fused candidates is chosen
    rerank_weight: float = 2.0     # coverage weight when re-ranking the candidates


class CatalogueSearcher:
    """Hybrid search over the catalogue records (the model and index load lazily)."""

    def __init__(self, catalogue: Catalogue, embedder: Embedder, *, faiss_kind: str = "flat",
                 decline: Optional[CatalogueDecline] = None, lexical: float = 0.55, dense: float = 0.45):
        self.catalogue = catalogue
        self.embedder = embedder
        self.faiss_kind = faiss_kind
        self.decline = decline or CatalogueDecline()
        self.weights = (lexical, dense)
        self.ids: List[str] = list(catalogue.records)
        self.records: List[Record] = [catalogue.records[i] for i in self.ids]
        self._by_code: Dict[str, int] = {}
        for pos, r in enumerate(self.records):
            self._by_code.setdefault(r.code, pos)
        self._bm25: Optional[BM25] = None
        self._dense: Optional[DenseIndex] = None
        self._terms: Optional[List[Tuple[Set[str], Set[str], Set[str]]]] = None
        self._idf: Dict[str, float] = {}
        self._max_idf = 1.0
        self.build_stats = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------------------------------- lazy parts
    def chunks(self) -> List[Chunk]:
        """One chunk per record (id "<record id>#name")."""
        return [Chunk(f"{r.id}#name", r.id, "general", record_text(r)) for r in self.records]

    @property
    def bm25(self) -> BM25:
        """BM25 over the records' compact texts."""
        if self._bm25 is None:
            self._bm25 = BM25([record_text(r) for r in self.records], b=0.5)
        return self._bm25

    def _coverage_tables(self) -> List[Tuple[Set[str], Set[str], Set[str]]]:
        if self._terms is None:
            terms = [_name_terms(r) for r in self.records]
            df: Dict[str, int] = {}
            for ts, _, _ in terms:
                for t in ts:
                    df[t] = df.get(t, 0) + 1
            n = max(len(terms), 2)
            self._idf = {t: math.log(1 + n / d) for t, d in df.items()}
            self._max_idf = math.log(1 + n)
            self._terms = terms
        return self._terms

    def dense_index(self, rebuild: bool = False) -> DenseIndex:
        """The records' dense index, built incrementally (changed records only) when missing or stale."""
        with self._lock:
            if self._dense is None or rebuild:
                if self.catalogue.index_dir is None:
                    raise ValueError("the catalogue has no folder for its index")
                self._dense, self.build_stats = ensure_index(
                    self.catalogue.index_dir, self.chunks(), self.embedder, kb_version=self.catalogue.version,
                    faiss_kind=self.faiss_kind, rebuild=rebuild, allow_model_change=True)
                set_faiss_threads(1)
            return self._dense

    def prepare(self, mode: str = "hybrid") -> "CatalogueSearcher":
        """Load what ``mode`` needs now."""
        _ = self.bm25
        self._coverage_tables()
        if mode != "bm25":
            self.dense_index()
        return self

    # ------------------------------------------------------------------------------------------- scoring
    def distinctive(self, query: str) -> List[List[str]]:
        """The question's runs of words that name what it is about (generic phrases and function words cut out)."""
        toks = [(w, acc) for w, acc in query_tokens(query) if not w.isdigit()]
        words = [w for w, _ in toks]
        keep = [True] * len(words)
        for phrase in GENERIC_PHRASES:
            p = phrase.split()
            for i in range(len(words) - len(p) + 1):
                if words[i:i + len(p)] == p and all(keep[i:i + len(p)]):
                    keep[i:i + len(p)] = [False] * len(p)
        runs: List[List[str]] = [[]]
        for (w, acc), k in zip(toks, keep):
            function = acc in FUNCTION_ACCENTED if acc is not None else w in FUNCTION_PLAIN
            if k and not function:
                runs[-1].append(w)
            elif runs[-1]:
                runs.append([])
        return [r for r in runs if r]

    def coverage(self, runs: Sequence[Sequence[str]], position: int) -> Tuple[float, float, List[str]]:
        """(idf-weighted share of the distinctive words in the record's name/field, share of their adjacent pairs
        found as pairs there, the words not found)."""
        terms, pairs, body = self._coverage_tables()[position]
        partial = self.decline.body_credit
        total = found = 0.0
        missing: List[str] = []
        seen: Set[str] = set()
        n_pairs = pairs_found = 0
        for run in runs:
            for t in run:
                if t in seen:
                    continue
                seen.add(t)
                w = self._idf.get(t, self._max_idf) * (self.decline.soft_weight if t in SOFT else 1.0)
                total += w
                if t in terms:
                    found += w
                else:
                    found += partial * w if t in body else 0.0   # said in the record, not in its name
                    missing.append(t)
            for a, b in zip(run, run[1:]):
                n_pairs += 1
                pairs_found += f"{a} {b}" in pairs
        return (found / total if total else 0.0), (pairs_found / n_pairs if n_pairs else 1.0), missing

    def _dense_scores(self, query: str) -> np.ndarray:
        index = self.dense_index()
        qvec = self.embedder.embed_query(query)
        scores, ids = index.search(qvec, len(self.records))
        out = np.zeros(len(self.records), dtype=np.float64)
        out[ids] = scores
        return out

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> CatalogueResult:
        """Rank records for ``query`` and decide whether the best one really answers it."""
        start = time.perf_counter()
        if not self.records or not query.strip():
            return CatalogueResult(query, True, "empty catalogue or question", mode=mode)
        for code in _CODE_IN_TEXT.findall(query):   # "thủ tục 1.014236": the national code names the record
            if code in self._by_code:
                r = self.records[self._by_code[code]]
                return CatalogueResult(query, False, "", [CatalogueHit(r.id, r.code, r.name, 99.0, 1.0)], 1.0,
                                       mode=mode, millis=(time.perf_counter() - start) * 1000)
        lex = self.bm25.scores(query).astype(np.float64) if mode != "dense" else None
        dense = self._dense_scores(query) if mode != "bm25" else None
        if mode == "bm25":
            fused = _standardize(lex)
        elif mode == "dense":
            fused = _standardize(dense)
        else:
            fused = self.weights[0] * _standardize(lex) + self.weights[1] * _standardize(dense)
        runs = self.distinctive(query)
        cand = np.argsort(-fused, kind="stable")[:max(k, self.decline.rerank)]
        covs = {int(i): self.coverage(runs, int(i)) for i in cand}
        w = self.decline.rerank_weight

        def final_score(i: int) -> float:
            cov, pair_cov, _ = covs[i]
            return float(fused[i] + w * (cov + pair_cov) / 2)

        # re-rank the leading candidates by how completely their name covers the question
        final = sorted((int(i) for i in cand), key=lambda i: -final_score(i))
        hits = [CatalogueHit(self.ids[i], self.records[i].code, self.records[i].name, final_score(i), covs[i][0],
                             float(lex[i]) if lex is not None else 0.0,
                             float(dense[i]) if dense is not None else 0.0) for i in final[:k]]
        top_cov, pair_cov, missing = covs[final[0]]
        n_terms = len({t for r in runs for t in r})
        declined, reason = False, ""
        if n_terms < self.decline.min_terms:
            declined, reason = True, "the question names no subject"
        elif top_cov < self.decline.min_coverage:
            declined, reason = True, "the best record's name does not cover the question (missing: " \
                + ", ".join(missing[:5]) + ")"
        elif pair_cov < self.decline.min_pairs:
            declined, reason = True, "the question's words are in the best record's name, but not together"
        # names differing by one qualifier ("tổ chức" / "cá nhân") score alike: a small lead means "ask", not "answer";
        # the same procedure published for another level is not a rival (the answer names the levels)
        top_base = base_name(hits[0].name)
        rivals = [h for h in hits[1:] if base_name(h.name) != top_base]
        ambiguous = not declined and bool(rivals) and hits[0].score - rivals[0].score < self.decline.min_gap
        return CatalogueResult(query, declined, reason, hits, top_cov, missing, ambiguous, mode,
                               (time.perf_counter() - start) * 1000)


def _standardize(x: np.ndarray) -> np.ndarray:
    """(x - mean) / std: how much each record stands out (0 when all are equal)."""
    std = float(np.std(x))
    return (x - float(np.mean(x))) / std if std > 1e-12 else np.zeros_like(x, dtype=np.float64)
