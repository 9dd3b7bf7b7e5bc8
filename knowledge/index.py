"""Dense index of chunk vectors: FAISS (exact inner product by default, HNSW optional), persisted with metadata.

Files in the index folder: ``meta.json`` (model, dimension, prefixes, kb version, per-chunk hashes, the backend that
embedded the passages), ``chunks.json``, ``vectors.npy`` and ``faiss.index``. Rebuilding re-embeds only the chunks
whose content hash changed. The index belongs to a model, not to a backend: passages are always fp32 (torch and onnx
agree to cosine 0.99999; onnx-int8 quantises queries only), so switching backends needs no rebuild.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .chunks import Chunk
from .embeddings import Embedder, embed_in_batches
from .locks import file_lock

log = logging.getLogger(__name__)
FORMAT = 1
HNSW_M = 32
HNSW_EF_SEARCH = 64
HNSW_EF_CONSTRUCTION = 80


class IndexMismatchError(RuntimeError):
    """The stored index was built with another embedding model or dimension than the configured one."""

    def __init__(self, stored_model: str, stored_dim: int, model: str, dim: Optional[int]):
        self.stored_model, self.stored_dim, self.model, self.dim = stored_model, stored_dim, model, dim
        want = f"{model} (dimension {dim})" if dim is not None else model
        super().__init__(
            f"the search index was built with {stored_model} (dimension {stored_dim}) but the configured "
            f"embedding model is {want}; rebuild it with `python -m knowledge build --rebuild` "
            f"or set KB_EMBEDDING_MODEL={stored_model}")


@dataclass
class BuildStats:
    """What an index build did."""

    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    removed: int = 0
    seconds: float = 0.0
    rebuilt: bool = False

    def summary(self) -> str:
        """One human-readable line."""
        return (f"{self.chunks} chunks: {self.embedded} embedded, {self.reused} reused, {self.removed} removed "
                f"in {self.seconds:.1f} s")


def make_faiss(vectors: np.ndarray, kind: str = "flat"):
    """A FAISS inner-product index over ``vectors`` (exact Flat, or HNSW32)."""
    import faiss

    dim = vectors.shape[1]
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def set_faiss_threads(n: int = 1) -> None:
    """Per-request search is fastest single-threaded (OpenMP overhead dominates small searches)."""
    import faiss

    faiss.omp_set_num_threads(n)


@dataclass
class DenseIndex:
    """Chunk vectors, their FAISS index and the metadata they were built with."""

    chunks: List[Chunk]
    vectors: np.ndarray
    meta: Dict
    faiss_index: object = None
    hashes: List[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        """Name of the model the vectors come from."""
        return self.meta["model"]

    @property
    def dimension(self) -> int:
        """Vector dimension."""
        return int(self.meta["dimension"])

    def check(self, model: str, dim: Optional[int] = None) -> None:
        """Raise IndexMismatchError unless built by ``model`` (and ``dim`` when given)."""
        if self.model != model or (dim is not None and self.dimension != dim):
            raise IndexMismatchError(self.model, self.dimension, model, dim)

    def search(self, query_vec: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, chunk positions) for one normalised query vector."""
        k = min(k, len(self.chunks))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        if self.faiss_index is None:
            self.faiss_index = make_faiss(self.vectors, self.meta.get("faiss", "flat"))
        scores, ids = self.faiss_index.search(np.ascontiguousarray(query_vec.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    # ----------------------------------------------------------------------------------------- persistence
    def save(self, index_dir: Path) -> None:
        """Write the index atomically (a temporary folder renamed into place)."""
        import faiss

        index_dir = Path(index_dir)
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".index-", dir=index_dir.parent))
        try:
            np.save(tmp / "vectors.npy", self.vectors.astype(np.float32))
            (tmp / "chunks.json").write_text(json.dumps([c.to_dict() for c in self.chunks], ensure_ascii=False,
                                                        indent=0), encoding="utf-8")
            (tmp / "meta.json").write_text(json.dumps(self.meta, ensure_ascii=False, indent=1), encoding="utf-8")
            if self.faiss_index is None:
                self.faiss_index = make_faiss(self.vectors, self.meta.get("faiss", "flat"))
            faiss.write_index(self.faiss_index, str(tmp / "faiss.index"))
            old = None
            if index_dir.exists():
                old = index_dir.with_name(index_dir.name + f".old-{os.getpid()}")
                index_dir.rename(old)
            tmp.rename(index_dir)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, index_dir: Path, *, with_faiss: bool = True) -> Optional["DenseIndex"]:
        """Read a stored index (None when missing or unreadable)."""
        index_dir = Path(index_dir)
        try:
            meta = json.loads((index_dir / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                log.warning("index in %s has an old format: it will be rebuilt", index_dir)
                return None
            raw = json.loads((index_dir / "chunks.json").read_text(encoding="utf-8"))
            vectors = np.load(index_dir / "vectors.npy")
        except (OSError, ValueError, KeyError) as exc:
            if (index_dir / "meta.json").exists():
                log.warning("cannot read the index in %s (%s): it will be rebuilt", index_dir, exc)
            return None
        chunks = [Chunk(**c) for c in raw]
        if len(chunks) != len(vectors) or len(meta.get("hashes", [])) != len(chunks):
            log.warning("index in %s is inconsistent: it will be rebuilt", index_dir)
            return None
        faiss_index = None
        if with_faiss and (index_dir / "faiss.index").exists():
            import faiss

            faiss_index = faiss.read_index(str(index_dir / "faiss.index"))
            if faiss_index.ntotal != len(chunks):
                faiss_index = None
        return cls(chunks=chunks, vectors=vectors, meta=meta, faiss_index=faiss_index, hashes=list(meta["hashes"]))


def read_meta(index_dir: Path) -> Optional[Dict]:
    """The stored index metadata, or None."""
    try:
        return json.loads((Path(index_dir) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(index: Optional[DenseIndex], chunks: Sequence[Chunk], embedder: Embedder, kb_version: str,
               faiss_kind: str) -> bool:
    """True when ``index`` holds exactly these chunks embedded with this model, prefixes and FAISS kind."""
    if index is None:
        return False
    m = index.meta
    return (m.get("model") == embedder.model_name and m.get("passage_prefix") == embedder.passage_prefix
            and m.get("query_prefix") == embedder.query_prefix and m.get("faiss") == faiss_kind
            and m.get("kb_version") == kb_version
            and [c.id for c in index.chunks] == [c.id for c in chunks]
            and index.hashes == [c.content_hash(embedder.passage_prefix) for c in chunks])


def build_index(chunks: Sequence[Chunk], embedder: Embedder, *, kb_version: str, faiss_kind: str = "flat",
                previous: Optional[DenseIndex] = None) -> Tuple[DenseIndex, BuildStats]:
    """Embed the chunks (reusing ``previous`` vectors whose content hash is unchanged) and index them."""
    start = time.perf_counter()
    stats = BuildStats(chunks=len(chunks))
    reuse: Dict[str, np.ndarray] = {}
    if previous is not None and previous.model == embedder.model_name:
        for h, vec in zip(previous.hashes, previous.vectors):
            reuse[h] = vec
    hashes = [c.content_hash(embedder.passage_prefix) for c in chunks]
    todo = [i for i, h in enumerate(hashes) if h not in reuse]
    dim = embedder.dimension if (todo or not reuse) else len(next(iter(reuse.values())))
    vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    if todo:
        log.info("embedding %d of %d chunks with %s", len(todo), len(chunks), embedder.model_name)
        new = embed_in_batches(embedder, [chunks[i].text for i in todo], label="embedding")
        if new.shape[1] != dim:
            raise IndexMismatchError(embedder.model_name, new.shape[1], embedder.model_name, dim)
        vectors[todo] = new
    for i, h in enumerate(hashes):
        if h in reuse:
            vectors[i] = reuse[h]
    stats.embedded = len(todo)
    stats.reused = len(chunks) - len(todo)
    if previous is not None:
        stats.removed = len(set(previous.hashes) - set(hashes))
    meta = {
        "format": FORMAT, "model": embedder.model_name, "dimension": int(dim),
        "backend": embedder.passage_backend,  # a note only: every backend's passage vectors are interchangeable
        "query_prefix": embedder.query_prefix, "passage_prefix": embedder.passage_prefix,
        "kb_version": kb_version, "faiss": faiss_kind, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "chunk_count": len(chunks), "hashes": hashes,
    }
    index = DenseIndex(chunks=list(chunks), vectors=vectors, meta=meta,
                       faiss_index=make_faiss(vectors, faiss_kind), hashes=hashes)
    stats.seconds = time.perf_counter() - start
    return index, stats


def ensure_index(index_dir: Path, chunks: Sequence[Chunk], embedder: Embedder, *, kb_version: str,
                 faiss_kind: str = "flat", rebuild: bool = False,
                 allow_model_change: bool = False) -> Tuple[DenseIndex, Optional[BuildStats]]:
    """Load the stored index, rebuilding it incrementally when missing or stale.

    A stored index from another model raises IndexMismatchError unless ``allow_model_change`` (then it is rebuilt
    from scratch). Returns the index and the build stats (None when nothing had to be built). A lock file beside
    the index keeps concurrent processes from building it twice.
    """
    index_dir = Path(index_dir)
    with file_lock(index_dir.parent / f".{index_dir.name}.lock"):
        return _ensure_index(index_dir, chunks, embedder, kb_version=kb_version, faiss_kind=faiss_kind,
                             rebuild=rebuild, allow_model_change=allow_model_change)


def _ensure_index(index_dir: Path, chunks: Sequence[Chunk], embedder: Embedder, *, kb_version: str,
                  faiss_kind: str, rebuild: bool, allow_model_change: bool) -> Tuple[DenseIndex, Optional[BuildStats]]:
    stored = None if rebuild else DenseIndex.load(index_dir)
    previous = None
    if stored is not None:
        same_model = stored.model == embedder.model_name
        if not same_model and not allow_model_change:
            raise IndexMismatchError(stored.model, stored.dimension, embedder.model_name, None)
        if same_model and stored.dimension != embedder.dimension:
            if not allow_model_change:
                raise IndexMismatchError(stored.model, stored.dimension, embedder.model_name, embedder.dimension)
            same_model = False
        if same_model and is_current(stored, chunks, embedder, kb_version, faiss_kind):
            return stored, None
        previous = stored if same_model else None
    index, stats = build_index(chunks, embedder, kb_version=kb_version, faiss_kind=faiss_kind, previous=previous)
    stats.rebuilt = previous is None
    index.save(index_dir)
    log.info("index saved in %s: %s", index_dir, stats.summary())
    return index, stats
