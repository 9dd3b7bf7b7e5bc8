"""Catalogue search, decline, answers and the incremental index on our fixture, with the real e5 model."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalogue.answer import compose_record, compose_which, money
from knowledge.catalogue.search import CatalogueSearcher
from knowledge.catalogue.store import Catalogue, import_records, save
from knowledge.catalogue.tiers import CATALOGUE_KEY_PREFIX, curated_key_for, search_tiers

FIXTURE = Path(__file__).parent / "fixtures" / "catalogue_sample.jsonl"


@pytest.fixture(scope="module")
def cat_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    records, report = import_records(FIXTURE)
    save(records, report, folder)
    return folder


@pytest.fixture(scope="module")
def cat(cat_dir, e5_embedder):
    return CatalogueSearcher(Catalogue.load(cat_dir), e5_embedder).prepare()


@pytest.mark.parametrize("question, expected", [
    ("xin giấy phép khai thác cát sỏi ở lòng sông cần gì", "1.900013"),
    ("cap giay phep khai thac cat soi long song", "1.900013"),
    ("Thủ tục cấp thẻ hướng dẫn viên du lịch tại điểm nộp ở đâu?", "1.900009"),
])
def test_named_records_are_found_in_every_mode(cat, question, expected):
    for mode in ("bm25", "dense", "hybrid"):
        assert cat.search(question, mode=mode).results[0].id == expected, mode
    assert cat.search(question).answered


@pytest.mark.parametrize("question", [
    "giá vàng hôm nay bao nhiêu",
    "xin visa đi Mỹ du lịch",
    "thủ tục gì",
    "đăng ký kết hôn với người nước ngoài",
])
def test_questions_outside_the_catalogue_are_declined(cat, question):
    result = cat.search(question)
    assert result.declined, (question, result.top, result.coverage)


def test_a_national_code_in_the_question_names_the_record(cat):
    result = cat.search("cho hỏi thủ tục mã 1.900013 nộp ở đâu")
    assert result.answered and result.top.id == "1.900013"
    assert cat.search("thủ tục mã 1.999999 là gì").declined   # an unknown code is not a match


def test_close_records_ask_which(cat):
    result = cat.search("cấp giấy phép tổ chức lễ hội truyền thống")
    assert not result.declined and result.ambiguous   # two records with nearly the same name
    assert {h.id for h in result.candidates()} >= {"1.900001", "1.900001-13"}
    which = compose_which(result.candidates(), "general")
    assert "1.900001" in which.text and all(len(b["title"]) <= 20 for b in which.followups)


def test_one_procedure_published_for_two_levels_is_not_ambiguous(cat):
    result = cat.search("công nhận câu lạc bộ thể thao cơ sở")
    assert result.answered and result.top.id in {"1.900004", "1.900011"}


def test_answer_names_code_source_link_and_never_invents(cat):
    rec = cat.catalogue.get("1.900002")
    general = compose_record(rec, "general").text
    assert "1.900002" in general and "Cơ sở dữ liệu quốc gia" in general and "chưa được cán bộ kiểm tra" in general
    assert rec.url in general and "3.000.000 đồng" in general and "Sở Du lịch" in general
    fee = compose_record(cat.catalogue.get("1.900007"), "fee").text
    assert "chưa ghi rõ lệ phí" in fee and "đồng" not in fee.split("chưa ghi rõ")[0]
    time = compose_record(cat.catalogue.get("1.900003"), "time").text
    assert "chưa ghi rõ thời hạn" in time
    docs = compose_record(rec, "documents")
    assert "Đơn đề nghị cấp giấy phép" in docs.text and "* Trường hợp cấp lại" in docs.text
    assert docs.key == CATALOGUE_KEY_PREFIX + "1.900002"
    assert all(CATALOGUE_KEY_PREFIX + "1.900002" in b["payload"] for b in docs.followups)
    assert all(len(compose_record(r, a).text) <= 1500 for r in cat.catalogue.records.values()
               for a in ("general", "documents", "fee", "time", "place", "steps", "online", "eligibility"))


def test_money_formatting():
    assert money("50,000 Việt Nam Đồng") == "50.000 đồng" and money("100,000 VNĐ") == "100.000 đồng"


def test_incremental_rebuild_embeds_only_changed_records(tmp_path, e5_embedder):
    records, report = import_records(FIXTURE)
    save(records, report, tmp_path)
    first = CatalogueSearcher(Catalogue.load(tmp_path), e5_embedder)
    first.dense_index()
    assert first.build_stats.embedded == 15
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[0])
    row["ten_thu_tuc"] = "Cấp giấy phép tổ chức lễ hội dân gian truyền thống"
    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join([json.dumps(row, ensure_ascii=False)] + lines[1:]) + "\n", encoding="utf-8")
    records, report = import_records(edited)
    save(records, report, tmp_path)
    second = CatalogueSearcher(Catalogue.load(tmp_path), e5_embedder)
    second.dense_index()
    assert (second.build_stats.embedded, second.build_stats.reused) == (1, 14)
    third = CatalogueSearcher(Catalogue.load(tmp_path), e5_embedder)
    third.dense_index()
    assert third.build_stats is None   # nothing changed: loaded as is


def test_curated_tier_wins_and_the_catalogue_answers_after_it(real_searcher, cat):
    curated = search_tiers(real_searcher, cat, "làm giấy khai sinh cho con cần giấy tờ gì")
    assert curated.tier == "curated" and curated.key == "khai_sinh" and curated.catalogue is None
    national = search_tiers(real_searcher, cat, "xin giấy phép khai thác cát sỏi lòng sông ở đâu")
    assert national.tier == "catalogue" and national.key == CATALOGUE_KEY_PREFIX + "1.900013"
    neither = search_tiers(real_searcher, cat, "giá vàng hôm nay bao nhiêu")
    assert neither.tier == "none" and neither.key is None


def test_a_record_of_a_curated_procedure_is_answered_by_its_guidance(real_searcher):
    assert curated_key_for("1.001193", real_searcher.kb.procedures) == "khai_sinh"
    assert curated_key_for("9.999999", real_searcher.kb.procedures) is None
