"""The decline decision: questions the curated procedures do not answer are declined, look-alikes included.

Sentences written for these tests (not taken from any eval set). The real-KB tests use the converted e5 model.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.compose import respond
from knowledge.schema import load_knowledge_base, validate
from knowledge.scope import ScopeChecker
from knowledge.search import Searcher
from tests.knowledge.conftest import procedure, write_kb

# ------------------------------------------------------------------------------------- the checker alone
TEXTS = {
    "dang_ky_xe": ["Đăng ký xe máy, cấp biển số", "đăng ký xe máy mới mua ở công an xã, bấm biển số, cà vẹt"],
    "khai_sinh": ["Đăng ký khai sinh", "làm giấy khai sinh cho con mới sinh tại UBND xã, giấy chứng sinh"],
}
NOT_FOR = {"dang_ky_xe": ["đăng ký xe ô tô của công ty, doanh nghiệp"], "khai_sinh": []}
TOPICS = ["Thuế: mã số thuế, tờ khai thuế, quyết toán, hoàn thuế, hóa đơn điện tử",
          "Ngành nghề kinh doanh có điều kiện: karaoke, vũ trường, cầm đồ, xoa bóp"]


@pytest.fixture
def checker() -> ScopeChecker:
    return ScopeChecker.build(TEXTS, NOT_FOR, TOPICS, {"dang_ky_xe": ["đăng ký xe máy"], "khai_sinh": ["khai sinh"]})


def test_the_procedures_own_words_are_in_scope(checker: ScopeChecker):
    assert checker.check("mua xe máy mới thì bấm biển số ở đâu", "dang_ky_xe").in_scope
    assert checker.check("con mới sinh làm giấy khai sinh cần giấy chứng sinh không", "khai_sinh").in_scope


def test_a_declared_look_alike_is_out_of_scope(checker: ScopeChecker):
    verdict = checker.check("đăng ký xe cho doanh nghiệp mình mới mua cần gì", "dang_ky_xe")
    assert not verdict.in_scope and verdict.lookalike
    assert "doanh_nghiep" in verdict.foreign_terms


def test_a_look_alike_of_another_procedure_does_not_count(checker: ScopeChecker):
    # "công ty" is a look-alike of vehicle registration only, and one general word is not enough when named
    assert checker.check("giám đốc công ty đi làm khai sinh cho con", "khai_sinh").in_scope


def test_an_outside_topic_needs_more_than_one_word_when_the_procedure_is_named(checker: ScopeChecker):
    assert checker.check("đăng ký khai sinh xong có cần làm mã số thuế cho con", "khai_sinh", named=True).in_scope
    verdict = checker.check("khai tờ khai thuế và hoàn thuế hóa đơn điện tử", "khai_sinh", named=True)
    assert not verdict.in_scope and not verdict.lookalike
    # not named (the ranking only guessed the procedure): one outside word is enough
    assert not checker.check("quán karaoke mới mở cần gì", "khai_sinh", named=False).in_scope


def test_life_details_the_topics_do_not_know_are_not_held_against_the_answer(checker: ScopeChecker):
    assert checker.check("con sinh ở nhà bà ngoại dưới quê làm khai sinh thế nào", "khai_sinh", named=False).in_scope


def test_not_for_is_validated(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure(not_for=["khai sinh có yếu tố nước ngoài", ""])})
    assert any("not_for[1]" in e for e in validate(kb))
    kb = write_kb(tmp_path / "ok", {"khai_sinh": procedure(not_for=["khai sinh có yếu tố nước ngoài"])})
    assert validate(kb) == []
    assert load_knowledge_base(kb).procedures["khai_sinh"].not_for == ["khai sinh có yếu tố nước ngoài"]


# ------------------------------------------------------------------------------------- the real knowledge base
OUTSIDE = [
    "Thủ tục cấp giấy phép hoạt động cho phòng khám đa khoa tư nhân được thực hiện tại cơ quan nào?",
    "Doanh nghiệp muốn thay đổi người đại diện theo pháp luật thì nộp hồ sơ ở đâu?",
    "Cá nhân có thu nhập từ hai nơi thì tự quyết toán thuế thu nhập cá nhân như thế nào?",
    "Thủ tục đăng ký tàu cá vỏ gỗ dài 10 mét được thực hiện ở đâu?",
    "mo tiem cam do can giay phep gi ad",
    "xin giay phep lao dong cho nguoi nuoc ngoai o dau",
    "trời hôm nay có mưa không ad",
]
LOOKALIKES = [
    ("Thủ tục đăng ký xe ô tô cho doanh nghiệp vận tải gồm những gì?", "dang_ky_xe"),
    ("Người Đài Loan muốn đăng ký kết hôn với người Việt thì làm ở đâu?", "ket_hon"),
    ("xin giay phep kinh doanh quan karaoke o dau", "ho_kinh_doanh"),
    ("Hồ sơ đề nghị cấp giấy phép kinh doanh vũ trường gồm những gì?", "ho_kinh_doanh"),
]
INSIDE = [
    ("Con tôi mới sinh được một tuần, vợ chồng tôi cần đi đăng ký khai sinh ở đâu?", "khai_sinh"),
    ("Thẻ căn cước của tôi bị mất khi đi chợ, làm lại thẻ mất bao lâu?", "doi_can_cuoc"),
    ("Tôi bị công ty cho nghỉ việc, làm hồ sơ hưởng trợ cấp thất nghiệp thế nào?", "tro_cap_that_nghiep"),
    ("Mở tiệm tạp hóa nhỏ thì đăng ký hộ kinh doanh ở đâu?", "ho_kinh_doanh"),
    ("dang ky ket hon o phuong can mang theo gi", "ket_hon"),
]


@pytest.mark.parametrize("question", OUTSIDE)
def test_outside_questions_are_declined_as_outside(real_searcher: Searcher, question):
    result = real_searcher.search(question)
    assert result.declined, [(h.key, round(h.score, 2)) for h in result.results[:3]]
    answer = respond(result, real_searcher.kb.procedures)
    assert answer.key is None and answer.followups == []  # nothing here is plausibly one of the 32


@pytest.mark.parametrize("question, resembles", LOOKALIKES)
def test_look_alikes_are_declined_offering_only_the_procedure_they_resemble(real_searcher: Searcher, question,
                                                                           resembles):
    result = real_searcher.search(question)
    assert result.declined and result.decline_kind in ("lookalike", "outside"), result.decline_reason
    answer = respond(result, real_searcher.kb.procedures)
    assert answer.key is None
    if result.decline_kind == "lookalike":
        assert [b["payload"] for b in answer.followups] == [
            f'/ask_procedure{{"procedure_key": "{resembles}", "aspect": "general"}}']


@pytest.mark.parametrize("question, key", INSIDE)
def test_inside_questions_are_still_answered(real_searcher: Searcher, question, key):
    result = real_searcher.search(question)
    assert not result.declined, result.decline_reason
    assert result.results[0].key == key and result.decline_kind == ""


def test_without_the_scope_check_a_look_alike_was_answered(real_searcher: Searcher):
    question = LOOKALIKES[0][0]
    assert not real_searcher.search(question, scope_check=False).declined
    assert real_searcher.search(question).declined
