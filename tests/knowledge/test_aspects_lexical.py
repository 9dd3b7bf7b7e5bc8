"""Aspect rules and the lexical half (diacritics and shorthand insensitive BM25)."""
from __future__ import annotations

import pytest

from knowledge.aspects import detect_aspect
from knowledge.lexical import BM25, accented_vocabulary, query_tokens, tokens


@pytest.mark.parametrize("question, aspect", [
    ("làm giấy khai sinh cần giấy tờ gì", "documents"),
    ("ho so dang ky ket hon gom nhung gi", "documents"),
    ("đi làm căn cước phải mang theo những gì", "documents"),
    ("làm hộ chiếu hết bao nhiêu tiền", "fee"),
    ("le phi cap ban sao bn", "fee"),
    ("khai tử có mất phí không", "fee"),
    ("đổi bằng lái mất mấy ngày", "time"),
    ("bao lâu thì có sổ đỏ", "time"),
    ("khi nào có kết quả lý lịch tư pháp", "time"),
    ("đăng ký tạm trú ở đâu", "place"),
    ("nop ho so xin phep xay dung o ubnd phuong duoc khong", "place"),
    ("làm căn cước ở công an tỉnh khác được không", "place"),
    ("có làm online được không", "online"),
    ("dk thuong tru tren vneid the nao", "online"),
    ("nộp qua mạng trên cổng dịch vụ công", "online"),
    ("các bước đăng ký hộ kinh doanh", "steps"),
    ("thủ tục nhận con nuôi như thế nào", "steps"),
    ("nộp hồ sơ xong thì làm gì tiếp", "steps"),
    ("người nước ngoài có được xin lý lịch tư pháp không", "eligibility"),
    ("điều kiện để được trợ cấp thất nghiệp", "eligibility"),
    ("17 tuổi có đủ tuổi đăng ký kết hôn chưa", "eligibility"),
    ("đăng ký khai sinh", "general"),
    ("mai táng phí là gì", "general"),
    ("trợ cấp xã hội được bao nhiêu tiền mỗi tháng", "general"),
])
def test_aspect_rules(question: str, aspect: str):
    assert detect_aspect(question) == aspect


def test_tokens_fold_diacritics_and_expand_shorthand():
    assert tokens("Giấy khai sinh", bigrams=False) == ["giay", "khai", "sinh"]
    assert tokens("gks", bigrams=False) == ["giay", "khai", "sinh"]
    assert "khai_sinh" in tokens("làm giấy khai sinh")


def test_bm25_is_insensitive_to_diacritics_and_shorthand():
    docs = ["Đăng ký khai sinh cho trẻ em", "Đăng ký kết hôn", "Cấp thẻ căn cước công dân"]
    bm25 = BM25(docs)
    for q in ("đăng ký khai sinh", "dang ky khai sinh", "dk khai sinh", "gks"):
        assert int(bm25.scores(q).argmax()) == 0, q
    assert int(bm25.scores("lam cccd").argmax()) == 2
    assert bm25.scores("thời tiết").max() == 0


def test_accented_spelling_is_kept_for_alias_matching():
    assert query_tokens("giá vàng") == [("gia", "giá"), ("vang", "vàng")]
    assert query_tokens("gia vang dk") == [("gia", None), ("vang", None), ("dang", None), ("ky", None)]
    assert accented_vocabulary(["tạm vắng", "tam vang"]) == {"tam": {"tạm"}, "vang": {"vắng"}}
    assert accented_vocabulary(["mua bán đất"])["mua"] == {"mua"}
