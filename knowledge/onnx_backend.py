"""ONNX Runtime backend of the embedder: a one-time export of a sentence-transformers model, then no torch at all.

The sentence-transformers pipeline after tokenisation (transformer, pooling, normalisation) is exported as one graph
with the TorchScript exporter (dynamic batch and sequence axes), so its output is the sentence embedding itself;
the tokenizer is the model's own ``tokenizer.json`` with sentence-transformers' truncation and padding. ``onnx-int8``
adds a copy with dynamically quantised int8 weights (per channel). Files, in ``<models_dir>/<name>/onnx/``:
``model.onnx``, ``model-int8.onnx`` (on first int8 use), ``tokenizer.json`` and ``export.json`` (what the export
came from; a changed source model is exported again). sentence-transformers' own ``backend="onnx"`` needs optimum,
whose ONNX package requires transformers < 4.58: it does not fit the pinned stack.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

from .model_files import BUILTIN_PREFIX, builtin_model_dir, load_sentence_transformer
from .locks import file_lock

log = logging.getLogger(__name__)
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
INFO_FILE = "export.json"
EXPORT_FORMAT = 1
OPSET = 17
# tokenizers.Encoding attribute for each model input the exporter may name
_ENCODING_FIELDS = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}


def onnx_dir(model: str, models_dir: Path) -> Path:
    """Where the ONNX files of ``model`` (a builtin, a name or a path) live."""
    if model.startswith(BUILTIN_PREFIX):
        return builtin_model_dir(model[len(BUILTIN_PREFIX):], models_dir) / "onnx"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model).name or model).strip("-")[:60]
    return Path(models_dir) / f"{stem}-{hashlib.sha1(model.encode()).hexdigest()[:8]}" / "onnx"


def source_fingerprint(source: str) -> str:
    """Identity of the model files an export came from (names, sizes, mtimes), or the name of a hub model."""
    path = Path(source)
    if not path.is_dir():
        return source
    digest = hashlib.sha1()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and "onnx" not in p.relative_to(path).parts):
        stat = f.stat()
        digest.update(f"{f.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _read_info(folder: Path) -> dict:
    try:
        return json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def prepare_onnx(model: str, source: str, models_dir: Path, *, int8: bool = False,
                 threads: int = 1) -> Tuple[Path, str]:
    """The ONNX folder and model file name for ``model`` loaded from ``source``, exported (and quantised) once."""
    folder = onnx_dir(model, models_dir)
    fingerprint = source_fingerprint(source)
    with file_lock(Path(models_dir) / f".{folder.parent.name}-onnx.lock"):
        info = _read_info(folder)
        if (info.get("format") != EXPORT_FORMAT or info.get("fingerprint") != fingerprint
                or not (folder / FP32_FILE).exists()):
            log.info("exporting %s to ONNX in %s (one time)", model, folder)
            export(source, folder, fingerprint, threads)
        if int8 and not (folder / INT8_FILE).exists():
            log.info("quantising %s to int8 (one time)", folder / FP32_FILE)
            quantize(folder)
    return folder, INT8_FILE if int8 else FP32_FILE


def export(source: str, folder: Path, fingerprint: str, threads: int = 1) -> None:
    """Export the sentence-transformers pipeline of ``source`` with its tokenizer into ``folder`` (atomically)."""
    import torch

    # eager attention traces to plain MatMul / Softmax ops, a safe subset for the TorchScript exporter (SDPA untried)
    st = load_sentence_transformer(source, threads, attn_implementation="eager")
    tokenizer = getattr(st[0], "tokenizer", None)
    if tokenizer is None or not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{source}: the ONNX backend needs a text model with a fast tokenizer; "
                         f"use KB_EMBEDDING_BACKEND=torch")
    # two texts of different lengths, so the traced graph sees padding
    sample = tokenizer(["query: khởi động", "passage: một đoạn văn dài hơn một chút"], padding=True,
                       truncation=True, return_tensors="pt")
    names = [n for n in tokenizer.model_input_names if n in sample]
    if set(names) - set(_ENCODING_FIELDS):
        raise ValueError(f"{source}: unsupported model inputs {names}; use KB_EMBEDDING_BACKEND=torch")

    class Pipeline(torch.nn.Module):
        """Token ids in, sentence embedding out: the whole sentence-transformers module chain."""

        def __init__(self):
            super().__init__()
            self.st = st

        def forward(self, *tensors):
            return self.st(dict(zip(names, tensors)))["sentence_embedding"]

    pipeline = Pipeline().eval()
    inputs = tuple(sample[n] for n in names)
    with torch.no_grad():
        dimension = int(pipeline(*inputs).shape[1])
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".onnx-", dir=folder.parent))
    try:
        axes = {n: {0: "batch", 1: "sequence"} for n in names}
        axes["sentence_embedding"] = {0: "batch"}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and exporter deprecation notices
            torch.onnx.export(pipeline, inputs, str(work / FP32_FILE),
                              dynamo=False, input_names=names, output_names=["sentence_embedding"],
                              dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
        tokenizer.backend_tokenizer.save(str(work / "tokenizer.json"))
        max_length = st[0].max_seq_length
        info = {"format": EXPORT_FORMAT, "source": str(source), "fingerprint": fingerprint, "inputs": names,
                # tokenizers without a real limit report a huge sentinel: no truncation, as in sentence-transformers
                "max_length": int(max_length) if max_length and max_length < 1_000_000 else None,
                "pad_id": int(tokenizer.pad_token_id), "pad_token": tokenizer.pad_token,
                "dimension": dimension, "torch": torch.__version__, "opset": OPSET}
        (work / INFO_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")
        work.chmod(0o755)  # mkdtemp makes it private; the models folder is shared like the converted model
        if folder.exists():
            shutil.rmtree(folder)
        work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def quantize(folder: Path) -> None:
    """Write ``model-int8.onnx``: int8 weights per output channel (queries' mean cosine to fp32 0.997 on the KB's
    example questions; 0.988 with one scale per tensor)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = folder / f".{INT8_FILE}.{os.getpid()}.tmp"
    previous = logging.root.manager.disable
    # the quantiser logs a line per tensor, and advice on pre-processing, on the root logger
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(str(folder / FP32_FILE), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, folder / INT8_FILE)
    finally:
        logging.disable(previous)
        tmp.unlink(missing_ok=True)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, as float32 (all-zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class OnnxEncoder:
    """Sentence embeddings from an exported model with ONNX Runtime."""

    def __init__(self, folder: Path, model_file: str = FP32_FILE, threads: int = 1, batch_size: int = 32):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        info = _read_info(folder)
        self.dimension = int(info["dimension"])
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # what sentence-transformers asks of the tokenizer: truncate to max_seq_length, pad to the longest
        if info.get("max_length"):
            self.tokenizer.enable_truncation(int(info["max_length"]))
        else:
            self.tokenizer.no_truncation()
        self.tokenizer.enable_padding(pad_id=int(info["pad_id"]), pad_token=info["pad_token"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: its optimiser notices are not for the console
        self.path = folder / model_file
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.inputs: List[Tuple[str, str]] = [(i.name, _ENCODING_FIELDS[i.name]) for i in self.session.get_inputs()]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised vectors (n, dim) of ``texts`` (prefixes already applied)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # texts of similar length share a batch, as in sentence-transformers: less padding to compute
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            rows = order[start:start + self.batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            feeds = {name: np.array([getattr(e, field) for e in encodings], dtype=np.int64)
                     for name, field in self.inputs}
            out[rows] = self.session.run(None, feeds)[0]
        return normalize(out)  # as the torch path's normalize_embeddings=True: also for models without Normalize
