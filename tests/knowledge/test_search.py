"""Search on the real knowledge base with the converted e5: ranking, aspects, declines, modes."""
from __future__ import annotations

import pytest

from knowledge.config import load_config
from knowledge.search import Searcher, fuse, standardize
from knowledge.config import FusionWeights
import numpy as np

OUT_OF_SCOPE = [
    "xin visa du lịch Hàn Quốc cần giấy tờ gì",
    "thành lập công ty cổ phần cần bao nhiêu vốn",
    "làm giấy phép lao động cho người nước ngoài ở đâu",
    "bị phạt nguội vượt đèn đỏ thì nộp phạt thế nào",
    "hôm nay Hà Nội có mưa không",
    "công thức nấu bún chả ngon",
]
IN_SCOPE = [
    ("lam giay khai sinh cho con can giay to gi", "khai_sinh", "documents"),
    ("đăng ký kết hôn ở đâu", "ket_hon", "place"),
    ("cấp lại căn cước bị mất hết bao nhiêu tiền", "doi_can_cuoc", "fee"),
    ("xin phiếu lý lịch tư pháp mất mấy ngày", "ly_lich_tu_phap", "time"),
    ("dang ky tam tru online tren vneid", "tam_tru", "online"),
    ("thủ tục sang tên sổ đỏ khi mua đất", "chuyen_nhuong_dat", "steps"),
]


@pytest.mark.parametrize("question, key, aspect", IN_SCOPE)
def test_in_scope_questions_are_answered(real_searcher: Searcher, question, key, aspect):
    result = real_searcher.search(question)
    assert not result.declined, result.decline_reason
    assert result.results[0].key == key
    assert result.aspect == aspect
    assert result.results[0].chunk_id.startswith(key + "#")


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_questions_are_declined(real_searcher: Searcher, question):
    result = real_searcher.search(question)
    assert result.declined, [(h.key, h.score) for h in result.results]
    assert result.decline_reason
    assert len(result.results) <= 5  # still listed as suggestions


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_modes_rank_an_easy_question(real_searcher: Searcher, mode):
    result = real_searcher.search("đăng ký khai sinh cho bé", mode=mode)
    assert result.mode == mode
    assert result.results[0].key == "khai_sinh"
    scores = [h.score for h in result.results]
    assert scores == sorted(scores, reverse=True) and len(scores) == 5


def test_json_shape(real_searcher: Searcher):
    data = real_searcher.search("làm hộ chiếu ở đâu", k=3).to_json()
    assert set(data) == {"query", "declined", "aspect", "results"}
    assert len(data["results"]) == 3 and set(data["results"][0]) == {"key", "name", "score"}


def test_respond_composes_answers_and_declines(real_searcher: Searcher):
    from knowledge.compose import respond

    procedures = real_searcher.kb.procedures
    answer = respond(real_searcher.search("đăng ký kết hôn mất bao lâu"), procedures)
    assert answer.key == "ket_hon" and answer.aspect == "time" and procedures["ket_hon"].name in answer.text
    declined = respond(real_searcher.search("hôm nay trời có mưa không"), procedures)
    assert declined.key is None and declined.followups == []


def test_empty_question_is_declined(real_searcher: Searcher):
    assert real_searcher.search("   ").declined
    assert real_searcher.search("ạ ơi").declined


def test_bm25_mode_needs_no_model(small_kb, tmp_path):
    searcher = Searcher(load_config({}, kb_dir=small_kb, index_dir=tmp_path / "index"))
    result = searcher.search("dang ky ket hon can giay gi", mode="bm25")
    assert result.results[0].key == "ket_hon" and not result.declined
    assert searcher._embedder is None or not searcher._embedder.loaded
    assert not (tmp_path / "index").exists()


def test_fusion_methods():
    lex = np.array([10.0, 1.0, 1.0])
    dense = np.array([0.85, 0.86, 0.70])
    score = fuse(lex, dense, FusionWeights(method="score", lexical=0.5, dense=0.5, alias=0.0))
    rrf = fuse(lex, dense, FusionWeights(method="rrf", lexical=0.5, dense=0.5, alias=0.0))
    assert score.argmax() == 0 and rrf.argmax() in (0, 1)
    assert np.allclose(standardize(np.array([1.0, 1.0])), 0.0)
