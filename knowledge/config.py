"""Configuration of the knowledge search: paths and tunables, read from environment variables with defaults.

Nothing is read at import time: call :func:`load_config` (or build a :class:`Config` directly in tests).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DEFAULT_MODEL = "builtin:multilingual-e5-small"
MODES = ("hybrid", "bm25", "dense")
# Embedding backends (knowledge/embeddings.py): sentence-transformers on torch, the same pipeline exported to ONNX
# Runtime, and that export with int8 weights for queries only. All three share one index (docs/knowledge.md).
BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx"


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    """A float from ``env`` or ``default`` when unset or empty."""
    value = env.get(name, "")
    return float(value) if value.strip() else default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    """An int from ``env`` or ``default`` when unset or empty."""
    value = env.get(name, "")
    return int(value) if value.strip() else default


@dataclass(frozen=True)
class FusionWeights:
    """How the lexical and dense halves are combined (see search.fuse)."""

    method: str = "score"          # "score" (normalised-score fusion) or "rrf" (reciprocal-rank fusion)
    lexical: float = 0.55
    dense: float = 0.45
    rrf_k: float = 10.0
    alias: float = 1.0             # bonus per unit of alias match (how completely the question names it)


@dataclass(frozen=True)
class Config:
    """Every path and tunable of the knowledge package."""

    kb_dir: Path = PACKAGE_DIR
    index_dir: Path = PACKAGE_DIR / "index"
    models_dir: Path = REPO_DIR / ".models"
    model: str = DEFAULT_MODEL
    backend: str = DEFAULT_BACKEND          # see BACKENDS
    query_prefix: Optional[str] = None      # None: the model's known default (e5: "query: ")
    passage_prefix: Optional[str] = None
    faiss_kind: str = "flat"                # "flat" (exact IndexFlatIP) or "hnsw"
    torch_threads: int = 1                  # threads of either backend; 1 measured best on a shared 2-core CPU
    batch_size: int = 32
    fusion: FusionWeights = field(default_factory=FusionWeights)
    mode: str = "hybrid"

    @property
    def procedures_dir(self) -> Path:
        """Folder of the procedure YAML files."""
        return self.kb_dir / "procedures"

    def with_(self, **changes) -> "Config":
        """A copy with some fields changed."""
        return replace(self, **changes)


def load_config(env: Optional[Mapping[str, str]] = None, **overrides) -> Config:
    """Configuration from environment variables (KB_*), then explicit keyword overrides (None values ignored)."""
    env = os.environ if env is None else env
    kb_dir = Path(env.get("KB_DIR") or PACKAGE_DIR)
    cfg = Config(
        kb_dir=kb_dir,
        index_dir=Path(env.get("KB_INDEX_DIR") or kb_dir / "index"),
        models_dir=Path(env.get("KB_MODELS_DIR") or REPO_DIR / ".models"),
        model=env.get("KB_EMBEDDING_MODEL") or DEFAULT_MODEL,
        backend=(env.get("KB_EMBEDDING_BACKEND") or DEFAULT_BACKEND).lower(),
        query_prefix=env.get("KB_QUERY_PREFIX"),
        passage_prefix=env.get("KB_PASSAGE_PREFIX"),
        faiss_kind=(env.get("KB_FAISS") or "flat").lower(),
        torch_threads=_int(env, "KB_TORCH_THREADS", 1),
        batch_size=_int(env, "KB_BATCH_SIZE", 32),
        fusion=FusionWeights(
            method=(env.get("KB_FUSION") or "score").lower(),
            lexical=_float(env, "KB_WEIGHT_LEXICAL", FusionWeights.lexical),
            dense=_float(env, "KB_WEIGHT_DENSE", FusionWeights.dense),
            rrf_k=_float(env, "KB_RRF_K", FusionWeights.rrf_k),
            alias=_float(env, "KB_WEIGHT_ALIAS", FusionWeights.alias),
        ),
        mode=(env.get("KB_MODE") or "hybrid").lower(),
    )
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "kb_dir" in overrides and "index_dir" not in overrides and not env.get("KB_INDEX_DIR"):
        overrides["index_dir"] = Path(overrides["kb_dir"]) / "index"
    for key in ("kb_dir", "index_dir", "models_dir"):
        if key in overrides:
            overrides[key] = Path(overrides[key])
    cfg = replace(cfg, **overrides)
    if cfg.mode not in MODES:
        raise ValueError(f"KB_MODE must be one of {MODES}, not {cfg.mode!r}")
    if cfg.backend not in BACKENDS:
        raise ValueError(f"KB_EMBEDDING_BACKEND must be one of {BACKENDS}, not {cfg.backend!r}")
    if cfg.faiss_kind not in ("flat", "hnsw"):
        raise ValueError(f"KB_FAISS must be flat or hnsw, not {cfg.faiss_kind!r}")
    return cfg
