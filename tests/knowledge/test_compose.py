"""Composed answers: short, plain text, naming the procedure and its link, careful with unconfirmed facts."""
from __future__ import annotations

import json
import re
from pathlib import Path

from knowledge.compose import ASPECT_TITLES, MAX_CHARS, compose, compose_decline
from knowledge.schema import load_knowledge_base

from .conftest import procedure, write_kb

MARKUP = re.compile(r"\*\*|__|<[a-z/][^>]*>|^#|\[[^\]]+\]\(", re.MULTILINE)


def test_every_real_answer_fits_names_procedure_and_link(real_kb_dir: Path):
    kb = load_knowledge_base(real_kb_dir)
    for proc in kb.procedures.values():
        for aspect in ASPECT_TITLES:
            answer = compose(proc, aspect)
            assert len(answer.text) <= MAX_CHARS, (proc.key, aspect, len(answer.text))
            assert proc.name in answer.text and proc.official_link in answer.text, (proc.key, aspect)
            assert not MARKUP.search(answer.text), (proc.key, aspect)
            titles = [b["title"] for b in answer.followups]
            assert ASPECT_TITLES[aspect] not in titles and all(len(t) <= 20 for t in titles)


def test_unconfirmed_section_is_never_stated_as_certain(tmp_path: Path):
    kb = write_kb(tmp_path, {"ket_hon": procedure("ket_hon", fees={"status": "unconfirmed",
                                                                   "text": "Thường được miễn lệ phí."})})
    proc = load_knowledge_base(kb).procedures["ket_hon"]
    answer = compose(proc, "fee")
    assert "Thường được miễn lệ phí." in answer.text
    assert ("thông tin này chưa được cán bộ xác nhận, anh/chị vui lòng kiểm tra tại "
            + proc.official_link) in answer.text.lower()
    assert answer.has_unconfirmed


def test_unconfirmed_items_are_flagged(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure()})
    answer = compose(load_knowledge_base(kb).procedures["khai_sinh"], "fee")
    assert "Miễn lệ phí khi đăng ký đúng hạn." in answer.text
    assert "Chưa được cán bộ xác nhận: Phí cấp bản sao" in answer.text
    assert "chưa được cán bộ xác nhận, anh/chị vui lòng kiểm tra tại https://dichvucong.gov.vn/khai-sinh" \
        in answer.text


def test_missing_section_says_so_and_invents_nothing(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure()})
    proc = load_knowledge_base(kb).procedures["khai_sinh"]
    answer = compose(proc, "eligibility")  # the fixture has no eligibility section
    assert "chưa có thông tin về điều kiện, đối tượng" in answer.text
    assert proc.official_link in answer.text
    assert all(b["title"] != ASPECT_TITLES["eligibility"] for b in compose(proc, "fee").followups)


def test_long_sections_are_cut_within_the_limit(tmp_path: Path):
    many = [{"name": f"Giấy tờ số {i} rất dài " + "chi tiết " * 20, "notes": "ghi chú " * 30} for i in range(40)]
    kb = write_kb(tmp_path, {"khai_sinh": procedure(documents={"status": "sourced", "items": many})})
    proc = load_knowledge_base(kb).procedures["khai_sinh"]
    answer = compose(proc, "documents")
    assert len(answer.text) <= MAX_CHARS
    assert answer.text.endswith(proc.official_link) and proc.name in answer.text
    assert "xem đầy đủ" in answer.text


def test_followup_payloads_carry_key_and_aspect(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure()})
    answer = compose(load_knowledge_base(kb).procedures["khai_sinh"], "documents")
    first = answer.followups[0]
    assert first["payload"].startswith("/ask_procedure{")
    assert json.loads(first["payload"][len("/ask_procedure"):]) == {"procedure_key": "khai_sinh", "aspect": "fee"}


def test_decline_answer(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure()})
    answer = compose_decline([load_knowledge_base(kb).procedures["khai_sinh"]])
    assert answer.key is None and "chưa có hướng dẫn" in answer.text and len(answer.followups) == 1
